"""When records arrive: how many an organisation receives on each day of the period.

The whole period's daily counts are drawn once (a multinomial over about 1,400 days), so row
``i`` of the file has a fixed received day whatever chunk it is generated in, and rows come out
in date order like a real export sorted by case number. The daily intensity multiplies the
organisation's monthly seasonality, its weekday pattern and its yearly growth; days before the
organisation's start date get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from concord.synth.model import DATA_END, DATA_START, Profile

EPOCH = date(1970, 1, 1)
#: Days in a year, for trends measured in years since DATA_START.
YEAR_DAYS = 365.25


def day_number(day: date) -> int:
    """Days since 1970-01-01 (what polars and numpy use for dates)."""
    return (day - EPOCH).days


START_DAY = day_number(DATA_START)
END_DAY = day_number(DATA_END)
#: Month number (months since 1970-01) of DATA_START, for per-month weight tables.
START_MONTH = (DATA_START.year - 1970) * 12 + DATA_START.month - 1
MONTHS = (DATA_END.year - DATA_START.year) * 12 + DATA_END.month - DATA_START.month + 1


def day_weights(profile: Profile) -> npt.NDArray[np.float64]:
    """Relative expected volume of each day from DATA_START to DATA_END (inclusive)."""
    days = np.arange(START_DAY, END_DAY + 1, dtype=np.int64)
    as_dates = days.astype("datetime64[D]")
    months = as_dates.astype("datetime64[M]").astype(np.int64) % 12
    weekdays = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    years = (days - START_DAY) / YEAR_DAYS
    weights = (
        np.asarray(profile.seasonality, dtype=np.float64)[months]
        * np.asarray(profile.weekdays, dtype=np.float64)[weekdays]
        * profile.growth**years
    )
    weights[days < day_number(profile.start)] = 0.0
    return weights


@dataclass(frozen=True)
class Calendar:
    """Received day of every row: ``first_row[d]`` is the first row received on day ``d``."""

    first_row: npt.NDArray[np.int64]
    rows: int

    @classmethod
    def draw(cls, profile: Profile, rows: int, rng: np.random.Generator) -> Calendar:
        weights = day_weights(profile)
        counts = rng.multinomial(rows, weights / weights.sum())
        first_row = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        return cls(first_row=first_row, rows=rows)

    def days(self, start: int, stop: int) -> npt.NDArray[np.int32]:
        """Received day (days since 1970) of rows ``start``..``stop - 1``."""
        rows = np.arange(start, stop, dtype=np.int64)
        index = np.searchsorted(self.first_row, rows, side="right") - 1
        return (index + START_DAY).astype(np.int32)

    def first_row_of_year(self, years: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """First row received in each of ``years`` (for keys numbered within the year)."""
        offsets = np.array(
            [day_number(date(int(y), 1, 1)) - START_DAY for y in range(1970, 2100)],
            dtype=np.int64,
        ).clip(0, len(self.first_row) - 1)
        found: npt.NDArray[np.int64] = self.first_row[offsets[years - 1970]]
        return found


def years_since_start(days: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
    """Trend time of each day, in years since DATA_START."""
    return (days.astype(np.float64) - START_DAY) / YEAR_DAYS


def month_index(days: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """Months since DATA_START's month (0 for January 2023)."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.clip(months - START_MONTH, 0, MONTHS - 1)


def year_of(days: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
