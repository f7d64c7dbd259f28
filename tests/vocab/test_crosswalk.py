"""Reading crosswalk files: both formats, line numbers, and every way a file can be wrong."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.errors import ConcordError, CrosswalkError, MalformedFileError, UnreadableFileError
from concord.vocab import crosswalk as crosswalk_module
from concord.vocab.crosswalk import (
    Crosswalk,
    CrosswalkReader,
    Entry,
    parse_crosswalk,
    read_crosswalk,
)
from concord.vocab.crosswalk_readers import CsvCrosswalkReader, YamlCrosswalkReader

HELPLINE_FR = """\
organisation: helpline-fr
version: 3
language: fr
mappings:
  abuse_type:
    - {code: "P1", label: "Pédopornographie", target: abuse.csam}
    - {label: "Chantage sexuel", target: abuse.sexual_extortion}
    - {label: "Autre"}
  age_band:
    - {code: "A", label: "0-2 ans", target: age.0_2}
"""

HOTLINE_ES = """\
scheme,code,label,target
abuse_type,1,Pornografía infantil,abuse.csam
abuse_type,2,Sextorsión,abuse.sexual_extortion
age_band,,0-2 años,
"""


YAML_TOKENS = [
    "organisation: ",
    "mappings:",
    "abuse_type:",
    "\n",
    "  ",
    "    ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "label: ",
    "code: ",
    "target: ",
    "lang: ",
    "abuse.csam",
    "12",
    "~",
    "yes",
    "'",
    '"',
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "? ",
    "# c",
    "é",
    "---\n",
    "<<: ",
    "2024-01-01",
]


def yaml_cw(text: str) -> Crosswalk:
    return parse_crosswalk(text, source="cw.yaml", fmt="yaml", default_organisation="cw")


def csv_cw(text: str) -> Crosswalk:
    return parse_crosswalk(text, source="cw.csv", fmt="csv", default_organisation="hotline-es")


class CrosswalkReaderContract:
    """What every crosswalk reader promises; each format's tests subclass this."""

    reader: ClassVar[CrosswalkReader]
    #: A valid file in the format whose first entry is on ``first_line`` and has no code.
    valid: ClassVar[str]
    first_line: ClassVar[int]
    #: A file with one entry that has neither code nor label, on ``bad_line``.
    no_code_no_label: ClassVar[str]
    bad_line: ClassVar[int]

    def parse(self, text: str) -> Crosswalk:
        return self.reader.parse(text, source="f", default_organisation="org")

    def test_name_and_suffixes_are_lowercase(self) -> None:
        assert self.reader.name == self.reader.name.lower()
        assert all(s.startswith(".") and s == s.lower() for s in self.reader.suffixes)

    def test_valid_file_keeps_entries_and_lines(self) -> None:
        crosswalk = self.parse(self.valid)
        assert crosswalk.entries[0].line == self.first_line
        assert crosswalk.entries[0].scheme == "abuse_type"
        assert crosswalk.entries[0].target == "abuse.csam"

    def test_entry_without_code_or_label_names_its_line(self) -> None:
        with pytest.raises(CrosswalkError, match=f"line {self.bad_line}: .*neither a code nor"):
            self.parse(self.no_code_no_label)

    def test_empty_file_is_a_crosswalk_error(self) -> None:
        with pytest.raises(CrosswalkError, match="line 1"):
            self.parse("")

    def test_arbitrary_text_raises_only_concord_errors(self) -> None:
        # The property is built per subclass: an inherited @given method would share one
        # example database entry between readers (hypothesis' differing_executors check).
        @given(st.text(max_size=300))
        def never_crashes(text: str) -> None:
            with contextlib.suppress(ConcordError):
                self.parse(text)

        never_crashes()


