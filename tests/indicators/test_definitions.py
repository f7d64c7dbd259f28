"""Indicator definitions: the shipped ones, and every validation rule (each problem listed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session

from concord.errors import InputError, MalformedFileError, NotFoundError
from concord.indicators.definitions import (
    SHIPPED_DIR,
    IndicatorDefinition,
    IndicatorRegistry,
    default_registry,
    definition_problems,
    load_definitions,
    parse_definitions,
    save_definition,
    shipped_definitions,
    stored_definitions,
    validate_definitions,
)
from concord.indicators.frame import resolve_filter
from concord.indicators.population import (
    population_from_database,
    read_population_csv,
    shipped_population,
    store_population,
)
from concord.vocab.model import Vocabulary

REQUIRED = {
    "reports.abuse_type",
    "reports.self_generated_share",
    "reports.ai_generated_share",
    "reports.per_100k_children",
    "quality.victim_age_known",
    "timeliness.report_delay",
    "collaboration.organisations_sharing",
    "collaboration.releases_on_schedule",
    "collaboration.codes_mapped",
    "quality.completeness",
}


def definition(**changes: Any) -> IndicatorDefinition:
    base: dict[str, Any] = {
        "id": "test.indicator",
        "version": 1,
        "name": "Test",
        "description": "A test indicator.",
        "kind": "count",
    }
    return IndicatorDefinition.model_validate(base | changes)


def problems(vocabulary: Vocabulary, **changes: Any) -> list[str]:
    return definition_problems(definition(**changes), vocabulary)


def test_shipped_definitions_are_valid_and_cover_the_issue(vocabulary: Vocabulary) -> None:
    shipped = shipped_definitions()
    assert {d.id for d in shipped} >= REQUIRED
    validate_definitions(shipped, vocabulary, source="shipped")
    for d in shipped:
        assert d.caveats or d.status == "planned", f"{d.id} carries no caveat"
        assert d.higher_is in ("better", "worse", "neutral")
    # every shipped indicator can be computed now (the release schedule came with releases)
    assert [d.id for d in shipped if d.status == "planned"] == []


def test_shipped_data_files_live_inside_the_package() -> None:
    # hatch ships every file under src/concord, so package data needs no extra configuration
    assert SHIPPED_DIR.is_dir() and SHIPPED_DIR.parent.name == "indicators"
    assert len(list(SHIPPED_DIR.glob("*.yaml"))) == len(shipped_definitions())
    assert (SHIPPED_DIR / "child_population_illustrative.csv").is_file()


def test_a_valid_definition_has_no_problems(vocabulary: Vocabulary) -> None:
    assert (
        problems(
            vocabulary,
            numerator={"abuse_types": ["abuse.sexual_extortion"], "self_generated": [True]},
            disaggregations=["country", "abuse_type", "source_org"],
        )
        == []
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"numerator": {"colour": ["red"]}}, "numerator.colour: 'colour' is not a field"),
        ({"numerator": {"abuse_types": ["abuse.nonsense"]}}, "is not a concept of vocabulary"),
        ({"numerator": {"abuse_types": ["age.0_2"]}}, "belongs to scheme 'age_band'"),
        ({"numerator": {"country": ["abuse.grooming"]}}, "takes 'country' codes"),
        ({"numerator": {"self_generated": ["yes"]}}, "'yes' is not true or false"),
        ({"numerator": {"case_status": ["lost"]}}, "'lost' is not one of open"),
        ({"numerator": {"victim_count": [1]}}, "integer field cannot filter"),
        ({"numerator": {"abuse_types": []}}, "needs at least one value"),
        ({"disaggregations": ["colour"]}, "disaggregations: 'colour' is not a coded field"),
        ({"disaggregations": ["received_date"]}, "'received_date' is not a coded field"),
        ({"breakdown": ["subnational_area"]}, "breakdown: 'subnational_area' is not a coded"),
        ({"denominator": {"filter": {"self_generated": [True]}}}, "a count indicator has no"),
        ({"kind": "rate"}, "a rate needs a reference table"),
        (
            {
                "kind": "rate",
                "denominator": {"table": "adults", "per": 10},
                "breakdown": ["country"],
            },
            "'adults' is not a reference table",
        ),
        (
            {
                "kind": "rate",
                "denominator": {"table": "child_population"},
                "breakdown": ["country"],
            },
            "a rate says per how many",
        ),
        (
            {"kind": "rate", "denominator": {"table": "child_population", "per": 100}},
            "a rate is per country",
        ),
        (
            {"kind": "share", "denominator": {"table": "child_population", "per": 100}},
            "'table'/'per' are for rates",
        ),
        ({"kind": "median"}, "a median needs a measure"),
        ({"value": "happiness"}, "'happiness' is not a known measure"),
        ({"value": "delay_days"}, "'delay_days' applies to median only"),
        ({"kind": "share", "value": "fields_present"}, "needs the list of fields"),
        (
            {"kind": "share", "value": "fields_present", "fields": ["colour"]},
            "fields: 'colour' is not a field",
        ),
        ({"fields": ["country"]}, "only 'value: fields_present' takes"),
        (
            {"kind": "share", "value": "codes_mapped", "breakdown": ["source_org", "country"]},
            "only source_org can break it down",
        ),
        ({"value": "organisations", "disaggregations": ["source_org"]}, "always 1"),
        ({"status": "planned"}, "needs: a planned indicator says what it is waiting for"),
    ],
)
def test_each_rule_names_the_problem(
    vocabulary: Vocabulary, changes: dict[str, Any], expected: str
) -> None:
    found = problems(vocabulary, **changes)
    assert any(expected in p for p in found), found


def test_every_problem_is_listed_at_once(vocabulary: Vocabulary) -> None:
    bad = definition(
        numerator={"colour": ["red"], "abuse_types": ["age.0_2", "abuse.nonsense"]},
        disaggregations=["colour", "country"],
    )
    with pytest.raises(InputError) as caught:
        validate_definitions([bad, bad], vocabulary, source="mine.yaml")
    details = caught.value.details
    assert len(details) == 2 * 4 + 1  # four problems each, and the duplicate id
    assert all(d.startswith("test.indicator: ") for d in details)
    assert any("defined twice" in d for d in details)
    assert "mine.yaml: 9 problem(s)" in str(caught.value)


def test_shape_errors_are_listed_with_their_place() -> None:
    document = {
        "indicators": [
            {"id": "Bad Id", "version": 0, "name": "x", "description": "y", "kind": "sum"},
            {
                "id": "ok.one",
                "version": 1,
                "name": "x",
                "description": "y",
                "kind": "count",
                "colour": "red",
            },
        ]
    }
    with pytest.raises(InputError) as caught:
        parse_definitions(document, source="defs.yaml")
    text = "\n".join(caught.value.details)
    assert "defs.yaml [Bad Id]: id:" in text
    assert "version:" in text and "kind:" in text
    assert "defs.yaml [ok.one]: colour: Extra inputs are not permitted" in text
    with pytest.raises(InputError, match="expected an indicator definition"):
        parse_definitions(["a list"], source="x.yaml")


def test_bare_denominator_mapping_is_a_filter() -> None:
    d = definition(kind="share", denominator={"self_generated": [True, False]})
    assert d.denominator is not None
    assert d.denominator.filter == {"self_generated": [True, False]}


def test_load_from_a_file_and_a_directory(tmp_path: Path, vocabulary: Vocabulary) -> None:
    one = {"id": "mine.one", "version": 1, "name": "One", "description": "d", "kind": "count"}
    two = one | {"id": "mine.two", "numerator": {"abuse_types": ["abuse.grooming"]}}
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(one), encoding="utf-8")
    (tmp_path / "more.yml").write_text(yaml.safe_dump({"indicators": [two]}), encoding="utf-8")
    assert [d.id for d in load_definitions(tmp_path / "one.yaml", vocabulary)] == ["mine.one"]
    assert {d.id for d in load_definitions(tmp_path, vocabulary)} == {"mine.one", "mine.two"}
    registry = default_registry(tmp_path, vocabulary)
    assert registry.get("mine.two").numerator == {"abuse_types": ["abuse.grooming"]}
    assert len(registry) == len(shipped_definitions()) + 2


def test_load_reports_bad_files(tmp_path: Path, vocabulary: Vocabulary) -> None:
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(MalformedFileError, match=r"broken\.yaml line"):
        load_definitions(tmp_path / "broken.yaml", vocabulary)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotFoundError, match="no indicator definitions"):
        load_definitions(empty, vocabulary)
    bad = {
        "id": "mine.bad",
        "version": 1,
        "name": "x",
        "description": "y",
        "kind": "count",
        "numerator": {"abuse_types": ["abuse.nope"]},
    }
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(InputError, match="1 problem"):
        load_definitions(tmp_path / "bad.yaml", vocabulary)


def test_registry_refuses_duplicates_and_names_unknown_ids() -> None:
    registry = IndicatorRegistry(shipped_definitions())
    with pytest.raises(InputError, match="already defined"):
        registry.add(shipped_definitions()[0])
    with pytest.raises(NotFoundError, match="concord indicators list"):
        registry.get("reports.nothing")


def test_filters_accept_codes_and_single_values(vocabulary: Vocabulary) -> None:
    assert resolve_filter({"country": "FR", "source_org": "ngo-ke"}, vocabulary) == {
        "country": ["country.fr"],
        "source_org": ["ngo-ke"],
    }
    assert resolve_filter({"abuse_type": ["abuse.grooming"]}, vocabulary) == {
        "abuse_types": ["abuse.grooming"]
    }
    with pytest.raises(InputError) as caught:
        resolve_filter({"country": "Atlantis", "colour": "red"}, vocabulary)
    assert len(caught.value.details) == 2


# --- the population table -------------------------------------------------------------------


def test_shipped_population_is_labelled_illustrative() -> None:
    table = shipped_population()
    assert table.illustrative
    assert {"country.fr", "country.ke", "country.th"} <= set(table.frame["country"])
    assert table.frame["children"].min() > 0  # type: ignore[operator]


def test_a_users_population_table_is_checked(tmp_path: Path, vocabulary: Vocabulary) -> None:
    good = tmp_path / "good.csv"
    good.write_text("country,year,children\nFR,2024,14000000\ncountry.ke,2024,24 000 000\n")
    table = read_population_csv(good, vocabulary, source="national statistics 2024")
    assert not table.illustrative
    assert table.frame.rows() == [
        ("country.fr", 2024, 14_000_000),
        ("country.ke", 2024, 24_000_000),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("country,year,children\nXX,2024,10\nFR,soon,-3\nFR,2024,1\nFR,2024,2\n")
    with pytest.raises(InputError) as caught:
        read_population_csv(bad, vocabulary)
    assert caught.value.details == [
        "row 1: 'XX' is not a country code",
        "row 2: 'soon' is not a year",
        "row 2: '-3' is not a number of children",
        "country.fr 2024: given more than once",
    ]
    (tmp_path / "cols.csv").write_text("nation,year\nFR,2024\n")
    with pytest.raises(InputError, match="needs the columns"):
        read_population_csv(tmp_path / "cols.csv", vocabulary)


def test_population_is_kept_in_the_database(session: Session, vocabulary: Vocabulary) -> None:
    assert population_from_database(session) is None
    stored = store_population(session, shipped_population())
    again = population_from_database(session)
    assert again is not None and again.frame.height == stored
    assert again.illustrative  # the label travels with the figures


def test_user_definitions_are_stored_as_append_only_versions(
    session: Session, vocabulary: Vocabulary
) -> None:
    first = definition(numerator={"abuse_types": ["abuse.grooming"]})
    assert save_definition(session, first, vocabulary, created_by="analyst")
    assert not save_definition(session, first, vocabulary, created_by="analyst")  # idempotent
    changed = first.model_copy(update={"name": "Grooming reports"})
    with pytest.raises(InputError, match="save the change as version 2"):
        save_definition(session, changed, vocabulary, created_by="analyst")
    second = changed.model_copy(update={"version": 2})
    assert save_definition(session, second, vocabulary, created_by="analyst")
    assert stored_definitions(session) == [second]
    assert default_registry(None, vocabulary, session).get("test.indicator") == second
    with pytest.raises(InputError, match="shipped indicator"):
        save_definition(session, shipped_definitions()[0], vocabulary, created_by="analyst")
    with pytest.raises(InputError, match="is not a concept"):
        bad = definition(id="test.bad", numerator={"abuse_types": ["abuse.nope"]})
        save_definition(session, bad, vocabulary, created_by="analyst")
