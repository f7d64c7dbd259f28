"""Mapping specs: clear errors for every way a spec can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from concord.errors import InputError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import load_mapping, parse_mapping

BASE = """
source: test-org
version: 1
reader: {format: csv}
fields:
  source_record_key: {column: id}
  received_date: {column: received, date_format: "%Y-%m-%d"}
"""


def test_minimal_spec_loads() -> None:
    loaded = parse_mapping(BASE, source="spec.yaml")
    assert loaded.spec.source == "test-org"
    assert loaded.crosswalk is None
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("  nonsense: {column: x}\n", "'nonsense' is not a field of the harmonised record"),
        ("  country: {column: c, scheme: sex}\n", "takes codes from scheme 'country'"),
        ("  country: {column: c}\n", "coded field needs the spec's 'crosswalk'"),
        ("  occurred_date: {column: o}\n", "date field needs a 'date_format'"),
        ("  self_generated: {column: s}\n", "yes/no field needs its 'boolean' spellings"),
        ("  victim_count: {column: n, split: ';'}\n", "'split' only applies"),
        ("  victim_sex: {column: s, exact_age: true}\n", "'exact_age' only applies"),
        ("  victim_count: {}\n", "needs a 'column' or a 'default'"),
    ],
)
def test_field_problems_are_listed(extra: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_mapping(BASE + extra, source="spec.yaml")
    assert expected in str(caught.value)


def test_identifying_column_cannot_feed_a_field() -> None:
    text = BASE.replace("fields:", "identifying: [id]\nfields:")
    with pytest.raises(InputError, match="marked identifying"):
        parse_mapping(text, source="spec.yaml")


def test_required_fields_must_be_mapped() -> None:
    text = "source: x\nversion: 1\nreader: {format: csv}\nfields: {}\n"
    with pytest.raises(InputError) as caught:
        parse_mapping(text, source="spec.yaml")
    assert "'source_record_key' is not mapped" in str(caught.value)
    assert "'received_date' is not mapped" in str(caught.value)


def test_wrong_shape_and_bad_yaml() -> None:
    with pytest.raises(InputError, match="expected shape"):
        parse_mapping(BASE.replace("format: csv", "format: pdf"), source="spec.yaml")
    with pytest.raises(InputError, match="source"):
        parse_mapping(BASE.replace("test-org", "Not A Slug!"), source="spec.yaml")
    with pytest.raises(MalformedFileError, match=r"spec\.yaml line"):
        parse_mapping("source: [\n", source="spec.yaml")
    with pytest.raises(InputError, match="YAML mapping"):
        parse_mapping("- a\n- b\n", source="spec.yaml")


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such mapping spec"):
        load_mapping(tmp_path / "absent.yaml")
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE.replace("fields:", "crosswalk: absent.crosswalk.yaml\nfields:"))
    with pytest.raises(UnreadableFileError, match="no such file"):
        load_mapping(spec)


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        ("{format: csv, header_row: 3}", None),
        ("{format: xlsx, header_row: 2}", None),
        ("{format: json, records: data.items}", None),
        ("{format: csv, header_row: 0}", "greater than or equal to 1"),
        ("{format: json, header_row: 2}", "header_row applies to formats csv, xlsx, kobo"),
        ("{format: csv, records: results}", "records applies to format 'json' only"),
        ("{format: json, records: 'data..items'}", "key path such as 'results'"),
        ("{format: json, records: ''}", "key path such as 'results'"),
    ],
)
def test_reader_options_header_row_and_records(reader: str, expected: str | None) -> None:
    text = BASE.replace("reader: {format: csv}", f"reader: {reader}")
    if expected is None:
        assert parse_mapping(text, source="spec.yaml").spec.reader.format in reader
        return
    with pytest.raises(InputError, match=expected):
        parse_mapping(text, source="spec.yaml")
