"""``concord lint``: human and JSON output, --fix, --lang, --vocabulary and exit statuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from concord.cli.main import app
from concord.config import get_settings
from tests.vocab.lint_samples import small_vocabulary

Run = Callable[..., tuple[int, str, str]]


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


@pytest.fixture
def small_vocab_dir(tmp_path: Path) -> Path:
    """The test vocabulary written as a vocabulary directory (what --vocabulary reads)."""
    vocab = small_vocabulary()
    directory = tmp_path / "vocab"
    manifest = {
        "version": vocab.version,
        "languages": vocab.languages,
        "schemes": [s.id for s in vocab.schemes],
        "changelog": [{"version": vocab.version, "date": "2024-01-01", "changes": ["test"]}],
    }
    write(directory / "vocabulary.yaml", yaml.safe_dump(manifest, allow_unicode=True))
    for scheme in vocab.schemes:
        doc = scheme.model_dump(mode="json", exclude_defaults=True)
        write(directory / "schemes" / f"{scheme.id}.yaml", yaml.safe_dump(doc, allow_unicode=True))
    return directory


class TestExitStatus:
    def test_clean_file_exits_0(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "ok.md", "Child sexual abuse material is the right term.\n")
        code, out, _ = run_cli("lint", str(path))
        assert code == 0
        assert "No discouraged terms in 1 file(s) checked." in out

    def test_findings_exit_1_with_one_line_each(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "a.md", "Title\n\nWe found child pornography [sic].\n")
        code, out, _ = run_cli("lint", str(path))
        assert code == 1
        line = next(line for line in out.splitlines() if line.startswith(str(path)))
        assert line.startswith(
            f"{path}:3:10: child pornography → child sexual abuse material (abuse.csam, en) — "
        )
        assert "[fixable]" in line
        assert "Found 1 discouraged term(s) in 1 of 1 file(s) checked" in out

    def test_unreadable_file_exits_2_but_others_are_still_reported(
        self, tmp_path: Path, run_cli: Run
    ) -> None:
        good = write(tmp_path / "a.md", "pédopornographie")
        binary = write(tmp_path / "b.txt", b"\x00\x01child porn")
        code, out, err = run_cli("lint", str(good), str(binary), str(tmp_path / "missing.md"))
        assert code == 2
        assert f"{good}:1:1: pédopornographie" in out
        assert "binary" in err and "missing.md: no such file or directory" in err
        assert "Traceback" not in err

    def test_too_large_file_exits_2(
        self, tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CONCORD_LINT_MAX_BYTES", "8")
        get_settings.cache_clear()
        code, _, err = run_cli("lint", str(write(tmp_path / "a.md", "child porn here")))
        assert code == 2
        assert "15 bytes is over the 8 bytes limit" in err

    def test_malformed_json_exits_2_with_position(self, tmp_path: Path, run_cli: Run) -> None:
        code, _, err = run_cli("lint", str(write(tmp_path / "a.json", '{"a": [1,,2]}')))
        assert code == 2
        assert "not valid JSON at line 1, column 10" in err

    @pytest.mark.parametrize(
        "args",
        [
            [],
            ["--format", "xml", "x.md"],
            ["--lang", "xx", "x.md"],
            ["--lang", " , ", "x.md"],
            ["--vocabulary", "/nonexistent-vocabulary", "x.md"],
        ],
    )
    def test_bad_usage_exits_2(self, tmp_path: Path, run_cli: Run, args: list[str]) -> None:
        write(tmp_path / "x.md", "child porn")
        args = [str(tmp_path / a) if a == "x.md" else a for a in args]
        code, _, _ = run_cli("lint", *args)
        assert code == 2


class TestFix:
    def test_fix_exits_0_when_everything_was_fixed(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "a.txt", "CHILD PORNOGRAPHY and child porn.\n")
        code, out, _ = run_cli("lint", "--fix", str(path))
        assert code == 0
        assert path.read_text(encoding="utf-8") == (
            "CHILD SEXUAL ABUSE MATERIAL and child sexual abuse material.\n"
        )
        assert "Fixed 2 term(s)" in out

    def test_fix_exits_1_when_unfixable_terms_remain(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "a.txt", "A pedophile and child porn.\n")
        code, out, _ = run_cli("lint", "--fix", str(path))
        assert code == 1
        assert path.read_text(encoding="utf-8") == (
            "A pedophile and child sexual abuse material.\n"
        )
        assert f"{path}:1:3: pedophile" in out
        assert "Fixed 1 term(s); 1 term(s) need a human edit in 1 of 1 file(s) checked." in out

    def test_detected_encoding_is_announced_and_kept(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "a.txt", "Voilà la pédopornographie.\n".encode("latin-1"))
        code, _, err = run_cli("lint", "--fix", str(path))
        assert code == 0
        assert "not UTF-8; read as cp1252 (detected); --fix kept that encoding" in err
        assert path.read_bytes() == "Voilà la matériel d'abus sexuels sur enfants.\n".encode(
            "cp1252"
        )


class TestOptions:
    def test_lang_restricts_languages(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "a.md", "child porn, pédopornographie, 儿童色情")
        code, out, _ = run_cli("lint", "--lang", "fr", "--format", "json", str(path))
        assert code == 1
        document = json.loads(out)
        assert [f["lang"] for f in document["findings"]] == ["fr"]
        assert document["vocabulary"]["languages"] == ["fr"]

    def test_vocabulary_directory(
        self, tmp_path: Path, run_cli: Run, small_vocab_dir: Path
    ) -> None:
        path = write(tmp_path / "a.md", "une enfant prostituée")
        code, out, _ = run_cli("lint", "--vocabulary", str(small_vocab_dir), str(path))
        assert code == 1
        assert "enfant exploitée dans la prostitution (abuse.exploitation_in_prostitution" in out

    def test_markup_in_paths_and_text_is_printed_literally(
        self, tmp_path: Path, run_cli: Run
    ) -> None:
        path = write(tmp_path / "[bold]x[/bold].md", "[red]child porn[/red]")
        code, out, _ = run_cli("lint", str(path))
        assert code == 1
        assert f"{path}:1:6: child porn" in out


class TestJson:
    def test_document_shape(self, tmp_path: Path, run_cli: Run) -> None:
        write(tmp_path / "d" / "a.csv", "id,child_pornography_count\n1,0\n")
        write(tmp_path / "d" / "b.md", "A pedophile.\n")
        write(tmp_path / "d" / "c.json", "{")
        code, out, _ = run_cli("lint", "--format", "json", str(tmp_path / "d"))
        assert code == 2
        document = json.loads(out)  # stdout is exactly one JSON document
        assert set(document) == {
            "format_version",
            "vocabulary",
            "findings",
            "fixed",
            "problems",
            "files",
            "summary",
        }
        header, offender = document["findings"]
        assert header["path"].endswith("a.csv")
        assert header["cell"] == {
            "part": "header",
            "column": 2,
            "column_name": "child_pornography_count",
            "row": None,
        }
        assert (header["line"], header["column"], header["end_column"]) == (1, 4, 21)
        assert header["fixable"] is True and header["fix"] == "child_sexual_abuse_material"
        assert offender["concept_id"] == "role.offender" and offender["fixable"] is False
        assert offender["note"]
        assert document["problems"][0]["path"].endswith("c.json")
        assert document["problems"][0]["error"] == "Malformed file"
        assert document["summary"] == {
            "files_checked": 2,
            "files_with_findings": 2,
            "findings": 2,
            "fixed": 0,
            "fixable": 1,
            "problems": 1,
            "exit_status": 2,
        }
        assert {f["encoding"] for f in document["files"]} == {"utf-8"}

    def test_fix_lists_what_was_fixed(self, tmp_path: Path, run_cli: Run) -> None:
        path = write(tmp_path / "a.md", "child porn")
        code, out, _ = run_cli("lint", "--fix", "--format", "json", str(path))
        document = json.loads(out)
        assert code == 0
        assert [f["text"] for f in document["fixed"]] == ["child porn"]
        assert document["findings"] == []
        assert document["summary"]["fixed"] == 1


def test_cli_runner(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "pornografía infantil")
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    assert "material de abuso sexual infantil" in result.output
    clean = CliRunner().invoke(app, ["lint", str(write(tmp_path / "b.md", "nada"))])
    assert clean.exit_code == 0
