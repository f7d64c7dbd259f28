"""Linting files: which files, refusing what is not text, encodings, CSV cells, fixing in place."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from concord.config import get_settings
from concord.errors import MalformedFileError, UnreadableFileError
from concord.vocab.lintcsv import TableCell
from concord.vocab.linter import Linter
from concord.vocab.lintfiles import (
    LintResult,
    collect_files,
    lint_file,
    lint_paths,
    read_document,
)
from concord.vocab.model import DiscouragedTerm
from tests.vocab.lint_samples import small_vocabulary

LINTER = Linter(small_vocabulary())
BIG = 10_000_000


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def texts(result: LintResult) -> list[str]:
    return [f.finding.text for f in result.findings]


class TestCollecting:
    def test_directories_are_searched_recursively_for_known_kinds(self, tmp_path: Path) -> None:
        write(tmp_path / "a.md", "child porn")
        write(tmp_path / "deep" / "er" / "b.TXT", "pédopornographie")
        write(tmp_path / "deep" / "c.yaml", "title: 儿童色情")
        write(tmp_path / "deep" / "image.png", "child porn")  # not a text kind
        write(tmp_path / ".git" / "d.md", "child porn")  # hidden: skipped
        write(tmp_path / ".hidden.md", "child porn")
        result = lint_paths([tmp_path], LINTER, max_bytes=BIG)
        names = sorted(r.path.name for r in result.files)
        assert names == ["a.md", "b.TXT", "c.yaml"]
        assert sorted(texts(result)) == sorted(["child porn", "pédopornographie", "儿童色情"])
        assert result.problems == []

    def test_an_explicit_file_of_any_extension_is_linted(self, tmp_path: Path) -> None:
        path = write(tmp_path / "notes.log", "child porn")
        assert texts(lint_paths([path], LINTER, max_bytes=BIG)) == ["child porn"]

    def test_each_file_once(self, tmp_path: Path) -> None:
        path = write(tmp_path / "a.md", "child porn")
        files, _ = collect_files([path, tmp_path, tmp_path / "." / "a.md"])
        assert files == [path]

    def test_missing_path_and_empty_directory_are_problems(self, tmp_path: Path) -> None:
        (tmp_path / "empty").mkdir()
        write(tmp_path / "empty" / "image.png", b"\x89PNG")
        good = write(tmp_path / "good.md", "child porn")
        result = lint_paths([tmp_path / "missing.md", tmp_path / "empty", good], LINTER)
        messages = [p.message for p in result.problems]
        assert "no such file or directory" in messages[0]
        assert "no files to lint" in messages[1] and "*.csv" in messages[1]
        assert texts(result) == ["child porn"]  # the good file was still linted


class TestRefusals:
    def test_binary_file(self, tmp_path: Path) -> None:
        path = write(tmp_path / "x.txt", b"child porn\x00\x01\x02")
        with pytest.raises(UnreadableFileError, match="binary"):
            read_document(path, max_bytes=BIG)

    def test_too_large_says_size_and_limit(self, tmp_path: Path) -> None:
        path = write(tmp_path / "big.txt", "child porn " * 200)
        with pytest.raises(UnreadableFileError) as error:
            read_document(path, max_bytes=1000)
        assert "2.2 kB (2,200 bytes)" in str(error.value)
        assert "1.0 kB (1,000 bytes) limit" in str(error.value)

    def test_limit_comes_from_settings(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CONCORD_LINT_MAX_BYTES", "5")
        get_settings.cache_clear()
        try:
            result = lint_paths([write(tmp_path / "a.md", "child porn")], LINTER)
        finally:
            get_settings.cache_clear()
        assert result.files == []
        assert "limit" in result.problems[0].message
        assert result.problems[0].title == "Unreadable file"

    def test_malformed_json_names_line_and_column(self, tmp_path: Path) -> None:
        path = write(tmp_path / "x.json", '{\n  "a": "child porn",\n  "b": }\n')
        with pytest.raises(MalformedFileError, match=r"line 3, column 8"):
            lint_file(path, LINTER, max_bytes=BIG)

    def test_malformed_json_lines_names_the_line(self, tmp_path: Path) -> None:
        path = write(tmp_path / "x.jsonl", '{"a": 1}\n\n{"a": "child porn"\n')
        with pytest.raises(MalformedFileError, match=r"line 3, column"):
            lint_file(path, LINTER, max_bytes=BIG)

    def test_one_bad_file_does_not_stop_the_others(self, tmp_path: Path) -> None:
        write(tmp_path / "a.md", "child porn")
        write(tmp_path / "b.json", "{oops")
        write(tmp_path / "c.txt", b"\x00\x00")
        write(tmp_path / "d.md", "pédopornographie")
        result = lint_paths([tmp_path], LINTER, max_bytes=BIG)
        assert texts(result) == ["child porn", "pédopornographie"]
        assert sorted(p.path.name for p in result.problems) == ["b.json", "c.txt"]
        assert result.summary()["problems"] == 2


class TestEncodings:
    def test_latin1_is_detected_reported_and_kept_by_fix(self, tmp_path: Path) -> None:
        text = "La pédopornographie est un crime. Voilà ce que dit le rapport.\n"
        path = write(tmp_path / "fr.txt", text.encode("latin-1"))
        report = lint_file(path, LINTER, max_bytes=BIG)
        assert report.encoding_detected and report.encoding != "utf-8"
        assert [f.finding.text for f in report.findings] == ["pédopornographie"]
        report = lint_file(path, LINTER, fix=True, max_bytes=BIG)
        data = path.read_bytes()
        assert data.decode(report.encoding) == text.replace(
            "pédopornographie", "matériel d'abus sexuels sur enfants"
        )
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # still a single-byte file, not converted to UTF-8

    def test_utf8_bom_and_crlf_are_preserved_by_fix(self, tmp_path: Path) -> None:
        path = write(tmp_path / "a.md", codecs.BOM_UTF8 + b"# Child porn\r\nok\r\n")
        report = lint_file(path, LINTER, fix=True, max_bytes=BIG)
        assert report.bom and len(report.fixed) == 1 and report.findings == []
        assert path.read_bytes() == codecs.BOM_UTF8 + b"# Child sexual abuse material\r\nok\r\n"

    def test_utf16_with_bom_is_text_not_binary(self, tmp_path: Path) -> None:
        content = codecs.BOM_UTF16_LE + "child porn\n".encode("utf-16-le")
        path = write(tmp_path / "a.txt", content)
        report = lint_file(path, LINTER, fix=True, max_bytes=BIG)
        assert report.encoding == "utf-16-le" and report.bom
        assert path.read_bytes() == codecs.BOM_UTF16_LE + "child sexual abuse material\n".encode(
            "utf-16-le"
        )

    def test_unwritable_replacement_leaves_the_file_alone(self, tmp_path: Path) -> None:
        vocab = small_vocabulary(
            extra=[DiscouragedTerm(term="kiddie porn", lang="en", reason="x", use="儿童 material")]
        )
        original = "kiddie porn, déjà vu, voilà, à la carte.\n".encode("latin-1")
        path = write(tmp_path / "a.txt", original)
        result = lint_paths([path], Linter(vocab), fix=True, max_bytes=BIG)
        assert "cannot be written" in result.problems[0].message
        assert path.read_bytes() == original


class TestFixing:
    def test_fix_rewrites_atomically_and_keeps_the_mode(self, tmp_path: Path) -> None:
        path = write(tmp_path / "a.md", "Child porn and a pedophile.\n")
        path.chmod(0o640)
        result = lint_paths([path], LINTER, fix=True, max_bytes=BIG)
        assert path.read_text(encoding="utf-8") == (
            "Child sexual abuse material and a pedophile.\n"
        )
        assert [f.finding.text for f in result.fixed] == ["Child porn"]
        remaining = result.findings
        assert [f.finding.text for f in remaining] == ["pedophile"]
        fixed_text = path.read_text(encoding="utf-8")
        assert remaining[0].finding.column == fixed_text.index("pedophile") + 1 == 35
        assert (path.stat().st_mode & 0o777) == 0o640
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]  # no temp file left

    def test_without_fix_nothing_is_written(self, tmp_path: Path) -> None:
        path = write(tmp_path / "a.md", "child porn")
        lint_paths([path], LINTER, max_bytes=BIG)
        assert path.read_text(encoding="utf-8") == "child porn"

    def test_json_fix_escapes_what_json_needs(self, tmp_path: Path) -> None:
        vocab = small_vocabulary(
            extra=[DiscouragedTerm(term="kiddie porn", lang="en", reason="x", use='"CSAM" \\ x')]
        )
        path = write(tmp_path / "a.json", '{"note": "kiddie porn", "child_porn_count": 2}')
        lint_paths([path], Linter(vocab), fix=True, max_bytes=BIG)
        assert json.loads(path.read_text(encoding="utf-8")) == {
            "note": '"CSAM" \\ x',
            "child_sexual_abuse_material_count": 2,
        }


class TestTables:
    def test_header_and_cells_are_named(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "a.csv",
            'id,child_pornography_count,notes\n1,3,"multi\nline"\n2,0,"saw child porn, twice"\n',
        )
        report = lint_file(path, LINTER, max_bytes=BIG)
        cells = [(f.finding.text, f.cell) for f in report.findings]
        assert [(text, c.part, c.column_name, c.row) for text, c in cells if c] == [
            ("child_pornography", "header", "child_pornography_count", None),
            ("child porn", "cell", "notes", 2),
        ]
        assert report.findings[1].finding.line == 4  # the quoted line break counts as a line
        assert report.findings[1].cell is not None
        assert report.findings[1].cell.describe() == "row 2, column 'notes'"

    def test_a_term_split_over_two_cells_is_no_hit(self, tmp_path: Path) -> None:
        path = write(tmp_path / "a.tsv", "a\tchild\tpornography\nchild\npornography\tchild porn\n")
        report = lint_file(path, LINTER, max_bytes=BIG)
        assert [(f.finding.text, f.cell and f.cell.column) for f in report.findings] == [
            ("child porn", 2)
        ]

    def test_a_hit_across_cells_does_not_hide_one_inside_a_cell(self, tmp_path: Path) -> None:
        # "child\nporn" crosses a row break; "porn" alone is a term in the next row's cell.
        vocab = small_vocabulary(extra=[DiscouragedTerm(term="porn", lang="en", reason="x")])
        path = write(tmp_path / "a.tsv", "a\tchild\nporn, child porn\tb\n")
        report = lint_file(path, Linter(vocab), max_bytes=BIG)
        cell = TableCell("cell", 1, "a", row=1)
        assert [(f.finding.text, f.cell) for f in report.findings] == [
            ("porn", cell),
            ("child porn", cell),
        ]

    def test_semicolon_csv_is_sniffed(self, tmp_path: Path) -> None:
        path = write(tmp_path / "a.csv", "id;remarque\n1;pédopornographie;\n2;rien\n")
        report = lint_file(path, LINTER, max_bytes=BIG)
        cell = report.findings[0].cell
        assert cell is not None and (cell.column_name, cell.row) == ("remarque", 1)

    def test_fix_never_breaks_a_cell(self, tmp_path: Path) -> None:
        vocab = small_vocabulary(
            extra=[DiscouragedTerm(term="kiddie porn", lang="en", reason="x", use='CSAM, "x"')]
        )
        path = write(tmp_path / "a.csv", 'a,b\nkiddie porn,"kiddie porn"\n')
        result = lint_paths([path], Linter(vocab), fix=True, max_bytes=BIG)
        assert path.read_text(encoding="utf-8") == 'a,b\nkiddie porn,"CSAM, ""x"""\n'
        assert [f.finding.note for f in result.findings] == [
            "the replacement would split the CSV cell"
        ]


def test_markers_silence_deliberate_quotations(tmp_path: Path) -> None:
    from concord.vocab.linter import Linter
    from concord.vocab.lintfiles import lint_file
    from concord.vocab.loader import shipped_vocabulary

    linter = Linter(shipped_vocabulary())
    doc = tmp_path / "glossary.md"
    doc.write_text(
        "The 1999 Child Pornography Act  <!-- concord: ignore -->\n"
        "<!-- concord: ignore-next-line -->\n"
        "Avoid 'child porn'.\n"
        "But this child pornography is flagged.\n",
        encoding="utf-8",
    )
    report = lint_file(doc, linter, max_bytes=10_000)
    assert [f.finding.line for f in report.findings] == [4]
    whole = tmp_path / "terms.md"
    whole.write_text("<!-- Concord: ignore-file -->\nchild pornography\n", encoding="utf-8")
    assert lint_file(whole, linter, max_bytes=10_000).findings == []
