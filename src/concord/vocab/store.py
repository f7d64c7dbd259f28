"""Load the vocabulary into the database, and read it back for the API and the UI.

Loading is idempotent (the same version twice changes nothing), refuses to go backwards and
refuses to drop a concept id that an earlier version had: ids are never deleted, only
deprecated, because harmonised records and crosswalks point at them for years.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from concord.db.models import (
    VocabConcept,
    VocabConceptBroader,
    VocabDiscouragedTerm,
    VocabLabel,
    VocabRelease,
    VocabScheme,
)
from concord.errors import NotFoundError, VocabularyError
from concord.vocab.model import Vocabulary
from concord.vocab.text import normalize_label


def checksum(vocabulary: Vocabulary) -> str:
    return hashlib.sha256(vocabulary.model_dump_json().encode()).hexdigest()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class LoadResult:
    version: str
    changed: bool
    concepts: int
    message: str


def current_release(session: Session) -> VocabRelease | None:
    """The most recently loaded vocabulary release, or ``None`` for an empty database."""
    return session.scalars(select(VocabRelease).order_by(VocabRelease.id.desc()).limit(1)).first()


def load_into_database(session: Session, vocabulary: Vocabulary) -> LoadResult:
    """Make the database hold ``vocabulary``; see the module docstring for the rules."""
    digest = checksum(vocabulary)
    count = sum(len(s.concepts) for s in vocabulary.schemes)
    current = current_release(session)
    if current is not None:
        if current.version == vocabulary.version:
            if current.checksum == digest:
                return LoadResult(vocabulary.version, False, count, "already loaded")
            raise VocabularyError(
                f"vocabulary {vocabulary.version} is already loaded with different content; "
                "give the changed vocabulary a new version and a changelog entry"
            )
        if _version_key(vocabulary.version) < _version_key(current.version):
            raise VocabularyError(
                f"the database holds vocabulary {current.version}, newer than "
                f"{vocabulary.version}; downgrading would orphan concept ids"
            )
        new_ids = {c.id for _, c in vocabulary.concepts()}
        dropped = sorted(set(session.scalars(select(VocabConcept.id))) - new_ids)
        if dropped:
            raise VocabularyError(
                f"vocabulary {vocabulary.version} removes {len(dropped)} concept id(s) that "
                f"{current.version} had; ids are never deleted, mark them deprecated instead",
                details=dropped[:20],
            )
    _replace_content(session, vocabulary)
    session.add(
        VocabRelease(
            version=vocabulary.version,
            checksum=digest,
            loaded_at=datetime.now(UTC),
            concept_count=count,
        )
    )
    session.flush()
    return LoadResult(vocabulary.version, True, count, "loaded")


def _replace_content(session: Session, vocabulary: Vocabulary) -> None:
    for table in (VocabLabel, VocabDiscouragedTerm, VocabConceptBroader):
        session.execute(delete(table))
    for position, scheme in enumerate(vocabulary.schemes):
        session.merge(
            VocabScheme(
                id=scheme.id,
                prefix=scheme.prefix,
                position=position,
                title=dict(scheme.title),
                description=dict(scheme.description),
            )
        )
    session.flush()
    labels: list[VocabLabel] = []
    terms: list[VocabDiscouragedTerm] = []
    links: list[VocabConceptBroader] = []
    for position, (scheme, concept) in enumerate(vocabulary.concepts()):
        session.merge(
            VocabConcept(
                id=concept.id,
                scheme_id=scheme.id,
                position=position,
                status=concept.status,
                replaced_by=concept.replaced_by,
                notation=concept.notation,
                note=concept.note,
                labels=dict(concept.labels),
                alt_labels={k: list(v) for k, v in concept.alt_labels.items()},
                definition=dict(concept.definition),
                iccs=list(concept.iccs),
            )
        )
        texts = [("pref", lang, text) for lang, text in concept.labels.items()]
        texts += [("alt", lang, t) for lang, alts in concept.alt_labels.items() for t in alts]
        texts += [("discouraged", t.lang, t.term) for t in concept.discouraged]
        if concept.notation:
            texts.append(("notation", "zxx", concept.notation))
        labels += [
            VocabLabel(
                concept_id=concept.id,
                lang=lang,
                kind=kind,
                text=text,
                folded=normalize_label(text)[:512],
            )
            for kind, lang, text in texts
        ]
        terms += [
            VocabDiscouragedTerm(
                concept_id=concept.id,
                lang=t.lang,
                term=t.term,
                reason=t.reason,
                use=concept.replacement_for(t),
                fixable=t.fixable,
            )
            for t in concept.discouraged
        ]
        links += [VocabConceptBroader(concept_id=concept.id, broader_id=b) for b in concept.broader]
    session.flush()
    session.add_all([*labels, *terms, *links])


# --- reading ------------------------------------------------------------------------------


def list_schemes(session: Session) -> list[tuple[VocabScheme, int]]:
    """Every scheme with its number of concepts, in vocabulary order."""
    rows = session.execute(
        select(VocabScheme, func.count(VocabConcept.id))
        .outerjoin(VocabConcept, VocabConcept.scheme_id == VocabScheme.id)
        .group_by(VocabScheme.id)
        .order_by(VocabScheme.position)
    ).all()
    return [(scheme, count) for scheme, count in rows]


def search_concepts(
    session: Session,
    query: str | None = None,
    *,
    scheme: str | None = None,
    include_deprecated: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[VocabConcept], int]:
    """Concepts whose id or any label (any language, discouraged terms too) contains ``query``.

    Matching is case-, accent- and separator-insensitive. Returns one page and the total.
    """
    stmt = select(VocabConcept)
    if scheme:
        if session.get(VocabScheme, scheme) is None:
            raise NotFoundError(f"no concept scheme called {scheme!r}")
        stmt = stmt.where(VocabConcept.scheme_id == scheme)
    if not include_deprecated:
        stmt = stmt.where(VocabConcept.status == "active")
    needle = normalize_label(query or "")
    if needle:
        raw_id = (query or "").strip().lower()
        matching = select(VocabLabel.concept_id).where(
            VocabLabel.folded.like(f"%{_escape_like(needle)}%", escape="\\")
        )
        stmt = stmt.where(
            or_(
                VocabConcept.id.in_(matching),
                VocabConcept.id.like(f"%{_escape_like(raw_id)}%", escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = session.scalars(stmt.order_by(VocabConcept.position).limit(limit).offset(offset))
    return list(page), total


def _escape_like(text: str) -> str:
    """Make ``%`` and ``_`` literal in a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_concept(session: Session, concept_id: str) -> VocabConcept:
    concept = session.get(VocabConcept, concept_id)
    if concept is None:
        raise NotFoundError(f"no concept with id {concept_id!r}")
    return concept


def concept_relations(session: Session, concept_id: str) -> tuple[list[str], list[str]]:
    """(broader ids, narrower ids) of a concept."""
    broader = session.scalars(
        select(VocabConceptBroader.broader_id).where(VocabConceptBroader.concept_id == concept_id)
    )
    narrower = session.scalars(
        select(VocabConceptBroader.concept_id).where(VocabConceptBroader.broader_id == concept_id)
    )
    return sorted(broader), sorted(narrower)


def discouraged_terms(session: Session, concept_id: str) -> list[VocabDiscouragedTerm]:
    return list(
        session.scalars(
            select(VocabDiscouragedTerm)
            .where(VocabDiscouragedTerm.concept_id == concept_id)
            .order_by(VocabDiscouragedTerm.lang, VocabDiscouragedTerm.id)
        )
    )
