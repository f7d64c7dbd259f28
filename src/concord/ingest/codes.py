"""Resolving a partner's coded values (labels or codes) to vocabulary concept ids.

Resolution is done once per *distinct* value — a column of a million rows usually holds a few
dozen — and then applied column-wise, so the crosswalk logic stays in Python (exact, readable)
without a per-row cost.

Order: the partner's crosswalk first (its codes exactly, its labels normalised); then the
shared vocabulary itself (concept id, notation such as ``FR``, or any preferred/alternative
label in any language), so a partner already using Concord's words needs no crosswalk line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from concord.errors import CrosswalkError
from concord.vocab.crosswalk import Crosswalk
from concord.vocab.crosswalk_check import CrosswalkIndex
from concord.vocab.model import Vocabulary
from concord.vocab.text import normalize_label


class Outcome(StrEnum):
    MAPPED = "mapped"
    UNMAPPED = "unmapped"  # the crosswalk lists the value without a target, on purpose
    UNKNOWN = "unknown"  # neither the crosswalk nor the vocabulary knows the value
    AMBIGUOUS = "ambiguous"  # the crosswalk maps the value to several targets
    WRONG_SCHEME = "wrong_scheme"  # the crosswalk's target is not in the field's scheme


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    concept_id: str | None = None
    message: str | None = None


class CodeResolver:
    """Resolves raw values of one organisation, per scheme, with a cache of answers."""

    def __init__(self, vocabulary: Vocabulary, crosswalk: Crosswalk | None) -> None:
        self.vocabulary = vocabulary
        self._index = CrosswalkIndex(crosswalk) if crosswalk else None
        self._shared: dict[str, dict[str, str]] = {}
        self._cache: dict[tuple[str, str], Resolution] = {}

    def resolve(self, scheme: str, value: str) -> Resolution:
        key = (scheme, value)
        if key not in self._cache:
            self._cache[key] = self._resolve(scheme, value)
        return self._cache[key]

    def _resolve(self, scheme: str, value: str) -> Resolution:
        if self._index is not None:
            try:
                entry = self._index.lookup(scheme, value)
            except CrosswalkError as exc:
                return Resolution(Outcome.AMBIGUOUS, message=exc.message)
            if entry is not None:
                if entry.target is None:
                    return Resolution(
                        Outcome.UNMAPPED,
                        message=f"{value!r} has no shared equivalent in the crosswalk "
                        f"(line {entry.line})",
                    )
                target_scheme = self.vocabulary.scheme_of(entry.target)
                if target_scheme is None or target_scheme.id != scheme:
                    return Resolution(
                        Outcome.WRONG_SCHEME,
                        message=f"{value!r} maps to {entry.target!r}, which is not a concept "
                        f"of {scheme} (crosswalk line {entry.line})",
                    )
                return Resolution(Outcome.MAPPED, entry.target)
        concept_id = self._shared_labels(scheme).get(normalize_label(value))
        if concept_id is not None:
            return Resolution(Outcome.MAPPED, concept_id)
        return Resolution(
            Outcome.UNKNOWN,
            message=f"{value!r} is neither in the crosswalk nor a known {scheme} value "
            "(run `concord crosswalk suggest`)",
        )

    def _shared_labels(self, scheme_id: str) -> dict[str, str]:
        """Normalised id, notation and labels of every active concept of a scheme → its id."""
        if scheme_id not in self._shared:
            table: dict[str, str] = {}
            scheme = self.vocabulary.scheme(scheme_id)
            for concept in scheme.concepts if scheme else []:
                if concept.status != "active":
                    continue
                texts = [concept.id, concept.notation or "", *concept.labels.values()]
                texts += [alt for alts in concept.alt_labels.values() for alt in alts]
                for text in texts:
                    if text:
                        table.setdefault(normalize_label(text), concept.id)
            self._shared[scheme_id] = table
        return self._shared[scheme_id]
