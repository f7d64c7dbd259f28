"""Checking crosswalks: every issue kind with its line, label normalisation, and the index."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.errors import CrosswalkError
from concord.vocab.crosswalk import Crosswalk, parse_crosswalk, read_crosswalk
from concord.vocab.crosswalk_check import (
    CrosswalkIndex,
    Issue,
    IssueKind,
    Severity,
    check_crosswalk,
)
from concord.vocab.loader import load_vocabulary
from concord.vocab.model import Vocabulary
from concord.vocab.text import normalize_label

TEST_VOCABULARY = Path(__file__).parent / "data" / "crosswalk_vocabulary"
EXAMPLES = Path(__file__).parents[2] / "examples" / "crosswalks"
VOCAB = load_vocabulary(TEST_VOCABULARY)


def crosswalk(body: str) -> Crosswalk:
    """A YAML crosswalk whose ``mappings`` body starts on line 3."""
    text = "organisation: test-org\nmappings:\n" + body
    return parse_crosswalk(text, source="t.yaml", fmt="yaml", default_organisation="t")


def issues(body: str, vocabulary: Vocabulary = VOCAB) -> list[Issue]:
    return list(check_crosswalk(crosswalk(body), vocabulary).issues)


def kinds_and_lines(found: list[Issue]) -> list[tuple[str, int]]:
    return [(str(i.kind), i.line) for i in found]


def test_a_clean_crosswalk_has_no_issues() -> None:
    report = check_crosswalk(
        crosswalk(
            "  abuse_type:\n"
            "    - {code: P1, label: Pédopornographie, target: abuse.csam}\n"
            "    - {label: Chantage sexuel, target: abuse.sexual_extortion}\n"
            "  age_band:\n"
            "    - {code: A, label: 0-2 ans, target: age.0_2}\n"
        ),
        VOCAB,
    )
    assert report.issues == ()
    assert report.ok
    assert report.vocabulary_version == "0.1.0"


def test_unmapped_is_a_warning_on_its_line() -> None:
    (issue,) = issues("  abuse_type:\n    - {label: a, target: abuse.csam}\n    - {label: Autre}\n")
    assert (issue.kind, issue.line, issue.label, issue.severity) == (
        IssueKind.UNMAPPED,
        5,
        "Autre",
        Severity.WARNING,
    )
    assert "quarantined" in issue.message
    assert issue.suggestion is not None and "crosswalk suggest" in issue.suggestion


def test_unmapped_names_the_best_candidate() -> None:
    (issue,) = issues("  abuse_type:\n    - {label: Sextorsion}\n")
    assert issue.suggestion is not None
    assert issue.suggestion.startswith("perhaps abuse.sexual_extortion (1.00, label)")


@pytest.mark.parametrize(
    ("target", "suggested"),
    [
        ("abuse.sextortion", "abuse.sexual_extortion"),  # a typo of the id
        ("Abuse.CSAM", "abuse.csam"),  # the wrong case
        ("csam", "abuse.csam"),  # the prefix forgotten
        ("Chantage sexuel", "abuse.sexual_extortion"),  # a label written instead of an id
    ],
)
def test_unknown_target_suggests_close_ids(target: str, suggested: str) -> None:
    (issue,) = issues(f"  abuse_type:\n    - {{label: x, target: {target!r}}}\n")
    assert (issue.kind, issue.line, issue.severity) == (
        IssueKind.UNKNOWN_TARGET,
        4,
        Severity.ERROR,
    )
    assert issue.suggestion is not None
    assert issue.suggestion == f"did you mean {suggested}?"


def test_unknown_target_without_anything_close_has_no_suggestion() -> None:
    (issue,) = issues("  age_band:\n    - {label: x, target: zzz.qqq}\n")
    assert issue.kind is IssueKind.UNKNOWN_TARGET
    assert issue.suggestion is None


def test_deprecated_target_names_its_replacement() -> None:
    (issue,) = issues("  abuse_type:\n    - {label: x, target: abuse.child_abuse_images}\n")
    assert (issue.kind, issue.line, issue.severity) == (
        IssueKind.DEPRECATED_TARGET,
        4,
        Severity.WARNING,
    )
    assert "replaced by abuse.csam" in issue.message
    assert issue.suggestion == "use abuse.csam ('child sexual abuse material')"


def test_wrong_scheme_says_which_scheme_the_target_belongs_to() -> None:
    found = issues(
        "  age_band:\n    - {label: ok, target: age.0_2}\n    - {label: x, target: abuse.csam}\n"
    )
    (issue,) = found
    assert (issue.kind, issue.line, issue.severity) == (IssueKind.WRONG_SCHEME, 5, Severity.ERROR)
    assert "belongs to scheme 'abuse_type', not 'age_band'" in issue.message
    assert issue.suggestion is not None and "abuse_type" in issue.suggestion


def test_unknown_scheme_is_reported_once_on_the_section_line() -> None:
    found = issues(
        "  abuse_type:\n    - {label: a, target: abuse.csam}\n"
        "  abuse_types:\n    - {label: b, target: abuse.grooming}\n"
        "    - {label: c, target: abuse.csam}\n"
    )
    (issue,) = found
    assert (issue.kind, issue.line, issue.scheme) == (IssueKind.UNKNOWN_SCHEME, 5, "abuse_types")
    assert issue.suggestion == "its targets belong to abuse_type"


def test_unknown_scheme_without_targets_suggests_a_close_scheme_id() -> None:
    (issue,) = [
        i for i in issues("  agebands:\n    - {label: a}\n") if i.kind is IssueKind.UNKNOWN_SCHEME
    ]
    assert issue.suggestion == "did you mean age_band?"


def test_ambiguous_labels_are_reported_on_every_line_involved() -> None:
    found = issues(
        "  abuse_type:\n"
        "    - {label: Pédopornographie, target: abuse.csam}\n"  # line 4
        "    - {label: grooming, target: abuse.grooming}\n"
        "    - {label: ' PEDOpornographie ', target: abuse.grooming}\n"  # line 6
        "    - {label: pedopornographie}\n"  # line 7: unmapped also disagrees
    )
    ambiguous = [i for i in found if i.kind is IssueKind.AMBIGUOUS]
    assert [i.line for i in ambiguous] == [4, 6, 7]
    assert all(i.severity is Severity.ERROR for i in ambiguous)
    assert "line 6" in ambiguous[0].message and "line 7" in ambiguous[0].message
    assert ambiguous[0].message == (
        "same label as line 6 ('PEDOpornographie') → abuse.grooming, "
        "line 7 ('pedopornographie') → unmapped (ignoring case, accents and spacing)"
    )


def test_ambiguous_codes() -> None:
    found = issues(
        "  abuse_type:\n    - {code: P1, label: a, target: abuse.csam}\n"
        "    - {code: P1, label: b, target: abuse.grooming}\n"
        "    - {code: p1, label: c, target: abuse.grooming}\n"
    )
    assert kinds_and_lines(found) == [("ambiguous", 4), ("ambiguous", 5)]  # codes are exact


def test_the_same_label_in_two_schemes_is_not_ambiguous() -> None:
    found = issues(
        "  abuse_type:\n    - {label: Inconnu}\n"
        "  age_band:\n    - {label: Inconnu, target: age.unknown}\n"
    )
    assert kinds_and_lines(found) == [("unmapped", 4)]


def test_duplicate_is_a_warning_naming_the_first_line() -> None:
    found = issues(
        "  age_band:\n"
        "    - {label: 0-2 ans, target: age.0_2}\n"
        "    - {label: 3-6 ans, target: age.3_6}\n"
        "    - {label: '0–2 ANS', target: age.0_2}\n"
        "    - {code: X, label: 0-2 ans, target: age.0_2}\n"  # adds a code: not a duplicate
    )
    (issue,) = found
    assert (issue.kind, issue.line, issue.severity) == (IssueKind.DUPLICATE, 6, Severity.WARNING)
    assert "repeats line 4" in issue.message


def test_an_entry_can_have_several_issues_and_the_report_is_sorted_by_line() -> None:
    report = check_crosswalk(
        crosswalk(
            "  age_band:\n"
            "    - {label: z, target: abuse.child_abuse_images}\n"
            "    - {label: a, target: nope}\n"
        ),
        VOCAB,
    )
    assert kinds_and_lines(list(report.issues)) == [
        ("wrong_scheme", 4),
        ("deprecated_target", 4),
        ("unknown_target", 5),
    ]
    assert report.counts() == {"wrong_scheme": 1, "deprecated_target": 1, "unknown_target": 1}
    assert not report.ok
    assert len(report.errors) == 2 and len(report.warnings) == 1


def test_report_to_dict_is_json_with_a_stable_shape() -> None:
    report = check_crosswalk(crosswalk("  abuse_type:\n    - {code: P9, label: Autre}\n"), VOCAB)
    document = json.loads(json.dumps(report.to_dict()))
    assert set(document) == {
        "source", "organisation", "vocabulary_version", "entries", "ok", "errors",
        "warnings", "counts", "issues",
    }  # fmt: skip
    assert document["issues"] == [
        {
            "kind": "unmapped",
            "severity": "warning",
            "line": 4,
            "scheme": "abuse_type",
            "code": "P9",
            "label": "Autre",
            "target": None,
            "message": document["issues"][0]["message"],
            "suggestion": document["issues"][0]["suggestion"],
        }
    ]
    assert document["ok"] is True and document["warnings"] == 1


LABELS = ["Pédopornographie", "Chantage sexuel", "Extorsión sexual", "0-2 ans", "Âge inconnu",
          "Matériel d'abus sexuels", "niño/niña", "Grooming en ligne"]  # fmt: skip


@st.composite
def spelling_of(draw: st.DrawFn, label: str) -> str:
    """``label`` as a person might type it: other case, accents dropped, other separators."""
    chars = [c.upper() if draw(st.booleans()) else c.lower() for c in label]
    text = "".join(chars)
    if draw(st.booleans()):
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    separator = draw(st.sampled_from([" ", "  ", "-", "_", " - ", "\t", "/"]))
    text = text.replace(" ", separator)
    pad = st.text(alphabet=" \t", max_size=3)
    return draw(pad) + text + draw(pad)


@given(st.sampled_from(LABELS).flatmap(lambda label: st.tuples(st.just(label), spelling_of(label))))
def test_spellings_that_normalise_equal_are_ambiguous(pair: tuple[str, str]) -> None:
    original, variant = pair
    assert normalize_label(variant) == normalize_label(original)
    body = (
        "  abuse_type:\n"
        f"    - {{label: {json.dumps(original)}, target: abuse.csam}}\n"
        f"    - {{label: {json.dumps(variant)}, target: abuse.grooming}}\n"
    )
    ambiguous = [i.line for i in issues(body) if i.kind is IssueKind.AMBIGUOUS]
    assert ambiguous == [4, 5]


class TestCrosswalkIndex:
    INDEX = CrosswalkIndex(
        crosswalk(
            "  abuse_type:\n"
            "    - {code: P1, label: Pédopornographie, target: abuse.csam}\n"  # line 4
            "    - {code: P2, label: Chantage sexuel, target: abuse.sexual_extortion}\n"
            "    - {code: P3, label: Autre}\n"
            "    - {code: Q, label: P2, target: abuse.grooming}\n"  # line 7
            "    - {label: X, target: abuse.csam}\n"
            "    - {label: x, target: abuse.grooming}\n"
            "  age_band:\n"
            "    - {code: P1, label: 0-2 ans, target: age.0_2}\n"
        )
    )

    def test_codes_match_exactly_and_labels_by_normalised_form(self) -> None:
        assert self.INDEX.concept_id("abuse_type", " P1 ") == "abuse.csam"
        assert self.INDEX.concept_id("abuse_type", " PEDOPORNOGRAPHIE") == "abuse.csam"
        assert self.INDEX.concept_id("abuse_type", "p1") is None
        assert self.INDEX.concept_id("age_band", "P1") == "age.0_2"  # schemes are separate

    def test_a_code_wins_over_a_label(self) -> None:
        assert self.INDEX.concept_id("abuse_type", "P2") == "abuse.sexual_extortion"

    def test_unmapped_and_unknown_are_told_apart(self) -> None:
        entry = self.INDEX.lookup("abuse_type", "autre")
        assert entry is not None and entry.target is None and entry.line == 6
        assert self.INDEX.lookup("abuse_type", "something else") is None

    def test_an_ambiguous_value_raises_with_the_lines(self) -> None:
        with pytest.raises(CrosswalkError, match="lines 8, 9"):
            self.INDEX.lookup("abuse_type", "X")


class TestShippedVocabulary:
    """The example crosswalks against the real, shipped vocabulary."""

    def test_helpline_fr_example_has_no_errors(self, vocabulary: Vocabulary) -> None:
        report = check_crosswalk(read_crosswalk(EXAMPLES / "helpline-fr.yaml"), vocabulary)
        assert report.ok, [i.message for i in report.errors]

    def test_hotline_es_example_has_no_errors(self, vocabulary: Vocabulary) -> None:
        report = check_crosswalk(read_crosswalk(EXAMPLES / "hotline-es.csv"), vocabulary)
        assert report.ok, [i.message for i in report.errors]

    def test_broken_example_shows_every_issue_kind(self, vocabulary: Vocabulary) -> None:
        # Vocabulary 1.0.0 deprecates nothing yet, so the example's abuse.csem line shows
        # deprecated_target against a copy in which a later version has deprecated it.
        document = vocabulary.model_dump()
        for scheme in document["schemes"]:
            for concept in scheme["concepts"]:
                if concept["id"] == "abuse.csem":
                    concept.update(status="deprecated", replaced_by="abuse.csam")
        later = Vocabulary.model_validate(document)
        report = check_crosswalk(read_crosswalk(EXAMPLES / "broken.yaml"), later)
        assert {i.kind for i in report.issues} == set(IssueKind)
        assert kinds_and_lines(list(report.issues)) == [
            ("unknown_target", 13),
            ("ambiguous", 14),
            ("ambiguous", 15),
            ("wrong_scheme", 16),
            ("unmapped", 17),
            ("deprecated_target", 18),
            ("duplicate", 19),
            ("unknown_scheme", 20),
        ]
        shipped = check_crosswalk(read_crosswalk(EXAMPLES / "broken.yaml"), vocabulary)
        assert {i.kind for i in shipped.issues} == set(IssueKind) - {IssueKind.DEPRECATED_TARGET}
