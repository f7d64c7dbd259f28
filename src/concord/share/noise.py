"""Differentially private counts through OpenDP, and the privacy-budget rule.

Why OpenDP and not ``numpy.random``: floating-point Laplace noise leaks through the gaps of the
floating-point grid (Mironov, 2012), and a hand-rolled sampler is hard to audit. OpenDP's
``make_laplace`` on an integer domain samples the discrete Laplace distribution exactly and
states its own privacy map, which we check rather than assume.

Noise is added to a whole vector in one measurement: under the L1 metric the ``sensitivity`` is
what one child (or one report) can change *in total* across the vector, so one child who appears
in several cells is accounted for when the caller passes the right sensitivity.

The privacy budget: each release spends epsilon; :func:`check_spend` refuses a release that would
take the sum for the period over the agreed budget (sequential composition). Keeping the ledger
of what was spent is the caller's business.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from concord.errors import ConcordError, InputError, PermissionDeniedError

MECHANISM = "discrete Laplace (OpenDP make_laplace)"
# Float sums of per-release epsilons drift (0.1 + 0.2 > 0.3); a relative slack this small cannot
# buy a meaningful extra release.
_BUDGET_SLACK = 1e-9


# eq=False: comparing numpy arrays field by field raises instead of answering.
@dataclass(frozen=True, eq=False)
class NoisyCounts:
    """Noisy counts and how they were made, for the release's metadata.

    ``counts`` are clamped at zero: post-processing of the noisy values, which costs no privacy,
    so readers never see a negative count; it biases small counts upwards (say so when they are
    summed).
    """

    counts: npt.NDArray[np.int64]
    scale: float
    epsilon: float
    sensitivity: int
    mechanism: str = MECHANISM


def laplace_counts(counts: npt.ArrayLike, *, epsilon: float, sensitivity: int) -> NoisyCounts:
    """``counts`` plus discrete Laplace noise of scale ``sensitivity / epsilon`` (or the smallest
    scale OpenDP certifies as ``epsilon``-DP for ``sensitivity``), drawn in one OpenDP call."""
    import opendp.prelude as dp

    if not isinstance(epsilon, int | float) or not math.isfinite(epsilon) or epsilon <= 0:
        raise InputError(f"epsilon must be a finite number above 0, not {epsilon!r}")
    if isinstance(sensitivity, bool) or not isinstance(sensitivity, int) or sensitivity < 1:
        raise InputError(f"sensitivity must be a whole number of at least 1, not {sensitivity!r}")
    values = np.asarray(counts)
    if values.ndim != 1 or not (np.issubdtype(values.dtype, np.integer) or values.size == 0):
        raise InputError("counts must be a one-dimensional array of whole numbers")
    if (values < 0).any():
        raise InputError("counts must not be negative")
    dp.enable_features("contrib")  # make_laplace on integers is a "contrib" mechanism
    space = (dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"))

    def measurement(scale: float) -> Any:
        return dp.m.make_laplace(*space, scale=scale)

    epsilon = float(epsilon)
    scale = sensitivity / epsilon
    try:
        if measurement(scale).map(sensitivity) > epsilon:
            # OpenDP's map rounds conservatively; find the smallest scale it certifies.
            scale = dp.binary_search_param(measurement, d_in=sensitivity, d_out=epsilon)
        chosen = measurement(scale)
        if chosen.map(sensitivity) > epsilon:
            raise ConcordError(f"OpenDP cannot certify epsilon={epsilon} for this sensitivity")
        noisy = np.asarray(chosen(values.astype(np.int64).tolist()), dtype=np.int64)
    except dp.OpenDPException as exc:
        raise ConcordError(f"OpenDP refused to add noise: {exc}") from exc
    clamped = np.maximum(noisy, 0)
    clamped.setflags(write=False)
    return NoisyCounts(clamped, float(scale), epsilon, sensitivity)


def remaining(budget: float, spent: Sequence[float]) -> float:
    """Epsilon still available in the period (never below zero)."""
    _check_budget(budget, spent)
    return max(0.0, budget - math.fsum(spent))


def check_spend(budget: float, spent: Sequence[float], request: float) -> None:
    """Refuse a release whose ``request`` would take the period's spending over ``budget``.

    Spending exactly the budget is allowed: the agreement grants that much.
    """
    _check_budget(budget, spent)
    if not math.isfinite(request) or request <= 0:
        raise InputError(f"a release must spend a finite epsilon above 0, not {request!r}")
    used = math.fsum(spent)
    if used + request > budget * (1 + _BUDGET_SLACK):
        raise PermissionDeniedError(
            f"the privacy budget for this period is spent: {used:g} of {budget:g} used, "
            f"{request:g} requested",
            details=[f"{remaining(budget, spent):g} remains"],
        )


def _check_budget(budget: float, spent: Sequence[float]) -> None:
    if not math.isfinite(budget) or budget <= 0:
        raise InputError(f"a privacy budget must be a finite epsilon above 0, not {budget!r}")
    if any(not math.isfinite(s) or s < 0 for s in spent):
        raise InputError("every spent epsilon must be a finite number of at least 0")
