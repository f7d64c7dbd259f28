"""generate_partners: the files it writes, determinism, limits and errors."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from concord.errors import InputError, NotFoundError
from concord.synth import (
    MANIFEST_NAME,
    Messiness,
    Problem,
    SynthManifest,
    generate_partners,
    generate_rows,
    get_profile,
    organisations,
    read_planted,
)
from concord.synth import partners as partners_module
from tests.synth.files import read_export


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_every_organisation_writes_its_four_files_and_the_manifest(
    generated: tuple[Path, SynthManifest],
) -> None:
    directory, manifest = generated
    expected = {MANIFEST_NAME}
    for org in manifest.organisations:
        expected |= {org.file, org.mapping, org.crosswalk, org.planted_file}
    assert {p.name for p in directory.iterdir()} == expected
    assert [o.slug for o in manifest.organisations] == [p.slug for p in organisations()]


def test_the_set_is_diverse_enough_to_be_a_test_bed(generated: tuple[Path, SynthManifest]) -> None:
    _, manifest = generated
    orgs = manifest.organisations
    assert len(orgs) >= 6
    assert len({o.country for o in orgs}) >= 4
    assert len({o.language for o in orgs}) >= 3
    assert {o.format for o in orgs} >= {"csv", "xlsx", "kobo", "jsonl", "json"}
    assert all("Example" in o.name or "Ejemplo" in o.name for o in orgs)  # visibly fictional


def test_rows_are_exact(generated: tuple[Path, SynthManifest]) -> None:
    directory, manifest = generated
    for org in manifest.organisations:
        _, rows = read_export(directory, org)
        assert rows.height == org.rows == org.requested_rows == 2000, org.slug


def test_same_seed_and_size_give_byte_identical_files(tmp_path: Path) -> None:
    generate_partners(tmp_path / "a", rows_per_org=300, seed=11)
    generate_partners(tmp_path / "b", rows_per_org=300, seed=11)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate_partners(tmp_path / "a", rows_per_org=300, seed=11)
    generate_partners(tmp_path / "b", rows_per_org=300, seed=12)
    a, b = digests(tmp_path / "a"), digests(tmp_path / "b")
    data_files = [o.file for o in SynthManifest.load(tmp_path / "a").organisations]
    assert all(a[name] != b[name] for name in data_files)
    # The specs and crosswalks describe the organisation, not the seed.
    assert all(
        a[name] == b[name] for name in a if name.endswith((".mapping.yaml", ".crosswalk.yaml"))
    )


def test_generate_rows_matches_the_written_file_for_a_csv(tmp_path: Path) -> None:
    manifest = generate_partners(tmp_path, rows_per_org=500, seed=3, organisations=["ngo-my"])
    _, written = read_export(tmp_path, manifest.organisations[0])
    frame = generate_rows("ngo-my", 500, seed=3)
    as_text = frame.cast(dict.fromkeys(frame.columns, str)).with_columns()
    assert as_text.rows() == written.rows()


def test_messiness_does_not_change_the_records(
    generated: tuple[Path, SynthManifest], clean: tuple[Path, SynthManifest]
) -> None:
    """Planting draws from its own random stream: clean and messy files tell the same cases,
    and differ exactly in the rows the ground truth lists."""
    messy_dir, messy = generated
    clean_dir, tidy = clean
    for org, tidy_org in zip(messy.organisations, tidy.organisations, strict=True):
        assert tidy_org.planted_total == 0
        planted = set(read_planted(messy_dir, org).get_column("row").to_list())
        _, messy_rows = read_export(messy_dir, org)
        _, clean_rows = read_export(clean_dir, tidy_org)
        differ = {
            i + 1
            for i, (a, b) in enumerate(zip(messy_rows.rows(), clean_rows.rows(), strict=True))
            if a != b
        }
        assert differ == planted, org.slug  # exactly the listed rows differ


def test_manifest_round_trips(generated: tuple[Path, SynthManifest]) -> None:
    directory, manifest = generated
    assert SynthManifest.load(directory) == manifest


def test_zero_rows_give_valid_empty_files(tmp_path: Path) -> None:
    manifest = generate_partners(tmp_path, rows_per_org=0)
    for org in manifest.organisations:
        _, rows = read_export(tmp_path, org)
        assert rows.height == 0 and org.rows == 0
        assert org.planted_total == 0


def test_a_format_limit_caps_rows_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = replace(get_profile("hotline-uk"), max_rows=50)
    monkeypatch.setattr(partners_module, "get_profile", lambda slug: small)
    manifest = generate_partners(tmp_path, rows_per_org=80, organisations=["hotline-uk"])
    org = manifest.organisations[0]
    assert (org.rows, org.requested_rows) == (50, 80)
    assert org.notes and "at most 50" in org.notes[0]
    assert read_export(tmp_path, org)[1].height == 50


def test_unknown_organisation_and_bad_sizes_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"helpline-fr"):
        generate_partners(tmp_path, organisations=["helpline-xx"])
    with pytest.raises(InputError, match="between 0"):
        generate_partners(tmp_path, rows_per_org=-1)
    with pytest.raises(InputError, match="between 0"):
        generate_rows("helpline-fr", 10**12)
    assert not any(tmp_path.iterdir())  # nothing written before the check


def test_messiness_rates_are_validated() -> None:
    with pytest.raises(InputError, match="add up"):
        Messiness.scaled(20)
    with pytest.raises(InputError, match=r"between 0 and 0\.5"):
        Messiness({**Messiness().rates, Problem.LABEL_TYPO: -0.1})


def test_selected_organisations_only(tmp_path: Path) -> None:
    manifest = generate_partners(
        tmp_path, rows_per_org=50, organisations=["platform-th", "platform-th", "hotline-es"]
    )
    assert [o.slug for o in manifest.organisations] == ["platform-th", "hotline-es"]
