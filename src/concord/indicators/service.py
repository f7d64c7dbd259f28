"""Indicators for a node: load the records once, compute, overlay the baseline and trend, run
the early warning. Shared by the web pages, the API and the CLI, so each shows the same numbers.

Why a cache: the dashboard recomputes on every filter change; reading the records from SQL is
the slow step, computing is fast (see benchmarks/indicators.py). The frame is reloaded when a
new import batch lands (its id is the cache key), so numbers are never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select

from concord.db import session_scope
from concord.db.models import IngestBatch
from concord.indicators.baseline import Baseline, Series
from concord.indicators.chart_data import ChartContext
from concord.indicators.chart_overlay import Overlay
from concord.indicators.compute import IndicatorResult, compute
from concord.indicators.definitions import IndicatorDefinition, IndicatorRegistry, default_registry
from concord.indicators.frame import load_batch_quality, load_frame
from concord.indicators.population import population_from_database
from concord.indicators.schedule import load_release_schedule
from concord.indicators.trends import TrendAssessment, assess
from concord.indicators.warning import AlertCandidate, early_warning
from concord.vocab.model import Vocabulary

#: How wide the baseline band is drawn: the baseline level ± this many robust deviations.
BAND_WIDTH = 2.0


@dataclass(frozen=True)
class _Cached:
    key: tuple[tuple[str, ...] | None, int]
    frame: pl.DataFrame


class IndicatorService:
    def __init__(self, engine: Engine, vocabulary: Vocabulary) -> None:
        self.engine = engine
        self.vocabulary = vocabulary
        self._lock = threading.Lock()
        self._frames: dict[tuple[str, ...] | None, _Cached] = {}

    def registry(self) -> IndicatorRegistry:
        with session_scope(self.engine) as session:
            return default_registry(vocabulary=self.vocabulary, session=session)

    def frame(self, organisations: Sequence[str] | None) -> pl.DataFrame:
        """Records of ``organisations`` (all when None), reloaded after each new import."""
        orgs = tuple(sorted(organisations)) if organisations is not None else None
        with session_scope(self.engine) as session:
            latest = session.scalar(select(func.max(IngestBatch.id))) or 0
        with self._lock:
            cached = self._frames.get(orgs)
            if cached is not None and cached.key == (orgs, latest):
                return cached.frame
        frame = load_frame(self.engine, organisations=list(orgs) if orgs is not None else None)
        with self._lock:
            self._frames[orgs] = _Cached((orgs, latest), frame)
        return frame

    def result(
        self,
        definition: IndicatorDefinition,
        *,
        organisations: Sequence[str] | None,
        by: Sequence[str] = (),
        filters: dict[str, Any] | None = None,
    ) -> IndicatorResult:
        with session_scope(self.engine) as session:
            population = population_from_database(session)
        records = definition.source == "records" and definition.status == "active"
        frame = self.frame(organisations) if records else pl.DataFrame()
        batches = None
        if definition.source == "batches":
            batches = load_batch_quality(self.engine)
            if organisations is not None and batches.height and "source_org" in batches.columns:
                batches = batches.filter(pl.col("source_org").is_in(list(organisations)))
        releases = None
        if definition.source == "releases":
            releases = load_release_schedule(self.engine)
            if organisations is not None and releases.height:
                releases = releases.filter(pl.col("source_org").is_in(list(organisations)))
        return compute(
            definition,
            frame,
            self.vocabulary,
            by=by,
            filters=filters or {},
            batches=batches,
            population=population,
            releases=releases,
        )

    def chart_context(self, result: IndicatorResult) -> ChartContext:
        d = result.definition
        return ChartContext(
            indicator_id=d.id,
            indicator_name=d.name,
            definition_text=d.description,
            unit=d.unit_label(),
            vocabulary_version=result.vocabulary_version,
            suppressed_cells=result.suppressed_cells,
            period=d.period,
            higher_is=d.higher_is,
            min_cell_size=d.disclosure.min_cell or None,
            caveats=tuple(result.caveats),
        )


def series_of(result: IndicatorResult) -> Series:
    """The result as one series (a result without breakdown columns)."""
    data = result.data.sort("period")
    return Series(
        periods=data["period"].to_list(),
        values=[None if v is None else float(v) for v in data["value"].to_list()],
        period=result.definition.period,
    )


def overlay_for(result: IndicatorResult) -> tuple[Overlay | None, TrendAssessment | None]:
    """The baseline band and the Sen trend line of a single-series result (None when the
    result is broken down or too short to say anything)."""
    if result.by or result.definition.breakdown or result.data.is_empty():
        return None, None
    series = series_of(result)
    assessment = assess(series, baseline=Baseline(periods=result.definition.baseline_window()))
    baseline = assessment.baseline
    band = None
    if baseline.status == "ok" and baseline.comparisons and baseline.scale is not None:
        rows = [
            {
                "period": c.period,
                "baseline_mean": c.expected,
                "baseline_low": None
                if c.expected is None
                else c.expected - BAND_WIDTH * baseline.scale,
                "baseline_high": None
                if c.expected is None
                else c.expected + BAND_WIDTH * baseline.scale,
            }
            for c in baseline.comparisons
        ]
        band = pl.DataFrame(
            rows,
            schema={
                "period": pl.Date,
                "baseline_mean": pl.Float64,
                "baseline_low": pl.Float64,
                "baseline_high": pl.Float64,
            },
        )
    trend = None
    if assessment.slope.status == "ok" and assessment.slope.slope is not None:
        trend = pl.DataFrame(
            {"slope": [assessment.slope.slope], "intercept": [assessment.slope.intercept]}
        )
    if band is None and trend is None:
        return None, assessment
    return Overlay(
        baseline=band,
        trend=trend,
        baseline_label="baseline (±2 robust SD)",
        trend_label="Sen trend",
    ), assessment


def warnings_for(
    service: IndicatorService,
    definitions: Sequence[IndicatorDefinition],
    *,
    organisations: Sequence[str] | None,
    dimension: str = "country",
) -> list[AlertCandidate]:
    """Early-warning candidates for every record-based indicator where a rise is a concern."""
    candidates: list[AlertCandidate] = []
    for definition in definitions:
        if definition.status != "active" or definition.source != "records":
            continue
        if definition.higher_is == "better" or definition.breakdown:
            continue
        result = service.result(definition, organisations=organisations, by=[dimension])
        if not result.available or result.data.is_empty():
            continue
        frame = result.data.select("period", dimension, "value").drop_nulls(dimension)
        candidates += early_warning(
            definition.id,
            frame,
            dimension=dimension,
            period=definition.period,
            baseline=Baseline(periods=definition.baseline_window()),
        )
    return candidates
