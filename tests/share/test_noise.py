"""Discrete Laplace counts through OpenDP, and the privacy-budget rule."""

from __future__ import annotations

import math

import numpy as np
import opendp.prelude as dp
import pytest

from concord.errors import InputError, PermissionDeniedError
from concord.share.noise import (
    MECHANISM,
    check_spend,
    laplace_counts,
    remaining,
)


def test_noisy_counts_keep_length_and_type_and_say_how_they_were_made():
    noisy = laplace_counts(np.array([5, 0, 120, 7]), epsilon=0.5, sensitivity=1)
    assert noisy.counts.shape == (4,)
    assert noisy.counts.dtype == np.int64
    assert not noisy.counts.flags.writeable
    assert noisy.mechanism == MECHANISM == "discrete Laplace (OpenDP make_laplace)"
    assert noisy.epsilon == 0.5
    assert noisy.sensitivity == 1


# (0.7, 3) and (0.3, 3): OpenDP rounds 3 / (3 / epsilon) up past epsilon, so the scale must be
# searched for, a hair above sensitivity / epsilon.
@pytest.mark.parametrize(
    ("epsilon", "sensitivity"), [(0.5, 1), (1.0, 3), (0.1, 2), (2.0, 1), (0.7, 3), (0.3, 3)]
)
def test_scale_is_sensitivity_over_epsilon_and_opendp_certifies_it(
    epsilon: float, sensitivity: int
):
    noisy = laplace_counts(np.array([10, 20]), epsilon=epsilon, sensitivity=sensitivity)
    assert noisy.scale >= sensitivity / epsilon
    assert noisy.scale == pytest.approx(sensitivity / epsilon, rel=1e-9)
    dp.enable_features("contrib")
    measurement = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"), scale=noisy.scale
    )
    assert measurement.map(sensitivity) <= epsilon


def test_negative_draws_are_clamped_to_zero():
    noisy = laplace_counts(np.zeros(2000, dtype=np.int64), epsilon=0.2, sensitivity=1)
    assert noisy.counts.min() == 0
    # Scale 5 around 0: about half the draws were negative and now read 0; the rest are noisy.
    assert 0.3 < (noisy.counts == 0).mean() < 0.7
    assert noisy.counts.max() > 0


def test_noise_is_centred_on_the_true_count():
    draws = 20_000
    noisy = laplace_counts(np.full(draws, 1000), epsilon=1.0, sensitivity=1)
    errors = noisy.counts - 1000
    # Discrete Laplace, scale 1: variance 2e^-1/(1-e^-1)^2 ~ 1.84, so the mean of 20,000 draws has
    # a standard error ~0.01; 0.1 is ten of them. No draw can reach 0 from 1000 in practice.
    assert abs(errors.mean()) < 0.1
    assert 1.5 < errors.var() < 2.2
    assert errors.any()


def test_more_epsilon_means_less_noise():
    wide = laplace_counts(np.full(5000, 500), epsilon=0.1, sensitivity=1).counts - 500
    narrow = laplace_counts(np.full(5000, 500), epsilon=2.0, sensitivity=1).counts - 500
    assert np.abs(wide).mean() > 5 * np.abs(narrow).mean()


def test_empty_counts_give_empty_noisy_counts():
    assert laplace_counts(np.array([], dtype=np.int64), epsilon=1.0, sensitivity=1).counts.size == 0


@pytest.mark.parametrize(
    ("counts", "epsilon", "sensitivity"),
    [
        (np.array([1]), 0.0, 1),
        (np.array([1]), -1.0, 1),
        (np.array([1]), math.nan, 1),
        (np.array([1]), math.inf, 1),
        (np.array([1]), 1.0, 0),
        (np.array([1]), 1.0, True),
        (np.array([1]), 1.0, 1.5),
        (np.array([1.5]), 1.0, 1),
        (np.array([[1, 2]]), 1.0, 1),
        (np.array([-1]), 1.0, 1),
    ],
)
def test_bad_input_is_refused(counts: np.ndarray, epsilon: float, sensitivity: int):
    with pytest.raises(InputError):
        laplace_counts(counts, epsilon=epsilon, sensitivity=sensitivity)


def test_budget_allows_spending_exactly_the_budget():
    check_spend(1.0, [0.5, 0.25], 0.25)
    check_spend(1.0, [0.1] * 7, 0.3)  # 0.1 * 7 + 0.3 drifts above 1.0 in floating point
    check_spend(1.0, [], 1.0)
    assert remaining(1.0, [0.3, 0.3]) == pytest.approx(0.4)
    assert remaining(1.0, []) == 1.0


def test_budget_refuses_overspending():
    with pytest.raises(PermissionDeniedError) as caught:
        check_spend(1.0, [0.5, 0.5], 0.1)
    assert "the privacy budget for this period is spent: 1 of 1 used, 0.1 requested" in str(
        caught.value
    )
    with pytest.raises(PermissionDeniedError):
        check_spend(1.0, [0.6], 0.5)
    assert remaining(1.0, [0.7, 0.7]) == 0.0


@pytest.mark.parametrize(
    ("budget", "spent", "asked"),
    [
        (0.0, [], 0.1),
        (math.inf, [], 0.1),
        (1.0, [-0.1], 0.1),
        (1.0, [math.nan], 0.1),
        (1.0, [], 0.0),
    ],
)
def test_budget_refuses_nonsense(budget: float, spent: list[float], asked: float):
    with pytest.raises(InputError):
        check_spend(budget, spent, asked)
