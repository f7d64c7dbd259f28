"""Planted problems: the mistakes real partner files contain, put there on purpose and recorded.

Ingestion must catch every one of these, so each is planted at a known rate, in known rows,
and written to the ground truth (:mod:`.manifest`). Rules that keep that truth exact:

- a row carries at most one planted problem (rows are drawn without replacement per chunk),
  so counts add up and one problem never hides another;
- an exact duplicate copies the row before it, and a repeated key takes the key of the row
  before it, only when that row is itself clean — otherwise the duplicate is not planted;
- a planted received date (future, before 1990, invalid) blanks the date of the facts, so that
  the record shows exactly one date problem;
- spelling variants (case, accents, spaces) are recorded too, but as values ingestion should
  *accept*: they map through the crosswalk like the canonical spelling.

Naturally blank values (an unknown date of the facts or age) and values the organisation left
unmapped on purpose are not planted problems; the manifest counts the latter separately.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from concord.errors import InputError
from concord.synth.calendar import day_number
from concord.synth.generate import Chunk
from concord.synth.model import ExactAgeField, Profile
from concord.synth.tables import TYPOS, VARIANTS, LabelTable, tables_for


class Problem(StrEnum):
    LABEL_TYPO = "label_typo"
    LABEL_VARIANT = "label_variant"
    UNKNOWN_CODE = "unknown_code"
    MISSING_VALUE = "missing_value"
    IMPOSSIBLE_AGE = "impossible_age"
    FUTURE_DATE = "future_date"
    DATE_BEFORE_1990 = "date_before_1990"
    INVALID_DATE = "invalid_date"
    OCCURRED_AFTER_RECEIVED = "occurred_after_received"
    DUPLICATE_ROW = "duplicate_row"
    DUPLICATE_KEY = "duplicate_key"


#: Problems a correct ingestion must reject or quarantine (all but spelling variants).
DEFECTS = frozenset(Problem) - {Problem.LABEL_VARIANT}

#: Default share of rows per problem: enough that 2,000 rows show every kind a few times.
DEFAULT_RATES: Mapping[Problem, float] = MappingProxyType(
    {
        Problem.LABEL_TYPO: 0.004,
        Problem.LABEL_VARIANT: 0.02,
        Problem.UNKNOWN_CODE: 0.003,
        Problem.MISSING_VALUE: 0.005,
        Problem.IMPOSSIBLE_AGE: 0.002,
        Problem.FUTURE_DATE: 0.0015,
        Problem.DATE_BEFORE_1990: 0.0015,
        Problem.INVALID_DATE: 0.0015,
        Problem.OCCURRED_AFTER_RECEIVED: 0.003,
        Problem.DUPLICATE_ROW: 0.003,
        Problem.DUPLICATE_KEY: 0.002,
    }
)
#: Planting more than this share of rows would make the "clean" data the exception.
MAX_TOTAL_RATE = 0.5
#: Ages no child can have: what typing slips and sentinel values produce.
IMPOSSIBLE_AGES = np.array([250, -3, 999, 150, -1, 130], dtype=np.int16)
#: Received dates before 1990: spreadsheet epochs, "unknown" sentinels and century slips.
OLD_DAYS = np.array([day_number(date(1900, 1, 1)), day_number(date(1970, 1, 1))], dtype=np.int32)


@dataclass(frozen=True)
class Messiness:
    """Share of rows that get each planted problem; 0 turns a kind off."""

    rates: Mapping[Problem, float] = field(default_factory=lambda: dict(DEFAULT_RATES))

    def __post_init__(self) -> None:
        bad = [f"{k}={v}" for k, v in self.rates.items() if not 0.0 <= v <= MAX_TOTAL_RATE]
        if bad:
            raise InputError(f"messiness rates must lie between 0 and 0.5: {', '.join(bad)}")
        if sum(self.rates.values()) > MAX_TOTAL_RATE:
            raise InputError(
                f"messiness rates add up to {sum(self.rates.values()):.3f}; at most "
                f"{MAX_TOTAL_RATE} of the rows may carry a planted problem"
            )

    @classmethod
    def none(cls) -> Messiness:
        """Clean files: nothing planted (the records are the same as with any rates)."""
        return cls(dict.fromkeys(Problem, 0.0))

    @classmethod
    def scaled(cls, factor: float) -> Messiness:
        return cls({p: r * factor for p, r in DEFAULT_RATES.items()})

    def rate(self, problem: Problem) -> float:
        return self.rates.get(problem, 0.0)


@dataclass
class Plan:
    """What was planted in one chunk: parallel arrays, one entry per planted problem."""

    rows: npt.NDArray[np.int64]
    kinds: list[Problem]
    columns: list[str]
    #: Row each output row is copied from (itself, or the row before for exact duplicates).
    source: npt.NDArray[np.int64]
    #: Row whose key each output row carries (itself, or the row before for repeated keys).
    key_source: npt.NDArray[np.int64]


def applicable(profile: Profile) -> list[Problem]:
    """The kinds that can occur in ``profile``'s file (no impossible age without an age)."""
    kinds = []
    for problem in Problem:
        if str(problem) in profile.immune:
            continue
        if problem is Problem.IMPOSSIBLE_AGE and not any(
            isinstance(f, ExactAgeField) for f in profile.fields
        ):
            continue
        if (
            problem is Problem.OCCURRED_AFTER_RECEIVED
            and profile.field_named("occurred_date") is None
        ):
            continue
        if problem is Problem.UNKNOWN_CODE and not any(
            t.unknown for t in tables_for(profile).values()
        ):
            continue
        kinds.append(problem)
    return kinds


