"""`concord vocab export`: every format to stdout or a file, a user's vocabulary, clear errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from concord.vocab.export_skos import from_turtle
from concord.vocab.export_tabular import from_json, to_csv
from concord.vocab.model import Vocabulary
from tests.vocab.export_samples import sample_vocabulary

Run = Callable[..., tuple[int, str, str]]


def _write_vocabulary_dir(vocabulary: Vocabulary, directory: Path) -> Path:
    """Lay ``vocabulary`` out as a vocabulary directory (vocabulary.yaml + schemes/)."""
    data = vocabulary.model_dump(mode="json")
    (directory / "schemes").mkdir(parents=True)
    for scheme in data["schemes"]:
        text = yaml.safe_dump(scheme, allow_unicode=True, sort_keys=False)
        (directory / "schemes" / f"{scheme['id']}.yaml").write_text(text, encoding="utf-8")
    manifest = {**data, "schemes": [s["id"] for s in data["schemes"]]}
    (directory / "vocabulary.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return directory


def test_skos_to_stdout_imports_back(run_cli: Run, vocabulary: Vocabulary) -> None:
    code, out, err = run_cli("vocab", "export", "--format", "skos")
    assert code == 0, err
    assert from_turtle(out) == vocabulary


def test_json_csv_and_misp_to_stdout(run_cli: Run, vocabulary: Vocabulary) -> None:
    code, out, _ = run_cli("vocab", "export", "--format", "json")
    assert code == 0 and from_json(out) == vocabulary
    code, out, _ = run_cli("vocab", "export", "-f", "csv")
    assert code == 0
    assert len(list(csv.DictReader(io.StringIO(out, newline="")))) == sum(
        len(s.concepts) for s in vocabulary.schemes
    )
    code, out, _ = run_cli("vocab", "export", "-f", "csv-terms")
    assert code == 0 and out.startswith("concept,lang,term,replacement,fixable,reason")
    code, out, _ = run_cli("vocab", "export", "-f", "misp")
    assert code == 0 and json.loads(out)["namespace"] == "concord"


def test_output_file_is_written_and_reported(run_cli: Run, tmp_path: Path) -> None:
    target = tmp_path / "vocab.csv"
    code, out, _ = run_cli("vocab", "export", "--format", "csv", "--output", str(target))
    assert code == 0
    assert f"to {target}" in out.replace("\n", "")
    code, stdout_text, _ = run_cli("vocab", "export", "--format", "csv")
    assert target.read_bytes() == stdout_text.encode("utf-8")  # CRLF kept, nothing translated


def test_users_vocabulary_directory(run_cli: Run, tmp_path: Path) -> None:
    sample = sample_vocabulary()
    directory = _write_vocabulary_dir(sample, tmp_path / "mine")
    code, out, err = run_cli("vocab", "export", "-f", "csv", "--vocabulary", str(directory))
    assert code == 0, err
    assert out == to_csv(sample)
    target = tmp_path / "mine.ttl"
    code, _, err = run_cli(
        "vocab", "export", "-f", "skos", "--vocabulary", str(directory), "-o", str(target)
    )
    assert code == 0, err
    assert from_turtle(target.read_text(encoding="utf-8")) == sample


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "rdfxml"], "unknown export format 'rdfxml'; choose one of: skos, json"),
        (["--format", "json", "--output", "/nonexistent-dir/x.json"], "cannot write the export"),
    ],
)
def test_errors_exit_non_zero_with_a_message(run_cli: Run, args: list[str], message: str) -> None:
    code, out, err = run_cli("vocab", "export", *args)
    assert code == 2
    assert message in " ".join(err.split())
    assert out == ""


def test_format_is_required(run_cli: Run) -> None:
    code, _, err = run_cli("vocab", "export")
    assert code == 2 and "--format" in err


def test_help_lists_formats(run_cli: Run) -> None:
    code, out, _ = run_cli("vocab", "export", "--help")
    assert code == 0
    for name in ("skos", "json", "csv", "csv-terms", "misp"):
        assert name in out
