"""Writing a crosswalk with suggested targets filled in, for a person to review.

Why a new file and never the original: the organisation's file is the record of what people
decided; a suggestion becomes a mapping only when someone has read it, accepted it and removed
its "review" comment. Always YAML, even for a CSV input, because only YAML can carry a comment
on each line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from concord.vocab.crosswalk import Crosswalk, Entry
from concord.vocab.crosswalk_suggest import DEFAULT_MIN_CONFIDENCE, Suggestion
from concord.vocab.model import CONCEPT_ID_RE, SCHEME_ID_RE

#: Characters a YAML file may not contain literally (C1 controls, BOM, non-characters) or that
#: YAML folds as line breaks inside a quoted scalar (NEL, LS, PS); JSON leaves them unescaped.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _scalar(value: str, pattern: re.Pattern[str] | None = None) -> str:
    """A YAML scalar that reads back as exactly ``value``.

    Ids matching ``pattern`` stay bare for readability unless YAML would read them as something
    else (a scheme called ``null`` or ``on``); everything else is a JSON string, which is valid
    YAML double-quoted syntax once the characters in :data:`_YAML_UNSAFE` are escaped too.
    """
    if pattern is not None and pattern.match(value) and yaml.safe_load(value) == value:
        return value
    quoted = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


#: What may appear in a comment: YAML's printable set minus every line break.
_COMMENT_UNSAFE = re.compile(
    "[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _comment(text: str) -> str:
    """One line of comment text: unprintable characters and line breaks become spaces."""
    return " ".join(_COMMENT_UNSAFE.sub(" ", text).split())


def _entry_yaml(entry: Entry, target: str | None) -> str:
    parts = [
        f"{key}: {_scalar(value)}"
        for key, value in (("code", entry.code), ("label", entry.label))
        if value is not None
    ]
    if target is not None:
        parts.append(f"target: {_scalar(target, CONCEPT_ID_RE)}")
    parts.extend(
        f"{key}: {_scalar(value)}"
        for key, value in (("lang", entry.lang), ("note", entry.note))
        if value is not None
    )
    return "{" + ", ".join(parts) + "}"


def _choice(proposals: list[Suggestion], min_confidence: float) -> Choice:
    usable = [s for s in proposals if s.confidence >= min_confidence]
    if not usable:
        return Choice(None, f"no suggestion at or above {min_confidence:.2f}: map by hand")
    top = usable[0]
    tied = [s for s in usable if s.confidence == top.confidence]
    if len(tied) > 1:  # equally good candidates: a person has to choose, we must not
        names = ", ".join(f"{s.concept_id} ({s.confidence:.2f})" for s in tied)
        return Choice(None, f"candidates: {names} — choose one")
    return Choice(
        top.concept_id,
        f"suggested ({top.confidence:.2f}, {top.method}) — review: {top.concept_label}",
    )


@dataclass(frozen=True)
class Choice:
    """What :func:`render_suggested_yaml` fills in for one unmapped entry, and why."""

    target: str | None
    comment: str


def choose_targets(
    crosswalk: Crosswalk,
    suggestions: list[Suggestion],
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> dict[Entry, Choice]:
    """For every unmapped entry: its single best proposal, or None with the reason.

    Only a single best proposal is chosen; ties and entries without proposals stay unmapped,
    so a suggested file never invents a mapping that nobody could see was a coin toss.
    """
    by_line: dict[tuple[str, int], list[Suggestion]] = {}
    for suggestion in suggestions:
        if suggestion.line is not None:
            by_line.setdefault((suggestion.scheme, suggestion.line), []).append(suggestion)
    return {
        entry: _choice(by_line.get((entry.scheme, entry.line), []), min_confidence)
        for entry in crosswalk.entries
        if entry.target is None
    }


def render_suggested_yaml(
    crosswalk: Crosswalk,
    suggestions: list[Suggestion],
    *,
    vocabulary_version: str,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> str:
    """A new YAML crosswalk: ``crosswalk`` with the :func:`choose_targets` choices filled in.

    Each unmapped entry carries a comment (``# suggested (0.87, fuzzy) — review: ...``) so the
    reviewer sees which lines a person wrote and which a program proposed.
    """
    choices = choose_targets(crosswalk, suggestions, min_confidence)
    out = [
        _comment(f"# Crosswalk of {crosswalk.organisation}, made from {crosswalk.source}"),
        f"# by `concord crosswalk suggest` with vocabulary {vocabulary_version}. Review every",
        "# line marked 'suggested', then remove its comment once you agree with it.",
        f"organisation: {_scalar(crosswalk.organisation)}",
    ]
    for key, value in (
        ("version", crosswalk.version),
        ("language", crosswalk.language),
        ("description", crosswalk.description),
    ):
        if value is not None:
            out.append(f"{key}: {_scalar(value)}")
    schemes = list(dict.fromkeys([*crosswalk.sections, *(e.scheme for e in crosswalk.entries)]))
    out.append("mappings:" if schemes else "mappings: {}")
    for scheme_id in schemes:
        entries = crosswalk.entries_for(scheme_id)
        out.append(f"  {_scalar(scheme_id, SCHEME_ID_RE)}:" + ("" if entries else " []"))
        for entry in entries:
            choice = choices.get(entry)
            if choice is None:
                out.append(f"    - {_entry_yaml(entry, entry.target)}")
            else:
                out.append(
                    f"    - {_entry_yaml(entry, choice.target)}  # {_comment(choice.comment)}"
                )
    return "\n".join(out) + "\n"
