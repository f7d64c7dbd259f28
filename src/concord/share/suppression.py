"""Cell suppression for additive count cubes: hide small cells, then enough others that no hidden
value can be recomputed from what is published.

A cell is *primary* when ``0 < count < min_cell`` or a caller flags it (for instance a cell a
differencing check found). Zeros are published by default: a zero reveals no child, and hiding
every structural zero would hide most of a sparse table (``zeros_sensitive=True`` hides them).
Hiding primary cells alone protects nothing, because a reader can subtract the published cells of
a line from its published total. *Secondary* (complementary) cells are hidden to stop that:

1. The line rule: a line (a margin and the cells one level finer along one dimension) with
   exactly one hidden cell gets one more, the cheapest (see ``_priority``: non-zero, finest,
   smallest). Repeat until no line has exactly one hidden cell.
2. The exact audit, :func:`recoverable`: the line rule is not enough (a hidden cell bridging two
   hidden rectangles is still the difference of two published sums). Hidden cell ``i`` is
   determined iff the unit vector ``e_i`` lies in the row space of ``A_S``, the constraint matrix
   restricted to the hidden cells, i.e. iff every solution of ``A_S z = 0`` has ``z_i = 0``.
   Hidden cells split into components (cells linked by shared lines); small components get an
   SVD null space, large ones (heavy suppression of a 4-dimension cube makes one component of
   thousands of cells) random vectors projected onto the null space by conjugate gradients.
3. For every determined cell, the cheapest *box* of cells around it is hidden (``_Boxes``, the
   hypercube method): a set of ``2**d`` cells that carries a null vector, so hiding it frees the
   cell for certain. Hiding one more cell on one of its lines, the obvious fix, often does not
   free it (the leak runs through another line) and took dozens of audit rounds on real-sized
   cubes. Then the audit runs again until it finds nothing (one more round in practice).

What is guaranteed: no hidden cell's value is uniquely determined by the published cells and the
cube's additive constraints (every line sums), up to the floating-point tolerance of the linear
algebra (``_ZERO``; projections must also reach ``_RESIDUAL`` or suppression stops with an
error). The random projections can err only towards "determined" (probability ~0), which costs a
needless extra cell, never a disclosure. When no hidden cell is zero (the usual case: zeros are
hidden only when asked for or as a last resort), non-negativity pins none of them either: each
can move a little up and down over the real numbers with every cell staying non-negative.

What is NOT guaranteed: a *width* of protection. A reader who adds non-negativity and
integrality narrows each hidden cell to an interval, possibly a narrow one (a hidden 3 whose only
partner is a hidden 1 lies in [0, 4]). Protection levels in the tau-argus sense (each hidden
cell's feasible interval at least so wide) are not enforced, nor is protection against a reader
who knows some cells from elsewhere (a respondent knows its own contribution). Hidden zeros
can be pinned to 0 by non-negativity, e.g. zero cells under a hidden zero total. Nor is the
pattern minimal: it is a cheap heuristic, not an optimisation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

# scipy ships no type information (scipy-stubs is not a dependency).
import scipy.sparse as sp  # type: ignore[import-untyped]
from scipy.linalg import null_space  # type: ignore[import-untyped]
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

from concord.errors import ConcordError, InputError
from concord.share.cube import COUNT, CubeLines, cube_lines

STATUS = "status"
PUBLISHED = "published"
PRIMARY = "primary"
SECONDARY = "secondary"
#: What :func:`published_view` shows for every hidden cell: telling primary from secondary
#: cells apart would tell a reader which cells are the small ones.
SUPPRESSED = "suppressed"
#: A primary cell hidden because it differs by a small amount from an earlier release (see
#: :mod:`concord.share.differencing`).
DIFFERENCING = "differencing"

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Components up to this many hidden cells get an exact dense null space (an SVD costs ~n^3);
# larger ones get randomised projections by conjugate gradients (~30 ms for 18,000 cells).
_DENSE_LIMIT = 300
# A null-space entry below this is zero. A hidden cell that is not determined has an entry of
# size sqrt(1 - |projection of e_i on the row space|^2), about 1/sqrt(cycle length) for these
# {-1, 0, 1} systems, i.e. above 1e-3 even for cycles through 10^5 cells.
_ZERO = 1e-7
# A projection counts as converged when |A_S z| is this small (then its error in z is tiny).
_RESIDUAL = 1e-9
# Conjugate-gradient steps allowed per projection; 18,000 hidden cells need about 170.
_MAX_STEPS = 5_000
# Boxes tried per determined cell at most (16 corners each for 4 dimensions): ~10 ms.
_BOX_COMBINATIONS = 20_000
# A determined cell has a zero in every null vector; an undetermined one in a random null vector
# only with probability ~0. Three independent draws make a false "determined" (which would only
# cost one needless extra suppression) vanishingly unlikely.
_DRAWS = 3
# Fixed so that the same table always gets the same suppression pattern.
_SEED = 20_240_601


def suppress(
    cube: pl.DataFrame,
    dims: Sequence[str],
    *,
    min_cell: int,
    sensitive: pl.Series | None = None,
    zeros_sensitive: bool = False,
) -> pl.DataFrame:
    """``cube`` (as :func:`concord.share.cube.build_cube` makes it, rows in any order) with a
    ``status`` column: ``published``, ``primary`` or ``secondary``. ``count`` is kept; use
    :func:`published_view` for what may leave the building.

    ``sensitive``: a Boolean mask aligned with the rows of ``cube``; flagged cells are primary
    whatever their count.
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise InputError(f"min_cell must be a whole number of at least 1, not {min_cell!r}")
    if STATUS in cube.columns:
        raise InputError(f"the cube already has a {STATUS!r} column; suppress the plain cube")
    lines = cube_lines(cube, dims)
    counts = cube[COUNT].cast(pl.Int64).to_numpy()
    primary = (counts > 0) & (counts < min_cell)
    if zeros_sensitive:
        primary |= counts == 0
    if sensitive is not None:
        primary |= _mask(sensitive, cube.height)
    hidden = primary.copy()
    order = _priority(counts, lines)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    _line_rule(lines, rank, order, hidden)
    boxes = _Boxes(lines, counts)
    # Hiding more never makes a hidden cell determined (old null vectors stay null vectors), and
    # a box makes its cell free for good, so this ends after a round or two.
    while len(determined := _determined(lines, hidden)):
        if not boxes.hide(determined[np.argsort(rank[determined])], hidden):
            break  # every box was already hidden: exact certificates overrule the float audit
    status = np.where(primary, PRIMARY, np.where(hidden, SECONDARY, PUBLISHED))
    return cube.with_columns(pl.Series(STATUS, status, dtype=pl.String))


