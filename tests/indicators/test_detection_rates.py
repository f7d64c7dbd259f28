"""Detection is measured, not assumed: the issue's "done when" on a fixed simulation.

The same simulator as ``benchmarks/trend_detection.py`` (which prints the rates on more series);
a fixed seed makes the counts reproducible, so a change to the detector that costs false alarms
or misses planted changes fails here.
"""

from __future__ import annotations

import pytest

from concord.indicators.baseline import Series
from concord.indicators.simulate import SimulationSpec, measure_detection, simulate
from concord.indicators.trends import assess

SEED = 20260601
#: 150 per scenario (450 series) keeps the test well under 20 s on two cores.
PER_SCENARIO = 150


def signal(series: Series) -> bool:
    return assess(series).signal


@pytest.fixture(scope="module")
def rates() -> dict[str, float]:
    measured = measure_detection(signal, n_per_scenario=PER_SCENARIO, seed=SEED)
    return {scenario: rate.rate for scenario, rate in measured.items()}


def test_false_alarm_rate_on_trend_free_series(rates: dict[str, float]) -> None:
    assert rates["flat"] <= 0.05


def test_detects_a_planted_30_percent_step(rates: dict[str, float]) -> None:
    assert rates["step"] >= 0.90


def test_detects_a_steady_2_percent_monthly_rise(rates: dict[str, float]) -> None:
    assert rates["rise"] >= 0.90


def test_simulation_is_reproducible_and_plants_what_it_says() -> None:
    first = list(simulate("step", 5, seed=SEED))
    again = list(simulate("step", 5, seed=SEED))
    assert first == again
    spec = SimulationSpec()
    for item in first:
        n = len(item.series.periods)
        assert spec.min_months <= n <= spec.max_months
        assert item.change_at is not None
        change = item.series.periods.index(item.change_at)
        assert spec.baseline_months <= change <= n - spec.min_after_step
        assert all(v is not None and v >= 0 for v in item.series.values)
    flat = next(simulate("flat", 1, seed=SEED))
    assert flat.change_at is None


def test_missing_months_are_left_blank_not_zero() -> None:
    spec = SimulationSpec(missing_rate=0.2)
    values = [v for item in simulate("flat", 5, seed=SEED, spec=spec) for v in item.series.values]
    assert None in values
    assert 0.0 not in values
