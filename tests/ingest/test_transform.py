"""Mapping and validation of one batch: each rule, and nothing is ever lost."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.ingest.mapping import LoadedMapping, load_mapping
from concord.ingest.transform import REASONS, ROW, BatchMapper, age_bands, check_columns
from concord.vocab.model import Vocabulary

TODAY = date(2026, 11, 25)
SPEC = """
source: test-org
version: 1
reader: {format: csv}
crosswalk: cw.yaml
identifying: [name]
fields:
  source_record_key: {column: id}
  received_date: {column: received, date_format: "%d/%m/%Y"}
  occurred_date: {column: occurred, date_format: "%d/%m/%Y"}
  country: {column: country, scheme: country}
  abuse_types: {column: types, scheme: abuse_type, split: "|"}
  victim_age_band: {column: age, scheme: age_band, exact_age: true}
  victim_count: {column: victims, type: integer, default: 1}
  self_generated: {column: selfgen, boolean: {true: ["Oui"], false: ["Non"]}}
  case_status: {column: status, values: {Ouvert: open, "Clôturé": closed}}
"""
CROSSWALK = """
organisation: test-org
mappings:
  abuse_type:
    - {label: "Pédopornographie", target: abuse.csam}
    - {label: "Chantage sexuel", target: abuse.sexual_extortion}
    - {label: "Autre"}
  country:
    - {label: "Frankreich", target: country.fr}
