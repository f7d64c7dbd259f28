"""Simulated seasonal monthly series, to *measure* how often a detector raises its signal.

Used by ``benchmarks/trend_detection.py`` (prints the rates) and by
``tests/indicators/test_detection_rates.py`` (asserts them), so both measure the same thing.

Each series is a monthly count, like "reports of sextortion per month": a level drawn between 50
and 200, a 12-month sinusoidal cycle of random amplitude (10-30%) and phase, multiplicative
log-normal noise (sd 5%: months differ by more than Poisson noise alone, as real report counts
do) and Poisson counts around that mean. Three scenarios:

* ``flat`` — no change: any signal is a false alarm;
* ``step`` — the mean jumps by 30% at a random month after the baseline, leaving at least
  ``min_after_step`` months at the new level (a change seen for a single month cannot be told
  from an outlier, and an early-warning signal is only asked to catch it once it has held for a
  few months);
* ``rise`` — from the end of the baseline the mean grows by 2% a month, compounding.

Only synthetic numbers: nothing here resembles a real organisation's data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from concord.indicators.baseline import DEFAULT_BASELINE_PERIODS, JsonResult, Series, period_start

Scenario = Literal["flat", "step", "rise"]
SCENARIOS: tuple[Scenario, ...] = ("flat", "step", "rise")


@dataclass(frozen=True)
class SimulationSpec:
    """The knobs of the simulation; the defaults are the issue's scenario."""

    min_months: int = 36
    max_months: int = 48
    baseline_months: int = DEFAULT_BASELINE_PERIODS
    min_level: float = 50.0
    max_level: float = 200.0
    min_amplitude: float = 0.1
    max_amplitude: float = 0.3
    noise_sd: float = 0.05
    step: float = 0.30
    min_after_step: int = 6
    monthly_rise: float = 0.02
    missing_rate: float = 0.0
    start: date = date(2020, 1, 1)


@dataclass(frozen=True)
class SimulatedSeries:
    """A simulated series and what was planted in it (``change_at``: first changed period)."""

    scenario: Scenario
    series: Series
    change_at: date | None


def simulate_series(
    rng: np.random.Generator, scenario: Scenario, spec: SimulationSpec | None = None
) -> SimulatedSeries:
    """One simulated monthly series of ``scenario``, drawn from ``rng``."""
    spec = spec or SimulationSpec()
    n = int(rng.integers(spec.min_months, spec.max_months + 1))
    t = np.arange(n)
    level = rng.uniform(spec.min_level, spec.max_level)
    amplitude = rng.uniform(spec.min_amplitude, spec.max_amplitude)
    phase = rng.uniform(0, 2 * math.pi)
    mean = level * (1 + amplitude * np.sin(2 * math.pi * t / 12 + phase))
    mean = mean * np.exp(rng.normal(0.0, spec.noise_sd, n))
    change: int | None = None
    if scenario == "step":
        change = int(rng.integers(spec.baseline_months, n - spec.min_after_step + 1))
        mean = np.where(t >= change, mean * (1 + spec.step), mean)
    elif scenario == "rise":
        change = spec.baseline_months
        growth = np.maximum(t - change + 1, 0)
        mean = mean * (1 + spec.monthly_rise) ** growth
    counts = rng.poisson(mean).astype(float)
    missing = rng.random(n) < spec.missing_rate
    origin = spec.start.year * 12 + spec.start.month - 1
    return SimulatedSeries(
        scenario=scenario,
        series=Series(
            periods=[period_start(origin + i, "month") for i in range(n)],
            values=[None if gap else float(c) for c, gap in zip(counts, missing, strict=True)],
            period="month",
        ),
        change_at=None if change is None else period_start(origin + change, "month"),
    )


@dataclass(frozen=True)
class ScenarioRate(JsonResult):
    """How many series of one scenario raised the signal."""

    scenario: Scenario
    series: int
    signalled: int

    @property
    def rate(self) -> float:
        return self.signalled / self.series if self.series else 0.0


def simulate(
    scenario: Scenario, count: int, *, seed: int, spec: SimulationSpec | None = None
) -> Iterator[SimulatedSeries]:
    """``count`` series of ``scenario``, reproducible from ``seed``.

    Each scenario draws from its own generator (seeded with ``seed`` and the scenario's
    position in ``SCENARIOS``), so measuring one scenario gives the same series as measuring all.
    """
    rng = np.random.default_rng([seed, SCENARIOS.index(scenario)])
    for _ in range(count):
        yield simulate_series(rng, scenario, spec)


def measure_detection(
    detector: Callable[[Series], bool],
    *,
    n_per_scenario: int,
    seed: int,
    spec: SimulationSpec | None = None,
    scenarios: Sequence[Scenario] = SCENARIOS,
) -> dict[Scenario, ScenarioRate]:
    """Run ``detector`` on ``n_per_scenario`` simulated series of each scenario.

    For ``flat`` the rate is the false-alarm rate, for the others the detection rate.
    """
    rates: dict[Scenario, ScenarioRate] = {}
    for scenario in scenarios:
        signalled = sum(
            detector(item.series)
            for item in simulate(scenario, n_per_scenario, seed=seed, spec=spec)
        )
        rates[scenario] = ScenarioRate(scenario, n_per_scenario, int(signalled))
    return rates