def recoverable(cube_with_status: pl.DataFrame, dims: Sequence[str]) -> list[int]:
    """Row positions of hidden cells whose value the published cells and the cube's additive
    constraints determine exactly (empty for anything :func:`suppress` returns).

    Rows whose ``status`` is anything but ``published`` count as hidden.
    """
    if STATUS not in cube_with_status.columns:
        raise InputError(f"the table has no {STATUS!r} column; run suppress first")
    known = {PUBLISHED, PRIMARY, SECONDARY, SUPPRESSED, DIFFERENCING}
    seen = set(cube_with_status[STATUS].unique().to_list())
    if not seen <= known:
        raise InputError(f"unknown status values: {sorted(map(str, seen - known))}")
    lines = cube_lines(cube_with_status, dims)
    hidden = (cube_with_status[STATUS] != PUBLISHED).to_numpy()
    return [int(i) for i in _determined(lines, hidden)]


def published_view(protected: pl.DataFrame) -> pl.DataFrame:
    """The releasable form of :func:`suppress`'s result: ``count`` is null for every hidden cell
    and ``status`` only says ``published`` or ``suppressed`` (see :data:`SUPPRESSED`)."""
    if STATUS not in protected.columns or COUNT not in protected.columns:
        raise InputError(f"the table needs {COUNT!r} and {STATUS!r} columns; run suppress first")
    shown = pl.col(STATUS) == PUBLISHED
    return protected.with_columns(
        pl.when(shown).then(pl.col(COUNT)).otherwise(None).alias(COUNT),
        pl.when(shown).then(pl.lit(PUBLISHED)).otherwise(pl.lit(SUPPRESSED)).alias(STATUS),
    )


def _mask(sensitive: pl.Series, height: int) -> BoolArray:
    if not isinstance(sensitive, pl.Series) or sensitive.dtype != pl.Boolean:
        raise InputError("sensitive must be a Boolean polars Series aligned with the cube rows")
    if len(sensitive) != height:
        raise InputError(f"sensitive has {len(sensitive)} values for a cube of {height} rows")
    if sensitive.null_count():
        raise InputError("sensitive has missing values; say True or False for every cell")
    return sensitive.to_numpy().astype(bool)


def _priority(counts: IntArray, lines: CubeLines) -> IntArray:
    """Cells from cheapest to dearest to hide: non-zero before zero (a hidden zero can only
    be higher, so its partner on a line can only be lower: the reader learns the partner's
    true value as an upper bound), finest before margins (margins are what most readers use),
    then the smallest count. Ties go by the cells' dimension values, not their row order, so
    shuffled rows get the same pattern."""
    keys = (lines.position, counts, lines.level, counts == 0)
    return np.lexsort(keys).astype(np.int64)


