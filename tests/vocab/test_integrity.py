"""Integrity rules of the vocabulary: the shipped one passes, and each rule can fail."""

from __future__ import annotations

from typing import Any

import pytest

from concord.vocab.integrity import check
from concord.vocab.model import Vocabulary


def _concept(cid: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "labels": {"en": cid, "fr": cid, "es": cid, "zh": cid},
        "definition": {"en": f"definition of {cid}"},
        **extra,
    }


def _vocab(*concepts: dict[str, Any], version: str = "1.0.0") -> Vocabulary:
    return Vocabulary.model_validate(
        {
            "version": version,
            "languages": ["en", "fr", "es", "zh"],
            "schemes": [
                {
                    "id": "abuse_type",
                    "prefix": "abuse",
                    "title": {"en": "Abuse"},
                    "concepts": list(concepts),
                },
                {
                    "id": "sex",
                    "prefix": "sex",
                    "title": {"en": "Sex"},
                    "concepts": [_concept("sex.female")],
                },
            ],
            "changelog": [{"version": version, "date": "2026-11-25", "changes": ["x"]}],
        }
    )


def test_shipped_vocabulary_is_sound(vocabulary: Vocabulary) -> None:
    assert check(vocabulary) == []


def test_shipped_vocabulary_covers_required_schemes_and_languages(vocabulary: Vocabulary) -> None:
    required = {
        "abuse_type",
        "age_band",
        "sex",
        "country",
        "platform_type",
        "channel",
        "reporter_type",
        "offender_relationship",
        "action_taken",
        "content_category",
        "service_type",
    }
    assert required <= {s.id for s in vocabulary.schemes}
    assert {"en", "fr", "es", "zh"} <= set(vocabulary.languages)
    for _, concept in vocabulary.concepts():
        assert all(concept.labels.get(lang) for lang in ("en", "fr", "es", "zh")), concept.id


def test_shipped_vocabulary_carries_iccs_and_discouraged_terms(vocabulary: Vocabulary) -> None:
    iccs = {code for _, c in vocabulary.concepts() for code in c.iccs}
    assert {"030221", "030222", "030223"} <= iccs
    terms = {(t.lang, t.term.casefold()) for _, c in vocabulary.concepts() for t in c.discouraged}
    assert ("en", "child pornography") in terms
    assert ("en", "child prostitute") in terms
    assert {lang for lang, _ in terms} >= {"en", "fr", "es", "zh"}


def test_shipped_countries_follow_iso(vocabulary: Vocabulary) -> None:
    country = vocabulary.scheme("country")
    assert country is not None
    assert len(country.concepts) >= 249
    fr = vocabulary.get("country.fr")
    assert fr is not None and fr.notation == "FR"


def test_sound_vocabulary_passes() -> None:
    assert check(_vocab(_concept("abuse.a"), _concept("abuse.b", broader=["abuse.a"]))) == []


@pytest.mark.parametrize(
    ("concepts", "expected"),
    [
        ([_concept("abuse.a"), _concept("abuse.a")], "used twice"),
        ([_concept("sexx.a")], "must start with its scheme's prefix"),
        ([{**_concept("abuse.a"), "definition": {}}], "no English definition"),
        ([{**_concept("abuse.a"), "labels": {"en": "A"}}], "no preferred label in fr, es, zh"),
        ([_concept("abuse.a", broader=["abuse.missing"])], "does not exist"),
        ([_concept("abuse.a", broader=["sex.female"])], "is in another scheme"),
        (
            [_concept("abuse.a", broader=["abuse.b"]), _concept("abuse.b", broader=["abuse.a"])],
            "cycle",
        ),
        ([_concept("abuse.a", broader=["abuse.a"])], "cycle"),
        ([_concept("abuse.a", status="deprecated")], "must name 'replaced_by'"),
        ([_concept("abuse.a", status="deprecated", replaced_by="abuse.zzz")], "does not exist"),
        (
            [
                _concept("abuse.a", status="deprecated", replaced_by="abuse.b"),
                _concept("abuse.b", status="deprecated", replaced_by="abuse.a"),
            ],
            "is itself deprecated",
        ),
        (
            [_concept("abuse.a", replaced_by="abuse.b"), _concept("abuse.b")],
            "only deprecated concepts",
        ),
        (
            [
                _concept("abuse.a", iccs=["302"]),
            ],
            "ICCS code '302'",
        ),
        ([_concept("abuse.a", iccs=["0302210"])], "is not 2, 4, 5 or 6 digits"),
        (
            [_concept("abuse.a", discouraged=[{"term": "x", "lang": "de", "reason": "r"}])],
            "has no replacement",
        ),
    ],
)
def test_each_rule_reports_its_problem(concepts: list[dict[str, Any]], expected: str) -> None:
    problems = check(_vocab(*concepts))
    assert any(expected in p for p in problems), problems


def test_changelog_must_cover_the_version() -> None:
    vocab = _vocab(_concept("abuse.a")).model_copy(update={"version": "1.1.0"})
    assert check(vocab) == ["the changelog has no entry for version 1.1.0"]


def test_narrower_is_derived_from_broader() -> None:
    vocab = _vocab(
        _concept("abuse.a"),
        _concept("abuse.b", broader=["abuse.a"]),
        _concept("abuse.c", broader=["abuse.b"]),
    )
    assert vocab.narrower("abuse.a") == ["abuse.b"]
    assert vocab.descendants("abuse.a") == {"abuse.b", "abuse.c"}
