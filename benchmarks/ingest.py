"""Ingestion benchmark: Concord against frictionless and DuckDB on the same partner file.

    uv run --group bench python benchmarks/ingest.py [--rows 1000000] [--pg URL] [--memory]

Generates one synthetic partner file (``hotline-es``: UTF-8 CSV with BOM, 19 columns, planted
problems) and, in the same run, times:

* **DuckDB count(*)** — the parse floor (materialises nothing);
* **DuckDB read_csv** — a full, all-text load into a table (parsing alone, the issue's ceiling);
* **Concord validate + map** — read, map through the crosswalk and validate every row
  (no database), the part comparable to a validator;
* **frictionless validate** — ``Resource.validate()`` against an equivalent Table Schema
  (required, unique key, date formats, enums, integer ranges) on a slice, scaled to all rows;
* **Concord ingest → SQLite** and **→ PostgreSQL** (``--pg``; COPY) — end to end: read, map,
  validate, pseudonymise, de-duplicate, write records, codes, quarantine and the batch.

``--memory`` also imports a 5,000,000-row file in a child process and reports its peak RSS.
Ratios are computed within this run only; never compare figures across machines.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from concord.db import create_db_engine, session_scope, upgrade_database
from concord.ingest.mapping import LoadedMapping, load_mapping
from concord.ingest.pipeline import IngestReport, ingest_file
from concord.ingest.readers.base import open_batches
from concord.ingest.transform import BatchMapper
from concord.protect.pseudonyms import PseudonymKeys
from concord.synth import generate_partners
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.store import load_into_database

ORG = "hotline-es"


def timed(label: str, work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return seconds, result


def duckdb_count(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    row = con.execute("SELECT count(*) FROM read_csv(?, all_varchar=true)", [str(path)]).fetchone()
    return int(row[0]) if row else 0


def duckdb_load(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true)", [str(path)])
    row = con.execute("SELECT count(*) FROM t").fetchone()
    return int(row[0]) if row else 0


def validate_and_map(path: Path, mapping: LoadedMapping) -> int:
    mapper = BatchMapper(mapping, shipped_vocabulary())
    rows = 0
    for frame in open_batches(path, mapping.spec.reader):
        result = mapper.map(frame)
        rows += result.records.height + result.quarantined.height
    return rows


def table_schema(mapping: LoadedMapping, header: list[str]) -> dict[str, Any]:
    """A frictionless Table Schema that checks what Concord checks, as far as it can."""
    spec = mapping.spec
    labels: dict[str, list[str]] = {}
    for entry in mapping.crosswalk.entries if mapping.crosswalk else []:
        labels.setdefault(entry.scheme, []).extend(x for x in (entry.label, entry.code) if x)
    for scheme in shipped_vocabulary().schemes:  # Concord also accepts codes and labels
        labels.setdefault(scheme.id, []).extend(
            x for c in scheme.concepts for x in (c.notation, c.labels.get("en")) if x
        )
    fields: list[dict[str, Any]] = []
    by_column = {m.column: (name, m) for name, m in spec.fields.items() if m.column}
    for column in header:
        field: dict[str, Any] = {"name": column, "type": "string"}
        if column in by_column:
            name, m = by_column[column]
            if m.date_format:
                field.update(type="date", format=m.date_format)
            elif m.type == "integer":
                field.update(type="integer", constraints={"minimum": 0})
            elif m.scheme and not m.split and m.scheme in labels:
                field["constraints"] = {"enum": labels[m.scheme]}
            if name in ("source_record_key", "received_date"):
                field.setdefault("constraints", {})["required"] = True
            if name == "source_record_key":
                field["constraints"]["unique"] = True
        fields.append(field)
    return {"fields": fields}


def frictionless_validate(path: Path, schema: dict[str, Any]) -> int:
    """Validate with frictionless; returns the rows it checked (so a refusal cannot pass as
    a fast run)."""
    from frictionless import Resource, Schema

    resource_ = Resource(
        path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(schema)
    )
    report = resource_.validate(limit_errors=10**9)
    task = report.tasks[0]
    if any(e.type in ("resource-error", "scheme-error", "format-error") for e in task.errors):
        raise SystemExit(f"frictionless could not read the file: {task.errors[0].message}")
    return int(task.stats.get("rows") or 0)


def slice_file(path: Path, rows: int, target: Path) -> None:
    with path.open("rb") as source, target.open("wb") as out:
        for index, line in enumerate(source):
            if index > rows:
                break
            out.write(line)


def fresh_sqlite(folder: Path) -> str:
    return f"sqlite:///{folder / 'bench.db'}"


def fresh_postgres(url: str) -> str:
    admin = create_db_engine(url)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS concord_bench CASCADE"))
        conn.execute(text("CREATE SCHEMA concord_bench"))
    admin.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3Dconcord_bench"


def prepared(url: str) -> Engine:
    """A migrated database with the vocabulary loaded: what a node has before any import
    (set up outside the timed part; migrating is not ingesting)."""
    engine = create_db_engine(url)
    upgrade_database(engine)
    with session_scope(engine) as session:
        load_into_database(session, shipped_vocabulary())
    return engine


def ingest_into(engine: Engine, path: Path, mapping: LoadedMapping, keys: Path) -> IngestReport:
    """The timed part: one import (the vocabulary is cached; ``prepared`` loaded it)."""
    return ingest_file(engine, path, mapping, shipped_vocabulary(), keys=PseudonymKeys(keys))


def store_floor(engine: Engine) -> float:
    """Seconds the database itself takes to copy the records just imported into empty tables
    of the same schema (every index, the foreign key), with ``INSERT ... SELECT`` and a commit.

    The floor of any loader that keeps records in this store: no parsing, no Python, no
    network, only the store's own row and index writes. Concord's import time over this is
    what Concord itself costs.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE TABLE floor_record (LIKE record INCLUDING ALL)"))
            conn.execute(
                text("CREATE TABLE floor_record_concept (LIKE record_concept INCLUDING ALL)")
            )
            conn.execute(
                text(
                    "ALTER TABLE floor_record_concept ADD FOREIGN KEY (record_id) "
                    "REFERENCES floor_record (id) ON DELETE CASCADE"
                )
            )
        else:
            statements = conn.execute(
                text(
                    "SELECT sql FROM sqlite_master WHERE tbl_name IN ('record', 'record_concept') "
                    "AND sql IS NOT NULL ORDER BY type DESC, tbl_name"
                )
            ).scalars()
            for sql in statements:
                renamed = re.sub(r"\b(record(?:_concept)?)\b", r"floor_\1", sql)
                renamed = re.sub(r"\b(ix_|uq_|pk_|fk_)", r"floor_\1", renamed)
                conn.execute(text(renamed))
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO floor_record SELECT * FROM record"))
        conn.execute(text("INSERT INTO floor_record_concept SELECT * FROM record_concept"))
    return time.perf_counter() - start