def plant(profile: Profile, chunk: Chunk, messiness: Messiness, rng: np.random.Generator) -> Plan:
    """Choose rows for each problem and rewrite ``chunk``'s arrays in place."""
    n = chunk.n
    kinds = applicable(profile)
    counts = [round(messiness.rate(k) * n) for k in kinds]
    order = rng.permutation(n)
    kind_of = np.full(n, -1, dtype=np.int16)
    offset = 0
    for number, count in enumerate(counts):
        kind_of[order[offset : offset + count]] = number
        offset += count
    clean_before = np.concatenate(([False], kind_of[:-1] == -1))
    for problem in (Problem.DUPLICATE_ROW, Problem.DUPLICATE_KEY):
        if problem in kinds:  # a copy needs a clean row before it in the same chunk
            number = kinds.index(problem)
            kind_of[(kind_of == number) & ~clean_before] = -1
    plan = Plan(
        rows=np.zeros(0, dtype=np.int64),
        kinds=[],
        columns=[],
        source=np.arange(n, dtype=np.int64),
        key_source=np.arange(n, dtype=np.int64),
    )
    rows_of: list[npt.NDArray[np.int64]] = []
    for number, problem in enumerate(kinds):
        rows = np.flatnonzero(kind_of == number).astype(np.int64)
        if len(rows) == 0:
            continue
        columns = _PLANTERS[problem](_Site(problem, profile, chunk, rows, plan, rng))
        rows_of.append(rows)
        plan.kinds.extend([problem] * len(rows))
        plan.columns.extend(columns)
    if rows_of:
        plan.rows = np.concatenate(rows_of)
    return plan


def _column(profile: Profile, name: str) -> str:
    item = profile.field_named(name)
    if item is None:
        raise InputError(f"{profile.slug} has no {name} column")
    return item.column


@dataclass(frozen=True)
class _Site:
    """Where one problem kind is planted: the chunk, its rows, and the plan to record into."""

    problem: Problem
    profile: Profile
    chunk: Chunk
    rows: npt.NDArray[np.int64]
    plan: Plan
    rng: np.random.Generator


def _plant_label(site: _Site) -> list[str]:
    tables = tables_for(site.profile).values()
    eligible = [t for t in tables if site.problem is not Problem.UNKNOWN_CODE or t.unknown]
    picks = site.rng.integers(0, len(eligible), len(site.rows))
    for number, table in enumerate(eligible):
        _relabel(site.problem, table, site.chunk, site.rows[picks == number], site.rng)
    return [eligible[i].item.column for i in picks]


