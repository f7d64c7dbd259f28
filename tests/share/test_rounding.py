"""Rounding to a base: multiples of the base, never more than half a base away, halves up."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.share.rounding import round_counts


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=50), st.integers(1, 1000))
def test_rounded_counts_are_the_nearest_multiple(values: list[int], base: int):
    counts = np.array(values, dtype=np.int64)
    rounded = round_counts(counts, base)
    assert rounded.dtype == np.int64
    assert (rounded % base == 0).all()
    assert (2 * np.abs(rounded - counts) <= base).all()
    # Halves go up: the result is above whenever the distance is exactly half a base.
    tie = 2 * np.abs(rounded - counts) == base
    assert (rounded[tie] > counts[tie]).all()


def test_known_values():
    assert round_counts(np.array([0, 4, 5, 14, 15, 25, 96]), 10).tolist() == [
        0,
        0,
        10,
        10,
        20,
        30,
        100,
    ]
    assert round_counts(np.array([1, 2, 4, 5]), 3).tolist() == [0, 3, 3, 6]
    assert round_counts(np.array([7, 8]), 1).tolist() == [7, 8]


def test_series_keep_their_name_and_hidden_cells():
    counts = pl.Series("count", [12, None, 5, 0], dtype=pl.Int32)
    rounded = round_counts(counts, 5)
    assert isinstance(rounded, pl.Series)
    assert rounded.name == "count"
    assert rounded.dtype == pl.Int64
    assert rounded.to_list() == [10, None, 5, 0]


@pytest.mark.parametrize(
    ("values", "base"),
    [
        (np.array([1, 2]), 0),
        (np.array([1, 2]), True),
        (np.array([1, 2]), 2.5),
        (np.array([1.5, 2.0]), 5),
        (pl.Series([1.5]), 5),
    ],
)
def test_bad_input_is_refused(values: np.ndarray | pl.Series, base: int):
    with pytest.raises(InputError):
        round_counts(values, base)