def _cheapest_per_line(lines: CubeLines, rank: IntArray, hidden: BoolArray) -> IntArray:
    """Per line, the priority rank of its cheapest published cell (``n_cells`` when none)."""
    ranks = np.where(hidden[lines.cell], lines.n_cells, rank[lines.cell])
    return np.minimum.reduceat(ranks, lines.starts)


def _line_rule(lines: CubeLines, rank: IntArray, order: IntArray, hidden: BoolArray) -> None:
    """Hide, in place, the cheapest other cell of every line that hides exactly one cell.

    All such lines are served at once (vectorised); two lines may then pick different cells
    where one would have done, a small price against one pass per line.
    """
    while True:
        per_line = np.add.reduceat(hidden[lines.cell].astype(np.int64), lines.starts)
        lonely = per_line == 1
        if not lonely.any():
            return
        # A line has at least two cells, so a line hiding one always has a published one.
        hidden[order[_cheapest_per_line(lines, rank, hidden)[lonely]]] = True


class _Boxes:
    """Complements for determined cells: the cheapest *box* around the cell (hypercube method).

    A box picks, per dimension, a second value ``q_j`` next to the cell's own ``p_j`` (another
    category, or TOTAL; a margin's TOTAL pairs with a category). The ``2**d`` cells with values
    in ``{p_j, q_j}`` carry the null vector ``prod_j u_j`` (``u_j = e_p - e_q`` for two
    categories, a unit vector where TOTAL is one of the pair): adding it to the cells changes no
    line sum. Once every corner is hidden the cell is provably free. A box always exists: the
    cell's ancestors over one finest cell under it.
    """

    def __init__(self, lines: CubeLines, counts: IntArray) -> None:
        self.lines = lines
        # Zeros only when no box avoids them (see _priority); then the smallest counts.
        self.cost = np.where(counts > 0, counts, counts.sum() + 1).astype(np.float64)
        self.by_position = np.argsort(lines.position, kind="stable")
        self.positions = lines.position[self.by_position]
        self.values = [np.unique(column) for column in lines.codes.T]

    def hide(self, determined: IntArray, hidden: BoolArray) -> bool:
        """Hide a box for each determined cell not already a corner of one; True if any cell
        was newly hidden."""
        freed = np.zeros_like(hidden)
        added = False
        for cell in determined:
            if freed[cell]:
                continue
            corners = self._cheapest(int(cell), hidden)
            added |= bool((~hidden[corners]).any())
            hidden[corners] = True
            freed[corners] = True
        return added

    def _cheapest(self, cell: int, hidden: BoolArray) -> IntArray:
        own = self.lines.codes[cell]
        options = self._shortlist(cell, own, hidden)
        grids = np.meshgrid(*options, indexing="ij")
        price = np.zeros(grids[0].shape)
        for corner in itertools.product((False, True), repeat=len(own)):
            rows, found = self._lookup(self._corner(own, grids, corner))
            price += np.where(found, np.where(hidden[rows], 0.0, self.cost[rows]), np.inf)
        best = np.unravel_index(int(np.argmin(price)), price.shape)
        if not np.isfinite(price[best]):  # cannot happen: _shortlist keeps a box that exists
            raise ConcordError("cell suppression found no box of cells to hide")
        chosen = [grid[best] for grid in grids]
        return np.array(
            [
                self._lookup(self._corner(own, chosen, corner))[0]
                for corner in itertools.product((False, True), repeat=len(own))
            ],
            dtype=np.int64,
        )

    def _corner(self, own: IntArray, other: Sequence[Any], corner: tuple[bool, ...]) -> Any:
        """Positions of one corner of the boxes: dimension ``j`` at ``other[j]`` where
        ``corner[j]``, else at the cell's own value (``other`` broadcasts: a grid or scalars)."""
        position: Any = 0
        for j, use_other in enumerate(corner):
            position = position + (other[j] if use_other else own[j]) * self.lines.strides[j]
        return position

    def _lookup(self, positions: Any) -> tuple[Any, Any]:
        """Cube rows at ``positions``, and whether each exists (sparse cubes lack some)."""
        at = np.minimum(np.searchsorted(self.positions, positions), len(self.positions) - 1)
        return self.by_position[at], self.positions[at] == positions

    def _shortlist(self, cell: int, own: IntArray, hidden: BoolArray) -> list[IntArray]:
        """Per dimension the values ``q_j`` to try: all, unless the combinations would pass
        ``_BOX_COMBINATIONS``; then the cheapest single swaps, always keeping one finest cell's
        ancestors (the box that always exists)."""
        codes = self.lines.codes
        under = np.all((codes == own) | (own == 0), axis=1) & (self.lines.level == 0)
        anchor = np.where(own == 0, codes[int(np.flatnonzero(under)[0])], 0)
        options = [values[values != p] for values, p in zip(self.values, own, strict=True)]
        while math.prod(len(o) for o in options) > _BOX_COMBINATIONS:
            j = int(np.argmax([len(o) for o in options]))
            swapped = own[None, :].repeat(len(options[j]), axis=0)
            swapped[:, j] = options[j]
            rows, found = self._lookup(swapped @ self.lines.strides)
            price = np.where(found, np.where(hidden[rows], 0.0, self.cost[rows]), np.inf)
            price[options[j] == anchor[j]] = -1.0  # keep the box that always exists
            options[j] = options[j][np.argsort(price, kind="stable")[: len(options[j]) // 2]]
        return options


def _determined(lines: CubeLines, hidden: BoolArray) -> IntArray:
    """Hidden cells whose value the constraints pin down, ascending.

    Hidden cells are split into connected components (cells sharing a line); a null vector of one
    component, padded with zeros, is a null vector of the whole system, so each is solved alone.
    """
    cells = np.flatnonzero(hidden)
    if not len(cells):
        return cells.astype(np.int64)
    column = np.full(lines.n_cells, -1, dtype=np.int64)
    column[cells] = np.arange(len(cells))
    keep = hidden[lines.cell]
    used, row = np.unique(lines.line[keep], return_inverse=True)
    matrix = sp.csr_matrix(
        (lines.sign[keep].astype(np.float64), (row, column[lines.cell[keep]])),
        shape=(len(used), len(cells)),
    ).tocsc()
    graph = sp.bmat([[None, matrix.T], [matrix, None]])
    _, labels = connected_components(graph, directed=False)
    labels = labels[: len(cells)]
    sizes = np.bincount(labels)
    small = sizes[labels] <= _DENSE_LIMIT
    pinned = np.zeros(len(cells), dtype=bool)
    by_label = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[by_label])) + 1
    for members in np.split(by_label, bounds):
        if small[members[0]]:
            pinned[members] = _dense_pinned(matrix[:, members])
    large = np.flatnonzero(~small)
    if len(large):
        pinned[large] = _projected_pinned(matrix[:, large])
    return cells[pinned].astype(np.int64)


