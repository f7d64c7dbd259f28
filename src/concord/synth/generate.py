"""The clean records of one chunk, as integer arrays (no text yet).

Everything here is vectorised: one numpy draw per field per chunk, never a Python loop over
rows. The distributions carry the patterns the indicators are meant to find:

- volume follows the organisation's seasonality, weekdays and growth (:mod:`.calendar`);
- every value's weight is multiplied by its yearly ``trend``, so sexual extortion's share rises
  from 2023 to 2026 while the other shares shrink in proportion;
- ages are skewed to 11–17, and records about sexual extortion skew older, more often male
  and more often about someone met online (each profile says by how much);
- flags such as "self-generated" are forced where the abuse type implies them.

Text, typos and file layout come later (:mod:`.messiness`, :mod:`.render`), from these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from concord.synth.calendar import END_DAY, MONTHS, month_index, years_since_start
from concord.synth.model import (
    SEXTORTION,
    AgeBandField,
    AreaField,
    CountField,
    DateField,
    ExactAgeField,
    Field,
    FlagField,
    LabelField,
    Profile,
    StatusField,
)
from concord.synth.tables import LabelTable, tables_for

Ints = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]

#: Relative frequency of exact ages 0..21 among victims: few young children, most 11–17, and
#: a few young adults (helplines hear from 18-year-olds about things that began earlier).
AGE_WEIGHTS = np.array(
    [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9, 1.1, 1.4, 1.8, 2.4, 3.2, 4.5, 6.0, 7.0, 7.0, 6.0, 5.0,
     1.2, 0.7, 0.4, 0.2],
)  # fmt: skip
#: The same for records about sexual extortion, which concern teenagers far more.
SEXTORTION_AGE_WEIGHTS = np.array(
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0, 6.5, 8.5, 9.0, 8.5, 7.5,
     2.0, 1.2, 0.6, 0.3],
)  # fmt: skip
#: Records received this many days before the end of the period count as recent (status).
RECENT_DAYS = 120
#: Spread of the delay between the facts and the report, in days (exponential mean).
REPORT_DELAY_DAYS = 25.0


@dataclass
class Chunk:
    """Rows ``start``..``start + n - 1`` of one organisation, before text rendering.

    Label arrays hold indices into the column's :class:`LabelTable` (``-1``: no value); the
    messiness planter rewrites them in place to point at variants, typos, unknown codes or null.
    """

    start: int
    day: Ints
    #: The true received day, kept for system timestamps that typing slips cannot touch.
    submitted: Ints
    secs: Ints
    occurred: Ints
    occurred_secs: Ints
    occurred_known: Bools
    received_known: Bools
    received_invalid: Bools
    primary: dict[str, Ints] = field(default_factory=dict)
    secondary: dict[str, Ints] = field(default_factory=dict)
    age: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, np.int16))
    age_known: Bools = field(default_factory=lambda: np.zeros(0, np.bool_))
    count: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, np.int16))
    flags: dict[str, npt.NDArray[np.int8]] = field(default_factory=dict)
    status: Ints = field(default_factory=lambda: np.zeros(0, np.int32))
    area: Ints = field(default_factory=lambda: np.zeros(0, np.int32))

    @property
    def n(self) -> int:
        return len(self.day)


def _cumulative(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row-wise cumulative distribution of a (months × values) weight table."""
    total = weights.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return np.cumsum(weights / total, axis=1)


def _month_weights(choices: list[tuple[float, float]]) -> npt.NDArray[np.float64]:
    """(months × values) weights: each value's weight times its trend per year elapsed."""
    years = (np.arange(MONTHS, dtype=np.float64) + 0.5) / 12.0
    base = np.array([w for w, _ in choices], dtype=np.float64)
    trend = np.array([t for _, t in choices], dtype=np.float64)
    return base[None, :] * trend[None, :] ** years[:, None]


