"""Indicator benchmark: every shipped indicator over 10,000,000 records, against DuckDB.

    uv run python benchmarks/indicators.py [--rows 10000000] [--repeat 3] [--no-duckdb]

Builds a record frame directly with NumPy/Polars (no database: the target is the computation)
with realistic shapes — seven organisations of different sizes, about eight countries, four
years of received dates with growth and seasonality, incident dates for half the records, one
to three abuse types per record, flags with missing values — and times ``compute_all`` of every
shipped indicator (the target is under 5 s). In the same run it loads the same data into DuckDB
and times the same aggregations written in SQL (generated from the same definitions), checks
that both give the same numbers, and prints the ratio. Never compare figures across machines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from concord.indicators.compute import IndicatorResult, compute, compute_all
from concord.indicators.definitions import IndicatorDefinition, shipped_definitions
from concord.indicators.frame import BATCH_SCHEMA, dimension_named, expand_concepts, with_month
from concord.indicators.population import shipped_population
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.model import Vocabulary

TARGET_SECONDS = 5.0
START = date(2023, 1, 1)
DAYS = 4 * 365 + 1
ORGS = {  # slug: (share of records, home country)
    "platform-th": (0.34, "country.th"),
    "hotline-uk": (0.20, "country.gb"),
    "hotline-es": (0.12, "country.es"),
    "helpline-fr": (0.10, "country.fr"),
    "office-mx": (0.09, "country.mx"),
    "ngo-ke": (0.08, "country.ke"),
    "ngo-my": (0.07, "country.my"),
}
ABROAD = ["country.us", "country.nl", "country.de", "country.zz", None]
ABUSE = {
    "abuse.csam": 30,
    "abuse.sexual_extortion": 12,
    "abuse.financial_sexual_extortion": 6,
    "abuse.online_grooming": 12,
    "abuse.grooming": 4,
    "abuse.self_generated_coerced": 6,
    "abuse.self_generated": 5,
    "abuse.ai_generated_csam": 2,
    "abuse.live_streaming": 3,
    "abuse.non_consensual_image_sharing": 5,
    "abuse.exposure_to_sexual_content": 4,
    "abuse.online_sexual_harassment": 4,
    "abuse.exploitation_in_prostitution": 2,
    "abuse.trafficking": 1,
    "abuse.sectt": 1,
    "abuse.other_sexual_exploitation": 3,
}


def _categorical(rng: np.random.Generator, n: int, weights: dict[Any, float]) -> pl.Series:
    """``n`` draws from ``weights`` (a ``None`` key draws nulls), as a Categorical column."""
    values = list(weights)
    p = np.array([weights[v] for v in values], dtype=float)
    index = rng.choice(len(values), size=n, p=p / p.sum())
    return pl.Series(values, dtype=pl.Categorical).gather(index)


def _flag(rng: np.random.Generator, n: int, p_true: float, p_missing: float) -> pl.Series:
    draw = rng.random(n)
    return pl.Series(draw < p_true).set(pl.Series(draw > 1 - p_missing), None)  # type: ignore[arg-type]


def _multi(
    rng: np.random.Generator, n: int, weights: dict[str, float], sizes: Sequence[float]
) -> pl.Series:
    """A list column of distinct codes: ``sizes[k]`` is the probability of ``k`` codes."""
    codes = list(weights)
    p = np.array([weights[c] for c in codes], dtype=float)
    p /= p.sum()
    width = len(sizes) - 1
    index = rng.choice(len(codes), size=(n, width), p=p)
    for j in range(1, width):  # redraw until each row's codes are distinct
        while True:
            clash = (index[:, [j]] == index[:, :j]).any(axis=1)
            if not clash.any():
                break
            index[clash, j] = rng.choice(len(codes), size=int(clash.sum()), p=p)
    counts = rng.choice(len(sizes), size=n, p=np.array(sizes) / sum(sizes))
    flat = pl.Series(codes, dtype=pl.Categorical).gather(index.ravel())
    lists = flat.reshape((n, width)).arr.to_list()
    return pl.DataFrame({"l": lists, "k": counts}).select(pl.col("l").list.head("k")).to_series()


def build_frame(rows: int, seed: int) -> pl.DataFrame:
    """A record frame of ``rows`` synthetic records (see the module docstring)."""
    rng = np.random.default_rng(seed)
    day = np.arange(DAYS)
    # 15% more reports a year, a summer peak, fewer at weekends
    weight = 1.15 ** (day / 365) * (1 + 0.2 * np.sin(2 * np.pi * (day - 80) / 365))
    weight *= np.where((day + START.weekday()) % 7 >= 5, 0.6, 1.0)
    offsets = rng.choice(DAYS, size=rows, p=weight / weight.sum())
    received = pl.Series(np.datetime64(START.isoformat(), "D") + offsets)
    delay = np.minimum(rng.lognormal(2.7, 1.2, rows).astype(np.int64), offsets + 3650)
    occurred = pl.Series(np.datetime64(START.isoformat(), "D") + offsets - delay)
    org_index = rng.choice(len(ORGS), size=rows, p=[s for s, _ in ORGS.values()])
    # most records are about the organisation's own country, the rest about a few others
    places = [c for _, c in ORGS.values()] + ABROAD
    abroad = len(ORGS) + rng.choice(len(ABROAD), size=rows, p=[0.35, 0.2, 0.15, 0.2, 0.1])
    country_index = np.where(rng.random(rows) < 0.86, org_index, abroad)
    frame = pl.DataFrame(
        {
            "id": np.arange(1, rows + 1, dtype=np.int64),
            "source_org": pl.Series(list(ORGS), dtype=pl.Categorical).gather(org_index),
            "received_date": received,
            "occurred_date": occurred.set(pl.Series(rng.random(rows) < 0.5), None),  # type: ignore[arg-type]
            "country": pl.Series(places, dtype=pl.Categorical).gather(country_index),
            "channel": _categorical(
                rng,
                rows,
                {
                    "channel.web_form": 40,
                    "channel.industry_report": 30,
                    "channel.phone": 10,
                    "channel.chat": 10,
                    "channel.email": 5,
                    None: 5,
                },
            ),
            "reporter_type": _categorical(
                rng,
                rows,
                {
                    "reporter.public": 45,
                    "reporter.industry": 30,
                    "reporter.child_self": 10,
                    "reporter.parent": 10,
                    None: 5,
                },
            ),
            "abuse_types": _multi(rng, rows, ABUSE, sizes=[3, 70, 22, 5]),
            "platform_types": _multi(
                rng,
                rows,
                {
                    "platform.social_media": 40,
                    "platform.messaging": 30,
                    "platform.gaming": 10,
                    "platform.image_hosting": 10,
                    "platform.unknown": 10,
                },
                sizes=[10, 75, 15],
            ),
            "victim_age_band": _categorical(
                rng,
                rows,
                {
                    "age.0_2": 2,
                    "age.3_6": 6,
                    "age.7_10": 14,
                    "age.11_13": 28,
                    "age.14_15": 22,
                    "age.16_17": 12,
                    "age.unknown": 11,
                    None: 5,
                },
            ),
            "victim_sex": _categorical(
                rng, rows, {"sex.female": 60, "sex.male": 28, "sex.unknown": 10, "sex.other": 2}
            ),
            "self_generated": _flag(rng, rows, 0.22, 0.12),
            "ai_generated": _flag(rng, rows, 0.03, 0.45),
            "referral_made": _flag(rng, rows, 0.2, 0.3),
        }
    )
    return frame.with_columns(pl.col("occurred_date").cast(pl.Date))


def build_batches() -> pl.DataFrame:
    """Quarterly imports of every organisation, as import reports would give them."""
    rows = []
    for number, org in enumerate(ORGS):
        for quarter in range(16):
            day = date(2023 + quarter // 4, quarter % 4 * 3 + 1, 15)
            values = 50_000 + 1_000 * number
            rows.append((len(rows) + 1, org, day, values, values - 300 + 10 * quarter))
    return pl.DataFrame(rows, schema=BATCH_SCHEMA, orient="row")


def time_polars(
    definitions: list[IndicatorDefinition],
    frame: pl.DataFrame,
    batches: pl.DataFrame,
    vocabulary: Vocabulary,
    repeat: int,
) -> tuple[list[float], dict[str, IndicatorResult], dict[str, float]]:
    """``compute_all`` ``repeat`` times, then each indicator alone (month key computed once)."""
    times: list[float] = []
    results: dict[str, IndicatorResult] = {}
    for _ in range(repeat):
        start = time.perf_counter()
        results = compute_all(definitions, frame, vocabulary, batches=batches)
        times.append(time.perf_counter() - start)
    prepared = with_month(frame)
    each: dict[str, float] = {}
    for d in definitions:
        start = time.perf_counter()
        compute(d, prepared, vocabulary, batches=batches)
        each[d.id] = time.perf_counter() - start
    return times, results, each


# --- the same aggregations in DuckDB ---------------------------------------------------------


def _sql_condition(flt: dict[str, list[Any]], vocabulary: Vocabulary) -> str:
    parts = ["TRUE"]
    for column, values in flt.items():
        wanted = expand_concepts(values, vocabulary)
        literals = ", ".join(
            ("TRUE" if v else "FALSE") if isinstance(v, bool) else f"'{v}'" for v in wanted
        )
        if column in ("abuse_types", "platform_types", "actions_taken"):
            parts.append(f"list_has_any({column}, [{literals}])")
        else:
            parts.append(f"{column} IN ({literals})")
    return " AND ".join(parts)


def sql_for(d: IndicatorDefinition, vocabulary: Vocabulary) -> str:
    """The definition's aggregation (before disclosure control) as one DuckDB query.

    Built as text from the shipped definitions (validated against the vocabulary: slugs and
    concept ids only), never from user input; hence the S608 waivers below.
    """
    period = f"date_trunc('{d.period}', received_date)::DATE AS period"
    dims = [dimension_named(n) for n in d.breakdown]
    select = [period]
    source = "records"
    for dim in dims:
        assert dim is not None
        if dim.is_list:  # a record without codes counts once, under NULL (as in polars)
            select.append(dim.name)
            source = (
                f"(SELECT *, unnest(CASE WHEN len({dim.column}) = 0 THEN [NULL] "  # noqa: S608
                f"ELSE {dim.column} END) AS {dim.name} FROM records)"
            )
        else:
            select.append(f"{dim.column} AS {dim.name}")
    numerator = _sql_condition(d.numerator, vocabulary)
    if d.kind == "share" and d.value is None:
        denominator = _sql_condition(d.denominator.filter if d.denominator else {}, vocabulary)
        measures = [
            f"count(*) FILTER (WHERE {numerator}) AS numerator",
            "count(*) AS denominator",
        ]
        where = denominator
    else:
        where = numerator
        if d.value == "fields_present":
            present = " + ".join(
                f"(len({c}) > 0)::INT" if c.endswith("_types") else f"({c} IS NOT NULL)::INT"
                for c in d.fields
            )
            measures = [
                f"sum({present}) AS numerator",
                f"count(*) * {len(d.fields)} AS denominator",
            ]
        elif d.value == "delay_days":
            measures = ["count(*) AS numerator", "median(received_date - occurred_date) AS value"]
            where += " AND occurred_date IS NOT NULL"
        elif d.value == "organisations":
            measures = ["count(DISTINCT source_org) AS numerator"]
        else:
            measures = ["count(*) AS numerator"]
    query = f"SELECT {', '.join(select + measures)} FROM {source} WHERE {where} GROUP BY ALL"  # noqa: S608
    if d.kind == "rate":
        query = (
            f"SELECT c.*, p.children AS denominator, "  # noqa: S608
            f"c.numerator / p.children * {d.denominator.per if d.denominator else 1} AS value "
            f"FROM ({query}) c LEFT JOIN population p "
            f"ON p.country = c.country AND p.year = year(c.period)"
        )
    return query


def time_duckdb(
    definitions: list[IndicatorDefinition], frame: pl.DataFrame, vocabulary: Vocabulary, repeat: int
) -> tuple[list[float], dict[str, list[tuple[Any, ...]]], dict[str, float]]:
    """The same aggregations in DuckDB (all threads), on a table loaded from the same data."""
    import duckdb

    record_defs = [d for d in definitions if d.status == "active" and d.source == "records"]
    with tempfile.TemporaryDirectory() as folder:
        records = Path(folder) / "records.parquet"
        population = Path(folder) / "population.parquet"
        frame.write_parquet(records)
        shipped_population().frame.write_parquet(population)
        con = duckdb.connect()
        con.execute("CREATE TABLE records AS SELECT * FROM read_parquet(?)", [str(records)])
        con.execute("CREATE TABLE population AS SELECT * FROM read_parquet(?)", [str(population)])
    times: list[float] = []
    rows: dict[str, list[tuple[Any, ...]]] = {}
    each: dict[str, float] = {}
    queries = {d.id: sql_for(d, vocabulary) for d in record_defs}
    for _ in range(repeat):
        begin = time.perf_counter()
        for key, sql in queries.items():
            start = time.perf_counter()
            rows[key] = con.execute(sql).fetchall()
            each[key] = time.perf_counter() - start
        times.append(time.perf_counter() - begin)
    return times, rows, each


def compare(
    results: dict[str, IndicatorResult], reference: dict[str, list[tuple[Any, ...]]]
) -> int:
    """Cells where Concord and DuckDB disagree: a published numerator that differs, or a cell
    DuckDB has that Concord lacks (suppressed cells count as present, zero-filled ones are
    Concord's own)."""
    mismatches = 0
    for key, rows in reference.items():
        result = results[key]
        width = 1 + len(result.by)
        everything = {tuple(r[:width]) for r in result.data.rows()}
        published = result.data.filter(~pl.col("suppressed") & (pl.col("numerator") > 0))
        ours = {tuple(r[:width]): r[width] for r in published.rows()}
        theirs = {tuple(r[:width]): r[width] for r in rows}
        bad = [k for k, v in ours.items() if theirs.get(k) != v]
        bad += [k for k in theirs if k not in everything]
        if bad:
            print(f"  {key}: {len(bad)} cell(s) differ, e.g. {bad[0]}")
        mismatches += len(bad)
    return mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB reference")
    args = parser.parse_args()
    vocabulary = shipped_vocabulary()
    definitions = shipped_definitions()
    print(f"Building {args.rows:,} synthetic records ...", flush=True)
    start = time.perf_counter()
    frame = build_frame(args.rows, args.seed)
    print(
        f"  built in {time.perf_counter() - start:.1f} s, "
        f"{frame.estimated_size() / 2**20:,.0f} MiB in memory",
        flush=True,
    )
    times, results, each = time_polars(definitions, frame, build_batches(), vocabulary, args.repeat)
    best = min(times)
    cells = sum(r.data.height for r in results.values())
    suppressed = sum(r.suppressed_cells for r in results.values())
    print(f"\n| step | rows | indicators | cells | best of {args.repeat} | median |")
    print("|---|---|---|---|---|---|")
    print(
        f"| Concord compute_all (polars) | {frame.height:,} | {len(results)} | {cells:,} "
        f"({suppressed:,} suppressed) | {best:.2f} s | {statistics.median(times):.2f} s |"
    )
    if not args.no_duckdb:
        duck_times, reference, duck_each = time_duckdb(definitions, frame, vocabulary, args.repeat)
        duck = min(duck_times)
        print(
            f"| DuckDB, same aggregations in SQL ({len(reference)} record indicators) | "
            f"{frame.height:,} | {len(reference)} | — | {duck:.2f} s | "
            f"{statistics.median(duck_times):.2f} s |"
        )
        mismatches = compare(results, reference)
        print(
            f"\nConcord / DuckDB: {best / duck:.1f}× (DuckDB skips disclosure control, "
            "zero-filling and the two indicators it has no data for)"
        )
        print(f"Results agree with DuckDB: {'yes' if mismatches == 0 else f'NO ({mismatches})'}")
        print("\n| indicator | Concord | DuckDB |")
        print("|---|---|---|")
        for key, seconds in each.items():
            theirs = f"{duck_each[key]:.3f} s" if key in duck_each else "—"
            print(f"| {key} | {seconds:.3f} s | {theirs} |")
    verdict = "yes" if best < TARGET_SECONDS else "NO"
    print(
        f"All {len(results)} shipped indicators over {frame.height:,} records in {best:.2f} s: "
        f"under the {TARGET_SECONDS:.0f} s target: {verdict}"
    )
    for key, result in results.items():
        if not result.available:
            print(f"  {key}: {result.reason}")


if __name__ == "__main__":
    main()
