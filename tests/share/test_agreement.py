"""Agreements as data: every validation rule, and YAML that round-trips."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.errors import InputError, MalformedFileError
from concord.indicators.frame import DIMENSIONS
from concord.share import (
    Agreement,
    Level,
    Marking,
    OnwardSharing,
    dump_agreement,
    parse_agreement,
)
from concord.share.agreement import agreement_from_document

EXAMPLE = Path(__file__).parents[2] / "examples" / "agreements" / "hotline-es-to-hub.yaml"


def valid() -> dict[str, Any]:
    return {
        "id": "ngo-a-to-hub",
        "version": 1,
        "title": "NGO A to hub",
        "provider": "ngo-a",
        "recipients": ["hub"],
        "purpose": "statistics",
        "legal_basis": "Memorandum of understanding, article 4.",
        "shares": {
            "indicators": ["reports.abuse_type"],
            "dimensions": ["country", "victim_age_band"],
        },
        "level": "aggregate",
        "disclosure": {"min_cell": 5, "never_cross": [["country", "victim_age_band"]]},
        "frequency": "quarterly",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "marking": "AMBER+STRICT",
        "onward_sharing": "none",
        "consent_required": False,
    }


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as info:
        agreement_from_document(document, source="test.yaml")
    assert info.value.message.startswith("test.yaml: the agreement has")
    return info.value.details


def test_a_valid_agreement_parses_with_defaults() -> None:
    agreement = agreement_from_document(valid(), source="test.yaml")
    assert agreement.marking is Marking.AMBER_STRICT
    assert agreement.onward_sharing is OnwardSharing.NONE
    assert agreement.disclosure.dp is None
    assert agreement.parties == ["ngo-a", "hub"]
    document = valid()
    del document["disclosure"]
    assert agreement_from_document(document, source="t").disclosure.min_cell == 10


def test_the_example_file_is_valid() -> None:
    agreement = parse_agreement(EXAMPLE.read_text(encoding="utf-8"), source=str(EXAMPLE))
    assert agreement.id == "hotline-es-to-hub"
    assert agreement.disclosure.rounding_base == 5


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": "Not A Slug"}, "id:"),
        ({"version": 0}, "version:"),
        ({"title": ""}, "title:"),
        ({"provider": "NGO A"}, "provider:"),
        ({"recipients": []}, "recipients:"),
        ({"recipients": ["Hub!"]}, "not organisation ids"),
        ({"purpose": "Stats"}, "purpose:"),
        ({"legal_basis": ""}, "legal_basis:"),
        ({"level": "records"}, "level:"),
        ({"frequency": "weekly"}, "frequency:"),
        ({"marking": "AMBER STRICT"}, "marking:"),
        ({"marking": "WHITE"}, "marking:"),
        ({"valid_from": "2026-13-01"}, "valid_from:"),
        ({"consent_required": "perhaps"}, "consent_required:"),
        ({"onward_sharing": ""}, "onward_sharing"),
        ({"disclosure": {"min_cell": 0}}, "disclosure.min_cell:"),
        ({"disclosure": {"rounding_base": 0}}, "disclosure.rounding_base:"),
        ({"disclosure": {"dp": {"epsilon": 0, "period": "month"}}}, "disclosure.dp.epsilon:"),
        ({"disclosure": {"dp": {"epsilon": 1, "period": "week"}}}, "disclosure.dp.period:"),
        ({"disclosure": {"min_cel": 3}}, "disclosure.min_cel:"),
        ({"shares": {"tables": ["x"]}}, "shares.tables:"),
        ({"unknown_key": 1}, "unknown_key:"),
    ],
)
def test_each_field_rule(change: dict[str, Any], expected: str) -> None:
    found = problems(valid() | change)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"valid_to": "2026-01-01"}, "valid_to: 2026-01-01 must be after valid_from"),
        ({"recipients": ["hub", "ngo-a"]}, "cannot also receive"),
        ({"recipients": ["hub", "hub"]}, "listed more than once"),
        ({"purpose": "marketing"}, "not a known purpose"),
        ({"shares": {}}, "at least one indicator, dimension or field"),
        (
            {"level": "pseudonymised_records", "purpose": "research"},
            "consent_required: must be true",
        ),
        (
            {"level": "pseudonymised_records", "consent_required": True},
            "allows aggregates only",
        ),
        ({"disclosure": {"never_cross": [["country"]]}}, "at least two different"),
        ({"disclosure": {"never_cross": [["country", "sex"]]}}, "sex not among"),
    ],
)
def test_each_cross_field_rule(change: dict[str, Any], expected: str) -> None:
    found = problems(valid() | change)
    assert any(expected in p for p in found), found


def test_every_problem_is_listed_at_once() -> None:
    found = problems(valid() | {"version": 0, "marking": "WHITE", "frequency": "weekly"})
    assert len(found) == 3
    found = problems(valid() | {"valid_to": "2025-01-01", "recipients": ["ngo-a"], "shares": {}})
    assert len(found) == 3


def test_records_with_consent_and_a_record_level_purpose_are_valid() -> None:
    document = valid() | {
        "level": "pseudonymised_records",
        "purpose": "research",
        "consent_required": True,
        "shares": {"fields": ["abuse_types", "victim_age_band"]},
        "disclosure": {},
    }
    assert agreement_from_document(document, source="t").level is Level.PSEUDONYMISED_RECORDS


def test_dp_none_is_spelt_out_or_a_budget() -> None:
    none = agreement_from_document(valid() | {"disclosure": {"dp": "none"}}, source="t")
    assert none.disclosure.dp is None
    budget = agreement_from_document(
        valid() | {"disclosure": {"dp": {"epsilon": 0.5, "period": "year"}}}, source="t"
    )
    assert budget.disclosure.dp is not None
    assert budget.disclosure.dp.epsilon == 0.5


def test_onward_sharing_may_be_free_text() -> None:
    text = "Only to the national police unit named in annex B."
    agreement = agreement_from_document(valid() | {"onward_sharing": text}, source="t")
    assert agreement.onward_sharing == text
    assert not isinstance(agreement.onward_sharing, OnwardSharing)


def test_non_mapping_and_broken_yaml_are_refused() -> None:
    with pytest.raises(InputError, match="is a YAML mapping"):
        parse_agreement("- a\n- b\n", source="list.yaml")
    with pytest.raises(MalformedFileError, match=r"bad\.yaml line"):
        parse_agreement("id: [unclosed\n", source="bad.yaml")


def test_yaml_round_trip_of_the_example() -> None:
    agreement = parse_agreement(EXAMPLE.read_text(encoding="utf-8"), source="example")
    text = dump_agreement(agreement)
    assert parse_agreement(text, source="dumped") == agreement
    assert text.startswith("id: hotline-es-to-hub\nversion: 1\n")


_slug = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
_words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")


@st.composite
def agreements(draw: st.DrawFn) -> Agreement:
    provider = draw(_slug)
    recipients = draw(
        st.lists(_slug.filter(lambda s: s != provider), min_size=1, max_size=3, unique=True)
    )
    dimensions = draw(
        st.lists(st.sampled_from(["month", *DIMENSIONS]), min_size=2, max_size=4, unique=True)
    )
    level = draw(st.sampled_from(list(Level)))
    valid_from = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
    dp = draw(
        st.none()
        | st.builds(
            dict,
            epsilon=st.floats(min_value=0.01, max_value=10),
            period=st.sampled_from(["month", "quarter", "year"]),
        )
    )
    document: dict[str, Any] = {
        "id": draw(_slug) + "-agreement",
        "version": draw(st.integers(min_value=1, max_value=50)),
        "title": draw(_words),
        "provider": provider,
        "recipients": recipients,
        "purpose": "research" if level is Level.PSEUDONYMISED_RECORDS else "statistics",
        "legal_basis": draw(_words),
        "shares": {"dimensions": dimensions, "indicators": draw(st.lists(_slug, max_size=2))},
        "level": level.value,
        "disclosure": {
            "min_cell": draw(st.integers(min_value=1, max_value=100)),
            "rounding_base": draw(st.none() | st.integers(min_value=1, max_value=10)),
            "dp": dp,
            "never_cross": [dimensions[:2]],
        },
        "frequency": draw(st.sampled_from(["monthly", "quarterly", "yearly", "ad_hoc"])),
        "valid_from": valid_from.isoformat(),
        "valid_to": (valid_from + timedelta(days=draw(st.integers(1, 2000)))).isoformat(),
        "marking": draw(st.sampled_from([m.value for m in Marking])),
        "onward_sharing": draw(st.sampled_from([o.value for o in OnwardSharing]) | _words),
        "consent_required": level is Level.PSEUDONYMISED_RECORDS or draw(st.booleans()),
    }
    return agreement_from_document(document, source="generated")


@given(agreements())
def test_random_valid_agreements_round_trip_through_yaml(agreement: Agreement) -> None:
    assert parse_agreement(dump_agreement(agreement), source="dumped") == agreement
