"""Cell suppression: small cells hidden, and no hidden cell recomputable from the published ones.

Determinacy is checked against an independent brute force: the dense constraint matrix built
here from the cube's rows, and for each hidden cell i, ``rank(A_S) > rank(A_S without i)``.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.share import suppression
from concord.share.cube import TOTAL, build_cube
from concord.share.suppression import published_view, recoverable, suppress


def constraints(cube: pl.DataFrame, dims: list[str]) -> np.ndarray:
    """One row per (margin, dimension): -margin + the cells one level finer along it."""
    keys = cube.select(dims).rows()
    rows = []
    for t, key in enumerate(keys):
        for j in range(len(dims)):
            if key[j] != TOTAL:
                continue
            row = np.zeros(len(keys))
            row[t] = -1
            for i, other in enumerate(keys):
                same_elsewhere = all(other[k] == key[k] for k in range(len(dims)) if k != j)
                if other[j] != TOTAL and same_elsewhere:
                    row[i] = 1
            rows.append(row)
    return np.array(rows)


def determined(a: np.ndarray, hidden: np.ndarray) -> set[int]:
    """Hidden cells whose column is independent of the other hidden columns (brute force)."""
    cells = np.flatnonzero(hidden)
    if not len(cells):
        return set()
    block = a[:, cells]
    full = np.linalg.matrix_rank(block)
    return {
        int(cells[k])
        for k in range(len(cells))
        if np.linalg.matrix_rank(np.delete(block, k, axis=1)) < full
    }


def lines_hiding_exactly_one(a: np.ndarray, hidden: np.ndarray) -> int:
    return int(((np.abs(a) > 0) & hidden[None, :]).sum(axis=1).tolist().count(1))


@st.composite
def cubes(draw: st.DrawFn) -> tuple[pl.DataFrame, list[str]]:
    """2-D or 3-D tables mixing small and large counts, sometimes with absent cells or zeros."""
    sizes = draw(st.sampled_from([(2, 2), (3, 2), (4, 3), (5, 4), (2, 2, 2), (3, 2, 2), (4, 3, 2)]))
    dims = [f"d{j}" for j in range(len(sizes))]
    combos = list(itertools.product(*[[f"v{k}" for k in range(n)] for n in sizes]))
    if draw(st.booleans()):
        keep = draw(st.lists(st.booleans(), min_size=len(combos), max_size=len(combos)))
        combos = [c for c, k in zip(combos, keep, strict=True) if k] or combos[:1]
    counts = draw(
        st.lists(
            st.one_of(st.integers(0, 12), st.integers(10, 300)),
            min_size=len(combos),
            max_size=len(combos),
        )
    )
    frame = pl.DataFrame(
        {d: [c[j] for c in combos] for j, d in enumerate(dims)} | {"count": counts},
        schema={**dict.fromkeys(dims, pl.String), "count": pl.Int64},
    )
    return build_cube(frame, dims), dims


@settings(max_examples=40, deadline=None)
@given(cubes(), st.integers(2, 10), st.booleans(), st.data())
def test_suppression_hides_small_cells_and_leaves_nothing_recoverable(
    cube_dims: tuple[pl.DataFrame, list[str]], min_cell: int, zeros: bool, data: st.DataObject
):
    cube, dims = cube_dims
    flagged = data.draw(st.lists(st.booleans(), min_size=cube.height, max_size=cube.height))
    sensitive = pl.Series(flagged, dtype=pl.Boolean) if data.draw(st.booleans()) else None
    protected = suppress(cube, dims, min_cell=min_cell, sensitive=sensitive, zeros_sensitive=zeros)
    counts = protected["count"].to_numpy()
    status = protected["status"].to_numpy()
    a = constraints(cube, dims)
    assert not (a @ counts).any()  # the cube is additive
    small = (counts > 0) & (counts < min_cell)
    rule = small | ((counts == 0) if zeros else False)
    if sensitive is not None:
        rule = rule | np.array(flagged)
    assert ((status == "primary") == rule).all()
    assert not ((status == "published") & small).any()
    hidden = status != "published"
    assert determined(a, hidden) == set()
    assert lines_hiding_exactly_one(a, hidden) == 0
    assert recoverable(protected, dims) == []


@settings(max_examples=40, deadline=None)
@given(cubes(), st.data())
def test_audit_agrees_with_brute_force_on_any_pattern(
    cube_dims: tuple[pl.DataFrame, list[str]], data: st.DataObject
):
    """Arbitrary patterns (not suppress's) have determined cells; both audit paths find them."""
    cube, dims = cube_dims
    hidden = np.array(
        data.draw(st.lists(st.booleans(), min_size=cube.height, max_size=cube.height))
    )
    marked = cube.with_columns(
        status=pl.Series(np.where(hidden, "primary", "published"), dtype=pl.String)
    )
    expected = determined(constraints(cube, dims), hidden)
    assert set(recoverable(marked, dims)) == expected
    with pytest.MonkeyPatch.context() as patch:  # every component through sparse projections
        patch.setattr(suppression, "_DENSE_LIMIT", 0)
        assert set(recoverable(marked, dims)) == expected


def region_by_gender() -> pl.DataFrame:
    counts = {"A": (20, 3), "B": (40, 50), "C": (15, 12), "D": (60, 70)}
    frame = pl.DataFrame(
        [(r, g, n) for r, pair in counts.items() for g, n in zip("mf", pair, strict=True)],
        schema=["region", "gender", "count"],
        orient="row",
    )
    return build_cube(frame, ["region", "gender"])


def hidden_cells(protected: pl.DataFrame, status: str) -> set[tuple[str, ...]]:
    return set(protected.filter(pl.col("status") == status).select("region", "gender").rows())


def test_sdctable_reference_case_needs_one_rectangle_of_three_secondaries():
    cube = region_by_gender()
    protected = suppress(cube, ["region", "gender"], min_cell=10)
    assert hidden_cells(protected, "primary") == {("A", "f")}
    # The cheapest rectangle: A and C (the smallest other region) by m and f.
    assert hidden_cells(protected, "secondary") == {("A", "m"), ("C", "m"), ("C", "f")}
    hidden = (protected["status"] != "published").to_numpy()
    assert determined(constraints(cube, ["region", "gender"]), hidden) == set()
    assert recoverable(protected, ["region", "gender"]) == []


def test_a_bridge_passes_the_line_rule_but_is_recoverable_so_the_audit_hides_more():
    """Two hidden rectangles and one hidden cell between them: every line hides 0 or 2+ cells,
    yet the bridge is (row r1 + row r2) - (column c1 + column c2), all published."""
    frame = pl.DataFrame(
        [(f"r{r}", f"c{c}", 50 + 7 * r + c) for r in range(1, 5) for c in range(1, 5)],
        schema=["row", "col", "count"],
        orient="row",
    )
    dims = ["row", "col"]
    cube = build_cube(frame, dims)
    cells = [("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")]
    cells += [("r3", "c3"), ("r3", "c4"), ("r4", "c3"), ("r4", "c4"), ("r1", "c3")]
    flagged = pl.Series([k in cells for k in cube.select(dims).rows()], dtype=pl.Boolean)
    bridge = cube.select(dims).rows().index(("r1", "c3"))
    a = constraints(cube, dims)
    assert lines_hiding_exactly_one(a, flagged.to_numpy()) == 0  # the line rule is satisfied
    assert determined(a, flagged.to_numpy()) == {bridge}
    marked = cube.with_columns(
        status=pl.when(flagged).then(pl.lit("primary")).otherwise(pl.lit("published"))
    )
    assert recoverable(marked, dims) == [bridge]

    protected = suppress(cube, dims, min_cell=1, sensitive=flagged)
    assert (protected["status"] == "secondary").sum() >= 1
    assert determined(a, (protected["status"] != "published").to_numpy()) == set()
    assert recoverable(protected, dims) == []


def test_four_dimensions_with_heavy_suppression_use_the_sparse_audit():
    rng = np.random.default_rng(11)
    dims = ["country", "type", "age", "month"]
    combos = list(
        itertools.product(
            *[[f"{d}{k}" for k in range(n)] for d, n in zip(dims, (6, 5, 3, 4), strict=True)]
        )
    )
    frame = pl.DataFrame(
        {d: [c[j] for c in combos] for j, d in enumerate(dims)}
        | {"count": rng.poisson(rng.lognormal(1.5, 1.0, len(combos)))}
    )
    cube = build_cube(frame, dims)
    protected = suppress(cube, dims, min_cell=10)
    hidden = (protected["status"] != "published").to_numpy()
    assert hidden.sum() > suppression._DENSE_LIMIT  # one component too big for the dense path
    # Independent check, one SVD: no hidden cell is zero in every null vector of A_S.
    block = constraints(cube, dims)[:, hidden]
    _, sv, vt = np.linalg.svd(block)
    rank = int((sv > 1e-9 * sv[0]).sum())
    null_basis = vt[rank:].T
    assert np.linalg.norm(null_basis, axis=1).min() > 1e-6
    counts = protected["count"].to_numpy()
    assert not (
        (protected["status"] == "published").to_numpy() & (counts > 0) & (counts < 10)
    ).any()


def test_the_pattern_depends_on_the_cells_not_on_the_row_order():
    cube = region_by_gender()
    once = suppress(cube, ["region", "gender"], min_cell=16)
    shuffled = suppress(
        cube.sample(fraction=1.0, shuffle=True, seed=5), ["region", "gender"], min_cell=16
    )
    assert once.sort("region", "gender").equals(shuffled.sort("region", "gender"))


def test_zeros_are_published_unless_sensitive():
    frame = pl.DataFrame(
        {"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"], "count": [0, 30, 40, 50]}
    )
    cube = build_cube(frame, ["a", "b"])
    plain = suppress(cube, ["a", "b"], min_cell=10)
    assert (plain["status"] == "published").all()
    hiding = suppress(cube, ["a", "b"], min_cell=10, zeros_sensitive=True)
    zero = hiding.filter((pl.col("a") == "x") & (pl.col("b") == "u"))
    assert zero["status"].to_list() == ["primary"]
    assert recoverable(hiding, ["a", "b"]) == []


