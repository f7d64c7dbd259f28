"""Trend detection benchmark: how often ``assess(...).signal`` fires on simulated series.

    uv run python benchmarks/trend_detection.py [--series 500] [--seed 2026] [--missing 0.0]
                                                [--min-after-step 6]

Simulates seasonal monthly counts (36-48 months; see :mod:`concord.indicators.simulate`) in
three scenarios — trend-free, a planted 30% step at a random month after the 12-month baseline,
and a steady 2%/month rise from the end of the baseline — and runs Concord's detector on each.
The issue's targets: **false-alarm rate <= 5%** on trend-free series and **detection >= 90%** for
both planted changes. The table also shows which rule raised each signal (latest-period score,
seasonal Mann-Kendall trend, PELT step) and, in the same run, two reference rules a spreadsheet
would use, to show what the seasonal adjustment buys:

* **naive 2 sd** — the latest month above the baseline mean + 2 standard deviations, unadjusted;
* **plain MK** — Mann-Kendall (no seasons) increasing at p < 0.05.

Rates carry a 95% Wilson interval; the script exits with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import Counter

from concord.indicators.baseline import Series
from concord.indicators.simulate import SCENARIOS, SimulationSpec, simulate
from concord.indicators.trends import assess, mann_kendall

FALSE_ALARM_TARGET = 0.05
DETECTION_TARGET = 0.90


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sound at rates near 0 and 1)."""
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def naive_two_sd(series: Series) -> bool:
    """Latest month above the first 12 months' mean + 2 sd, with no seasonal adjustment."""
    base = [v for v in series.values[:12] if v is not None]
    latest = next((v for v in reversed(series.values) if v is not None), None)
    if latest is None or len(base) < 2:
        return False
    return latest > statistics.mean(base) + 2 * statistics.stdev(base)


def plain_mann_kendall(series: Series) -> bool:
    test = mann_kendall(series)
    return test.direction == "increasing"


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Measure trend-detection rates on simulated series."
    )
    parser.add_argument("--series", type=int, default=500, help="series per scenario")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--missing", type=float, default=0.0, help="share of months left blank")
    parser.add_argument("--min-after-step", type=int, default=6, help="months at the new level")
    args = parser.parse_args()
    spec = SimulationSpec(missing_rate=args.missing, min_after_step=args.min_after_step)

    print(
        f"{args.series} series per scenario, seed {args.seed}, {spec.min_months}-"
        f"{spec.max_months} months, baseline {spec.baseline_months} months, "
        f"{args.missing:.0%} missing, step +{spec.step:.0%} with >= {spec.min_after_step} months "
        f"after it, rise {spec.monthly_rise:.0%}/month"
    )
    header = (
        f"{'scenario':<8} {'measures':<16} {'signalled':>10} {'rate':>7} {'95% CI':>15} "
        f"{'target':>8} {'met':>4} | {'score':>6} {'trend':>6} {'step':>6} | "
        f"{'naive 2sd':>9} {'plain MK':>9}"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    seconds = 0.0
    for scenario in SCENARIOS:
        signalled = 0
        triggers: Counter[str] = Counter()
        naive = plain = 0
        items = list(simulate(scenario, args.series, seed=args.seed, spec=spec))
        for item in items:
            start = time.perf_counter()
            result = assess(item.series)
            seconds += time.perf_counter() - start
            signalled += result.signal
            triggers.update(result.triggers)
            naive += naive_two_sd(item.series)
            plain += plain_mann_kendall(item.series)
        rate = signalled / args.series
        low, high = wilson(signalled, args.series)
        if scenario == "flat":
            measures, target, met = "false alarms", f"<= {FALSE_ALARM_TARGET:.0%}", rate <= 0.05
        else:
            measures, target, met = "detection", f">= {DETECTION_TARGET:.0%}", rate >= 0.90
        all_met = all_met and met
        print(
            f"{scenario:<8} {measures:<16} {signalled:>4}/{args.series:<5} {rate:>7.1%} "
            f"{f'{low:.1%}-{high:.1%}':>15} {target:>8} {'yes' if met else 'NO':>4} | "
            f"{_share(triggers['score'], args.series)} {_share(triggers['trend'], args.series)} "
            f"{_share(triggers['step'], args.series)} | "
            f"{naive / args.series:>9.1%} {plain / args.series:>9.1%}"
        )
    total = args.series * len(SCENARIOS)
    print(
        f"\nscore/trend/step: share of series where that rule fired (a series may fire several)."
        f"\nassess(): {1000 * seconds / total:.1f} ms per series on this machine."
    )
    print("all targets met" if all_met else "TARGETS MISSED")
    return 0 if all_met else 1


def _share(count: int, total: int) -> str:
    return f"{count / total:>6.1%}"


if __name__ == "__main__":
    sys.exit(main())