class TestYamlReader(CrosswalkReaderContract):
    reader = YamlCrosswalkReader()
    valid = "organisation: x\nmappings:\n  abuse_type:\n    - {label: a, target: abuse.csam}\n"
    first_line = 4
    no_code_no_label = "organisation: x\nmappings:\n  s:\n    - {label: a}\n    - {target: t}\n"
    bad_line = 5

    def test_reads_the_example_shape(self) -> None:
        crosswalk = yaml_cw(HELPLINE_FR)
        assert crosswalk.organisation == "helpline-fr"
        assert crosswalk.version == "3"
        assert crosswalk.language == "fr"
        assert crosswalk.sections == {"abuse_type": 5, "age_band": 9}
        assert [e.line for e in crosswalk.entries] == [6, 7, 8, 10]
        assert crosswalk.entries[0] == Entry(
            "abuse_type", 6, "P1", "Pédopornographie", "abuse.csam"
        )
        assert crosswalk.entries[2].target is None  # no target = unmapped
        assert [e.label for e in crosswalk.entries_for("age_band")] == ["0-2 ans"]

    def test_block_style_entries_and_raw_scalars(self) -> None:
        # 010 is the code "010" (not 8) and No is the label "No" (not False).
        text = (
            "organisation: x\nmappings:\n  age_band:\n"
            "    - code: 010\n      label: No\n      target: age.0_2\n      lang: en\n"
            "      note: from the 2019 form\n"
        )
        (entry,) = yaml_cw(text).entries
        assert (entry.line, entry.code, entry.label, entry.lang) == (4, "010", "No", "en")
        assert entry.note == "from the 2019 form"

    def test_blank_target_and_null_target_are_unmapped(self) -> None:
        text = (
            "organisation: x\nmappings:\n  s:\n"
            "    - {label: a, target: ''}\n    - {label: b, target: ~}\n"
        )
        assert [e.target for e in yaml_cw(text).entries] == [None, None]

    @pytest.mark.parametrize(
        ("target", "what"),
        [
            ("12", "a number"),
            ("yes", "a yes/no value"),
            ("[abuse.csam]", "a list"),
            ("2024-01-01", "a date"),
        ],
    )
    def test_non_string_target_is_an_error_with_line(self, target: str, what: str) -> None:
        text = (
            "organisation: x\nmappings:\n  s:\n"
            f"    - {{label: a}}\n    - {{label: b, target: {target}}}\n"
        )
        with pytest.raises(CrosswalkError, match=f"line 5: target must be a concept id .*{what}"):
            yaml_cw(text)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("mappings: {}\n", "line 1: 'organisation' is required"),
            ("organisation: x\n", "line 1: 'mappings' is required"),
            ("organisation: x\nmappings:\n", "line 2: 'mappings' is required"),
            ("organisation: x\nmappings: [a]\n", "line 2: 'mappings' must map scheme ids"),
            ("organisation: x\nmappings:\n  s: abc\n", "line 3: scheme 's' must hold a list"),
            ("organisation: x\nmappings:\n  s:\n    - abc\n", "line 4: an entry must be a mapping"),
            ("- a\n- b\n", "line 1: expected a mapping .* found a list"),
            ("# only a comment\n", "line 1: the file is empty"),
            ("organisation: x\nmapping: {}\n", "unknown key 'mapping'"),
            (
                "organisation: x\nmappings:\n  s:\n    - {label: a, taget: b}\n",
                "line 4: the entry has an unknown key 'taget'",
            ),
            ("organisation: x\nmappings:\n  s: []\n  s: []\n", "line 4: 'mappings' has 's' twice"),
            (
                "organisation: x\nmappings:\n  s:\n    - {label: [a]}\n",
                "line 4: label must be text",
            ),
        ],
    )
    def test_structural_problems(self, text: str, message: str) -> None:
        with pytest.raises(CrosswalkError, match=message):
            yaml_cw(text)

    def test_every_problem_is_listed_at_once(self) -> None:
        text = "mappings:\n  s:\n    - {target: a}\n    - {label: b, target: 1}\n"
        with pytest.raises(CrosswalkError) as caught:
            yaml_cw(text)
        assert "3 problems" in caught.value.message
        assert [d.split(":")[0] for d in caught.value.details] == ["line 1", "line 3", "line 4"]

    @pytest.mark.parametrize(
        ("text", "where"),
        [
            ("organisation: x\nmappings:\n  s:\n    - {label: a\n", "cw.yaml line 5"),
            ("organisation: x\n  bad: indent\n", "cw.yaml line 2"),
            ("a: b\n---\nc: d\n", "cw.yaml line 2"),
            ("a: b\n\x07\n", "cw.yaml line 2: contains the control character"),
            ("[" * 3000, "nested too deeply"),
        ],
    )
    def test_malformed_yaml_names_file_and_line(self, text: str, where: str) -> None:
        with pytest.raises(MalformedFileError, match=where):
            yaml_cw(text)

    @given(st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join))
    def test_yaml_like_text_raises_only_concord_errors(self, text: str) -> None:
        # Random characters rarely get past the tokenizer; these fragments reach the composer
        # and the crosswalk structure checks (anchors, tags, nesting, odd scalars).
        with contextlib.suppress(ConcordError):
            yaml_cw(text)

    def test_empty_sections_are_allowed(self) -> None:
        crosswalk = yaml_cw("organisation: x\nmappings:\n  a:\n  b: []\n")
        assert crosswalk.entries == ()
        assert crosswalk.sections == {"a": 3, "b": 4}


