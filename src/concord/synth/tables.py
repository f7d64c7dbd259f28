"""String tables: every text a labelled column can hold, so rendering is one vectorised gather.

For each labelled field the table holds, in order: the organisation's values, a few spelling
variants of each (case, accents, spaces: they must still map through the crosswalk), a few
typos of each (they must *not* map), the unknown codes, and a final null. The generator and the
messiness planter only move integer indices around; text is produced once, by polars.

Why variants and typos are checked against the crosswalk here: a "typo" that happens to equal
another label would be planted as a problem that ingestion cannot possibly see, and the
ground truth would lie. So every variant resolves (by code, or by
:func:`concord.vocab.crosswalk_check.label_key`) to its own value's entry, and every typo
resolves to nothing; a profile where that cannot hold fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl

from concord.errors import ConfigurationError
from concord.synth.model import AgeBandField, Choice, LabelField, Labelled, Profile
from concord.vocab.crosswalk_check import label_key
from concord.vocab.text import fold

#: Spelling variants and typos kept per value (indices are drawn uniformly among them).
VARIANTS = 3
TYPOS = 2


@dataclass(frozen=True)
class Value:
    """One value of a labelled column as the crosswalk lists it."""

    text: str
    target: str | None
    code: str | None
    label: str | None
    codes: bool

    def crosswalk_code(self) -> str | None:
        return self.text if self.codes else self.code

    def crosswalk_label(self) -> str:
        return (self.label or self.text) if self.codes else self.text


def values_of(item: Labelled) -> list[Value]:
    """The field's values in table order (age bands, then the 'unknown' value)."""
    if isinstance(item, AgeBandField):
        choices = [Choice(b.text, b.target, code=b.code, label=b.label) for b in item.bands]
        choices.append(item.unknown)
    else:
        choices = list(item.choices)
    return [Value(c.text, c.target, c.code, c.label, item.codes) for c in choices]


def unknown_of(item: Labelled) -> tuple[str, ...]:
    return item.unknown_codes if isinstance(item, AgeBandField) else item.unknown


def _keys(values: list[Value]) -> tuple[set[str], set[str]]:
    """The codes and label keys under which ingestion finds the crosswalk's entries."""
    codes = {c for v in values if (c := v.crosswalk_code()) is not None}
    labels = {label_key(v.crosswalk_label()) for v in values}
    return codes, labels


def _resolves(text: str, codes: set[str], labels: set[str]) -> bool:
    return text.strip() in codes or label_key(text) in labels


def spelling_variants(value: Value, values: list[Value]) -> list[str]:
    """Up to :data:`VARIANTS` spellings that differ from ``value.text`` yet map to its entry."""
    text = value.text
    if value.codes:  # codes match exactly after trimming: only spaces may vary
        candidates = [f" {text}", f"{text} ", f"  {text}  "]
    else:
        candidates = [
            text.upper(),
            text.lower(),
            fold(text).capitalize(),
            f" {text} ",
            f"{text}  ",
            text.replace(" ", "  "),
        ]
    written = {v.text for v in values}
    codes, _ = _keys(values)
    key = label_key(value.crosswalk_label())
    found: list[str] = []
    for candidate in candidates:
        if candidate in written or candidate in found:
            continue
        if value.codes:
            maps = candidate.strip() == value.crosswalk_code()
        else:  # a code match would win over the label match, so it must not happen
            maps = label_key(candidate) == key and candidate.strip() not in codes
        if maps:
            found.append(candidate)
    return _pad(found, VARIANTS, f"spelling variants of {text!r}")


def typos(value: Value, values: list[Value]) -> list[str]:
    """Up to :data:`TYPOS` misspellings of ``value.text`` that map to no entry at all."""
    text = value.text
    codes, labels = _keys(values)
    found: list[str] = []
    for position in sorted(range(len(text)), key=lambda i: abs(i - len(text) // 2)):
        char = text[position]
        if not char.isalnum():
            continue
        candidates = [text[:position] + char + text[position:]]  # a doubled letter
        if len(text) >= 4:
            candidates.insert(0, text[:position] + text[position + 1 :])  # a dropped letter
        nxt = text[position + 1] if position + 1 < len(text) else ""
        if nxt.isalnum() and nxt != char:
            swapped = text[:position] + text[position + 1] + char + text[position + 2 :]
            candidates.insert(0, swapped)
        for candidate in candidates:
            if candidate not in found and not _resolves(candidate, codes, labels):
                found.append(candidate)
        if len(found) >= TYPOS:
            break
    return _pad(found, TYPOS, f"typos of {text!r}")


def _pad(found: list[str], size: int, what: str) -> list[str]:
    if not found:
        raise ConfigurationError(f"synthetic profile: no {what} can be planted")
    return [found[i % len(found)] for i in range(size)]


@dataclass(frozen=True)
class LabelTable:
    """Every string one labelled column can hold; see the module docstring for the layout."""

    item: Labelled
    values: tuple[Value, ...]
    variants: tuple[str, ...]
    typos: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def null(self) -> int:
        """Index of the null entry (a blank cell)."""
        return self.size * (1 + VARIANTS + TYPOS) + len(self.unknown)

    def variant_index(
        self, value: npt.NDArray[np.int32], which: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int32]:
        return (self.size + value * VARIANTS + which).astype(np.int32)

    def typo_index(
        self, value: npt.NDArray[np.int32], which: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int32]:
        return (self.size * (1 + VARIANTS) + value * TYPOS + which).astype(np.int32)

    def unknown_index(self, which: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
        return (self.size * (1 + VARIANTS + TYPOS) + which).astype(np.int32)

    def strings(self) -> pl.Series:
        texts: list[str | None] = [v.text for v in self.values]
        texts += [*self.variants, *self.typos, *self.unknown, None]
        return pl.Series(texts, dtype=pl.String)

    def gather(self, index: npt.NDArray[np.int32]) -> pl.Series:
        """The texts at ``index`` (``-1`` and :attr:`null` give a blank)."""
        index = np.where(index < 0, self.null, index)
        return self.strings().gather(pl.Series(index, dtype=pl.UInt32))

    def targets(self) -> list[str | None]:
        return [v.target for v in self.values]


def build_table(item: Labelled) -> LabelTable:
    values = values_of(item)
    keys = [label_key(v.crosswalk_label()) for v in values]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigurationError(
            f"synthetic profile column {item.column!r}: labels {repeated} are the same once "
            "case, accents and spacing are ignored"
        )
    return LabelTable(
        item=item,
        values=tuple(values),
        variants=tuple(s for v in values for s in spelling_variants(v, values)),
        typos=tuple(s for v in values for s in typos(v, values)),
        unknown=unknown_of(item),
    )


@cache
def tables_for(profile: Profile) -> dict[str, LabelTable]:
    """Column → table for every labelled field of ``profile`` (built once per profile)."""
    return {item.column: build_table(item) for item in profile.labelled}


def is_multi(item: Labelled) -> bool:
    return isinstance(item, LabelField) and item.split is not None
