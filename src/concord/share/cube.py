"""Count tables as additive cubes: every finest cell plus every margin, and the lines tying them.

Why the margins are computed here, from the finest cells, and never taken from a source system:
disclosure control reasons about what a reader can *recompute*, and a reader recomputes by
adding. Only when each published margin is exactly the sum of the cells under it do the
constraints that :mod:`concord.share.suppression` protects against match the ones a reader has.

A cube over ``d`` dimensions holds the finest cells and the margins over every subset of the
dimensions (``2**d`` levels); a margin carries :data:`TOTAL` in each dimension it sums over.
A *line* is one margin together with the cells one level finer along one dimension: the margin
equals the sum of those cells. Every cell lies on exactly ``d`` lines, one per dimension: as the
total where it carries :data:`TOTAL`, as a member where it carries a category.

A null dimension value means "unknown" and is an ordinary category: unknown age bands are
counted, summed into the margins and protected like any other.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from concord.errors import InputError

#: The dimension value of a margin: the cell sums over every category of that dimension.
TOTAL = "_total"
#: The count column of every cube.
COUNT = "count"

_STRING_LIKE = (pl.String, pl.Categorical, pl.Enum, pl.Null)
# Keys pack one code per dimension into an int64; beyond this many positions they would overflow.
_MAX_POSITIONS = 2**62

IntArray = npt.NDArray[np.int64]


def build_cube(cells: pl.DataFrame, dims: Sequence[str], *, count: str = "count") -> pl.DataFrame:
    """Every finest cell of ``cells`` plus every margin over every subset of ``dims``.

    ``cells`` has one row per finest cell: the ``dims`` (string columns; null means "unknown")
    and a non-negative integer ``count``. The result has the columns ``dims`` and ``"count"``
    (Int64), margins carrying :data:`TOTAL`, sorted with each dimension's total before its
    categories (the grand total is the first row) so that the same input always gives the same
    table. Other columns of ``cells`` are dropped.
    """
    dims = _check_dims(cells.columns, dims, count)
    finest = _finest_cells(cells, dims, count)
    levels: list[pl.LazyFrame] = []
    base = finest.lazy()
    for size in range(len(dims), -1, -1):
        for kept in itertools.combinations(dims, size):
            summed = [d for d in dims if d not in kept]
            level = (
                base.group_by(kept).agg(pl.col(COUNT).sum())
                if kept
                else base.select(pl.col(COUNT).sum())
            )
            levels.append(
                level.with_columns(pl.lit(TOTAL, dtype=pl.String).alias(d) for d in summed).select(
                    *dims, COUNT
                )
            )
    cube = pl.concat(levels).collect()
    keys: list[pl.Expr] = []
    for d in dims:
        keys += [pl.col(d).ne_missing(TOTAL), pl.col(d)]
    return cube.sort(keys, nulls_last=True).with_columns(pl.col(COUNT).cast(pl.Int64))


def _check_dims(columns: Sequence[str], dims: Sequence[str], count: str) -> list[str]:
    dims = list(dims)
    if isinstance(dims, str) or not dims:  # a bare string would silently become its letters
        raise InputError("a cube needs at least one dimension, given as a list of column names")
    if len(set(dims)) != len(dims):
        raise InputError(f"a dimension is listed twice: {dims}")
    if count in dims or COUNT in dims:
        raise InputError(f"{count!r} is the count column and cannot also be a dimension")
    missing = [c for c in [*dims, count] if c not in columns]
    if missing:
        raise InputError(f"the table has no column {', '.join(map(repr, missing))}")
    return dims


def _finest_cells(cells: pl.DataFrame, dims: list[str], count: str) -> pl.DataFrame:
    """The dims as strings and the count as Int64, after every check the margins rely on."""
    wrong = [d for d in dims if not isinstance(cells.schema[d], _STRING_LIKE)]
    if wrong:
        raise InputError(
            f"dimension columns must hold text; {', '.join(wrong)} do not "
            "(cast codes to strings first so that 1 and '1' cannot both appear)"
        )
    if not cells.schema[count].is_integer():
        raise InputError(
            f"the count column {count!r} must hold integers, not {cells.schema[count]}"
        )
    frame = cells.select(
        *(pl.col(d).cast(pl.String) for d in dims), pl.col(count).cast(pl.Int64).alias(COUNT)
    )
    if not frame.height:
        raise InputError("there are no cells to build a cube from")
    problems: list[str] = []
    if frame[COUNT].null_count():
        problems.append(f"{frame[COUNT].null_count()} counts are missing")
    if (frame[COUNT] < 0).any():
        problems.append(f"{int((frame[COUNT] < 0).sum())} counts are negative")
    for d in dims:
        if (frame[d] == TOTAL).any():
            problems.append(f"{d!r} uses the reserved value {TOTAL!r} (it marks margins)")
    repeated = frame.filter(frame.select(dims).is_duplicated())
    if repeated.height:
        first = ", ".join(f"{d}={v!r}" for d, v in zip(dims, repeated.row(0), strict=False))
        problems.append(f"{repeated.height} rows repeat a cell, e.g. {first}")
    if problems:
        raise InputError("the cells cannot form a cube", details=problems)
    return frame


# eq=False: comparing numpy arrays field by field raises instead of answering.
@dataclass(frozen=True, eq=False)
class CubeLines:
    """The additive constraints of a cube, as a sparse incidence list sorted by line.

    Entry ``k`` says that cube row ``cell[k]`` lies on line ``line[k]`` with coefficient
    ``sign[k]``: -1 for the line's total, +1 for its members, so every line sums to zero.
    ``starts`` indexes the first entry of each line (for ``np.*.reduceat``). Per cube row,
    ``level`` is the number of dimensions at :data:`TOTAL` (0 for finest cells), ``codes`` one
    integer per dimension value (0 for :data:`TOTAL`), and ``position`` packs the codes with
    ``strides`` into one number, which orders cells by their values whatever the row order.
    """

    n_cells: int
    n_lines: int
    line: IntArray
    cell: IntArray
    sign: IntArray
    starts: IntArray
    level: IntArray
    codes: IntArray
    strides: IntArray
    position: IntArray


def cube_lines(cube: pl.DataFrame, dims: Sequence[str]) -> CubeLines:
    """The lines of ``cube`` (rows in any order); refuse a table that is not a complete,
    additive cube, since then the constraints would not be those a reader can use."""
    dims = _check_dims(cube.columns, dims, COUNT)
    counts = _cube_counts(cube)
    codes, strides = _codes(cube, dims)
    key = codes @ strides
    order = np.argsort(key, kind="stable")
    sorted_keys = key[order]
    if cube.height > 1 and (np.diff(sorted_keys) == 0).any():
        raise InputError("the cube repeats a cell")
    lines: list[IntArray] = []
    members: list[IntArray] = []
    signs: list[IntArray] = []
    offset = 0
    for j, stride in enumerate(strides):
        is_total = codes[:, j] == 0
        line_of = np.full(cube.height, -1, dtype=np.int64)
        line_of[is_total] = offset + np.arange(int(is_total.sum()))
        children = np.flatnonzero(~is_total)
        parent_key = key[children] - codes[children, j] * stride
        pos = np.minimum(np.searchsorted(sorted_keys, parent_key), len(sorted_keys) - 1)
        found = sorted_keys[pos] == parent_key
        if not found.all():
            raise InputError(
                f"the cube is incomplete: row {int(children[~found][0])} has no margin over "
                f"{dims[j]!r}; build it with build_cube"
            )
        totals = np.flatnonzero(is_total)
        lines += [line_of[order[pos]], line_of[totals]]
        members += [children, totals]
        signs += [np.ones(len(children), np.int64), -np.ones(len(totals), np.int64)]
        offset += len(totals)
    line = np.concatenate(lines)
    by_line = np.argsort(line, kind="stable")
    line, cell, sign = (
        line[by_line],
        np.concatenate(members)[by_line],
        np.concatenate(signs)[by_line],
    )
    sizes = np.bincount(line, minlength=offset)
    if (sizes < 2).any():
        raise InputError("the cube is incomplete: a margin has no cells under it")
    balance = np.zeros(offset, dtype=np.int64)
    np.add.at(balance, line, sign * counts[cell])
    if balance.any():
        bad = int(cell[(line == int(np.flatnonzero(balance)[0])) & (sign < 0)][0])
        raise InputError(
            f"the cube is not additive: row {bad} is not the sum of the cells under it "
            "(margins must be sums; build the cube with build_cube)"
        )
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    level = (codes == 0).sum(axis=1).astype(np.int64)
    return CubeLines(cube.height, offset, line, cell, sign, starts, level, codes, strides, key)


def _cube_counts(cube: pl.DataFrame) -> IntArray:
    column = cube[COUNT]
    if not column.dtype.is_integer() or column.null_count() or (column < 0).any():
        raise InputError("a cube's 'count' column must hold non-negative integers, none missing")
    return column.cast(pl.Int64).to_numpy()


def _codes(cube: pl.DataFrame, dims: list[str]) -> tuple[npt.NDArray[np.int64], IntArray]:
    """One integer code per dimension value (0 for :data:`TOTAL`, null a category of its own)
    and the strides that pack a row's codes into one int64 key."""
    columns: list[IntArray] = []
    bases: list[int] = []
    for d in dims:
        values = cube[d]
        if not isinstance(values.dtype, _STRING_LIKE):
            raise InputError(f"dimension {d!r} must hold text, not {values.dtype}")
        values = values.cast(pl.String)
        rank = values.rank("dense")  # 1.. for values, null for unknown
        top = int(rank.max() or 0)  # type: ignore[arg-type]
        code = rank.fill_null(top + 1).cast(pl.Int64).to_numpy().copy()
        code[(values == TOTAL).fill_null(value=False).to_numpy()] = 0
        columns.append(code)
        bases.append(top + 2)
    if float(np.prod(np.array(bases, dtype=np.float64))) >= _MAX_POSITIONS:
        raise InputError("the cube has too many category combinations to index")
    strides = np.cumprod([1, *bases[:-1]]).astype(np.int64)
    codes = np.column_stack(columns) if columns else np.zeros((cube.height, 0), np.int64)
    return codes.astype(np.int64), strides
