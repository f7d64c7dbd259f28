"""``concord crosswalk check`` and ``suggest``: output, exit codes, and never editing FILE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concord.cli import common
from concord.cli.main import main

VOCAB_DIR = Path(__file__).parents[1] / "vocab" / "data" / "crosswalk_vocabulary"
EXAMPLES = Path(__file__).parents[2] / "examples" / "crosswalks"

CLEAN = """\
organisation: helpline-fr
language: fr
mappings:
  abuse_type:
    - {code: P1, label: Pédopornographie, target: abuse.csam}
    - {code: P2, label: Chantage sexuel}
"""
BROKEN = """\
organisation: ngo
mappings:
  abuse_type:
    - {label: "[bold]Autre[/bold]"}
    - {label: Sextorsion, target: abuse.sextortion}
"""


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as a real terminal, so assertions do not depend on wrapping."""
    monkeypatch.setattr(common.console, "_width", 300)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["crosswalk", *argv])
        raise SystemExit(0)  # main returns normally on success
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


class TestCheck:
    def test_warnings_only_exit_0(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, "cw.yaml", CLEAN)
        code, out, _ = run(capsys, "check", str(path), "--vocabulary", str(VOCAB_DIR))
        assert code == 0
        assert "unmapped" in out and "ok " in out
        assert "0 error(s), 1 warning(s)" in out

    def test_errors_exit_1_with_a_table_of_lines(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, "cw.yaml", BROKEN)
        code, out, _ = run(capsys, "check", str(path), "--vocabulary", str(VOCAB_DIR))
        assert code == 1
        for column in ("line", "kind", "scheme", "label", "target", "message"):
            assert column in out
        assert "[bold]Autre[/bold]" in out  # user text is shown literally, not as markup
        assert "unknown_target" in out and "did you mean abuse.sexual_extortion?" in out
        assert "failed" in out

    def test_json_output_shape(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, "cw.yaml", BROKEN)
        code, out, _ = run(
            capsys, "check", str(path), "--format", "json", "--vocabulary", str(VOCAB_DIR)
        )
        assert code == 1
        document = json.loads(out)
        assert document["ok"] is False
        assert (document["errors"], document["warnings"], document["entries"]) == (1, 1, 2)
        assert document["organisation"] == "ngo"
        assert document["vocabulary_version"] == "0.1.0"
        assert [(i["line"], i["kind"], i["severity"]) for i in document["issues"]] == [
            (4, "unmapped", "warning"),
            (5, "unknown_target", "error"),
        ]
        assert set(document["issues"][0]) == {
            "kind", "severity", "line", "scheme", "code", "label", "target", "message",
            "suggestion",
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("bad.yaml", "organisation: x\nmappings:\n  s:\n    - {label: a\n", "line 5"),
            ("bad.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
            ("bad.csv", "scheme,label\nabuse_type,x\n", "lacks the column(s) target"),
            ("empty.yaml", "", "the file is empty"),
            ("empty.csv", "", "header"),
            ("bad.xlsx", "x", "extension '.xlsx'"),
            (
                "bad.yaml",
                "organisation: x\nmappings:\n  s:\n    - {target: abuse.csam}\n",
                "line 4",
            ),
        ],
    )
    def test_unreadable_or_malformed_input_exits_2(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        name: str,
        content: str | bytes,
        message: str,
    ) -> None:
        path = write(tmp_path, name, content)
        code, out, err = run(capsys, "check", str(path), "--vocabulary", str(VOCAB_DIR))
        assert code == 2
        assert "error:" in err and message in err
        assert out == ""

    def test_a_missing_file_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys, "check", str(tmp_path / "nope.yaml"))
        assert code == 2 and "no such file" in err

    def test_examples_against_the_shipped_vocabulary(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(capsys, "check", str(EXAMPLES / "helpline-fr.yaml"))[0] == 0
        assert run(capsys, "check", str(EXAMPLES / "hotline-es.csv"))[0] == 0
        code, out, _ = run(capsys, "check", str(EXAMPLES / "broken.yaml"), "--format", "json")
        assert code == 1 and json.loads(out)["errors"] == 5


class TestSuggest:
    def test_text_table_and_file_untouched(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, "cw.yaml", CLEAN + "    - {code: P9, label: Autre}\n")
        before = path.read_bytes()
        code, out, _ = run(capsys, "suggest", str(path), "--vocabulary", str(VOCAB_DIR))
        assert code == 0
        assert "abuse.sexual_extortion" in out and "1.00" in out
        assert "Autre" in out and "no candidate" in out
        assert path.read_bytes() == before

    def test_json_output_shape(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, "cw.csv", "scheme,code,label,target\nabuse_type,P2,Sextorsion,\n")
        code, out, _ = run(
            capsys, "suggest", str(path), "--format", "json", "--vocabulary", str(VOCAB_DIR)
        )
        assert code == 0
        document = json.loads(out)
        assert document["organisation"] == "cw"
        assert (document["unmapped"], document["output"], document["filled"]) == (1, None, 0)
        assert document["without_suggestion"] == []
        top = document["suggestions"][0]
        assert set(top) == {
            "scheme", "line", "code", "label", "concept_id", "concept_label", "confidence",
            "method", "why",
        }  # fmt: skip
        assert (top["line"], top["concept_id"], top["confidence"], top["method"]) == (
            2,
            "abuse.sexual_extortion",
            1.0,
            "label",
        )

    def test_output_writes_a_new_reviewed_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, "cw.yaml", CLEAN)
        before = path.read_bytes()
        output = tmp_path / "cw.suggested.yaml"
        code, out, _ = run(
            capsys, "suggest", str(path), "-o", str(output), "--vocabulary", str(VOCAB_DIR)
        )
        assert code == 0
        assert "1 target(s) filled in" in out
        assert path.read_bytes() == before
        written = output.read_text(encoding="utf-8")
        assert "target: abuse.sexual_extortion}  # suggested (1.00, label) — review" in written
        code, _, _ = run(capsys, "check", str(output), "--vocabulary", str(VOCAB_DIR))
        assert code == 0

    @pytest.mark.parametrize("alias", ["same", "dotted"])
    def test_refuses_to_write_onto_its_input(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], alias: str
    ) -> None:
        path = write(tmp_path, "cw.yaml", CLEAN)
        before = path.read_bytes()
        (tmp_path / "sub").mkdir()
        target = path if alias == "same" else tmp_path / "sub" / ".." / "cw.yaml"
        code, _, err = run(
            capsys, "suggest", str(path), "--output", str(target), "--force",
            "--vocabulary", str(VOCAB_DIR),
        )  # fmt: skip
        assert code == 2 and "must be a new file" in err
        assert path.read_bytes() == before

    def test_existing_output_needs_force_and_must_be_yaml(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, "cw.yaml", CLEAN)
        other = write(tmp_path, "other.yaml", "keep me")
        args = ("--vocabulary", str(VOCAB_DIR))
        code, _, err = run(capsys, "suggest", str(path), "--output", str(other), *args)
        assert code == 2 and "already exists" in err
        assert other.read_text(encoding="utf-8") == "keep me"
        assert run(capsys, "suggest", str(path), "--output", str(other), "--force", *args)[0] == 0
        assert "# suggested" in other.read_text(encoding="utf-8")
        code, _, err = run(capsys, "suggest", str(path), "--output", str(tmp_path / "x.csv"), *args)
        assert code == 2 and ".yaml" in err

    def test_min_confidence_is_validated(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, "cw.yaml", CLEAN)
        code, _, _ = run(capsys, "suggest", str(path), "--min-confidence", "1.5")
        assert code == 2

    def test_suggest_on_a_malformed_file_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write(tmp_path, "cw.yaml", "organisation: [\n")
        code, _, err = run(capsys, "suggest", str(path), "--vocabulary", str(VOCAB_DIR))
        assert code == 2 and "line" in err
