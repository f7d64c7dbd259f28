"""The ground truth is true: counting problems in the files, with plain readers and the
organisation's own spec and crosswalk, finds exactly what the manifest says was planted."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from concord.synth import DATA_END, OrganisationManifest, Problem, SynthManifest, read_planted
from concord.synth.generate import generate_chunk
from concord.synth.messiness import Messiness, plant
from concord.synth.profiles import get_profile
from concord.vocab.crosswalk_check import CrosswalkIndex
from tests.synth.files import crosswalk_index, parts, read_export, read_spec

#: Ingestion's plausible-age rule, restated here on purpose (not imported from the generator).
OLDEST = 120


def _date(value: str | None, fmt: str) -> date | str | None:
    """The date in ``value``; "invalid" when it does not parse."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        return "invalid"


def _cell_problems(row: dict[str, Any], fields: dict[str, Any], index: CrosswalkIndex,
                   written: set[str | None]) -> Counter[str]:  # fmt: skip
    """Label and age problems of one row."""
    found: Counter[str] = Counter()
    for field in fields.values():
        value = row[field["column"]]
        if field.get("exact_age"):
            found["impossible_age"] += value is not None and not 0 <= int(value) <= OLDEST
        elif "scheme" in field:
            values = parts(value, field.get("split"))
            if not values:
                found["missing_value"] += 1
            elif any(index.lookup(field["scheme"], v) is None for v in values):
                found["label_typo_or_unknown_code"] += 1
            elif any(v not in written for v in values):
                found["label_variant"] += 1
    return found


def _date_problems(row: dict[str, Any], fields: dict[str, Any]) -> Counter[str]:
    found: Counter[str] = Counter()
    spec = fields["received_date"]
    received = _date(row[spec["column"]], spec["date_format"])
    if received is None:
        found["missing_value"] += 1
    elif not isinstance(received, date):
        found["invalid_date"] += 1
    elif received > DATA_END:
        found["future_date"] += 1
    elif received < date(1990, 1, 1):
        found["date_before_1990"] += 1
    if "occurred_date" in fields:
        spec = fields["occurred_date"]
        occurred = _date(row[spec["column"]], spec["date_format"])
        if isinstance(occurred, date) and isinstance(received, date) and occurred > received:
            found["occurred_after_received"] += 1
    return found


def detect(directory: Path, org: OrganisationManifest) -> Counter[str]:
    """Problems found in ``org``'s file, without any knowledge of how it was generated."""
    fields = read_spec(directory, org)["fields"]
    index = crosswalk_index(directory, org)
    entries = index.crosswalk.entries
    written = {e.code for e in entries} | {e.label for e in entries}
    _, rows = read_export(directory, org)
    found: Counter[str] = Counter()
    distinct = rows.unique(maintain_order=True)
    found["duplicate_row"] = rows.height - distinct.height
    key = fields["source_record_key"]["column"]
    found["duplicate_key"] = distinct.height - distinct.unique(subset=key).height
    for row in distinct.iter_rows(named=True):
        found += _cell_problems(row, fields, index, written)
        found += _date_problems(row, fields)
    return found


def expected(org: OrganisationManifest) -> Counter[str]:
    planted = Counter(org.planted)
    planted["label_typo_or_unknown_code"] = planted.pop("label_typo", 0) + planted.pop(
        "unknown_code", 0
    )
    return +planted


@pytest.mark.parametrize("slug", ["helpline-fr", "hotline-es", "hotline-uk", "ngo-ke",
                                  "office-mx", "platform-th", "ngo-my"])  # fmt: skip
def test_planted_counts_match_the_files(generated: tuple[Path, SynthManifest], slug: str) -> None:
    directory, manifest = generated
    org = manifest.organisation(slug)
    assert +detect(directory, org) == expected(org)


def test_every_applicable_kind_is_planted_at_default_rates(
    generated: tuple[Path, SynthManifest],
) -> None:
    _, manifest = generated
    for org in manifest.organisations:
        assert all(count > 0 for count in org.planted.values()), (org.slug, org.planted)
    kinds = set().union(*(o.planted for o in manifest.organisations))
    assert kinds == {str(p) for p in Problem}


def test_planted_csv_points_at_the_problem_values(generated: tuple[Path, SynthManifest]) -> None:
    directory, manifest = generated
    for org in manifest.organisations:
        _, rows = read_export(directory, org)
        planted = read_planted(directory, org)
        assert planted.height == org.planted_total
        key_column = read_spec(directory, org)["fields"]["source_record_key"]["column"]
        for row, key, kind, column, value in planted.iter_rows():
            record = rows.row(row - 1, named=True)
            assert record[column] == value, (org.slug, row, kind)
            assert record[key_column] == key
        by_kind = planted.group_by("kind", maintain_order=True).agg(pl.col("key"))
        for kind, keys in by_kind.iter_rows():
            assert org.planted_keys[kind] == keys[: len(org.planted_keys[kind])]


def test_duplicates_copy_the_row_before(generated: tuple[Path, SynthManifest]) -> None:
    directory, manifest = generated
    org = manifest.organisation("hotline-es")
    _, rows = read_export(directory, org)
    planted = read_planted(directory, org)
    for row in planted.filter(pl.col("kind") == "duplicate_row").get_column("row"):
        assert rows.row(row - 1) == rows.row(row - 2)
    for row in planted.filter(pl.col("kind") == "duplicate_key").get_column("row"):
        assert rows.row(row - 1)[0] == rows.row(row - 2)[0]
        assert rows.row(row - 1) != rows.row(row - 2)


def test_unmapped_values_are_counted_not_planted(generated: tuple[Path, SynthManifest]) -> None:
    directory, manifest = generated
    for org in manifest.organisations:
        spec = read_spec(directory, org)
        index = crosswalk_index(directory, org)
        _, rows = read_export(directory, org)
        carrying = 0
        for row in rows.iter_rows(named=True):
            unmapped = False
            for field in spec["fields"].values():
                if "scheme" in field and not field.get("exact_age"):
                    for value in parts(row[field["column"]], field.get("split")):
                        entry = index.lookup(field["scheme"], value)
                        unmapped |= entry is not None and entry.target is None
            carrying += unmapped
        assert carrying == org.unmapped_rows > 0, org.slug


def test_a_row_carries_at_most_one_planted_problem() -> None:
    profile = get_profile("helpline-fr")
    rng = np.random.default_rng(1)
    chunk = generate_chunk(profile, 0, np.full(5000, 19_800, dtype=np.int32), rng)
    plan = plant(profile, chunk, Messiness.scaled(8), rng)
    assert len(plan.rows) > 1500
    assert len(set(plan.rows.tolist())) == len(plan.rows)
    copies = np.flatnonzero(plan.source != np.arange(5000))
    assert not set((copies - 1).tolist()) & set(plan.rows.tolist())  # copied rows are clean


def test_zero_rates_plant_nothing(clean: tuple[Path, SynthManifest]) -> None:
    directory, manifest = clean
    for org in manifest.organisations:
        assert +detect(directory, org) == Counter()
        assert read_planted(directory, org).height == 0
