"""`concord synth`: writes the files, summarises them, lists organisations, reports errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from concord.synth import organisations

Run = Callable[..., tuple[int, str, str]]


def test_synth_writes_files_and_a_summary(run_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "partners"
    code, stdout, _ = run_cli(
        "synth", str(out), "--rows", "120", "--seed", "3", "--org", "helpline-fr", "--org", "ngo-ke"
    )
    assert code == 0
    assert {p.name for p in out.iterdir()} >= {
        "helpline-fr.csv", "helpline-fr.mapping.yaml", "helpline-fr.crosswalk.yaml",
        "ngo-ke.csv", "manifest.json",
    }  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 3 and [o["rows"] for o in manifest["organisations"]] == [120, 120]
    for expected in ("helpline-fr", "ngo-ke", "FR", "KE", "kobo", "240 rows", "manifest.json"):
        assert expected in stdout


def test_messiness_zero_writes_clean_files(run_cli: Run, tmp_path: Path) -> None:
    code, _, _ = run_cli(
        "synth", str(tmp_path), "-n", "50", "--org", "office-mx", "--messiness", "0"
    )
    assert code == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert sum(manifest["organisations"][0]["planted"].values()) == 0


def test_list_names_every_organisation(run_cli: Run) -> None:
    code, stdout, _ = run_cli("synth", "--list")
    assert code == 0
    for profile in organisations():
        assert profile.slug in stdout


def test_errors_are_one_line_messages(run_cli: Run, tmp_path: Path) -> None:
    code, _, err = run_cli("synth", str(tmp_path), "--org", "helpline-zz")
    assert code == 2 and "no synthetic organisation 'helpline-zz'" in err
    assert "Traceback" not in err
    code, _, err = run_cli("synth", str(tmp_path), "--messiness", "50")
    assert code == 2 and "messiness rates" in err
    code, _, err = run_cli("synth")
    assert code == 2 and "OUT_DIR" in err
