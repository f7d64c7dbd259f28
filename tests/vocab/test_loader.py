"""Loading a vocabulary directory: clear errors for malformed or broken input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from concord.errors import MalformedFileError, UnreadableFileError, VocabularyError
from concord.vocab.loader import SHIPPED_DIR, load_vocabulary


@pytest.fixture
def vocab_dir(tmp_path: Path) -> Path:
    target = tmp_path / "vocab"
    shutil.copytree(SHIPPED_DIR, target)
    return target


def test_copy_of_shipped_loads(vocab_dir: Path) -> None:
    assert load_vocabulary(vocab_dir).version


def test_malformed_yaml_names_file_and_line(vocab_dir: Path) -> None:
    (vocab_dir / "schemes" / "sex.yaml").write_text("id: sex\nconcepts: [\n  - broken: : :\n")
    with pytest.raises(MalformedFileError, match=r"sex\.yaml line \d+"):
        load_vocabulary(vocab_dir)


def test_unknown_scheme_file_is_reported(vocab_dir: Path) -> None:
    manifest = vocab_dir / "vocabulary.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["schemes"].append("nonexistent")
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(UnreadableFileError, match=r"nonexistent\.yaml: no such file"):
        load_vocabulary(vocab_dir)


def test_binary_scheme_file_is_refused(vocab_dir: Path) -> None:
    (vocab_dir / "schemes" / "sex.yaml").write_bytes(b"\xff\xfe\x00\x00\x89PNG")
    with pytest.raises(UnreadableFileError, match="not UTF-8"):
        load_vocabulary(vocab_dir)


def test_wrong_shape_lists_every_problem(vocab_dir: Path) -> None:
    (vocab_dir / "schemes" / "sex.yaml").write_text(
        "id: sex\nprefix: sex\ntitle: {en: Sex}\nconcepts:\n"
        "  - id: Not A Slug\n    labels: {en: x}\n  - labels: {en: y}\n"
    )
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(vocab_dir)
    text = str(caught.value)
    assert "lowercase dotted slug" in text
    assert "Field required" in text


def test_integrity_problem_is_an_error(vocab_dir: Path) -> None:
    path = vocab_dir / "schemes" / "sex.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["concepts"].append({"id": "sex.extra", "labels": {"en": "Extra"}})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(VocabularyError, match="integrity problem"):
        load_vocabulary(vocab_dir)
