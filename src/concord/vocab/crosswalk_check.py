"""Checking a crosswalk against a vocabulary, and looking values up in a checked crosswalk.

:func:`check_crosswalk` lists every problem at once, each with the line to fix and, where we can
tell, what to write instead. :class:`CrosswalkIndex` is the small lookup ingestion uses to turn
an organisation's code or label into a concept id.

Why labels are compared with :func:`concord.vocab.text.normalize_label`: a partner file will
contain "Pédopornographie", "PEDOPORNOGRAPHIE" and "pedo-pornographie " for the same category;
if the crosswalk maps two of those spellings to different concepts, ingestion cannot know which
one a record meant — that is the ``ambiguous`` error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process

from concord.errors import CrosswalkError
from concord.vocab.crosswalk import Crosswalk, Entry
from concord.vocab.crosswalk_suggest import Suggestion, suggest
from concord.vocab.model import Vocabulary
from concord.vocab.text import normalize_label


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class IssueKind(StrEnum):
    UNMAPPED = "unmapped"
    UNKNOWN_TARGET = "unknown_target"
    DEPRECATED_TARGET = "deprecated_target"
    WRONG_SCHEME = "wrong_scheme"
    UNKNOWN_SCHEME = "unknown_scheme"
    AMBIGUOUS = "ambiguous"
    DUPLICATE = "duplicate"


#: Errors are entries ingestion would map wrongly or not at all without anyone deciding to;
#: warnings are states an organisation may choose knowingly: leaving "Autre" unmapped (its
#: records are quarantined, not lost), a deprecated concept that still exists and names its
#: replacement, and a harmless repeated line.
SEVERITY: dict[IssueKind, Severity] = {
    IssueKind.UNMAPPED: Severity.WARNING,
    IssueKind.UNKNOWN_TARGET: Severity.ERROR,
    IssueKind.DEPRECATED_TARGET: Severity.WARNING,
    IssueKind.WRONG_SCHEME: Severity.ERROR,
    IssueKind.UNKNOWN_SCHEME: Severity.ERROR,
    IssueKind.AMBIGUOUS: Severity.ERROR,
    IssueKind.DUPLICATE: Severity.WARNING,
}

#: rapidfuzz score (0–100) a concept or scheme id needs to be offered as "did you mean".
#: 75 catches typos, case and abbreviations ("abuse.sextortion" → "abuse.sexual_extortion",
#: 77) without proposing unrelated ids of the same scheme ("abuse.csam" scores about 60).
ID_SCORE_CUTOFF = 75


@dataclass(frozen=True)
class Issue:
    """One problem on one line; ``suggestion`` is what to write instead, when we can tell."""

    kind: IssueKind
    line: int
    scheme: str
    code: str | None
    label: str | None
    target: str | None
    message: str
    suggestion: str | None = None

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": str(self.kind), "severity": str(self.severity)}


@dataclass(frozen=True)
class CheckReport:
    """Every issue of one crosswalk, sorted by line."""

    crosswalk: Crosswalk
    vocabulary_version: str
    issues: tuple[Issue, ...]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when nothing would be mapped wrongly (warnings may remain)."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        return dict(Counter(str(i.kind) for i in self.issues))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.crosswalk.source,
            "organisation": self.crosswalk.organisation,
            "vocabulary_version": self.vocabulary_version,
            "entries": len(self.crosswalk.entries),
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": self.counts(),
            "issues": [i.to_dict() for i in self.issues],
        }


def _issue(kind: IssueKind, entry: Entry, message: str, suggestion: str | None = None) -> Issue:
    return Issue(
        kind, entry.line, entry.scheme, entry.code, entry.label, entry.target, message, suggestion
    )


def check_crosswalk(crosswalk: Crosswalk, vocabulary: Vocabulary) -> CheckReport:
    """Every problem in ``crosswalk`` measured against ``vocabulary``."""
    issues: list[Issue] = []
    for scheme_id, line in crosswalk.sections.items():
        if vocabulary.scheme(scheme_id) is None:
            issues.append(_unknown_scheme(scheme_id, line, crosswalk, vocabulary))
    best = {(s.scheme, s.line): s for s in suggest(crosswalk, vocabulary, limit=1)}
    for entry in crosswalk.entries:
        issues.extend(_target_issues(entry, vocabulary, best.get((entry.scheme, entry.line))))
    issues.extend(_conflicts(crosswalk.entries))
    order = list(IssueKind)  # within a line: errors first, then the order IssueKind lists
    issues.sort(key=lambda i: (i.line, i.severity is not Severity.ERROR, order.index(i.kind)))
    return CheckReport(crosswalk, vocabulary.version, tuple(issues))


def _unknown_scheme(
    scheme_id: str, line: int, crosswalk: Crosswalk, vocabulary: Vocabulary
) -> Issue:
    owners = {
        s.id
        for e in crosswalk.entries_for(scheme_id)
        if e.target
        for s in [vocabulary.scheme_of(e.target)]
        if s is not None
    }
    close = _close(scheme_id, [s.id for s in vocabulary.schemes])
    if len(owners) == 1:
        suggestion = f"its targets belong to {owners.pop()}"
    else:
        known = ", ".join(s.id for s in vocabulary.schemes)
        suggestion = _did_you_mean(close) or f"the schemes are {known}"
    return Issue(
        IssueKind.UNKNOWN_SCHEME,
        line,
        scheme_id,
        None,
        None,
        None,
        f"{scheme_id!r} is not a scheme of vocabulary {vocabulary.version}",
        suggestion,
    )


def _target_issues(
    entry: Entry, vocabulary: Vocabulary, best: Suggestion | None = None
) -> list[Issue]:
    if entry.target is None:
        perhaps = (
            f"perhaps {best.concept_id} ({best.confidence:.2f}, {best.method}); "
            if best is not None
            else ""
        )
        return [
            _issue(
                IssueKind.UNMAPPED,
                entry,
                "no target: records with this value are quarantined at ingestion",
                f"{perhaps}`concord crosswalk suggest` proposes targets",
            )
        ]
    concept = vocabulary.get(entry.target)
    section = vocabulary.scheme(entry.scheme)
    if concept is None:
        return [
            _issue(
                IssueKind.UNKNOWN_TARGET,
                entry,
                f"{entry.target!r} is not a concept id in vocabulary {vocabulary.version}",
                _did_you_mean(_close_ids(entry.target, entry.scheme, vocabulary)),
            )
        ]
    issues: list[Issue] = []
    owner = vocabulary.scheme_of(entry.target)
    if section is not None and owner is not None and owner.id != section.id:
        issues.append(
            _issue(
                IssueKind.WRONG_SCHEME,
                entry,
                f"{entry.target} belongs to scheme {owner.id!r}, not {section.id!r}",
                f"move the entry under {owner.id}, or choose a concept of {section.id}",
            )
        )
    if concept.status == "deprecated":
        replacement = vocabulary.get(concept.replaced_by) if concept.replaced_by else None
        if replacement is not None:
            message = f"{entry.target} is deprecated; it is replaced by {replacement.id}"
            hint: str | None = f"use {replacement.id} ({replacement.label()!r})"
        else:
            message, hint = f"{entry.target} is deprecated and has no replacement", None
        issues.append(_issue(IssueKind.DEPRECATED_TARGET, entry, message, hint))
    return issues


def _close(query: str, choices: list[str]) -> list[str]:
    """Up to three ``choices`` within typo distance of ``query`` (case-insensitive), best first."""
    found = process.extract(
        query,
        choices,
        scorer=fuzz.WRatio,
        processor=str.casefold,
        limit=3,
        score_cutoff=ID_SCORE_CUTOFF,
    )
    return [choice for choice, _, _ in found]


def _id_score(query: str, concept_id: str) -> float:
    """Similarity of a written target to a concept id, 0–100.

    Ids of one scheme share their prefix ("abuse."), which makes every pair look half alike to
    a whole-string ratio; so the part after the first dot is compared too, and the better of
    the two wins ("csam" → abuse.csam, "abuse.sextortion" → abuse.sexual_extortion).
    """
    query = query.casefold()
    tail = concept_id.split(".", 1)[-1]
    return max(fuzz.ratio(query, concept_id), fuzz.ratio(query.split(".", 1)[-1], tail))


def _close_ids(target: str, scheme_id: str, vocabulary: Vocabulary) -> list[str]:
    """Concept ids the author probably meant: a label written instead of an id comes first."""
    section = vocabulary.scheme(scheme_id)
    concepts = section.concepts if section else [c for _, c in vocabulary.concepts()]
    wanted = normalize_label(target)
    by_label = [
        c.id
        for c in concepts
        if any(
            normalize_label(term) == wanted
            for term in [*c.labels.values(), *(a for v in c.alt_labels.values() for a in v)]
        )
    ]
    scored = sorted(((_id_score(target, c.id), c.id) for c in concepts), reverse=True)
    close = [cid for score, cid in scored if score >= ID_SCORE_CUTOFF]
    return list(dict.fromkeys([*by_label, *close]))[:3]


def _did_you_mean(candidates: list[str]) -> str | None:
    if not candidates:
        return None
    if len(candidates) == 1:
        return f"did you mean {candidates[0]}?"
    return f"did you mean one of {', '.join(candidates)}?"


def label_key(label: str) -> str:
    """The comparison key of a label; text made only of separators ('-', '/') keeps itself."""
    return normalize_label(label) or label.strip()


def _keys(entry: Entry) -> list[tuple[str, str, str]]:
    """(scheme, 'code'|'label', key) under which ingestion finds ``entry``."""
    keys = []
    if entry.code is not None:
        keys.append((entry.scheme, "code", entry.code))
    if entry.label is not None:
        keys.append((entry.scheme, "label", label_key(entry.label)))
    return keys


def _group(entries: Iterable[Entry]) -> dict[tuple[str, str, str], list[Entry]]:
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for entry in entries:
        for key in _keys(entry):
            groups.setdefault(key, []).append(entry)
    return groups


def _conflicts(entries: tuple[Entry, ...]) -> list[Issue]:
    """``ambiguous`` on every line of a key with several targets; ``duplicate`` on repeats."""
    issues: list[Issue] = []
    for (_, kind, _), group in _group(entries).items():
        if len({e.target for e in group}) < 2:
            continue
        for entry in group:
            others = ", ".join(
                f"line {o.line}"
                + (f" ({o.display!r})" if o.display != entry.display else "")
                + f" → {o.target or 'unmapped'}"
                for o in group
                if o is not entry
            )
            compared = " (ignoring case, accents and spacing)" if kind == "label" else ""
            issues.append(
                _issue(
                    IssueKind.AMBIGUOUS,
                    entry,
                    f"same {kind} as {others}{compared}",
                    f"keep one target for this {kind}"
                    + (", or give the entries distinct codes" if kind == "label" else ""),
                )
            )
    first: dict[tuple[str, str | None, str | None, str | None], Entry] = {}
    for entry in entries:
        key = (
            entry.scheme,
            entry.code,
            label_key(entry.label) if entry.label else None,
            entry.target,
        )
        if key in first:
            same = " and ".join(n for n, v in (("code", entry.code), ("label", entry.label)) if v)
            issues.append(
                _issue(
                    IssueKind.DUPLICATE,
                    entry,
                    f"repeats line {first[key].line} (same {same} and the same target)",
                    f"delete this line or line {first[key].line}",
                )
            )
        else:
            first[key] = entry
    return issues


class CrosswalkIndex:
    """Finds the crosswalk entry for an organisation's value (a code or a label) in a scheme.

    Codes match exactly (after trimming): they are identifiers the organisation controls, and
    "P1" and "p1" may well differ. Labels match by :func:`label_key`. A code match wins over a
    label match. A value whose entries disagree raises :class:`CrosswalkError` rather than
    picking one, so ingestion quarantines the record with that reason.
    """

    def __init__(self, crosswalk: Crosswalk) -> None:
        self.crosswalk = crosswalk
        self._groups = _group(crosswalk.entries)

    def lookup(self, scheme: str, value: str) -> Entry | None:
        """The entry for ``value``; ``None`` if the crosswalk does not mention it at all.

        An entry whose ``target`` is ``None`` means the organisation left the value unmapped.
        """
        for kind, key in (("code", value.strip()), ("label", label_key(value))):
            group = self._groups.get((scheme, kind, key))
            if not group:
                continue
            if len({e.target for e in group}) > 1:
                lines = ", ".join(str(e.line) for e in group)
                raise CrosswalkError(
                    f"{self.crosswalk.source}: {value!r} is ambiguous in {scheme} "
                    f"(lines {lines} map this {kind} to different targets)"
                )
            return group[0]
        return None

    def concept_id(self, scheme: str, value: str) -> str | None:
        """The concept id for ``value``, or ``None`` when unmapped or not in the crosswalk."""
        entry = self.lookup(scheme, value)
        return entry.target if entry else None