def memory_child(folder: str) -> None:
    """Run inside a child process: import the big file and print the peak RSS."""
    path = Path(folder)
    mapping = load_mapping(path / f"{ORG}.mapping.yaml")
    engine = prepared(fresh_sqlite(path))
    report = ingest_into(engine, path / f"{ORG}.csv", mapping, path / "keys")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": report.rows_read, "peak_mb": round(peak_mb)}))


def print_table(
    results: dict[str, float], rows: int, size_mb: float, floors: dict[str, float]
) -> None:
    floor = results["DuckDB count(*)"]
    load = results["DuckDB read_csv (full load)"]
    print(
        f"\n| step ({rows:,} rows, {size_mb:.0f} MB) | seconds | rows/s "
        "| × DuckDB count(*) | × DuckDB read_csv |"
    )
    print("|---|---|---|---|---|")
    for label, seconds in results.items():
        print(
            f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} | "
            f"{seconds / floor:.1f}× | {seconds / load:.1f}× |"
        )
    speedup = results["frictionless validate (scaled)"] / results["Concord validate + map"]
    print(f"\nConcord validates and maps {speedup:.0f}× faster than frictionless (target ≥ 20×).")
    for label in ("Concord ingest → SQLite", "Concord ingest → PostgreSQL (COPY)"):
        if label in results:
            print(
                f"{label}: {results[label] / load:.1f}× DuckDB's read_csv (target ≤ 4×); "
                f"the store alone copies the same rows in {floors[label]:.2f} s "
                f"({floors[label] / load:.1f}× read_csv), Concord takes "
                f"{results[label] / floors[label]:.1f}× that."
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--frictionless-rows", type=int, default=100_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch schema is created there)")
    parser.add_argument("--memory", action="store_true", help="also measure 5M rows' peak RSS")
    parser.add_argument("--memory-rows", type=int, default=5_000_000)
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"Generating {args.rows:,} rows of {ORG} ...", flush=True)
        generate_partners(folder, rows_per_org=args.rows, seed=7, organisations=[ORG])
        path = folder / f"{ORG}.csv"
        mapping = load_mapping(folder / f"{ORG}.mapping.yaml")
        size_mb = path.stat().st_size / 1e6
        print(f"File: {path.name}, {size_mb:.0f} MB, {args.rows:,} rows\n", flush=True)

        results: dict[str, float] = {}
        results["DuckDB count(*)"], _ = timed("DuckDB count(*)", lambda: duckdb_count(path))
        results["DuckDB read_csv (full load)"], _ = timed(
            "DuckDB read_csv", lambda: duckdb_load(path)
        )
        results["Concord validate + map"], _ = timed(
            "Concord validate + map", lambda: validate_and_map(path, mapping)
        )
        sample = folder / "slice.csv"
        slice_file(path, args.frictionless_rows, sample)
        header = next(iter(open_batches(path, mapping.spec.reader, batch_rows=1))).columns[1:]
        schema = table_schema(mapping, header)
        seconds, checked = timed(
            f"frictionless validate ({args.frictionless_rows:,} rows)",
            lambda: frictionless_validate(sample, schema),
        )
        if checked < args.frictionless_rows:
            raise SystemExit(f"frictionless checked only {checked:,} rows")
        results["frictionless validate (scaled)"] = seconds * args.rows / args.frictionless_rows
        floors: dict[str, float] = {}
        targets = [("Concord ingest → SQLite", fresh_sqlite(folder))]
        if args.pg:
            targets.append(("Concord ingest → PostgreSQL (COPY)", fresh_postgres(args.pg)))
        for label, url in targets:
            engine = prepared(url)
            seconds, report = timed(
                label,
                partial(ingest_into, engine, path, mapping, folder / "keys"),
            )
            results[label] = seconds
            if not report.reconciles or report.rows_read != args.rows:
                raise SystemExit(f"{label}: the import does not reconcile: {report.to_dict()}")
            floors[label], _ = timed(
                f"  the store's own copy of those rows ({engine.dialect.name})",
                partial(store_floor, engine),
            )
            engine.dispose()

        print_table(results, args.rows, size_mb, floors)

    if args.memory:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"\nGenerating {args.memory_rows:,} rows for the memory run ...", flush=True)
            generate_partners(Path(tmp), rows_per_org=args.memory_rows, seed=7, organisations=[ORG])
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", tmp],
                check=True,
                capture_output=True,
                text=True,
            )
            measured = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"Peak memory importing {measured['rows']:,} rows into SQLite: "
                f"{measured['peak_mb']:,} MB (target < 1,500 MB)."
            )


if __name__ == "__main__":
    main()
