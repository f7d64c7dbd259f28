"""Readers benchmark: CsvReader against DuckDB and polars on the same generated CSV.

    uv run python benchmarks/readers.py [--rows 1000000] [--repeat 3]

Generates a partner-like CSV (12 text columns, quoted cells with delimiters, accents, a line
break in one row in 500) in a temporary folder, then times, best of ``--repeat``:

* ``CsvReader`` — the full reader (encoding scan, sniffing, streaming batches with ``__row__``);
* ``CsvReader, cp1252`` — the same rows saved as Windows-1252 (adds the UTF-8 transcode);
* ``CsvReader, stray quote`` — one ``5" screen`` cell early on (one tolerant batch, then polars);
* ``polars read_csv`` — eager, every column text, no row numbers (what the reader wraps);
* ``DuckDB load, all text`` — ``all_varchar`` into an in-memory table (a full read, like ours);
* ``DuckDB count(*)`` — the parse floor from reference/performance.md (materialises nothing).

Ratios are against ``DuckDB count(*)`` measured in the same run; never compare across machines.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers import CsvReader

COLUMNS = [
    "case_id",
    "received",
    "country",
    "age",
    "sex",
    "incident_type",
    "channel",
    "platform",
    "status",
    "referral",
    "narrative",
    "reporter_ref",
]
TYPES = ["grooming", "sextortion", "csam", "grooming sextortion", "live-streaming"]
NOTES = ["signalé à la police", "niña contactada, en línea", "no further action", "déjà traité"]


def generate(path: Path, rows: int, encoding: str = "utf-8", stray_quote: bool = False) -> None:
    rng = random.Random(7)
    with path.open("w", encoding=encoding, newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(rows):
            note = rng.choice(NOTES)
            if i % 500 == 0:
                note = f'"{note},\nsuite ""citée"""'
            elif "," in note:
                note = f'"{note}"'
            if stray_quote and i == 10:
                note = '5" screen'
            country = rng.choice(["FR", "ES", "BR"])
            out.write(
                f"C-{i:07d},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{country},"
                f"{rng.randint(0, 17)},{rng.choice('MFX')},{rng.choice(TYPES)},chat,"
                f"platform-{i % 40},open,{rng.choice(['yes', 'no', ''])},{note},"
                f"R{rng.randint(0, 10**9)}\n"
            )


def best(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - start)
    return min(times), count


def reader_rows(path: Path) -> int:
    options = ReaderOptions(format="csv")
    return sum(batch.height for batch in CsvReader().batches(path, options))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="concord-bench-") as folder:
        utf8, legacy, stray = (Path(folder) / n for n in ("u.csv", "w.csv", "s.csv"))
        generate(utf8, args.rows)
        generate(legacy, args.rows, encoding="cp1252")
        generate(stray, args.rows, stray_quote=True)
        size = utf8.stat().st_size / 1024**2
        print(f"{args.rows:,} rows x {len(COLUMNS)} columns, {size:.0f} MB, best of {args.repeat}")
        print()

        cases: list[tuple[str, Callable[[], int]]] = [
            ("CsvReader", lambda: reader_rows(utf8)),
            ("CsvReader, cp1252", lambda: reader_rows(legacy)),
            ("CsvReader, stray quote", lambda: reader_rows(stray)),
            (
                "polars read_csv",
                lambda: pl.read_csv(utf8, infer_schema=False).height,
            ),
        ]
        try:
            import duckdb
        except ImportError:
            print("(duckdb is not installed: `uv add --dev duckdb` adds the reference)")
        else:

            def duck_count() -> int:
                sql = "SELECT count(*) FROM read_csv(?)"
                row = duckdb.execute(sql, [str(utf8)]).fetchone()
                return int(row[0]) if row else 0

            def duck_load() -> int:
                with duckdb.connect() as con:
                    sql = "CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)"
                    con.execute(sql, [str(utf8)])
                    row = con.execute("SELECT count(*) FROM t").fetchone()
                    return int(row[0]) if row else 0

            cases += [("DuckDB load, all text", duck_load), ("DuckDB count(*)", duck_count)]

        results = [(name, *best(args.repeat, run)) for name, run in cases]
        floor = results[-1][1] if results[-1][0] == "DuckDB count(*)" else None
        print(f"{'tool':<26}{'seconds':>9}{'rows/s':>14}{'ratio':>8}")
        for name, seconds, count in results:
            ratio = f"{seconds / floor:.1f}x" if floor else "-"
            print(f"{name:<26}{seconds:>9.2f}{count / seconds:>14,.0f}{ratio:>8}")


if __name__ == "__main__":
    main()