def _dense_pinned(block: sp.csc_matrix) -> BoolArray:
    """Exact (SVD) test on one small component: pinned where every null vector is zero."""
    dense = block.toarray()
    dense = dense[np.abs(dense).sum(axis=1) > 0]
    basis = null_space(dense)
    if basis.shape[1] == 0:
        return np.ones(block.shape[1], dtype=bool)
    return np.asarray(np.linalg.norm(basis, axis=1) < _ZERO)


def _projected_pinned(block: sp.csc_matrix) -> BoolArray:
    """Randomised test on large components: project random vectors onto the null space.

    A cell is pinned iff the projection of every vector is zero there, and the projection of a
    random vector is non-zero at every free cell with probability one.
    """
    block = block[np.flatnonzero(block.getnnz(axis=1))].tocsr()
    transposed = block.T.tocsr()
    rng = np.random.default_rng(_SEED)
    pinned = np.ones(block.shape[1], dtype=bool)
    for _ in range(_DRAWS):
        pinned &= (
            np.abs(_null_projection(block, transposed, rng.standard_normal(block.shape[1]))) < _ZERO
        )
        if not pinned.any():
            break
    return pinned


def _null_projection(block: sp.csr_matrix, transposed: sp.csr_matrix, g: FloatArray) -> FloatArray:
    """``g - A^T y`` for the least-squares ``y`` of ``A^T y = g``: ``g`` projected onto the null
    space of ``A`` (CGLS), iterated until ``|A z|`` is below ``_RESIDUAL``.

    Hand-written rather than scipy's ``lsqr`` because lsqr's vector steps go through
    multi-threaded BLAS, which ran 50 times slower while another process held one of two cores;
    here every step is a sparse product or a plain numpy loop (``einsum``, not BLAS ``dot``).
    """
    z = g.copy()
    residual = block @ z
    direction = residual.copy()
    gamma = _dot(residual, residual)
    for _ in range(_MAX_STEPS):
        if np.abs(residual).max(initial=0.0) < _RESIDUAL:
            return z
        step = transposed @ direction
        z -= (gamma / _dot(step, step)) * step
        residual = block @ z  # recomputed, not updated, so that rounding cannot accumulate
        gamma, previous = _dot(residual, residual), gamma
        direction = residual + (gamma / previous) * direction
    raise ConcordError(
        "the disclosure audit did not converge; the table cannot be released as it is"
    )


def _dot(a: FloatArray, b: FloatArray) -> float:
    return float(np.einsum("i,i->", a, b))
