"""The vocabulary's data model: schemes, concepts, labels, discouraged terms.

The shipped vocabulary is YAML validated into these pydantic models. Only ``broader`` links are
written down; ``narrower`` is derived (:meth:`Vocabulary.narrower`), so the two can never disagree.
Structural rules that span concepts (unique ids, no cycles, replacement terms, ICCS format) live
in :mod:`concord.vocab.integrity`, not here, so that they can report every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Languages every shipped concept carries a preferred label in. English is the pivot language:
#: definitions are required in English and optional elsewhere.
SHIPPED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "zh")

CONCEPT_ID_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+(\.[a-z0-9_]+)*$")
SCHEME_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: ICCS codes are 2 digits (section), 4 (division), 5 (group) or 6 (class).
ICCS_RE = re.compile(r"^(\d{2}|\d{4}|\d{5}|\d{6})$")
SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscouragedTerm(_Strict):
    """A term to avoid for a concept, in one language, with why and what to say instead."""

    term: str = Field(min_length=1)
    lang: str = Field(min_length=2, max_length=8)
    reason: str = Field(min_length=1, description="Why the term harms or misleads (English).")
    use: str | None = Field(
        default=None,
        description="Replacement text; defaults to the concept's preferred label in `lang`.",
    )
    fixable: bool = Field(
        default=True,
        description="False when the right replacement depends on context (the linter then "
        "flags but `--fix` leaves the text alone).",
    )


class Concept(_Strict):
    """One shared meaning with a stable id, e.g. ``abuse.grooming``."""

    id: str
    labels: dict[str, str] = Field(description="Preferred label per language code.")
    alt_labels: dict[str, list[str]] = Field(default_factory=dict)
    definition: dict[str, str] = Field(default_factory=dict)
    broader: list[str] = Field(default_factory=list)
    iccs: list[str] = Field(default_factory=list)
    notation: str | None = Field(default=None, description="Code, e.g. ISO 3166-1 alpha-2.")
    discouraged: list[DiscouragedTerm] = Field(default_factory=list)
    status: Literal["active", "deprecated"] = "active"
    replaced_by: str | None = None
    note: str | None = Field(default=None, description="Scope or usage note (English).")

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not CONCEPT_ID_RE.match(value):
            raise ValueError(
                f"concept id {value!r} must be a lowercase dotted slug such as 'abuse.grooming'"
            )
        return value

    def label(self, lang: str = "en") -> str:
        """The preferred label in ``lang``, falling back to English."""
        return self.labels.get(lang) or self.labels.get("en") or self.id

    def replacement_for(self, term: DiscouragedTerm) -> str | None:
        """What to write instead of ``term``: its explicit ``use`` or our label in its language."""
        return term.use or self.labels.get(term.lang)


class Scheme(_Strict):
    """A concept scheme (code list) such as ``abuse_type`` or ``country``."""

    id: str
    prefix: str = Field(description="Prefix of every concept id in this scheme, e.g. 'abuse'.")
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    concepts: list[Concept] = Field(default_factory=list)

    @field_validator("id", "prefix")
    @classmethod
    def _is_slug(cls, value: str) -> str:
        if not SCHEME_ID_RE.match(value):
            raise ValueError(f"{value!r} must be a lowercase slug such as 'abuse_type'")
        return value


class ChangelogEntry(_Strict):
    version: str
    date: date
    changes: list[str] = Field(min_length=1)


class Vocabulary(_Strict):
    """The whole versioned vocabulary: every scheme, and the changelog that explains versions."""

    version: str
    languages: list[str]
    schemes: list[Scheme]
    changelog: list[ChangelogEntry] = Field(default_factory=list)

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER_RE.match(value):
            raise ValueError(f"vocabulary version {value!r} must be semantic (MAJOR.MINOR.PATCH)")
        return value

    def concepts(self) -> Iterator[tuple[Scheme, Concept]]:
        for scheme in self.schemes:
            for concept in scheme.concepts:
                yield scheme, concept

    @cached_property
    def _by_id(self) -> dict[str, tuple[Scheme, Concept]]:
        return {c.id: (s, c) for s, c in self.concepts()}

    @cached_property
    def _narrower(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for _, concept in self.concepts():
            for parent in concept.broader:
                result.setdefault(parent, []).append(concept.id)
        return result

    def get(self, concept_id: str) -> Concept | None:
        found = self._by_id.get(concept_id)
        return found[1] if found else None

    def label_of(self, concept_id: str) -> str:
        """The concept's English label for display, or the id itself when it is unknown
        (a code from a newer vocabulary must still show as something)."""
        concept = self.get(concept_id)
        return concept.label() if concept else concept_id

    def scheme_of(self, concept_id: str) -> Scheme | None:
        found = self._by_id.get(concept_id)
        return found[0] if found else None

    def scheme(self, scheme_id: str) -> Scheme | None:
        return next((s for s in self.schemes if s.id == scheme_id), None)

    def narrower(self, concept_id: str) -> list[str]:
        """Concepts whose ``broader`` names ``concept_id`` (derived, never stored)."""
        return list(self._narrower.get(concept_id, []))

    def descendants(self, concept_id: str) -> set[str]:
        """Every concept below ``concept_id`` (used by indicators: "including narrower")."""
        seen: set[str] = set()
        stack = [concept_id]
        while stack:
            for child in self.narrower(stack.pop()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen
