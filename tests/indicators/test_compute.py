"""Computing indicators: hand-built frames with hand-computed answers, disclosure control, a
property test, and the synthetic partners end to end through a database (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from concord.db import session_scope
from concord.db.models import Record, RecordConcept
from concord.errors import InputError
from concord.indicators.compute import IndicatorResult, compute, compute_all
from concord.indicators.definitions import Disclosure, IndicatorDefinition, shipped_definitions
from concord.indicators.frame import (
    BATCH_SCHEMA,
    LIST_COLUMNS,
    RECORD_SCHEMA,
    load_batch_quality,
    load_frame,
)
from concord.indicators.population import PopulationTable
from concord.indicators.schedule import SCHEDULE_SCHEMA
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import IngestReport, ingest_file
from concord.protect.pseudonyms import PseudonymKeys
from concord.records.fields import FIELDS, FieldKind
from concord.synth import generate_partners
from concord.vocab.model import Vocabulary
from tests.conftest import BACKENDS, fresh_engine

#: A hand-built frame uses plain strings where the database frame has categories: any frame
#: with these columns must work.
TEXT_SCHEMA = {
    name: pl.String()
    if isinstance(dtype, pl.Categorical)
    else pl.List(pl.String())
    if name in LIST_COLUMNS
    else dtype
    for name, dtype in RECORD_SCHEMA.items()
}


def shipped(indicator_id: str, min_cell: int | None = 0) -> IndicatorDefinition:
    """A shipped definition; ``min_cell=0`` turns disclosure control off to see raw figures."""
    d = next(d for d in shipped_definitions() if d.id == indicator_id)
    if min_cell is None:
        return d
    return d.model_copy(update={"disclosure": Disclosure(min_cell=min_cell)})


def frame(*rows: dict[str, Any], categorical: bool = False) -> pl.DataFrame:
    defaults: dict[str, Any] = {name: [] for name in LIST_COLUMNS}
    defaults |= {"source_org": "org-a", "received_date": date(2024, 1, 15)}
    full = [{"id": i + 1} | defaults | row for i, row in enumerate(rows)]
    built = pl.DataFrame(full, schema=TEXT_SCHEMA, orient="row")
    return built.cast(RECORD_SCHEMA) if categorical else built  # type: ignore[arg-type]


def many(count: int, **row: Any) -> list[dict[str, Any]]:
    return [row] * count


def cells(result: IndicatorResult, *columns: str) -> list[tuple[Any, ...]]:
    return result.data.select(columns or result.data.columns).rows()


def test_counts_by_abuse_type_count_each_code_and_keep_uncoded_records(
    vocabulary: Vocabulary,
) -> None:
    data = frame(
        *many(3, abuse_types=["abuse.csam", "abuse.online_grooming"]),
        *many(2, abuse_types=["abuse.csam"]),
        *many(1, abuse_types=[]),
    )
    result = compute(shipped("reports.abuse_type"), data, vocabulary)
    assert cells(result, "abuse_type", "numerator") == [
        ("abuse.csam", 5),
        ("abuse.online_grooming", 3),
        (None, 1),  # no code recorded: counted under "not recorded", never dropped
    ]
    assert result.by == ("abuse_type",)
    assert any("counted once under each" in c for c in result.caveats)


def test_a_concept_filter_counts_narrower_concepts_once(vocabulary: Vocabulary) -> None:
    data = frame(
        *many(4, abuse_types=["abuse.sexual_extortion"]),
        *many(3, abuse_types=["abuse.financial_sexual_extortion"]),
        *many(1, abuse_types=["abuse.sexual_extortion", "abuse.financial_sexual_extortion"]),
        *many(2, abuse_types=["abuse.online_grooming"]),
    )
    result = compute(shipped("reports.sexual_extortion"), data, vocabulary)
    assert cells(result, "period", "numerator", "value") == [(date(2024, 1, 1), 8, 8.0)]
    broad = compute(
        shipped("reports.total"), data, vocabulary, filters={"abuse_type": "abuse.online_csea"}
    )
    assert broad.data["numerator"].to_list() == [10]  # every one of these is online CSEA


def test_small_cells_are_suppressed_not_dropped(vocabulary: Vocabulary) -> None:
    data = frame(
        *many(9, received_date=date(2024, 1, 5)), *many(12, received_date=date(2024, 2, 5))
    )
    result = compute(shipped("reports.total", min_cell=None), data, vocabulary)
    assert cells(result) == [
        (date(2024, 1, 1), None, None, None, True),
        (date(2024, 2, 1), 12, None, 12.0, False),
    ]
    assert result.suppressed_cells == 1


def test_a_share_hides_a_small_numerator_but_publishes_zero(vocabulary: Vocabulary) -> None:
    data = frame(
        *many(3, self_generated=True, country="country.fr"),
        *many(17, self_generated=False, country="country.fr"),
        *many(20, self_generated=False, country="country.ke"),
    )
    result = compute(
        shipped("reports.self_generated_share", min_cell=10), data, vocabulary, by=["country"]
    )
    assert cells(result, "country", "numerator", "denominator", "value", "suppressed") == [
        ("country.fr", None, None, None, True),
        ("country.ke", 0, 20, 0.0, False),
    ]


def test_share_matches_a_hand_computation(vocabulary: Vocabulary) -> None:
    data = frame(
        *many(4, self_generated=True, country="country.fr"),
        *many(6, self_generated=False, country="country.fr"),
        *many(2, self_generated=None, country="country.fr"),  # unknown: in neither count
        *many(2, self_generated=True, country="country.ke", received_date=date(2024, 5, 2)),
        *many(6, self_generated=False, country="country.ke", received_date=date(2024, 5, 2)),
    )
    result = compute(shipped("reports.self_generated_share"), data, vocabulary)
    assert cells(result, "period", "numerator", "denominator", "value") == [
        (date(2024, 1, 1), 4, 10, 40.0),
        (date(2024, 4, 1), 2, 8, 25.0),
    ]
    age = compute(
        shipped("quality.victim_age_known"),
        frame(
            *many(3, victim_age_band="age.11_13"),
            *many(1, victim_age_band="age.adult"),
            *many(2, victim_age_band="age.unknown"),
            *many(2, victim_age_band=None),
        ),
        vocabulary,
    )
    assert cells(age, "numerator", "denominator", "value") == [(4, 8, 50.0)]


def test_rate_divides_by_the_population_of_the_country_and_year(vocabulary: Vocabulary) -> None:
    population = PopulationTable(
        pl.DataFrame(
            {
                "country": ["country.fr", "country.fr"],
                "year": [2023, 2024],
                "children": [200_000, 250_000],
            },
            schema={"country": pl.String, "year": pl.Int32, "children": pl.Int64},
        ),
        source="test figures",
    )
    data = frame(
        *many(30, country="country.fr", received_date=date(2023, 3, 1)),
        *many(30, country="country.fr", received_date=date(2024, 11, 1)),
        *many(12, country="country.ke", received_date=date(2024, 2, 1)),  # no population
        *many(11, country=None, received_date=date(2024, 2, 1)),
    )
    result = compute(shipped("reports.per_100k_children"), data, vocabulary, population=population)
    assert cells(result, "period", "country", "numerator", "denominator", "value") == [
        (date(2023, 1, 1), "country.fr", 30, 200_000, 15.0),
        (date(2024, 1, 1), "country.fr", 30, 250_000, 12.0),
        (date(2024, 1, 1), "country.ke", 12, None, None),
        (date(2024, 1, 1), None, 11, None, None),
    ]
    assert "Child population: test figures." in result.caveats
    assert not any("illustrative" in c for c in result.caveats)
    default = compute(shipped("reports.per_100k_children"), data, vocabulary)
    assert any("illustrative" in c for c in default.caveats)


def test_median_delay_matches_a_hand_computation(vocabulary: Vocabulary) -> None:
    received = date(2024, 3, 31)
    data = frame(
        *[
            {"received_date": received, "occurred_date": date(2024, 3, 31 - days)}
            for days in (1, 3, 10, 25)
        ],
        {"received_date": received, "occurred_date": None},
    )
    result = compute(shipped("timeliness.report_delay"), data, vocabulary)
    assert cells(result, "numerator", "value") == [(4, 6.5)]


def test_completeness_counts_present_fields(vocabulary: Vocabulary) -> None:
    d = shipped("quality.completeness").model_copy(
        update={"fields": ["country", "abuse_types", "self_generated"]}
    )
    data = frame(
        {"country": "country.fr", "abuse_types": ["abuse.csam"], "self_generated": False},
        {"country": "country.fr"},
        {"source_org": "org-b", "abuse_types": ["abuse.csam"]},
    )
    result = compute(d, data, vocabulary)
    assert cells(result, "source_org", "numerator", "denominator") == [
        ("org-a", 4, 6),
        ("org-b", 1, 3),
    ]
    assert result.data["value"].round(2).to_list() == [66.67, 33.33]


def test_organisations_sharing_counts_distinct_organisations(vocabulary: Vocabulary) -> None:
    data = frame(
        *many(5, source_org="org-a"),
        *many(2, source_org="org-b"),
        {"source_org": "org-c", "received_date": date(2024, 3, 1)},
        {"source_org": "org-a", "received_date": date(2024, 8, 1)},
    )
    result = compute(shipped("collaboration.organisations_sharing", None), data, vocabulary)
    assert cells(result, "period", "numerator") == [
        (date(2024, 1, 1), 3),
        (date(2024, 4, 1), 0),  # a quarter without records between two with: a real zero
        (date(2024, 7, 1), 1),
    ]


def test_codes_mapped_comes_from_import_reports(vocabulary: Vocabulary) -> None:
    batches = pl.DataFrame(
        [
            (1, "org-a", date(2024, 1, 10), 100, 90),
            (2, "org-a", date(2024, 2, 10), 50, 45),
            (3, "org-b", date(2024, 2, 10), 10, 10),
        ],
        schema=BATCH_SCHEMA,
        orient="row",
    )
    d = shipped("collaboration.codes_mapped", None)
    result = compute(d, frame(), vocabulary, batches=batches)
    assert cells(result, "source_org", "numerator", "denominator", "value") == [
        ("org-a", 135, 150, 90.0),
        ("org-b", 10, 10, 100.0),
    ]
    missing = compute(d, frame(), vocabulary)
    assert not missing.available and "quality reports" in (missing.reason or "")
    assert missing.data.is_empty()
    with pytest.raises(InputError, match="only be filtered by source_org"):
        compute(d, frame(), vocabulary, batches=batches, filters={"country": "FR"})


def test_a_planned_indicator_says_so_instead_of_a_number(vocabulary: Vocabulary) -> None:
    planned = shipped("reports.total").model_copy(
        update={"status": "planned", "needs": "data Concord does not hold yet"}
    )
    result = compute(planned, frame({}), vocabulary)
    assert not result.available
    assert result.reason is not None and result.reason.startswith("not available yet")
    assert result.data.is_empty() and result.suppressed_cells == 0


def test_releases_on_schedule_counts_releases_made_by_their_due_date(
    vocabulary: Vocabulary,
) -> None:
    schedule = pl.DataFrame(
        [
            ("ngo-a", "a-to-hub", "2026-07", date(2026, 8, 30), date(2026, 8, 2), True),
            ("ngo-a", "a-to-hub", "2026-08", date(2026, 9, 30), date(2026, 10, 9), False),
            ("ngo-a", "a-to-hub", "2026-09", date(2026, 10, 30), None, False),
            ("ngo-b", "b-to-hub", "2026-Q3", date(2026, 10, 30), date(2026, 10, 1), True),
        ],
        schema=SCHEDULE_SCHEMA,
        orient="row",
    )
    definition = shipped("collaboration.releases_on_schedule")
    missing = compute(definition, pl.DataFrame(), vocabulary)
    assert not missing.available and "release schedule" in (missing.reason or "")
    result = compute(definition, pl.DataFrame(), vocabulary, releases=schedule)
    assert cells(result, "period", "source_org", "numerator", "denominator", "value") == [
        # due in Q3: July's on time, August's late; due in Q4: September's never made
        (date(2026, 7, 1), "ngo-a", 1, 2, 50.0),
        (date(2026, 10, 1), "ngo-a", 0, 1, 0.0),
        (date(2026, 10, 1), "ngo-b", 1, 1, 100.0),
    ]


def test_periods_truncate_and_gaps_are_zeros(vocabulary: Vocabulary) -> None:
    data = frame(
        {"received_date": date(2024, 1, 31)},
        {"received_date": date(2024, 3, 1)},
        {"received_date": date(2024, 12, 31)},
    )
    monthly = compute(shipped("reports.total"), data, vocabulary)
    assert monthly.data.height == 12
    assert cells(monthly, "period", "numerator")[:3] == [
        (date(2024, 1, 1), 1),
        (date(2024, 2, 1), 0),
        (date(2024, 3, 1), 1),
    ]
    quarterly = shipped("reports.total").model_copy(update={"period": "quarter"})
    assert cells(compute(quarterly, data, vocabulary), "period", "numerator") == [
        (date(2024, 1, 1), 2),
        (date(2024, 4, 1), 0),
        (date(2024, 7, 1), 0),
        (date(2024, 10, 1), 1),
    ]


def test_breakdowns_filters_and_dates(vocabulary: Vocabulary) -> None:
    data = frame(
        *many(3, country="country.fr", source_org="org-a"),
        *many(2, country="country.ke", source_org="org-b", received_date=date(2024, 2, 1)),
    )
    d = shipped("reports.total")
    by_country = compute(d, data, vocabulary, by=["country"])
    assert set(cells(by_country, "country", "numerator")) >= {("country.fr", 3), ("country.ke", 2)}
    assert compute(d, data, vocabulary, filters={"country": "KE"}).data["numerator"].sum() == 2
    assert compute(d, data, vocabulary, filters={"source_org": ["org-a"]}).data.height == 1
    late = compute(d, data, vocabulary, start=date(2024, 1, 20), end=date(2024, 12, 31))
    assert cells(late, "period", "numerator") == [(date(2024, 2, 1), 2)]
    with pytest.raises(InputError, match="cannot be broken down by 'abuse_type'"):
        compute(d, data, vocabulary, by=["abuse_type"])
    with pytest.raises(InputError, match="indicator filter"):
        compute(d, data, vocabulary, filters={"country": "Atlantis"})
    with pytest.raises(InputError, match="lacks column"):
        compute(d, data.drop("country"), vocabulary, by=["country"])


def test_categorical_and_text_frames_give_the_same_result(vocabulary: Vocabulary) -> None:
    rows = [
        {"country": c, "abuse_types": a, "self_generated": s}
        for c in ("country.fr", "country.ke", None)
        for a in (["abuse.csam"], ["abuse.sexual_extortion", "abuse.csam"], [])
        for s in (True, False, None)
    ]
    text, categorical = frame(*rows), frame(*rows, categorical=True)
    ours = compute_all(shipped_definitions(), text, vocabulary)
    theirs = compute_all(shipped_definitions(), categorical, vocabulary)
    for key, result in ours.items():
        assert result.data.equals(theirs[key].data), key
    document = json.loads(json.dumps(ours["reports.abuse_type"].to_dict()))
    assert document["vocabulary_version"] == vocabulary.version
    assert document["rows"][0]["period"] == "2024-01-01"


# --- properties --------------------------------------------------------------------------

CODES = [
    "abuse.csam",
    "abuse.sexual_extortion",
    "abuse.financial_sexual_extortion",
    "abuse.grooming",
]
RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "received_date": st.dates(date(2024, 1, 1), date(2024, 6, 30)),
            "abuse_types": st.lists(st.sampled_from(CODES), unique=True, max_size=3),
            "country": st.sampled_from(["country.fr", "country.ke", None]),
            "self_generated": st.sampled_from([True, False, None]),
        }
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RECORDS, st.integers(min_value=1, max_value=12))
def test_abuse_type_counts_cover_every_coded_record_and_suppression_never_leaks(
    vocabulary: Vocabulary, rows: list[dict[str, Any]], min_cell: int
) -> None:
    data = frame(*rows)
    raw = compute(shipped("reports.abuse_type"), data, vocabulary, by=["country"])
    coded = Counter(r["received_date"].replace(day=1) for r in rows if r["abuse_types"])
    sums = (
        raw.data.filter(pl.col("abuse_type").is_not_null())
        .group_by("period")
        .agg(pl.col("numerator").sum())
    )
    summed = dict(sums.rows())
    assert all(summed.get(month, 0) >= count for month, count in coded.items())
    for indicator in ("reports.abuse_type", "reports.self_generated_share"):
        hidden = compute(shipped(indicator, min_cell), data, vocabulary, by=["country"])
        shown = compute(shipped(indicator), data, vocabulary, by=["country"])
        assert hidden.data.height == shown.data.height  # suppressed, never dropped
        leaked = hidden.data.filter(
            pl.col("suppressed")
            & pl.any_horizontal(pl.col("numerator", "denominator", "value").is_not_null())
        )
        assert leaked.is_empty()


# --- end to end: the synthetic partners in a database ----------------------------------------

ROWS = 400


@pytest.fixture(scope="module", params=BACKENDS)
def node(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    vocabulary: Vocabulary,
) -> Iterator[tuple[Engine, dict[str, IngestReport]]]:
    folder: Path = tmp_path_factory.mktemp("partners")
    manifest = generate_partners(folder, rows_per_org=ROWS, seed=23)
    engine = fresh_engine(request.param, tmp_path_factory.mktemp("db"), "indicators_compute")
    keys = PseudonymKeys(tmp_path_factory.mktemp("keys"))
    reports = {
        o.slug: ingest_file(
            engine, folder / o.file, load_mapping(folder / o.mapping), vocabulary, keys=keys
        )
        for o in manifest.organisations
    }
    yield engine, reports
    engine.dispose()


def test_the_frame_holds_every_record_and_code(
    node: tuple[Engine, dict[str, IngestReport]],
) -> None:
    engine, reports = node
    data = load_frame(engine, chunk_rows=333)  # several pages
    with session_scope(engine) as session:
        records = session.scalar(select(func.count()).select_from(Record))
        codes = dict(
            session.execute(
                select(RecordConcept.field, func.count()).group_by(RecordConcept.field)
            ).all()
        )
    assert data.height == records == sum(r.rows_stored for r in reports.values())
    for name in LIST_COLUMNS:
        assert data[name].list.len().sum() == codes.get(name, 0)
    assert data.schema == pl.Schema(RECORD_SCHEMA)
    only = load_frame(engine, organisations=["ngo-ke"], received_from=date(2025, 1, 1))
    assert set(only["source_org"].cast(pl.String)) == {"ngo-ke"}
    assert only["received_date"].min() >= date(2025, 1, 1)  # type: ignore[operator]


def test_indicators_match_sql_hand_counts(
    node: tuple[Engine, dict[str, IngestReport]], vocabulary: Vocabulary
) -> None:
    engine, reports = node
    data = load_frame(engine)
    totals = compute(shipped("reports.total"), data, vocabulary, by=["source_org"])
    per_org = dict(totals.data.group_by("source_org").agg(pl.col("numerator").sum()).rows())
    assert per_org == {org: r.rows_stored for org, r in reports.items()}
    sextortion = ("abuse.sexual_extortion", "abuse.financial_sexual_extortion")
    with session_scope(engine) as session:
        expected = session.scalar(
            select(func.count(func.distinct(RecordConcept.record_id))).where(
                RecordConcept.field == "abuse_types", RecordConcept.concept_id.in_(sextortion)
            )
        )
        uk = session.execute(
            select(Record.received_date, Record.occurred_date, Record.self_generated).where(
                Record.source_org == "hotline-uk"
            )
        ).all()
    counted = compute(shipped("reports.sexual_extortion"), data, vocabulary)
    assert counted.data["numerator"].sum() == expected > 0
    share = compute(
        shipped("reports.self_generated_share"),
        data,
        vocabulary,
        filters={"source_org": "hotline-uk"},
    )
    by_quarter: dict[date, list[bool]] = {}
    for received, _, flag in uk:
        if flag is not None:
            quarter = date(received.year, (received.month - 1) // 3 * 3 + 1, 1)
            by_quarter.setdefault(quarter, []).append(flag)
    hand = {q: round(100 * sum(v) / len(v), 6) for q, v in by_quarter.items()}
    ours = {p: round(v, 6) for p, v in cells(share, "period", "value") if v is not None}
    assert ours == hand
    delays = [(r - o).days for r, o, _ in uk if o is not None]
    whole = shipped("timeliness.report_delay").model_copy(update={"period": "year"})
    yearly = compute(whole, data, vocabulary, filters={"source_org": "hotline-uk"})
    assert yearly.data["numerator"].sum() == len(delays)
    first_year = min(r.year for r, o, _ in uk if o is not None)
    in_first = [(r - o).days for r, o, _ in uk if o is not None and r.year == first_year]
    assert yearly.data["value"][0] == statistics.median(in_first)


def test_codes_mapped_matches_the_stored_codes(
    node: tuple[Engine, dict[str, IngestReport]], vocabulary: Vocabulary
) -> None:
    engine, _ = node
    batches = load_batch_quality(engine)
    scalar = [f.name for f in FIELDS if f.kind is FieldKind.CONCEPT]
    with session_scope(engine) as session:
        for org in ("hotline-es", "platform-th"):
            stored = sum(
                session.scalar(
                    select(func.count(getattr(Record, name))).where(Record.source_org == org)
                )
                or 0
                for name in scalar
            )
            for name in LIST_COLUMNS:  # a record with codes in a list field: one value
                stored += (
                    session.scalar(
                        select(func.count(func.distinct(RecordConcept.record_id)))
                        .join(Record, Record.id == RecordConcept.record_id)
                        .where(Record.source_org == org, RecordConcept.field == name)
                    )
                    or 0
                )
            row = batches.filter(pl.col("source_org") == org)
            assert row["coded_mapped"].item() == stored
            assert row["coded_values"].item() >= stored
    result = compute(
        shipped("collaboration.codes_mapped"), pl.DataFrame(), vocabulary, batches=batches
    )
    assert result.data["value"].is_between(50, 100).all()
