"""Release periods: ``2026-Q3``, ``2026-07``, ``2026`` or a month range ``2026-07..2026-10``.

Why a label and not two dates: stewards, agreements and bundles speak of "the third quarter",
and budget accounting needs to know which month, quarter or year a release counts against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from concord.errors import InputError

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_RANGE = re.compile(r"^(\d{4}-\d{2})\.\.(\d{4}-\d{2})$")

#: How many months each kind of period spans (a range spans what it says).
KIND_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class ReleasePeriod:
    """A run of whole calendar months, with the label a person wrote for it."""

    label: str
    kind: str  # month | quarter | year | range
    start: date
    end: date  # the last day, inclusive

    @property
    def months(self) -> list[str]:
        """Every month of the period as ``YYYY-MM``."""
        first = self.start.year * 12 + self.start.month - 1
        last = self.end.year * 12 + self.end.month - 1
        return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1)]


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def _months(first: tuple[int, int], last: tuple[int, int], label: str, kind: str) -> ReleasePeriod:
    return ReleasePeriod(label, kind, date(first[0], first[1], 1), _month_end(*last))


def parse_period(text: str) -> ReleasePeriod:
    """Read a period label; a clear error lists the forms accepted."""
    value = text.strip()
    if m := _YEAR.match(value):
        year = int(m[1])
        return _months((year, 1), (year, 12), value, "year")
    if m := _QUARTER.match(value):
        year, quarter = int(m[1]), int(m[2])
        return _months((year, 3 * quarter - 2), (year, 3 * quarter), value.upper(), "quarter")
    if m := _MONTH.match(value):
        year, month = int(m[1]), int(m[2])
        return _months((year, month), (year, month), value, "month")
    if m := _RANGE.match(value):
        first, last = (parse_period(part) for part in (m[1], m[2]))
        if last.start < first.start:
            raise InputError(f"period {text!r}: the range ends before it starts")
        return ReleasePeriod(value, "range", first.start, last.end)
    raise InputError(
        f"period {text!r} is not one Concord reads",
        details=[
            "write a year (2026), a quarter (2026-Q3), a month (2026-07) or a month range "
            "(2026-07..2026-10)"
        ],
    )


def period_containing(day: date, kind: str) -> ReleasePeriod:
    """The month, quarter or year that ``day`` falls in (budget periods are these)."""
    if kind == "month":
        return parse_period(f"{day.year:04d}-{day.month:02d}")
    if kind == "quarter":
        return parse_period(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")
    if kind == "year":
        return parse_period(f"{day.year:04d}")
    raise InputError(f"{kind!r} is not a budget period (month, quarter or year)")