def _draw(cumulative: npt.NDArray[np.float64], months: npt.NDArray[np.int64],
          rng: np.random.Generator) -> Ints:  # fmt: skip
    """One index per row from its month's cumulative distribution (inverse transform)."""
    u = rng.random(len(months))
    picked = (u[:, None] >= cumulative[months]).sum(axis=1)
    found: Ints = np.minimum(picked, cumulative.shape[1] - 1).astype(np.int32)
    return found


def _draw_label(item: LabelField, months: npt.NDArray[np.int64], sextortion: Bools | None,
                rng: np.random.Generator) -> Ints:  # fmt: skip
    weights = _month_weights([(c.weight, c.trend) for c in item.choices])
    picked = _draw(_cumulative(weights), months, rng)
    if item.sextortion_boost and sextortion is not None and sextortion.any():
        boost = np.ones(len(item.choices))
        for target, factor in item.sextortion_boost:
            boost[[i for i, c in enumerate(item.choices) if c.target == target]] *= factor
        picked[sextortion] = _draw(_cumulative(weights * boost), months[sextortion], rng)
    return picked


def _second(item: LabelField, primary: Ints, months: npt.NDArray[np.int64],
            rng: np.random.Generator) -> Ints:  # fmt: skip
    """A second value for ``second_rate`` of the rows (never the same as the first)."""
    second = _draw_label(item, months, None, rng)
    has = rng.random(len(primary)) < item.second_rate
    return np.where(has & (second != primary), second, -1).astype(np.int32)


def _targets_in(table: LabelTable, wanted: frozenset[str]) -> npt.NDArray[np.int32]:
    return np.array([i for i, t in enumerate(table.targets()) if t in wanted], dtype=np.int32)


def _abuse_mask(chunk: Chunk, table: LabelTable | None, wanted: frozenset[str]) -> Bools:
    """Rows whose first or second abuse type is one of ``wanted``."""
    if table is None:
        return np.zeros(chunk.n, dtype=np.bool_)
    indices = _targets_in(table, wanted)
    column = table.item.column
    mask = np.isin(chunk.primary[column], indices)
    if column in chunk.secondary:
        mask |= np.isin(chunk.secondary[column], indices)
    return mask


def generate_chunk(profile: Profile, start: int, day: Ints, rng: np.random.Generator) -> Chunk:
    """Clean records for the rows starting at ``start`` received on ``day``."""
    n = len(day)
    tables = tables_for(profile)
    months = month_index(day)
    secs = rng.integers(7 * 3600, 22 * 3600, n).astype(np.int32)
    secs = secs[np.lexsort((secs, day))]  # rows are in day order; times rise within a day
    delay = np.minimum(rng.exponential(REPORT_DELAY_DAYS, n).astype(np.int32), 730)
    facts = rng.integers(0, 86400, n)
    chunk = Chunk(
        start=start,
        day=day.copy(),
        submitted=day,
        secs=secs,
        occurred=(day - delay).astype(np.int32),
        # the same day as the report: earlier in the day, so timestamps never run backwards
        occurred_secs=np.where(delay == 0, np.minimum(facts, secs), facts).astype(np.int32),
        occurred_known=np.ones(n, dtype=np.bool_),
        received_known=np.ones(n, dtype=np.bool_),
        received_invalid=np.zeros(n, dtype=np.bool_),
    )
    abuse = profile.field_named("abuse_types")
    abuse_table = tables[abuse.column] if isinstance(abuse, LabelField) else None
    if isinstance(abuse, LabelField):
        chunk.primary[abuse.column] = _draw_label(abuse, months, None, rng)
        if abuse.split:
            chunk.secondary[abuse.column] = _second(abuse, chunk.primary[abuse.column], months, rng)
    sextortion = _abuse_mask(chunk, abuse_table, SEXTORTION)
    ages = rng.choice(len(AGE_WEIGHTS), n, p=AGE_WEIGHTS / AGE_WEIGHTS.sum())
    older = rng.choice(len(AGE_WEIGHTS), n, p=SEXTORTION_AGE_WEIGHTS / SEXTORTION_AGE_WEIGHTS.sum())
    chunk.age = np.where(sextortion, older, ages).astype(np.int16)
    chunk.age_known = np.ones(n, dtype=np.bool_)
    for item in profile.fields:
        if item is not abuse:
            _fill(chunk, item, months, sextortion, abuse_table, rng)
    for item in profile.fields:  # the region needs the country drawn above
        if isinstance(item, AreaField):
            chunk.area = _area(profile, item, chunk, rng)
    return chunk


