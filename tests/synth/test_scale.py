"""Scale: many rows quickly, and files written in many chunks are still well formed.

Timing is the benchmarks' job (DESIGN.md); these tests only keep the sizes that must work
cheap enough to run on every change.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from concord.synth import Messiness, generate_partners, generate_rows
from concord.synth import partners as partners_module
from tests.synth.files import read_export, read_spec


def test_two_hundred_thousand_rows_of_one_organisation() -> None:
    frame = generate_rows("helpline-fr", 200_000, seed=1)
    assert frame.height == 200_000
    keys = frame.get_column("N° dossier")
    assert keys.n_unique() > 199_000  # only the planted repeats share a key


def test_many_chunks_make_one_well_formed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partners_module, "CHUNK_ROWS", 300)
    manifest = generate_partners(tmp_path, rows_per_org=1000, seed=4)
    for org in manifest.organisations:
        _, rows = read_export(tmp_path, org)
        assert rows.height == 1000, org.slug
        key = read_spec(tmp_path, org)["fields"]["source_record_key"]["column"]
        repeats = rows.height - rows.get_column(key).n_unique()
        assert repeats == org.planted["duplicate_row"] + org.planted["duplicate_key"], org.slug
    text = (tmp_path / manifest.organisation("platform-th").file).read_text(encoding="utf-8")
    assert len(json.loads(text)) == 1000
    spanish = (tmp_path / manifest.organisation("hotline-es").file).read_bytes()
    assert spanish.count(b"\xef\xbb\xbf") == 1 and spanish.count("Nº denuncia".encode()) == 1


def test_numbering_runs_on_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partners_module, "CHUNK_ROWS", 250)
    frame = generate_rows("office-mx", 1000, seed=2, messiness=Messiness.none())
    parts = frame.get_column("folio").str.split("-")
    years = parts.list.get(1).cast(pl.Int32)
    numbers = parts.list.get(2).cast(pl.Int32)
    assert frame.get_column("folio").n_unique() == 1000
    for year, count in Counter(years.to_list()).items():
        assert sorted(numbers.filter(years == year).to_list()) == list(range(1, count + 1))
