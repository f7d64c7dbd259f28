"""JSON for the term linter: terms written with \\u escapes are found, located and fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.errors import MalformedFileError
from concord.vocab.linter import Linter, apply_fixes
from concord.vocab.lintjson import check_json, lint_json
from tests.vocab.lint_samples import small_vocabulary

LINTER = Linter(small_vocabulary())


def test_escaped_accent_is_found_at_its_raw_position() -> None:
    text = '{"note": "la p\\u00e9dopornographie"}'
    [finding] = lint_json(text, LINTER)
    assert finding.text == "p\\u00e9dopornographie"
    assert text[finding.offset : finding.end_offset] == finding.text
    assert (finding.line, finding.column) == (1, text.index("p\\u00e9") + 1)
    fixed = apply_fixes(text, [finding])
    assert fixed.isascii()  # an ASCII-only file stays ASCII-only
    assert json.loads(fixed) == {"note": "la matériel d'abus sexuels sur enfants"}


def test_fully_escaped_chinese_after_an_escaped_emoji() -> None:
    text = json.dumps({"a": "ok", "b": "😀 这是儿童色情"}, indent=2)  # ensure_ascii by default
    [finding] = lint_json(text, LINTER)
    assert finding.lang == "zh"
    assert finding.line == 3 and finding.column == text.split("\n")[2].index("\\u513f") + 1
    assert json.loads(apply_fixes(text, [finding]))["b"] == "😀 这是儿童性虐待材料"


def test_a_hit_in_a_literal_with_other_escapes_is_reported_once() -> None:
    text = '["child porn\\n\\"quoted\\"", "child porn"]'
    findings = lint_json(text, LINTER)
    assert [(f.offset, f.text) for f in findings] == [(2, "child porn"), (28, "child porn")]


def test_escaped_line_break_does_not_join_words_across_it_wrongly() -> None:
    # "\\n" decodes to a line break, which separates words like any whitespace
    [finding] = lint_json('["child\\npornography"]', LINTER)
    assert finding.text == "child\\npornography"


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("a.json", '{"a": 1,}', "line 1, column 9"),
        ("a.json", '{\n "a": [1, 2\n}', "line 3, column 1"),
        ("a.jsonl", '{"a": 1}\n{"a": 2}\n{"a": ]}\n', "line 3, column 7"),
    ],
)
def test_malformed_json_names_the_position(name: str, content: str, where: str) -> None:
    with pytest.raises(MalformedFileError, match=where):
        check_json(Path(name), content, Path(name).suffix)


PARTS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["child porn", "pédopornographie", "儿童色情", "Child Pornography", "\n"]),
)


@settings(max_examples=200)
@given(st.lists(PARTS, max_size=6).map(" ".join), st.booleans())
def test_same_findings_and_fixes_as_the_decoded_string(value: str, ascii_only: bool) -> None:
    text = json.dumps({"k": value}, ensure_ascii=ascii_only)
    findings = lint_json(text, LINTER)
    assert [(f.term, f.fixable) for f in findings] == [
        (f.term, f.fixable) for f in LINTER.lint_text(value)
    ]
    for finding in findings:
        assert text[finding.offset : finding.end_offset] == finding.text
    assert json.loads(apply_fixes(text, findings)) == {"k": LINTER.fix_text(value)[0]}
