"""Rounding of published counts to a base (conventional rounding, half up).

Why round at all after suppression: an exact published count lets a reader difference two
releases (this month's total minus last month's) down to single children; rounding to a base
blurs every difference by up to a base.

Rounding is applied to *published* cells only, after suppression, and each cell is rounded on its
own. That breaks additivity on purpose: a rounded margin is generally not the sum of its rounded
cells, and making it so (controlled rounding) would re-open the differencing rounding closes.
The released metadata must therefore say that counts are rounded to the base and that totals need
not equal the sum of their parts. Hidden cells (nulls in a :class:`polars.Series`) stay null.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt
import polars as pl

from concord.errors import InputError


@overload
def round_counts(values: npt.NDArray[np.integer], base: int) -> npt.NDArray[np.int64]: ...
@overload
def round_counts(values: pl.Series, base: int) -> pl.Series: ...
def round_counts(
    values: npt.NDArray[np.integer] | pl.Series, base: int
) -> npt.NDArray[np.int64] | pl.Series:
    """Each count rounded to the nearest multiple of ``base``, halves up (5 -> 10 for base 10).

    Returns the same kind of container: an int64 array for an array, an Int64 series (same name,
    nulls kept) for a series. ``base`` 1 leaves counts as they are.
    """
    if isinstance(base, bool) or not isinstance(base, int) or base < 1:
        raise InputError(f"the rounding base must be a whole number of at least 1, not {base!r}")
    half = base // 2
    if isinstance(values, pl.Series):
        if not values.dtype.is_integer():
            raise InputError(f"only whole counts can be rounded, not {values.dtype}")
        counts = values.cast(pl.Int64)
        return ((counts + half) // base * base).alias(values.name)
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"only whole counts can be rounded, not {array.dtype}")
    # Floor division makes ties go up (x + base/2 floored), for negative values too.
    return np.asarray((array.astype(np.int64) + half) // base * base, dtype=np.int64)
