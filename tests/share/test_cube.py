"""Cubes: every margin is the sum of its cells, the layout is deterministic, bad input refused."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.share.cube import TOTAL, build_cube, cube_lines


@st.composite
def tables(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    """Random finest cells over 1-3 dimensions, some combinations absent, some values null."""
    ndim = draw(st.integers(1, 3))
    dims = [f"d{j}" for j in range(ndim)]
    labels = st.sampled_from(["a", "b", "c", "d", None])
    values = [draw(st.lists(labels, min_size=1, max_size=4, unique=True)) for _ in dims]
    combos = list(itertools.product(*values))
    keep = draw(st.lists(st.booleans(), min_size=len(combos), max_size=len(combos)))
    combos = [c for c, k in zip(combos, keep, strict=True) if k] or combos[:1]
    counts = draw(st.lists(st.integers(0, 500), min_size=len(combos), max_size=len(combos)))
    frame = pl.DataFrame(
        {d: pl.Series([c[j] for c in combos], dtype=pl.String) for j, d in enumerate(dims)}
        | {"n": pl.Series(counts, dtype=pl.Int64)}
    )
    return frame, dims


@settings(max_examples=60, deadline=None)
@given(tables())
def test_every_cell_is_the_sum_of_the_finest_cells_under_it(table: tuple[pl.DataFrame, list[str]]):
    frame, dims = table
    cube = build_cube(frame, dims, count="n")
    finest = frame.rows()
    for *key, count in cube.rows():
        expected = sum(
            row[-1]
            for row in finest
            if all(k in (TOTAL, v) for k, v in zip(key, row[:-1], strict=True))
        )
        assert count == expected, key
    # Exactly the finest cells and each margin position that has a cell under it.
    positions = {
        tuple(v if keep else TOTAL for v, keep in zip(row[:-1], mask, strict=True))
        for row in finest
        for mask in itertools.product((True, False), repeat=len(dims))
    }
    assert set(map(tuple, cube.select(dims).rows())) == positions
    assert cube.height == len(positions)
    assert cube.columns == [*dims, "count"]
    assert cube.schema["count"] == pl.Int64
    cube_lines(cube, dims)  # the cube passes its own completeness and additivity checks


def test_full_table_has_every_level_grand_total_first_and_unknown_last():
    frame = pl.DataFrame(
        {
            "country": ["ES", "ES", "FR", None],
            "age": ["0-5", "6-11", "0-5", "0-5"],
            "count": [3, 4, 10, 2],
        }
    )
    cube = build_cube(frame, ["country", "age"])
    assert cube.row(0) == (TOTAL, TOTAL, 19)
    assert cube.height == (3 + 1) * (2 + 1) - 2  # FR and unknown have no 6-11 cell
    assert cube.filter(pl.col("country").is_null())["count"].to_list() == [2, 2]
    assert cube["country"].to_list()[-2:] == [None, None]
    assert (
        cube.filter((pl.col("country") == TOTAL) & (pl.col("age") == "0-5")).item(0, "count") == 15
    )


def test_row_order_of_the_input_does_not_matter():
    rng = np.random.default_rng(7)
    rows = list(itertools.product("abcd", "xyz", ["1", "2"]))
    frame = pl.DataFrame(
        {
            "p": [r[0] for r in rows],
            "q": [r[1] for r in rows],
            "r": [r[2] for r in rows],
            "count": rng.integers(0, 50, len(rows)),
        }
    )
    one = build_cube(frame, ["p", "q", "r"])
    other = build_cube(frame.sample(fraction=1.0, shuffle=True, seed=3), ["p", "q", "r"])
    assert one.equals(other)
    assert one.height == 5 * 4 * 3


def test_categorical_dimensions_and_narrow_counts_are_accepted():
    frame = pl.DataFrame(
        {
            "k": pl.Series(["a", "b"], dtype=pl.Categorical),
            "count": pl.Series([1, 2], dtype=pl.UInt8),
        }
    )
    cube = build_cube(frame, ["k"])
    assert cube.schema == pl.Schema({"k": pl.String, "count": pl.Int64})
    assert cube.rows() == [(TOTAL, 3), ("a", 1), ("b", 2)]


@pytest.mark.parametrize(
    ("frame", "dims", "message"),
    [
        (pl.DataFrame({"k": ["a", TOTAL], "count": [1, 2]}), ["k"], "reserved value"),
        (pl.DataFrame({"k": ["a", "a"], "count": [1, 2]}), ["k"], "repeat a cell"),
        (pl.DataFrame({"k": [None, None], "count": [1, 2]}), ["k"], "repeat a cell"),
        (pl.DataFrame({"k": ["a", "b"], "count": [1, -2]}), ["k"], "negative"),
        (pl.DataFrame({"k": ["a", "b"], "count": [1, None]}), ["k"], "missing"),
        (pl.DataFrame({"k": ["a", "b"], "count": [1.0, 2.0]}), ["k"], "integers"),
        (pl.DataFrame({"k": [1, 2], "count": [1, 2]}), ["k"], "text"),
        (pl.DataFrame({"k": ["a"], "count": [1]}), ["x"], "no column"),
        (pl.DataFrame({"k": ["a"], "count": [1]}), [], "at least one dimension"),
        (pl.DataFrame({"k": ["a"], "count": [1]}), ["k", "k"], "twice"),
        (pl.DataFrame({"k": ["a"], "count": [1]}), ["count"], "count column"),
        (
            pl.DataFrame({"k": [], "count": []}, schema={"k": pl.String, "count": pl.Int64}),
            ["k"],
            "no cells",
        ),
    ],
)
def test_bad_cells_are_refused(frame: pl.DataFrame, dims: list[str], message: str):
    with pytest.raises(InputError) as caught:
        build_cube(frame, dims)
    assert message in str(caught.value)


def test_lines_refuse_a_cube_that_is_incomplete_or_not_additive():
    cube = build_cube(pl.DataFrame({"a": ["x", "y"], "b": ["u", "u"], "count": [1, 2]}), ["a", "b"])
    no_margin = cube.filter(~((pl.col("a") == TOTAL) & (pl.col("b") == "u")))
    with pytest.raises(InputError, match="incomplete"):
        cube_lines(no_margin, ["a", "b"])
    inflated = cube.with_columns(
        pl.when(pl.col("a") == TOTAL).then(pl.col("count") + 1).otherwise(pl.col("count"))
    )
    with pytest.raises(InputError, match="not additive"):
        cube_lines(inflated, ["a", "b"])
    with pytest.raises(InputError, match="repeats"):
        cube_lines(pl.concat([cube, cube.head(1)]), ["a", "b"])


def test_lines_tie_each_margin_to_its_cells():
    cube = build_cube(
        pl.DataFrame({"a": ["x", "x", "y"], "b": ["u", "v", "u"], "count": [1, 2, 3]}), ["a", "b"]
    )
    lines = cube_lines(cube, ["a", "b"])
    counts = cube["count"].to_numpy()
    assert lines.n_lines == int((lines.codes == 0).sum())  # one line per (margin, dimension)
    assert np.bincount(lines.cell, minlength=cube.height).tolist() == [2] * cube.height
    sums = np.zeros(lines.n_lines, dtype=np.int64)
    np.add.at(sums, lines.line, lines.sign * counts[lines.cell])
    assert not sums.any()
    assert lines.level.tolist() == [
        sum(v == TOTAL for v in row) for row in cube.select("a", "b").rows()
    ]