def _plant_missing(site: _Site) -> list[str]:
    chunk = site.chunk
    received = _column(site.profile, "received_date")
    names = [*tables_for(site.profile), received]
    picks = site.rng.integers(0, len(names), len(site.rows))
    for number, name in enumerate(names):
        chosen = site.rows[picks == number]
        if name == received:
            chunk.received_known[chosen] = False
            continue
        chunk.primary[name][chosen] = -1
        if name in chunk.secondary:
            chunk.secondary[name][chosen] = -1
    return [names[i] for i in picks]


def _plant_age(site: _Site) -> list[str]:
    picks = site.rng.integers(0, len(IMPOSSIBLE_AGES), len(site.rows))
    site.chunk.age[site.rows] = IMPOSSIBLE_AGES[picks]
    site.chunk.age_known[site.rows] = True
    return [_column(site.profile, "victim_age_band")] * len(site.rows)


def _plant_received(site: _Site) -> list[str]:
    chunk, rows, rng, m = site.chunk, site.rows, site.rng, len(site.rows)
    if site.problem is Problem.FUTURE_DATE:  # 15 to 75 years ahead: 2038 at the earliest
        chunk.day[rows] += (rng.integers(15, 76, m) * 365.25).astype(np.int32)
    elif site.problem is Problem.DATE_BEFORE_1990:
        century = chunk.day[rows] - np.int32(36524)  # 2024 typed as 1924
        old = OLD_DAYS[rng.integers(0, len(OLD_DAYS), m)]
        chunk.day[rows] = np.where(rng.random(m) < 0.5, century, old)
    else:
        chunk.received_invalid[rows] = True
    chunk.occurred_known[rows] = False  # one date problem per record, not two
    return [_column(site.profile, "received_date")] * m


def _plant_occurred(site: _Site) -> list[str]:
    chunk, rows = site.chunk, site.rows
    chunk.occurred[rows] = chunk.day[rows] + site.rng.integers(1, 61, len(rows)).astype(np.int32)
    chunk.occurred_known[rows] = True
    return [_column(site.profile, "occurred_date")] * len(rows)


def _plant_duplicate(site: _Site) -> list[str]:
    rows = site.rows
    if site.problem is Problem.DUPLICATE_ROW:
        site.plan.source[rows] = rows - 1
    else:
        site.plan.key_source[rows] = rows - 1
    return [_column(site.profile, "source_record_key")] * len(rows)


_PLANTERS: dict[Problem, Callable[[_Site], list[str]]] = {
    Problem.LABEL_TYPO: _plant_label,
    Problem.LABEL_VARIANT: _plant_label,
    Problem.UNKNOWN_CODE: _plant_label,
    Problem.MISSING_VALUE: _plant_missing,
    Problem.IMPOSSIBLE_AGE: _plant_age,
    Problem.FUTURE_DATE: _plant_received,
    Problem.DATE_BEFORE_1990: _plant_received,
    Problem.INVALID_DATE: _plant_received,
    Problem.OCCURRED_AFTER_RECEIVED: _plant_occurred,
    Problem.DUPLICATE_ROW: _plant_duplicate,
    Problem.DUPLICATE_KEY: _plant_duplicate,
}


def _relabel(problem: Problem, table: LabelTable, chunk: Chunk, rows: npt.NDArray[np.int64],
             rng: np.random.Generator) -> None:  # fmt: skip
    column = table.item.column
    values = chunk.primary[column][rows]
    if problem is Problem.LABEL_TYPO:
        chunk.primary[column][rows] = table.typo_index(values, rng.integers(0, TYPOS, len(rows)))
    elif problem is Problem.LABEL_VARIANT:
        which = rng.integers(0, VARIANTS, len(rows))
        chunk.primary[column][rows] = table.variant_index(values, which)
    else:
        which = rng.integers(0, len(table.unknown), len(rows))
        chunk.primary[column][rows] = table.unknown_index(which)