class TestCsvReader(CrosswalkReaderContract):
    reader = CsvCrosswalkReader()
    valid = "label,scheme,target\nfoo,abuse_type,abuse.csam\n"
    first_line = 2
    no_code_no_label = "scheme,code,label,target\ns,,a,\ns,,,t\n"
    bad_line = 3

    def test_reads_the_example_shape(self) -> None:
        crosswalk = csv_cw(HOTLINE_ES)
        assert crosswalk.organisation == "hotline-es"
        assert crosswalk.sections == {"abuse_type": 2, "age_band": 4}
        assert crosswalk.entries[1] == Entry(
            "abuse_type", 3, "2", "Sextorsión", "abuse.sexual_extortion"
        )
        assert crosswalk.entries[2] == Entry("age_band", 4, None, "0-2 años", None)

    def test_any_column_order_case_bom_and_semicolons(self) -> None:
        text = "\ufeff Target ;LABEL;Scheme\nabuse.csam; Pornografía infantil ;abuse_type\n"
        (entry,) = csv_cw(text).entries
        assert (entry.scheme, entry.code, entry.label, entry.target) == (
            "abuse_type",
            None,
            "Pornografía infantil",
            "abuse.csam",
        )

    def test_code_only_column_set(self) -> None:
        (entry,) = csv_cw("scheme\tcode\ttarget\ns\tP1\tabuse.csam\n").entries
        assert (entry.code, entry.label) == ("P1", None)

    def test_line_numbers_survive_blank_rows_and_multiline_cells(self) -> None:
        text = 'scheme,label,target\n\ns,"two\nlines",t\n,,\ns,after,t\n'
        assert [(e.line, e.label) for e in csv_cw(text).entries] == [
            (3, "two\nlines"),
            (6, "after"),
        ]

    def test_windows_line_endings(self) -> None:
        text = 'scheme,label,target\r\ns,a,t\r\ns,"b\r\nc",t\r\ns,d,t\r\n'
        assert [(e.line, e.label) for e in csv_cw(text).entries] == [
            (2, "a"),
            (3, "b\r\nc"),
            (5, "d"),
        ]

    def test_short_rows_are_unmapped_and_trailing_empty_cells_ignored(self) -> None:
        entries = csv_cw("scheme,label,target\ns,a\ns,b,t,,\n").entries
        assert [(e.label, e.target) for e in entries] == [("a", None), ("b", "t")]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("label,target\na,b\n", "line 1: the header lacks the column.* scheme"),
            ("scheme,label\na,b\n", "line 1: the header lacks the column.* target"),
            ("scheme,target\na,b\n", r"lacks the column.*label \(or code\)"),
            ("scheme,label,target,colour\n", "line 1: unknown column 'colour'"),
            ("scheme,label,target,label\n", "line 1: column 'label' appears twice"),
            ("\n\n", "line 1: the first line must be a header"),
            ("scheme,label,target\ns,a,t,extra\n", "line 2: 4 values but the header has 3"),
            ("scheme,label,target\n,a,t\n", "line 2: the scheme is empty"),
        ],
    )
    def test_structural_problems(self, text: str, message: str) -> None:
        with pytest.raises(CrosswalkError, match=message):
            csv_cw(text)

    def test_header_only_is_an_empty_crosswalk(self) -> None:
        assert csv_cw("scheme,code,label,target\n").entries == ()

    def test_csv_parser_errors_are_malformed_file_errors(self) -> None:
        huge = "scheme,label,target\ns," + "x" * 200_000 + ",t\n"
        with pytest.raises(MalformedFileError, match=r"cw\.csv line 2"):
            csv_cw(huge)