def test_published_view_hides_counts_and_which_cells_were_small():
    protected = suppress(region_by_gender(), ["region", "gender"], min_cell=10)
    view = published_view(protected)
    assert set(view["status"]) == {"published", "suppressed"}
    hidden = view.filter(pl.col("status") == "suppressed")
    assert hidden.height == 4
    assert hidden["count"].null_count() == 4
    assert view.filter(pl.col("status") == "published")["count"].null_count() == 0
    assert protected["count"].null_count() == 0  # the input is left as it was


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_cell": 0}, "min_cell"),
        ({"min_cell": True}, "min_cell"),
        ({"min_cell": 10, "sensitive": pl.Series([True])}, "rows"),
        ({"min_cell": 10, "sensitive": pl.Series([1] * 15)}, "Boolean"),
        ({"min_cell": 10, "sensitive": pl.Series([None] * 15, dtype=pl.Boolean)}, "missing"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str):
    with pytest.raises(InputError, match=message):
        suppress(region_by_gender(), ["region", "gender"], **options)  # type: ignore[arg-type]


def test_tables_that_are_not_cubes_or_lack_a_status_are_refused():
    cube = region_by_gender()
    with pytest.raises(InputError, match="incomplete"):
        suppress(cube.filter(pl.col("region") != TOTAL), ["region", "gender"], min_cell=10)
    protected = suppress(cube, ["region", "gender"], min_cell=10)
    with pytest.raises(InputError, match="already has"):
        suppress(protected, ["region", "gender"], min_cell=10)
    with pytest.raises(InputError, match="no 'status'"):
        recoverable(cube, ["region", "gender"])
    with pytest.raises(InputError, match="unknown status"):
        recoverable(protected.with_columns(status=pl.lit("hidden")), ["region", "gender"])
