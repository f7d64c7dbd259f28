"""Mapping specs and crosswalks describe the files exactly (checked on the clean data set)."""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path

import yaml

from concord.synth import SynthManifest, get_profile, mapping_spec_yaml
from concord.vocab.crosswalk import read_crosswalk
from concord.vocab.crosswalk_check import IssueKind, check_crosswalk
from concord.vocab.model import Vocabulary
from tests.synth.files import crosswalk_index, parts, read_export, read_spec

SPEC_KEYS = ["source", "version", "description", "reader", "crosswalk", "identifying", "fields"]


def test_spec_shape_and_columns(clean: tuple[Path, SynthManifest]) -> None:
    directory, manifest = clean
    for org in manifest.organisations:
        spec = read_spec(directory, org)
        header, _ = read_export(directory, org)
        assert [k for k in spec if k != "keep"] == SPEC_KEYS
        assert set(spec.get("keep", {})) <= set(spec["identifying"])
        assert spec["source"] == org.slug and spec["version"] == 1
        assert (directory / spec["crosswalk"]).is_file()
        assert spec["reader"]["format"] == org.format
        assert set(spec["identifying"]) <= set(header) and spec["identifying"] == org.identifying
        columns = [f["column"] for f in spec["fields"].values()]
        assert set(columns) <= set(header), org.slug
        assert not set(columns) & set(spec["identifying"])
        for required in ("source_record_key", "received_date", "country", "abuse_types"):
            assert required in spec["fields"], (org.slug, required)


def test_every_value_is_readable_as_the_spec_says(clean: tuple[Path, SynthManifest]) -> None:
    directory, manifest = clean
    for org in manifest.organisations:
        fields = read_spec(directory, org)["fields"]
        _, rows = read_export(directory, org)
        for name, field in fields.items():
            values = [v for v in rows.get_column(field["column"]).to_list() if v is not None]
            assert values or name == "occurred_date", (org.slug, name)
            if "date_format" in field:
                for value in values:
                    datetime.strptime(value, field["date_format"])
            elif "boolean" in field:
                allowed = set(field["boolean"][True]) | set(field["boolean"][False])
                assert set(values) <= allowed, (org.slug, name)
            elif "values" in field:
                assert set(values) == set(field["values"]), (org.slug, name)
            elif field.get("type") == "integer" or field.get("exact_age"):
                assert all(0 <= int(v) < 100 for v in values), (org.slug, name)


def test_every_label_in_the_data_is_in_the_crosswalk(
    clean: tuple[Path, SynthManifest], vocabulary: Vocabulary
) -> None:
    directory, manifest = clean
    for org in manifest.organisations:
        fields = read_spec(directory, org)["fields"]
        index = crosswalk_index(directory, org)
        _, rows = read_export(directory, org)
        seen_unmapped: dict[str, set[str]] = {}
        for field in fields.values():
            if "scheme" not in field or field.get("exact_age"):
                continue
            assert vocabulary.scheme(field["scheme"]) is not None
            for cell in rows.get_column(field["column"]).unique().to_list():
                for value in parts(cell, field.get("split")):
                    entry = index.lookup(field["scheme"], value)
                    assert entry is not None, (org.slug, field["column"], value)
                    if entry.target is None:
                        seen_unmapped.setdefault(field["scheme"], set()).add(value)
        assert seen_unmapped == {k: set(v) for k, v in org.unmapped.items()}, org.slug


def test_crosswalks_check_clean_against_the_shipped_vocabulary(
    clean: tuple[Path, SynthManifest], vocabulary: Vocabulary
) -> None:
    directory, manifest = clean
    for org in manifest.organisations:
        crosswalk = read_crosswalk(directory / org.crosswalk)
        assert crosswalk.organisation == org.slug
        report = check_crosswalk(crosswalk, vocabulary)
        assert report.errors == [], [i.message for i in report.errors]
        unmapped = [i for i in report.issues if i.kind is IssueKind.UNMAPPED]
        written = {v for vs in org.unmapped.values() for v in vs}
        assert len(unmapped) == len(written)
        assert all({i.code, i.label} & written for i in unmapped)  # as the file writes it
        assert 1 <= len(unmapped) <= 2  # "one or two labels unmapped on purpose"
        for entry in crosswalk.entries:
            if entry.target is not None:
                scheme = vocabulary.scheme_of(entry.target)
                assert scheme is not None and scheme.id == entry.scheme


def test_encodings_and_line_ends_are_the_organisations_own(
    clean: tuple[Path, SynthManifest],
) -> None:
    directory, manifest = clean
    french = (directory / manifest.organisation("helpline-fr").file).read_bytes()
    assert b"r\xe9ception" in french and b"\r\n" in french  # cp1252 é, Windows line ends
    assert not french.startswith(codecs.BOM_UTF8)
    spanish = (directory / manifest.organisation("hotline-es").file).read_bytes()
    assert spanish.startswith(codecs.BOM_UTF8) and spanish.count(codecs.BOM_UTF8) == 1
    chinese = (directory / manifest.organisation("ngo-my").file).read_text(encoding="utf-8")
    assert chinese.startswith("个案编号,接案日期")
    kobo_header, kobo = read_export(directory, manifest.organisation("ngo-ke"))
    assert {"_uuid", "_submission_time", "incident/type", "incident/type/grooming"} <= set(
        kobo_header
    )
    for row in kobo.head(200).iter_rows(named=True):
        chosen = set(row["incident/type"].split(" "))
        flagged = {c.rsplit("/", 1)[1] for c in kobo_header if c.startswith("incident/type/")
                   and row[c] == "1"}  # fmt: skip
        assert chosen == flagged


def test_spec_yaml_parses_to_what_the_profile_says() -> None:
    spec = yaml.safe_load(mapping_spec_yaml(get_profile("hotline-es")))
    assert spec["reader"] == {"format": "csv", "encoding": "utf-8-sig", "delimiter": ","}
    assert spec["fields"]["self_generated"]["boolean"] == {
        True: ["Sí", "Si", "sí"],
        False: ["No", "no"],  # quoted in the file: YAML would read a bare No as false
    }
    assert spec["fields"]["victim_age_band"] == {"column": "Edad aparente", "scheme": "age_band"}
    exact = yaml.safe_load(mapping_spec_yaml(get_profile("helpline-fr")))["fields"]
    assert exact["victim_age_band"] == {"column": "Âge", "scheme": "age_band", "exact_age": True}
    assert exact["abuse_types"]["split"] == "|"