class TestReadingFiles:
    def test_format_follows_the_extension(self, tmp_path: Path) -> None:
        (tmp_path / "helpline-fr.YML").write_text(HELPLINE_FR, encoding="utf-8")
        (tmp_path / "hotline-es.csv").write_text(HOTLINE_ES, encoding="utf-8")
        assert read_crosswalk(tmp_path / "helpline-fr.YML").organisation == "helpline-fr"
        csv_crosswalk = read_crosswalk(tmp_path / "hotline-es.csv")
        assert csv_crosswalk.organisation == "hotline-es"  # from the file name
        assert csv_crosswalk.source == str(tmp_path / "hotline-es.csv")

    def test_utf8_bom_is_dropped(self, tmp_path: Path) -> None:
        path = tmp_path / "x.csv"
        path.write_bytes(b"\xef\xbb\xbf" + HOTLINE_ES.encode())
        assert read_crosswalk(path).entries[0].scheme == "abuse_type"

    @pytest.mark.parametrize(
        ("name", "message"), [("x.xlsx", "extension '.xlsx'"), ("x", "no extension")]
    )
    def test_unknown_extension(self, tmp_path: Path, name: str, message: str) -> None:
        (tmp_path / name).write_text("a", encoding="utf-8")
        with pytest.raises(CrosswalkError, match=f"{message}.*\\.csv, \\.yaml, \\.yml"):
            read_crosswalk(tmp_path / name)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
            ("scheme,label".encode("utf-16"), "UTF-16"),
            ("scheme,label,target\ns,Pédopornographie,t\n".encode("latin-1"), "not UTF-8"),
        ],
    )
    def test_unreadable_bytes(self, tmp_path: Path, data: bytes, message: str) -> None:
        path = tmp_path / "x.csv"
        path.write_bytes(data)
        with pytest.raises(UnreadableFileError, match=message):
            read_crosswalk(path)

    def test_missing_file_and_directory(self, tmp_path: Path) -> None:
        with pytest.raises(UnreadableFileError, match="no such file"):
            read_crosswalk(tmp_path / "missing.yaml")
        (tmp_path / "dir.yaml").mkdir()
        with pytest.raises(UnreadableFileError, match="directory"):
            read_crosswalk(tmp_path / "dir.yaml")

    def test_oversized_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(crosswalk_module, "MAX_BYTES", 10)
        path = tmp_path / "x.yaml"
        path.write_text(HELPLINE_FR, encoding="utf-8")
        with pytest.raises(UnreadableFileError, match="at most"):
            read_crosswalk(path)

    @given(st.binary(max_size=200), st.sampled_from([".yaml", ".csv"]))
    def test_arbitrary_bytes_raise_only_concord_errors(self, data: bytes, suffix: str) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"x{suffix}"
            path.write_bytes(data)
            with contextlib.suppress(ConcordError):
                read_crosswalk(path)