"""
GOOD = {
    "id": "A1",
    "received": "02/03/2024",
    "occurred": "01/03/2024",
    "country": "FR",
    "types": "Pédopornographie|chantage SEXUEL",
    "age": "14",
    "victims": "2",
    "selfgen": "oui",
    "status": "clôturé",
    "name": "Alice (never stored)",
}


@pytest.fixture(scope="module")
def mapping(tmp_path_factory: pytest.TempPathFactory) -> LoadedMapping:
    folder = tmp_path_factory.mktemp("spec")
    (folder / "spec.yaml").write_text(SPEC, encoding="utf-8")
    (folder / "cw.yaml").write_text(CROSSWALK, encoding="utf-8")
    return load_mapping(folder / "spec.yaml")


def _frame(*rows: Mapping[str, str | None]) -> pl.DataFrame:
    frame = pl.DataFrame(list(rows), schema=dict.fromkeys(GOOD, pl.String))
    return frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))


def _reasons(mapping: LoadedMapping, vocabulary: Vocabulary, **changes: str | None) -> list[str]:
    result = BatchMapper(mapping, vocabulary, today=TODAY).map(_frame({**GOOD, **changes}))
    if result.quarantined.is_empty():
        return []
    reasons: list[str] = result.quarantined[REASONS][0].to_list()
    return reasons


def test_a_good_row_is_harmonised(mapping: LoadedMapping, vocabulary: Vocabulary) -> None:
    result = BatchMapper(mapping, vocabulary, today=TODAY).map(_frame(GOOD))
    assert result.quarantined.is_empty()
    row = result.records.row(0, named=True)
    assert row["received_date"] == date(2024, 3, 2)
    assert row["country"] == "country.fr"  # the vocabulary's notation, without a crosswalk line
    assert row["abuse_types"] == ["abuse.csam", "abuse.sexual_extortion"]
    assert row["victim_age_band"] == "age.14_15"
    assert row["victim_count"] == 2
    assert row["self_generated"] is True
    assert row["case_status"] == "closed"
    assert "name" not in result.records.columns
    kept = result.values_for(result.records[ROW])["__values__"][0]
    assert "Alice" not in kept and "A1" in kept  # identifying columns: not even in values


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"id": None}, "source_record_key: missing (required)"),
        ({"id": "   "}, "source_record_key: missing (required)"),
        ({"received": None}, "received_date: missing (required)"),
        ({"received": "31/02/2024"}, "received_date: '31/02/2024' is not a date like %d/%m/%Y"),
        ({"received": "2024-03-02"}, "is not a date like"),
        ({"received": "01/01/2027"}, "received_date: '01/01/2027' is in the future"),
        ({"received": "01/01/1989", "occurred": None}, "is before 1990"),
        ({"occurred": "05/03/2024"}, "occurred_date: is after received_date"),
        ({"country": "Atlantis"}, "country: 'Atlantis' is neither in the crosswalk"),
        ({"types": "Pédopornographie|Grooming?"}, "abuse_types: 'Grooming?'"),
        ({"age": "250"}, "victim_age_band: '250' is not a possible age"),
        ({"age": "-3"}, "victim_age_band: '-3' is not a possible age"),
        ({"age": "quatorze"}, "victim_age_band: 'quatorze' is neither"),
        ({"victims": "deux"}, "victim_count: 'deux' is not a whole number"),
        ({"victims": "-1"}, "victim_count: '-1' is negative"),
        ({"selfgen": "peut-être"}, "self_generated: 'peut-être' is not one of: non, oui"),
        ({"status": "perdu"}, "case_status: 'perdu' is not one of"),
    ],
)
def test_each_rule_quarantines_with_its_reason(
    mapping: LoadedMapping, vocabulary: Vocabulary, changes: dict[str, str | None], expected: str
) -> None:
    reasons = _reasons(mapping, vocabulary, **changes)
    assert any(expected in r for r in reasons), reasons


def test_every_reason_is_kept(mapping: LoadedMapping, vocabulary: Vocabulary) -> None:
    reasons = _reasons(mapping, vocabulary, id=None, received="x", age="999", selfgen="?")
    assert len(reasons) == 4


def test_unmapped_labels_are_stored_empty_and_counted(
    mapping: LoadedMapping, vocabulary: Vocabulary
) -> None:
    result = BatchMapper(mapping, vocabulary, today=TODAY).map(_frame({**GOOD, "types": "Autre"}))
    assert result.quarantined.is_empty()
    assert result.records["abuse_types"][0].to_list() == []
    assert result.unmapped[("abuse_types", "Autre")] == 1


def test_defaults_and_empty_cells(mapping: LoadedMapping, vocabulary: Vocabulary) -> None:
    result = BatchMapper(mapping, vocabulary, today=TODAY).map(
        _frame({**GOOD, "victims": "", "occurred": None, "types": None, "age": None})
    )
    row = result.records.row(0, named=True)
    assert row["victim_count"] == 1
    assert row["occurred_date"] is None
    assert row["abuse_types"] == []


def test_adults_ages_map_to_the_adult_band(vocabulary: Vocabulary) -> None:
    bands = age_bands(vocabulary)
    assert bands[0] == "age.0_2" and bands[17] == "age.16_17" and bands[40] == "age.adult"
    assert set(range(121)) == set(bands)


def test_missing_columns_are_one_clear_error(mapping: LoadedMapping) -> None:
    with pytest.raises(InputError, match="lacks column") as caught:
        check_columns([ROW, "id", "received"], mapping, source="file.csv")
    assert "country" in str(caught.value)


cells = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(list(GOOD.values())))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries(dict.fromkeys(GOOD, cells)), min_size=1, max_size=30))
def test_nothing_is_lost_whatever_the_input(rows: list[dict[str, str | None]]) -> None:
    from concord.vocab.loader import shipped_vocabulary

    mapping = _HYPOTHESIS_MAPPING[0]
    result = BatchMapper(mapping, shipped_vocabulary(), today=TODAY).map(_frame(*rows))
    assert result.records.height + result.quarantined.height == len(rows)
    kept = set(result.records[ROW].to_list()) | set(result.quarantined[ROW].to_list())
    assert kept == set(range(2, len(rows) + 2))
    assert all(len(r) > 0 for r in result.quarantined[REASONS].to_list())


_HYPOTHESIS_MAPPING: list[LoadedMapping] = []


@pytest.fixture(autouse=True)
def _share_mapping(mapping: LoadedMapping) -> None:
    if not _HYPOTHESIS_MAPPING:
        _HYPOTHESIS_MAPPING.append(mapping)


def test_cells_are_read_trimmed_and_blank_cells_are_empty(
    mapping: LoadedMapping, vocabulary: Vocabulary
) -> None:
    """Coded cells are decided once per distinct cell as written: spacing around a value must
    not change what it means, and a blank coded cell is no value, not an unknown code."""
    padded = {
        **GOOD,
        "country": "  FR ",
        "types": " Pédopornographie |  Chantage sexuel",
        "selfgen": " Oui ",
        "status": "\tOuvert ",
    }
    blank = {**GOOD, "country": "   ", "types": " ", "selfgen": "  ", "status": " "}
    result = BatchMapper(mapping, vocabulary, today=TODAY).map(_frame(padded, blank, GOOD))
    assert result.quarantined.is_empty(), result.quarantined[REASONS].to_list()
    first, second, third = result.records.iter_rows(named=True)
    assert first["country"] == third["country"] == "country.fr"
    assert first["abuse_types"] == third["abuse_types"]
    assert (first["self_generated"], first["case_status"]) == (True, "open")
    assert second["country"] is None and second["abuse_types"] == []
    assert second["self_generated"] is None and second["case_status"] is None


def test_unknown_codes_are_counted_across_spellings_of_one_value(
    mapping: LoadedMapping, vocabulary: Vocabulary
) -> None:
    frame = _frame({**GOOD, "country": "Atlantis"}, {**GOOD, "id": "A2", "country": " Atlantis "})
    result = BatchMapper(mapping, vocabulary, today=TODAY).map(frame)
    assert result.unknown[("country", "Atlantis")] == 2
    assert result.quarantined.height == 2


def test_a_coded_default_fills_empty_and_blank_cells(
    tmp_path: Path, vocabulary: Vocabulary
) -> None:
    (tmp_path / "spec.yaml").write_text(
        SPEC.replace(
            "country: {column: country, scheme: country}",
            "country: {column: country, scheme: country, default: FR}",
        ),
        encoding="utf-8",
    )
    (tmp_path / "cw.yaml").write_text(CROSSWALK, encoding="utf-8")
    spec = load_mapping(tmp_path / "spec.yaml")
    rows = [{**GOOD, "id": f"A{i}", "country": cell} for i, cell in enumerate([None, "", "  "])]
    rows.append({**GOOD, "id": "A9", "country": "Frankreich"})
    result = BatchMapper(spec, vocabulary, today=TODAY).map(_frame(*rows))
    assert result.quarantined.is_empty()
    assert result.records["country"].to_list() == ["country.fr"] * 4


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.fixed_dictionaries(dict.fromkeys(GOOD, cells)), min_size=1, max_size=20),
    st.sampled_from([" ", "  ", "\t"]),
)
def test_padding_coded_cells_changes_nothing(rows: list[dict[str, str | None]], pad: str) -> None:
    from concord.vocab.loader import shipped_vocabulary

    mapping = _HYPOTHESIS_MAPPING[0]
    coded = ("country", "types", "selfgen", "status")
    padded = [
        {k: (f"{pad}{v}{pad}" if k in coded and v is not None else v) for k, v in row.items()}
        for row in rows
    ]
    mapper = BatchMapper(mapping, shipped_vocabulary(), today=TODAY)
    plain, spaced = mapper.map(_frame(*rows)), mapper.map(_frame(*padded))
    assert plain.records.drop(ROW).equals(spaced.records.drop(ROW))
    assert plain.quarantined[ROW].to_list() == spaced.quarantined[ROW].to_list()
