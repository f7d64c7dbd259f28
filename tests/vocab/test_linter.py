"""The term linter's matcher: what counts as a hit, exact positions, and fixes."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.vocab.linter import Finding, Linter, styled
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.model import DiscouragedTerm, Vocabulary
from concord.vocab.termpattern import NOSPACE_RE, word_forms
from tests.vocab.lint_samples import CSAM_REASON, small_vocabulary

LINTER = Linter(small_vocabulary())


def only(text: str, linter: Linter = LINTER) -> Finding:
    findings = linter.lint_text(text)
    assert len(findings) == 1, findings
    return findings[0]


def expected_position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (1-based, in code points) computed the slow, obvious way."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


class TestFinding:
    def test_reports_everything_about_a_hit(self) -> None:
        text = "Intro line\nWe saw child pornography here."
        finding = only(text)
        assert (finding.line, finding.column) == (2, 8)
        assert (finding.end_line, finding.end_column) == (2, 25)
        assert text[finding.offset : finding.end_offset] == finding.text == "child pornography"
        assert finding.concept_id == "abuse.csam"
        assert (finding.lang, finding.term) == ("en", "child pornography")
        assert finding.replacement == "child sexual abuse material"
        assert finding.reason == CSAM_REASON
        assert finding.fixable and finding.fix == "child sexual abuse material"
        assert finding.note is None

    def test_longest_term_wins(self) -> None:
        assert only("child pornography").term == "child pornography"
        assert only("child porn.").term == "child porn"

    def test_several_hits_in_order_across_lines(self) -> None:
        text = "child porn\n\n  pédopornographie and 儿童色情"
        findings = LINTER.lint_text(text)
        assert [(f.line, f.column, f.lang) for f in findings] == [
            (1, 1, "en"),
            (3, 3, "fr"),
            (3, 24, "zh"),
        ]

    def test_hit_across_a_line_break_reports_its_end_line(self) -> None:
        finding = only("a child\n  pornography b")
        assert (finding.line, finding.column, finding.end_line, finding.end_column) == (1, 3, 2, 14)

    def test_empty_vocabulary_and_empty_text(self) -> None:
        empty = Vocabulary(version="1.0.0", languages=["en"], schemes=[])
        assert Linter(empty).lint_text("child pornography") == []
        assert LINTER.lint_text("") == []


class TestWholeWords:
    @pytest.mark.parametrize(
        "text",
        [
            "Child-Pornography",
            "CHILD PORNOGRAPHY",
            "child_pornography",
            "child\n\t pornography",
            "child/pornography",
            "child.pornography",
            "child\u2014pornography",  # em dash
            "child\u00a0pornography",  # no-break space
            "child - pornography",
            "(child pornography)",
            "«child pornography»",
        ],
    )
    def test_separators_and_case(self, text: str) -> None:
        assert only(text).term == "child pornography"

    @pytest.mark.parametrize(
        "text",
        [
            "childpornography",
            "childpornographyx",
            "xchild pornography",
            "grandchild porn",
            "child porn2",
            "child pornographyé",
            "a child. Pornography is a word",  # a sentence end does not join words
            "child, pornography",
            "child..pornography",
            "\u2474child porn",  # ⑴ folds to "(1)", but is a digit glued to the word
            "e\u0301child porn",  # the accent belongs to a letter glued to the word
        ],
    )
    def test_no_hit_inside_words_or_across_sentences(self, text: str) -> None:
        assert LINTER.lint_text(text) == []

    def test_identifiers_match_and_keep_their_shape_when_fixed(self) -> None:
        fixed, findings = LINTER.fix_text("id,child_pornography_count,CHILD-PORN-FLAG")
        assert [f.text for f in findings] == ["child_pornography", "CHILD-PORN"]
        assert fixed == "id,child_sexual_abuse_material_count,CHILD-SEXUAL-ABUSE-MATERIAL-FLAG"

    def test_no_hit_from_half_of_a_character_that_folds_to_several(self) -> None:
        # "㍻" folds to "平成": "成年" in the folded text is not in the original.
        vocab = small_vocabulary(extra=[DiscouragedTerm(term="成年", lang="zh", reason="x")])
        linter = Linter(vocab)
        assert linter.lint_text("㍻年") == []
        assert only("平成年", linter).text == "成年"
        # and a hit may end right before such a character
        assert only("成年㍻", linter).text == "成年"

    def test_a_joiner_that_belongs_to_the_term_is_not_a_style(self) -> None:
        extra = DiscouragedTerm(
            term="pseudo-pornography", lang="en", reason="x", use="generated abuse material"
        )
        linter = Linter(small_vocabulary(extra=[extra]))
        fixed, _ = linter.fix_text("pseudo-pornography; pseudo_pornography_count")
        assert fixed == "generated abuse material; generated_abuse_material_count"

    def test_chinese_matches_inside_running_text(self) -> None:
        finding = only("这是儿童色情内容")
        assert (finding.column, finding.text, finding.lang) == (3, "儿童色情", "zh")
        assert only("AI生成的儿童色情").text == "儿童色情"

    def test_latin_term_next_to_chinese_counts_as_a_word(self) -> None:
        assert only("看child porn吗").text == "child porn"


class TestInflections:
    @pytest.mark.parametrize(
        ("text", "term"),
        [
            ("child prostitutes", "child prostitute"),
            ("Children prostitutes", "child prostitute"),
            ("child pornography's", "child pornography"),
            ("child pornographies", "child pornography"),
            ("child porn\u2019s", "child porn"),
            ("PÉDOPORNOGRAPHIES", "pédopornographie"),
            ("pornografías infantiles", "pornografía infantil"),
            ("enfants prostituées", "enfant prostituée"),
        ],
    )
    def test_inflected_forms_are_found_but_not_auto_fixed(self, text: str, term: str) -> None:
        finding = only(text)
        assert finding.term == term
        assert finding.text == text
        assert not finding.fixable and finding.fix is None
        assert finding.note is not None and "inflected" in finding.note

    def test_base_form_is_preferred_over_an_inflected_reading(self) -> None:
        # "prostituée" is also "prostitué" + e, listed first; the exact term must win.
        finding = only("une enfant prostituée")
        assert finding.term == "enfant prostituée" and finding.fixable
        assert finding.fix == "enfant exploitée dans la prostitution"
        assert only("un enfant prostitué").fix == "enfant exploité dans la prostitution"

    def test_word_forms_per_language(self) -> None:
        assert set(word_forms("child", "en")) >= {"child", "children", "childs", "child's"}
        assert "pornographies" in word_forms("pornography", "en")
        assert set(word_forms("prostitue", "fr")) >= {"prostitues", "prostituee", "prostituees"}
        assert "infantiles" in word_forms("infantil", "es")
        assert word_forms("儿童色情", "zh") == ["儿童色情"]
        assert word_forms("child", "xx") == ["child"]


class TestAccentsAndPositions:
    @pytest.mark.parametrize(
        "text", ["PÉDOPORNOGRAPHIE", "pedopornographie", "pe\u0301dopornographie"]
    )
    def test_accents_and_case_fold(self, text: str) -> None:
        finding = only(text)
        assert finding.term == "pédopornographie" and finding.text == text

    def test_trailing_combining_mark_stays_with_its_letter(self) -> None:
        text = "la pe\u0301dopornographie\u0301 !"
        finding = only(text)
        assert finding.text == "pe\u0301dopornographie\u0301"
        fixed, _ = LINTER.fix_text(text)
        assert fixed == "la matériel d'abus sexuels sur enfants !"

    @pytest.mark.parametrize(
        "prefix",
        [
            "😀 ",
            "e\u0301te\u0301 ",
            "👩\u200d👩\u200d👧 family: ",
            "Straße ﬁne ",  # characters that fold to two
            "İstanbul ",  # casefolds to i + combining dot
            "한국어 ",  # Hangul decomposes into jamo
            "line one\r\nline 😀 two\n\u0301 ",
        ],
    )
    def test_columns_are_exact_after_multibyte_and_combining_characters(self, prefix: str) -> None:
        text = prefix + "child porn here"
        finding = only(text)
        assert finding.offset == len(prefix)
        assert (finding.line, finding.column) == expected_position(text, len(prefix))
        assert text[finding.offset : finding.end_offset] == "child porn"


class TestLanguages:
    def test_same_spelling_in_two_languages_follows_the_accents(self) -> None:
        assert only("un pédophile").lang == "fr"
        assert only("a pedophile").lang == "en"
        assert only("a pedophile").replacement == "person who sexually abuses children"

    def test_restricting_languages(self) -> None:
        french = Linter(small_vocabulary(), ["fr"])
        assert french.languages == ("fr",)
        text = "child porn, pédopornographie, 儿童色情"
        assert [f.lang for f in french.lint_text(text)] == ["fr"]

    def test_unknown_language_is_refused(self) -> None:
        with pytest.raises(InputError, match="xx"):
            Linter(small_vocabulary(), ["en", "xx"])


class TestFix:
    @pytest.mark.parametrize(
        ("text", "fixed"),
        [
            ("child pornography", "child sexual abuse material"),
            ("Child pornography", "Child sexual abuse material"),
            ("CHILD PORNOGRAPHY", "CHILD SEXUAL ABUSE MATERIAL"),
            ("La Pédopornographie", "La Matériel d'abus sexuels sur enfants"),
            ("儿童色情。", "儿童性虐待材料。"),
            ("a child prostitute.", "a child exploited in prostitution."),
        ],
    )
    def test_replacement_keeps_case_style(self, text: str, fixed: str) -> None:
        assert LINTER.fix_text(text)[0] == fixed

    def test_unfixable_and_inflected_hits_stay_and_are_reported(self) -> None:
        text = "A pedophile saw child prostitutes and child porn."
        fixed, findings = LINTER.fix_text(text)
        assert fixed == "A pedophile saw child prostitutes and child sexual abuse material."
        assert [f.fixable for f in findings] == [False, False, True]
        assert "context" in (findings[0].note or "")
        # the findings describe the original text
        assert all(text[f.offset : f.end_offset] == f.text for f in findings)

    def test_styled(self) -> None:
        assert styled("child sexual abuse material", "Child Porn") == (
            "Child sexual abuse material"
        )
        assert styled("matériel d'abus", "PÉDO") == "MATÉRIEL D'ABUS"
        assert styled("child sexual abuse material", "child_porn") == (
            "child_sexual_abuse_material"
        )
        assert styled("CSAM", "child porn") == "CSAM"
        assert styled("儿童性虐待材料", "儿童色情") == "儿童性虐待材料"

    def test_lint_ranges_never_joins_two_cells(self) -> None:
        text = "child\tpornography\tchild porn"
        findings = LINTER.lint_ranges(text, [(0, 5), (6, 17), (18, 28)])
        assert [(f.offset, f.text) for f in findings] == [(18, "child porn")]


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(shipped_vocabulary())


class TestShippedVocabulary:
    """Real terms of the shipped vocabulary, in its four languages."""

    @pytest.mark.parametrize(
        ("text", "concept", "lang"),
        [
            ("Reports of Child Pornography rose.", "abuse.csam", "en"),
            ("a child prostitute", "abuse.exploitation_in_prostitution", "en"),
            ("La PÉDOPORNOGRAPHIE en ligne", "abuse.csam", "fr"),
            ("casos de pornografía infantil", "abuse.csam", "es"),
            ("打击儿童色情内容", "abuse.csam", "zh"),
        ],
    )
    def test_real_terms(self, linter: Linter, text: str, concept: str, lang: str) -> None:
        finding = only(text, linter)
        assert (finding.concept_id, finding.lang) == (concept, lang)
        assert finding.replacement

    def test_every_term_finds_itself(self, linter: Linter) -> None:
        for _, concept in shipped_vocabulary().concepts():
            for term in concept.discouraged:
                findings = linter.lint_text(f"« {term.term} »")
                assert [(f.text, f.concept_id) for f in findings] == [(term.term, concept.id)], term

    def test_fixing_any_term_leaves_nothing_fixable(self, linter: Linter) -> None:
        for _, concept in shipped_vocabulary().concepts():
            for term in concept.discouraged:
                fixed, _ = linter.fix_text(f"{term.term}; {term.term.upper()}.")
                assert not [f for f in linter.lint_text(fixed) if f.fixable], (term, fixed)


# --- properties -----------------------------------------------------------------------------

TERM_TEXTS = [
    t.term for _, c in small_vocabulary().concepts() for t in c.discouraged if t.lang != "zh"
]
GLUE = st.characters(categories=("Lu", "Ll", "Nd")).filter(lambda c: not NOSPACE_RE.match(c))
NON_WORD = st.sampled_from(list(" \t\n.,;:!?()[]«»\"'-"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_never_crashes_and_positions_are_consistent(text: str) -> None:
    for finding in LINTER.lint_text(text):
        assert text[finding.offset : finding.end_offset] == finding.text
        assert (finding.line, finding.column) == expected_position(text, finding.offset)
        assert (finding.end_line, finding.end_column) == expected_position(text, finding.end_offset)


@settings(max_examples=200)
@given(st.lists(st.one_of(st.text(max_size=8), st.sampled_from([*TERM_TEXTS, "儿童色情"]))))
def test_fix_leaves_no_fixable_finding(parts: list[str]) -> None:
    text = " ".join(parts)
    fixed, findings = LINTER.fix_text(text)
    assert not [f for f in LINTER.lint_text(fixed) if f.fixable]
    if not any(f.fixable for f in findings):
        assert fixed == text


@settings(max_examples=300)
@given(
    term=st.sampled_from(TERM_TEXTS),
    before=st.text(GLUE, min_size=1, max_size=3),
    after=st.text(GLUE, min_size=1, max_size=3),
)
def test_no_hit_when_glued_between_letters(term: str, before: str, after: str) -> None:
    assert LINTER.lint_text(before + term + after) == []


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """A term with random case per letter, random separators and maybe a plural suffix."""
    term = draw(st.sampled_from(["child pornography", "child porn", "pornografía infantil"]))
    words = term.split(" ")
    seps = draw(
        st.lists(
            st.sampled_from([" ", "-", "_", "/", "\n", " \t ", ".", "\u2013", "  -  "]),
            min_size=len(words) - 1,
            max_size=len(words) - 1,
        )
    )
    text = words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=True))
    if draw(st.booleans()):
        text += "s" if term.startswith("child") else "es"
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    if draw(st.booleans()):  # accents written as base letter + combining mark
        text = unicodedata.normalize("NFD", text)
        flips += [False] * (len(text) - len(flips))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True)), term


@settings(max_examples=300)
@given(disguised(), st.text(NON_WORD, max_size=3), st.text(NON_WORD, max_size=3))
def test_disguised_terms_are_found(case: tuple[str, str], before: str, after: str) -> None:
    variant, term = case
    text = before + variant + after
    finding = only(text)
    assert finding.term == term
    assert finding.offset == len(before) and finding.text == variant


@settings(max_examples=300)
@given(st.text())
def test_column_exact_after_any_prefix(prefix: str) -> None:
    text = prefix + " child porn "
    offset = len(prefix) + 1
    hits = [f for f in LINTER.lint_text(text) if f.offset == offset]
    assert len(hits) == 1 and hits[0].text == "child porn"
    assert (hits[0].line, hits[0].column) == expected_position(text, offset)


def test_discouraged_term_of_separators_only_is_ignored() -> None:
    vocab = small_vocabulary(extra=[DiscouragedTerm(term=" - ", lang="en", reason="x")])
    assert only("child porn", Linter(vocab)).term == "child porn"
