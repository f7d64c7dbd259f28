"""The vocabulary in the database: idempotent loading, no deleted ids, search."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concord.db.models import VocabConcept, VocabRelease
from concord.errors import NotFoundError, VocabularyError
from concord.vocab import store
from concord.vocab.model import Vocabulary


def _bump(vocabulary: Vocabulary, version: str) -> Vocabulary:
    changelog = [
        *vocabulary.changelog,
        {"version": version, "date": "2026-12-01", "changes": ["test"]},
    ]
    return Vocabulary.model_validate(
        {**vocabulary.model_dump(), "version": version, "changelog": changelog}
    )


def test_loading_the_same_version_twice_changes_nothing(
    session: Session, vocabulary: Vocabulary
) -> None:
    releases = session.scalar(select(func.count()).select_from(VocabRelease))
    result = store.load_into_database(session, vocabulary)
    assert not result.changed
    assert session.scalar(select(func.count()).select_from(VocabRelease)) == releases


def test_same_version_with_other_content_is_refused(
    session: Session, vocabulary: Vocabulary
) -> None:
    changed = Vocabulary.model_validate(
        {**vocabulary.model_dump(), "languages": [*vocabulary.languages]}
    )
    scheme = changed.schemes[0].model_copy(update={"title": {"en": "Renamed"}})
    changed = changed.model_copy(update={"schemes": [scheme, *changed.schemes[1:]]})
    with pytest.raises(VocabularyError, match="already loaded with different content"):
        store.load_into_database(session, changed)


def test_a_newer_version_may_not_drop_a_concept(session: Session, vocabulary: Vocabulary) -> None:
    newer = _bump(vocabulary, "99.0.0")
    first = newer.schemes[0]
    trimmed = first.model_copy(update={"concepts": first.concepts[:-1]})
    newer = newer.model_copy(update={"schemes": [trimmed, *newer.schemes[1:]]})
    with pytest.raises(VocabularyError, match="ids are never deleted"):
        store.load_into_database(session, newer)


def test_older_version_is_refused(session: Session, vocabulary: Vocabulary) -> None:
    with pytest.raises(VocabularyError, match="downgrading"):
        store.load_into_database(session, _bump(vocabulary, "0.0.1"))


def test_newer_version_loads(session: Session, vocabulary: Vocabulary) -> None:
    result = store.load_into_database(session, _bump(vocabulary, "99.0.0"))
    assert result.changed
    assert store.current_release(session).version == "99.0.0"  # type: ignore[union-attr]
    count = session.scalar(select(func.count()).select_from(VocabConcept))
    assert count == sum(len(s.concepts) for s in vocabulary.schemes)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("grooming", "abuse.grooming"),
        ("GROOMING", "abuse.grooming"),
        ("pedopornographie", "abuse.csam"),  # a discouraged French term, accents dropped
        ("child  pornography", "abuse.csam"),  # discouraged English term, odd spacing
        ("pornografía infantil", "abuse.csam"),
        ("儿童色情", "abuse.csam"),
        ("country.fr", "country.fr"),
        ("Allemagne", "country.de"),
    ],
)
def test_search_is_case_accent_and_language_insensitive(
    session: Session, query: str, expected: str
) -> None:
    found, total = store.search_concepts(session, query, limit=500)
    assert expected in {c.id for c in found}
    assert total >= 1


def test_search_filters_by_scheme_and_pages(session: Session) -> None:
    found, total = store.search_concepts(session, None, scheme="country", limit=10, offset=5)
    assert len(found) == 10
    assert total >= 249
    assert {c.scheme_id for c in found} == {"country"}


def test_search_treats_like_wildcards_literally(session: Session) -> None:
    assert store.search_concepts(session, "%")[1] == 0


def test_unknown_scheme_and_concept(session: Session) -> None:
    with pytest.raises(NotFoundError, match="no concept scheme"):
        store.search_concepts(session, "x", scheme="nope")
    with pytest.raises(NotFoundError, match="no concept with id"):
        store.get_concept(session, "abuse.nope")


def test_relations_are_both_ways(session: Session, vocabulary: Vocabulary) -> None:
    child = next(c for _, c in vocabulary.concepts() if c.broader)
    broader, _ = store.concept_relations(session, child.id)
    assert broader == sorted(child.broader)
    _, narrower = store.concept_relations(session, child.broader[0])
    assert child.id in narrower
