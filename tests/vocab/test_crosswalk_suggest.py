"""Suggesting targets: exact methods and their confidence, fuzzy matching, and the review file."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.vocab import crosswalk_suggest
from concord.vocab.crosswalk import Crosswalk, Entry, parse_crosswalk
from concord.vocab.crosswalk_suggest import (
    FUZZY_CEILING,
    Method,
    Suggestion,
    suggest,
    suggest_labels,
)
from concord.vocab.crosswalk_writer import choose_targets, render_suggested_yaml
from concord.vocab.loader import load_vocabulary
from concord.vocab.model import Scheme, Vocabulary

VOCAB = load_vocabulary(Path(__file__).parent / "data" / "crosswalk_vocabulary")


def crosswalk(body: str, language: str = "fr") -> Crosswalk:
    """A YAML crosswalk whose ``mappings`` body starts on line 4."""
    text = f"organisation: test-org\nlanguage: {language}\nmappings:\n" + body
    return parse_crosswalk(text, source="t.yaml", fmt="yaml", default_organisation="t")


def one(
    scheme: str, label: str, *, limit: int = 3, min_confidence: float = 0.6
) -> list[Suggestion]:
    return suggest_labels(scheme, [label], VOCAB, limit, min_confidence=min_confidence)


@pytest.mark.parametrize(
    ("label", "concept_id"),
    [
        ("Extorsion sexuelle", "abuse.sexual_extortion"),  # preferred, French
        ("SEXUAL  EXTORTION", "abuse.sexual_extortion"),  # preferred, English, other case
        ("pedopiegeage", "abuse.grooming"),  # accents dropped
        ("chantage-sexuel", "abuse.sexual_extortion"),  # alternative label, other separator
        ("csam", "abuse.csam"),
    ],
)
def test_exact_labels_in_any_language_get_confidence_one(label: str, concept_id: str) -> None:
    top = one("abuse_type", label)[0]
    assert (top.concept_id, top.confidence, top.method) == (concept_id, 1.0, Method.LABEL)
    assert top.why.startswith("same as the")


def test_discouraged_terms_get_0_9_and_name_the_preferred_label() -> None:
    (entry,) = crosswalk("  abuse_type:\n    - {label: Pédopornographie}\n").entries
    top = suggest(crosswalk("  abuse_type:\n    - {label: Pédopornographie}\n"), VOCAB)[0]
    assert (top.line, top.label) == (entry.line, "Pédopornographie")
    assert (top.concept_id, top.confidence, top.method) == ("abuse.csam", 0.9, Method.DISCOURAGED)
    # The crosswalk is French, so the preferred label shown is the French one.
    assert (
        top.why
        == "discouraged term: concept's preferred label is \"matériel d'abus sexuels sur enfants\""
    )
    assert top.concept_label == "matériel d'abus sexuels sur enfants"


def test_notation_matches_a_label_or_a_code() -> None:
    by_label = one("age_band", "0-2")[0]
    assert (by_label.concept_id, by_label.confidence, by_label.method) == (
        "age.0_2",
        0.95,
        Method.NOTATION,
    )
    found = suggest(crosswalk("  age_band:\n    - {code: '3-6', label: Petits}\n"), VOCAB)
    assert (found[0].concept_id, found[0].confidence) == ("age.3_6", 0.95)


def test_fuzzy_matches_are_below_0_9_rounded_and_explained() -> None:
    found = one("abuse_type", "extorsion sexuelle en ligne", min_confidence=0.0)
    top = found[0]
    assert top.concept_id == "abuse.sexual_extortion"
    assert top.method is Method.FUZZY
    assert 0.6 <= top.confidence <= FUZZY_CEILING < 0.9
    assert top.confidence == round(top.confidence, 2)
    assert top.why.startswith("close to the preferred label (fr) 'extorsion sexuelle'")
    assert [s.confidence for s in found] == sorted((s.confidence for s in found), reverse=True)


def test_min_confidence_and_limit() -> None:
    assert one("abuse_type", "extorsion sexuelle en ligne", min_confidence=0.95) == []
    assert len(one("abuse_type", "sexuel", min_confidence=0.0, limit=1)) <= 1


def test_unrelated_and_very_short_labels_get_nothing() -> None:
    assert one("abuse_type", "Autre") == []
    assert one("abuse_type", "zz") == []  # too short for fuzzy matching


def test_candidates_come_only_from_the_entry_scheme() -> None:
    assert one("abuse_type", "0-2 ans") == []
    assert one("age_band", "0-2 ans")[0].concept_id == "age.0_2"
    assert suggest_labels("no_such_scheme", ["0-2 ans"], VOCAB) == []


def test_deprecated_concepts_are_never_offered() -> None:
    found = one("abuse_type", "images d'abus d'enfants", min_confidence=0.0)
    assert "abuse.child_abuse_images" not in {s.concept_id for s in found}


def test_only_unmapped_entries_in_known_schemes_get_suggestions() -> None:
    cw = crosswalk(
        "  abuse_type:\n"
        "    - {label: Sextorsion, target: abuse.csam}\n"  # mapped: left alone
        "    - {label: Sextorsion, code: S2}\n"  # line 6
        "  abuse_types:\n    - {label: Sextorsion}\n"  # unknown scheme
    )
    before = cw
    found = suggest(cw, VOCAB)
    assert [(s.line, s.concept_id, s.code) for s in found] == [(6, "abuse.sexual_extortion", "S2")]
    assert cw == before  # suggest never changes the crosswalk


def test_one_matcher_per_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    class Counting(crosswalk_suggest.Matcher):
        def __init__(self, scheme: Scheme) -> None:
            built.append(scheme.id)
            super().__init__(scheme)

    monkeypatch.setattr(crosswalk_suggest, "Matcher", Counting)
    body = "  abuse_type:\n" + "".join(f"    - {{label: x{i}}}\n" for i in range(5))
    suggest(crosswalk(body + "  age_band:\n    - {label: y}\n"), VOCAB)
    assert built == ["abuse_type", "age_band"]


LABELLED = [
    (scheme.id, concept.id, label)
    for scheme, concept in VOCAB.concepts()
    if concept.status == "active"
    for label in concept.labels.values()
]


def respell(draw: st.DrawFn, label: str) -> str:
    """``label`` with another case, maybe without accents, other separators and padding."""
    text = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in label)
    if draw(st.booleans()):
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    text = text.replace(" ", draw(st.sampled_from([" ", "  ", "-", "_", "\t", " / "])))
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " ", "  "]))


def assert_found_with_confidence_one(
    vocabulary: Vocabulary, scheme_id: str, concept_id: str, spelling: str
) -> None:
    found = suggest_labels(scheme_id, [spelling], vocabulary, limit=10)
    exact = {s.concept_id for s in found if s.confidence == 1.0 and s.method is Method.LABEL}
    assert concept_id in exact, (spelling, found)


@given(st.data())
def test_any_spelling_of_a_preferred_label_gets_its_concept_at_1_0(data: st.DataObject) -> None:
    scheme_id, concept_id, label = data.draw(st.sampled_from(LABELLED))
    assert_found_with_confidence_one(VOCAB, scheme_id, concept_id, respell(data.draw, label))


@given(st.data())
def test_the_property_holds_for_the_shipped_vocabulary(
    vocabulary: Vocabulary, data: st.DataObject
) -> None:
    scheme = data.draw(st.sampled_from(vocabulary.schemes))
    concept = data.draw(st.sampled_from([c for c in scheme.concepts if c.status == "active"]))
    label = data.draw(st.sampled_from(sorted(concept.labels.values())))
    assert_found_with_confidence_one(vocabulary, scheme.id, concept.id, respell(data.draw, label))


def test_shipped_vocabulary_examples(vocabulary: Vocabulary) -> None:
    cases = {
        ("abuse_type", "Pornografía infantil"): ("abuse.csam", 0.9),
        ("abuse_type", "Sextorsion"): ("abuse.sexual_extortion", 1.0),
        ("age_band", "0-2"): ("age.0_2", 0.95),
        ("country", "Royaume Uni"): ("country.gb", 1.0),
    }
    for (scheme_id, label), (concept_id, confidence) in cases.items():
        top = suggest_labels(scheme_id, [label], vocabulary)[0]
        assert (top.concept_id, top.confidence) == (concept_id, confidence), label
    fuzzy = suggest_labels("abuse_type", ["Harcèlement sexuel en ligne"], vocabulary)[0]
    assert fuzzy.concept_id == "abuse.online_sexual_harassment" and fuzzy.method is Method.FUZZY


class TestSuggestedYaml:
    CROSSWALK = crosswalk(
        "  abuse_type:\n"
        "    - {code: P1, label: Pédopornographie, target: abuse.csam}\n"  # line 5, mapped
        "    - {code: P2, label: Chantage sexuel}\n"  # line 6 → label match
        "    - {code: P3, label: 'extorsion sexuelle en ligne', note: \"à revoir\"}\n"  # fuzzy
        "    - {code: P9, label: Autre}\n"  # nothing
        "  age_band:\n"
        "    - {label: '0-2'}\n"
    )

    def render(self, min_confidence: float = 0.6) -> str:
        found = suggest(self.CROSSWALK, VOCAB, min_confidence=min_confidence)
        return render_suggested_yaml(
            self.CROSSWALK, found, vocabulary_version="0.1.0", min_confidence=min_confidence
        )

    def test_fills_in_the_best_proposal_with_a_review_comment(self) -> None:
        text = self.render()
        assert '{code: "P2", label: "Chantage sexuel", target: abuse.sexual_extortion}' in text
        assert "# suggested (1.00, label) — review: extorsion sexuelle" in text
        assert "# no suggestion at or above 0.60: map by hand" in text
        assert "# suggested (0.95, notation) — review: 0–2 ans" in text

    def test_reads_back_as_the_same_crosswalk_plus_the_chosen_targets(self) -> None:
        text = self.render()
        again = parse_crosswalk(text, source="new.yaml", fmt="yaml", default_organisation="x")
        choices = choose_targets(self.CROSSWALK, suggest(self.CROSSWALK, VOCAB))
        assert (again.organisation, again.language) == ("test-org", "fr")
        for old, new in zip(self.CROSSWALK.entries, again.entries, strict=True):
            expected = old.target or choices[old].target
            assert (new.scheme, new.code, new.label, new.note, new.target) == (
                old.scheme,
                old.code,
                old.label,
                old.note,
                expected,
            )
        assert [e.target for e in again.entries] == [
            "abuse.csam",
            "abuse.sexual_extortion",
            "abuse.sexual_extortion",
            None,
            "age.0_2",
        ]

    def test_ties_are_left_for_a_person(self) -> None:
        tied = [
            Suggestion("age_band", 5, None, "x", cid, cid, 0.8, Method.FUZZY, "close")
            for cid in ("age.0_2", "age.3_6")
        ]
        cw = crosswalk("  age_band:\n    - {label: x}\n")
        (choice,) = choose_targets(cw, tied).values()
        assert choice.target is None
        assert choice.comment == "candidates: age.0_2 (0.80), age.3_6 (0.80) — choose one"

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["abuse_type", "age_band", "on", "null", "odd scheme"]),
                st.text(min_size=1).filter(lambda t: t.strip() != ""),
                st.none() | st.sampled_from(["abuse.csam", "age.0_2", "Not An Id"]),
            ),
            max_size=8,
        ),
        st.text(min_size=1).filter(lambda t: t.strip() != ""),
    )
    def test_any_crosswalk_round_trips(
        self, rows: list[tuple[str, str, str | None]], organisation: str
    ) -> None:
        entries = tuple(
            Entry(scheme, i + 1, None, label.strip(), target)
            for i, (scheme, label, target) in enumerate(rows)
        )
        original = Crosswalk(organisation.strip(), "in.csv", entries)
        text = render_suggested_yaml(original, [], vocabulary_version="0.1.0")
        again = parse_crosswalk(text, source="out.yaml", fmt="yaml", default_organisation="x")
        assert again.organisation == original.organisation
        by_scheme = [e for scheme in dict.fromkeys(e.scheme for e in entries) for e in entries
                     if e.scheme == scheme]  # fmt: skip
        assert [(e.scheme, e.label, e.target) for e in again.entries] == [
            (e.scheme, e.label, e.target) for e in by_scheme
        ]
