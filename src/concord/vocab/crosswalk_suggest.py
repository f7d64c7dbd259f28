"""Proposing Concord concepts for an organisation's unmapped codes and labels.

Suggestions are advice for a person, never an automatic mapping: :func:`suggest` does not touch
the crosswalk, and :mod:`concord.vocab.crosswalk_writer` writes a *new* file in which every
filled-in target carries a "review" comment. Why so careful: a wrong mapping silently moves
records of one form of abuse into another's count, which is worse than leaving them unmapped
(quarantined).

Confidence is an ordinal scale, not a probability. Exact matches (after
:func:`concord.vocab.text.normalize_label`) rank by how deliberate the vocabulary's term is:

* 1.0  ``label``       — a preferred or alternative label, in any language;
* 0.95 ``notation``    — the concept's code (e.g. an ISO country code);
* 0.9  ``discouraged`` — a term the vocabulary tells people to avoid, which still clearly names
  the concept ("child pornography" → CSAM);
* below 0.9 ``fuzzy``  — :func:`fuzzy_score` (rapidfuzz token ratios) on normalised text,
  scaled so that a fuzzy match can never outrank an exact one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from concord.vocab.crosswalk import Crosswalk
from concord.vocab.model import Concept, Scheme, Vocabulary
from concord.vocab.text import normalize_label

DEFAULT_MIN_CONFIDENCE = 0.6
#: Fuzzy confidence is ``score / 100 * FUZZY_CEILING``: at most 0.89, below every exact method.
FUZZY_CEILING = 0.89
#: Below 55 two labels share at most a short word ("de", "sexual"): no caller can go under it.
FUZZY_FLOOR_SCORE = 55.0
#: Labels this short are codes in disguise ("A", "P1"); fuzzy-matching them only adds noise.
FUZZY_MIN_LENGTH = 3


class Method(StrEnum):
    LABEL = "label"
    NOTATION = "notation"
    DISCOURAGED = "discouraged"
    FUZZY = "fuzzy"


EXACT_CONFIDENCE = {Method.LABEL: 1.0, Method.NOTATION: 0.95, Method.DISCOURAGED: 0.9}


@dataclass(frozen=True)
class Suggestion:
    """One proposed concept for one organisation value (``line`` is None for raw labels)."""

    scheme: str
    line: int | None
    code: str | None
    label: str | None
    concept_id: str
    concept_label: str
    confidence: float
    method: Method
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "method": str(self.method)}


@dataclass(frozen=True)
class _Form:
    """A normalised term of a concept, with how strongly an exact match on it counts."""

    text: str
    concept: Concept
    method: Method
    describes: str


def _forms(scheme: Scheme) -> list[_Form]:
    """Every term of every active concept of ``scheme``; deprecated concepts are never offered."""
    forms: list[_Form] = []
    for concept in scheme.concepts:
        if concept.status != "active":
            continue
        for lang, label in concept.labels.items():
            forms.append(
                _Form(
                    normalize_label(label),
                    concept,
                    Method.LABEL,
                    f"the preferred label ({lang}) {label!r}",
                )
            )
        for lang, alts in concept.alt_labels.items():
            for alt in alts:
                forms.append(
                    _Form(
                        normalize_label(alt),
                        concept,
                        Method.LABEL,
                        f"the alternative label ({lang}) {alt!r}",
                    )
                )
        if concept.notation:
            forms.append(
                _Form(
                    normalize_label(concept.notation),
                    concept,
                    Method.NOTATION,
                    f"the notation {concept.notation!r}",
                )
            )
        for term in concept.discouraged:
            forms.append(
                _Form(
                    normalize_label(term.term),
                    concept,
                    Method.DISCOURAGED,
                    f"the discouraged term ({term.lang}) {term.term!r}",
                )
            )
    return [f for f in forms if f.text]


def fuzzy_score(query: str, term: str) -> float:
    """Word-level similarity of two normalised texts, 0–100.

    Why not ``WRatio``: its partial matching scores character fragments, so "autre" came out
    68 against "child prostitute". Here words count: ``token_set_ratio`` rewards a label whose
    words all appear in the term ("foro" ~ "foro o tablón de imágenes"), and the whole-string
    ``token_sort_ratio`` breaks ties towards the closest term ("abuso sexual" prefers "abuso
    sexual infantil" to "explotación y abuso sexual infantil").
    """
    sort = fuzz.token_sort_ratio(query, term)
    return max(sort, 0.9 * fuzz.token_set_ratio(query, term) + 0.1 * sort)


class Matcher:
    """Candidate concepts of one scheme for a code and/or label; build once, ask many times."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self._forms = _forms(scheme)
        self._exact: dict[str, list[_Form]] = {}
        for form in self._forms:
            self._exact.setdefault(form.text, []).append(form)
        self._fuzzy = [f for f in self._forms if f.method is not Method.NOTATION]
        # Punctuation that normalize_label keeps ("ami(e)", "d'enfants") splits words here.
        self._fuzzy_texts = [default_process(f.text) for f in self._fuzzy]
        self._order = {c.id: i for i, c in enumerate(scheme.concepts)}

    def candidates(
        self,
        *,
        label: str | None,
        code: str | None = None,
        lang: str | None = None,
        limit: int = 3,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> list[tuple[Concept, float, Method, str]]:
        """Best ``limit`` (concept, confidence, method, why), highest confidence first."""
        best: dict[str, tuple[Concept, float, Method, str]] = {}

        def offer(concept: Concept, confidence: float, method: Method, why: str) -> None:
            if concept.id not in best or confidence > best[concept.id][1]:
                best[concept.id] = (concept, confidence, method, why)

        for value in (label, code):
            for form in self._exact.get(normalize_label(value), []) if value else []:
                why = f"same as {form.describes}"
                if form.method is Method.DISCOURAGED:
                    why = (
                        f"discouraged term: concept's preferred label is "
                        f"{form.concept.label(lang or 'en')!r}"
                    )
                offer(form.concept, EXACT_CONFIDENCE[form.method], form.method, why)
        query = default_process(normalize_label(label)) if label else ""
        if len(query) >= FUZZY_MIN_LENGTH and self._fuzzy and min_confidence <= FUZZY_CEILING:
            cutoff = max(FUZZY_FLOOR_SCORE, min_confidence / FUZZY_CEILING * 100)
            # token_set_ratio is an upper bound of fuzzy_score, so C code drops most forms first.
            found = process.extract(
                query,
                self._fuzzy_texts,
                scorer=fuzz.token_set_ratio,
                processor=None,
                score_cutoff=cutoff,
                limit=None,
            )
            for _, _, index in found:
                form = self._fuzzy[index]
                score = fuzzy_score(query, self._fuzzy_texts[index])
                if score < cutoff:
                    continue
                confidence = round(score / 100 * FUZZY_CEILING, 2)
                offer(
                    form.concept,
                    confidence,
                    Method.FUZZY,
                    f"close to {form.describes} (score {score:.0f})",
                )
        ranked = sorted(best.values(), key=lambda c: (-c[1], self._order[c[0].id]))
        return [c for c in ranked if c[1] >= min_confidence][:limit]


def _suggestions(
    matcher: Matcher,
    *,
    line: int | None,
    code: str | None,
    label: str | None,
    lang: str | None,
    limit: int,
    min_confidence: float,
) -> list[Suggestion]:
    return [
        Suggestion(
            matcher.scheme.id,
            line,
            code,
            label,
            concept.id,
            concept.label(lang or "en"),
            confidence,
            method,
            why,
        )
        for concept, confidence, method, why in matcher.candidates(
            label=label, code=code, lang=lang, limit=limit, min_confidence=min_confidence
        )
    ]


def suggest(
    crosswalk: Crosswalk,
    vocabulary: Vocabulary,
    limit: int = 3,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> list[Suggestion]:
    """Up to ``limit`` proposals per unmapped entry, only from the entry's own scheme.

    Entries in a scheme the vocabulary does not have get no proposals (``check`` reports the
    scheme); entries with no proposal above ``min_confidence`` are simply absent.
    """
    matchers: dict[str, Matcher] = {}
    result: list[Suggestion] = []
    for entry in crosswalk.entries:
        scheme = vocabulary.scheme(entry.scheme)
        if entry.target is not None or scheme is None:
            continue
        if scheme.id not in matchers:  # one Matcher per scheme: building one is the slow part
            matchers[scheme.id] = Matcher(scheme)
        matcher = matchers[scheme.id]
        result.extend(
            _suggestions(
                matcher,
                line=entry.line,
                code=entry.code,
                label=entry.label,
                lang=crosswalk.language_of(entry),
                limit=limit,
                min_confidence=min_confidence,
            )
        )
    return result


def suggest_labels(
    scheme_id: str,
    labels: Iterable[str],
    vocabulary: Vocabulary,
    limit: int = 3,
    *,
    lang: str | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> list[Suggestion]:
    """Proposals for raw labels (e.g. the distinct values of a partner file's column)."""
    scheme = vocabulary.scheme(scheme_id)
    if scheme is None:
        return []
    matcher = Matcher(scheme)
    return [
        s
        for label in labels
        for s in _suggestions(
            matcher,
            line=None,
            code=None,
            label=label,
            lang=lang,
            limit=limit,
            min_confidence=min_confidence,
        )
    ]