def _fill(chunk: Chunk, item: Field, months: npt.NDArray[np.int64], sextortion: Bools,
          abuse: LabelTable | None, rng: np.random.Generator) -> None:  # fmt: skip
    """Draw the values of one field into ``chunk`` (fields without draws are skipped)."""
    n = chunk.n
    if isinstance(item, LabelField):
        chunk.primary[item.column] = _draw_label(item, months, sextortion, rng)
        if item.split:
            chunk.secondary[item.column] = _second(item, chunk.primary[item.column], months, rng)
    elif isinstance(item, DateField) and item.field == "occurred_date":
        chunk.occurred_known = rng.random(n) >= item.missing_rate
    elif isinstance(item, ExactAgeField):
        chunk.age_known = rng.random(n) >= item.missing_rate
    elif isinstance(item, AgeBandField):
        chunk.primary[item.column] = _bands(item, chunk.age, rng.random(n) < item.unknown_rate)
    elif isinstance(item, CountField):
        extra = rng.random(n) < item.extra_rate
        more = 1 + np.minimum(rng.geometric(0.45, n), 19)
        chunk.count = np.where(extra, more, 1).astype(np.int16)
    elif isinstance(item, FlagField):
        chunk.flags[item.column] = _flag(
            item, chunk, abuse, years_since_start(chunk.submitted), rng
        )
    elif isinstance(item, StatusField):
        chunk.status = _status(item, chunk.submitted, rng)


def _bands(item: AgeBandField, age: npt.NDArray[np.int16], unknown: Bools) -> Ints:
    """The band of each age; ``unknown`` rows get the 'unknown' value (after the bands)."""
    lookup = np.full(256, len(item.bands), dtype=np.int32)
    for index, band in enumerate(item.bands):
        lookup[band.low : min(band.high, 255) + 1] = index
    return np.where(unknown, len(item.bands), lookup[age]).astype(np.int32)


def _flag(item: FlagField, chunk: Chunk, abuse: LabelTable | None, years: npt.NDArray[np.float64],
          rng: np.random.Generator) -> npt.NDArray[np.int8]:  # fmt: skip
    """1 (yes), 0 (no) or -1 (blank) per row."""
    n = chunk.n
    p = np.minimum(item.p_true * item.trend**years, 0.95)
    value = (rng.random(n) < p) | _abuse_mask(chunk, abuse, item.forced_by)
    blank = rng.random(n) < item.missing_rate
    return np.where(blank, -1, value.astype(np.int8)).astype(np.int8)


def _status(item: StatusField, day: Ints, rng: np.random.Generator) -> Ints:
    recent = day > END_DAY - RECENT_DAYS
    weights = np.array([[v.weight for v in item.values], [v.recent_weight for v in item.values]])
    return _draw(_cumulative(weights), recent.astype(np.int64), rng)


def _area(profile: Profile, item: AreaField, chunk: Chunk, rng: np.random.Generator) -> Ints:
    """A region for records in the organisation's own country (capital regions weigh more)."""
    country = profile.field_named("country")
    home = f"country.{profile.country.lower()}"
    n = chunk.n
    if isinstance(country, LabelField):
        indices = [i for i, c in enumerate(country.choices) if c.target == home]
        at_home = np.isin(chunk.primary[country.column], indices)
    else:
        at_home = np.ones(n, dtype=np.bool_)
    weights = 1.0 / np.arange(1, len(item.areas) + 1) ** 0.7
    picked = rng.choice(len(item.areas), n, p=weights / weights.sum()).astype(np.int32)
    return np.where(at_home, picked, -1).astype(np.int32)
