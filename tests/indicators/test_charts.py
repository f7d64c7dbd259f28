"""Charts: valid Vega-Lite, the required statements on every chart, suppressed cells never shown."""

from __future__ import annotations

import json
import math
import pathlib
from datetime import date
from typing import Any

import altair as alt
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.indicators.charts import (
    ChartContext,
    Overlay,
    Spec,
    breakdown_bars,
    render_png,
    render_svg,
    small_multiples,
    time_series,
)
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

CTX = ChartContext(
    indicator_id="reports_by_abuse_type",
    indicator_name="Reports by abuse type",
    definition_text=(
        "Reports received in the period whose abuse type is the concept or a narrower one."
    ),
    unit="reports",
    vocabulary_version="2025.1",
    suppressed_cells=2,
    period="month",
    higher_is="worse",
    min_cell_size=5,
)
SCHEMA = {
    "period": pl.Date,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
    "value": pl.Float64,
    "suppressed": pl.Boolean,
}
# A suppressed cell's counts: they must appear nowhere in a spec, not even in unused fields.
SECRET_NUMERATOR, SECRET_DENOMINATOR = 3, 987_654_321


def month(i: int) -> date:
    return date(2024 + i // 12, i % 12 + 1, 1)


def make_result(
    countries: list[str | None] | None = None,
    months: int = 8,
    suppressed: set[tuple[str | None, int]] | None = None,
) -> pl.DataFrame:
    """A monthly result; ``suppressed`` holds (country, month index) cells to suppress."""
    hidden = suppressed or set()
    rows: list[dict[str, Any]] = []
    for c in countries if countries is not None else [None]:
        for i in range(months):
            s = (c, i) in hidden
            row: dict[str, Any] = {
                "period": month(i),
                "numerator": SECRET_NUMERATOR if s else 10 + i,
                "denominator": SECRET_DENOMINATOR if s else 1000,
                "value": None if s else float(10 + i),
                "suppressed": s,
            }
            if countries is not None:
                row["country"] = c
            rows.append(row)
    schema = dict(SCHEMA)
    if countries is not None:
        schema["country"] = pl.String
    return pl.DataFrame(rows, schema=schema)


def assert_valid(spec: Spec) -> None:
    """Valid Vega-Lite, and JSON that survives a round trip (no NaN, no dates)."""
    alt.TopLevelSpec.validate(spec)  # the Vega-Lite schema Altair ships; raises if invalid
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    assert "datasets" not in spec


def caption(spec: Spec) -> str:
    title = spec["title"]
    return " ".join([title["text"], *title["subtitle"]])


def data_values(spec: Spec) -> list[dict[str, Any]]:
    data = spec.get("data") or spec.get("spec", {}).get("data")
    assert data is not None and "values" in data, "data must be inline"
    values: list[dict[str, Any]] = data["values"]
    return values


def layers(spec: Spec) -> dict[str, dict[str, Any]]:
    inner = spec.get("spec", spec)
    return {layer["name"]: layer for layer in inner["layer"]}


def assert_states_context(spec: Spec, ctx: ChartContext = CTX) -> None:
    text = caption(spec)
    assert ctx.definition_text in " ".join(text.split())
    assert f"Vocabulary version {ctx.vocabulary_version}" in text
    assert "suppressed (fewer than 5)" in text
    assert spec["usermeta"]["concord"]["vocabulary_version"] == ctx.vocabulary_version


def assert_suppressed_not_plotted(spec: Spec, result: pl.DataFrame, key: str | None) -> None:
    hidden = result.filter(pl.col("suppressed").fill_null(value=True))
    cells = {(r["period"].isoformat(), r.get(key) if key else None) for r in hidden.to_dicts()}
    for datum in data_values(spec):
        if datum["layer"] in ("baseline", "trend"):
            continue
        cell = (datum["period"], datum["series"] if key else None)
        if cell in cells or datum["layer"] == "suppressed":
            assert datum["value"] is None, datum
            assert datum["numerator_label"] == "—" and datum["denominator_label"] == "—"
    assert str(SECRET_DENOMINATOR) not in json.dumps(spec)


def test_time_series_is_valid_and_states_definition_vocabulary_and_suppression() -> None:
    result = make_result(suppressed={(None, 3)})
    spec = time_series(result, CTX)
    assert_valid(spec)
    assert_states_context(spec)
    assert "2 cells suppressed (fewer than 5)" in caption(spec)
    assert set(layers(spec)) == {"value-line", "value-points", "suppressed"}
    assert_suppressed_not_plotted(spec, result, None)


def test_suppressed_period_is_a_marked_gap_never_a_zero() -> None:
    spec = time_series(make_result(suppressed={(None, 3)}), CTX)
    by_layer = layers(spec)
    # The line breaks at nulls: Vega-Lite's "show" mode would draw them as zero.
    assert by_layer["value-line"]["mark"]["invalid"] == "break-paths-filter-domains"
    rule = by_layer["suppressed"]
    assert rule["mark"]["type"] == "rule"
    assert rule["transform"] == [{"filter": {"field": "layer", "oneOf": ["suppressed"]}}]
    marked = [d for d in data_values(spec) if d["layer"] == "suppressed"]
    assert [(d["period"], d["note"], d["value"]) for d in marked] == [
        ("2024-04-01", "suppressed: fewer than 5", None)
    ]
    assert all(d["value"] != 0 for d in data_values(spec))


def test_a_value_flagged_suppressed_is_hidden_even_if_the_input_kept_it() -> None:
    result = make_result().with_columns(
        suppressed=pl.when(pl.col("period") == month(2)).then(None).otherwise(pl.col("suppressed"))
    )
    result = result.with_columns(
        suppressed=pl.when(pl.col("period") == month(5)).then(True).otherwise(pl.col("suppressed"))
    )
    spec = time_series(result, CTX)
    hidden = {d["period"] for d in data_values(spec) if d["layer"] == "suppressed"}
    # A null flag counts as suppressed: when we cannot tell it is safe, it is not shown.
    assert hidden == {"2024-03-01", "2024-06-01"}
    assert_suppressed_not_plotted(spec, result, None)


def test_non_finite_values_are_gaps_and_keep_the_json_valid() -> None:
    result = make_result().with_columns(
        value=pl.when(pl.col("period") == month(1))
        .then(float("nan"))
        .when(pl.col("period") == month(2))
        .then(float("inf"))
        .otherwise(pl.col("value"))
    )
    spec = time_series(result, CTX)
    assert_valid(spec)
    missing = [d for d in data_values(spec) if d["layer"] == "missing"]
    assert [d["period"] for d in missing] == ["2024-02-01", "2024-03-01"]
    assert "Gaps in the line" in caption(spec)


def test_baseline_band_and_trend_line_are_layers_when_given() -> None:
    result = make_result(["KE", "UG"], suppressed={("KE", 3)})
    overlay = Overlay(
        baseline=pl.DataFrame(
            {"country": ["KE", "UG"], "baseline_low": [8.0, 9.0], "baseline_high": [14.0, 15.0]}
        ),
        trend=pl.DataFrame(
            {"country": ["KE", "UG"], "slope": [1.0, 0.5], "intercept": [10.0, 9.0]}
        ),
        baseline_label="baseline: first 6 months",
    )
    spec = time_series(result, CTX, overlay=overlay, group="country")
    assert_valid(spec)
    by_layer = layers(spec)
    assert by_layer["baseline"]["mark"]["type"] == "area"
    assert by_layer["baseline"]["encoding"]["y2"] == {"field": "high"}
    assert by_layer["trend"]["mark"]["strokeDash"] == [6, 4]
    assert "baseline-mean" not in by_layer  # no mean given, no mean line
    values = data_values(spec)
    band = [d for d in values if d["layer"] == "baseline" and d["series"] == "KE"]
    # A per-series band spans every period of that series.
    assert len(band) == 8 and {(d["low"], d["high"]) for d in band} == {(8.0, 14.0)}
    trend = {
        d["period"]: d["fitted"] for d in values if d["layer"] == "trend" and d["series"] == "UG"
    }
    # t counts periods from the series' first period: intercept + slope * t.
    assert trend["2024-01-01"] == 9.0 and trend["2024-08-01"] == 9.0 + 0.5 * 7
    assert "baseline: first 6 months" in caption(spec) and "Dashed line: trend" in caption(spec)
    assert spec["layer"][0]["name"] == "baseline"  # drawn first, under the data


def test_without_overlay_there_is_no_baseline_layer() -> None:
    spec = time_series(make_result(), CTX)
    assert "baseline" not in layers(spec) and "trend" not in layers(spec)
    assert "Shaded band" not in caption(spec)


def test_per_period_baseline_and_fitted_trend() -> None:
    result = make_result(months=4)
    overlay = Overlay(
        baseline=pl.DataFrame(
            {
                "period": [month(i) for i in range(4)],
                "baseline_low": [1.0, 2.0, 3.0, float("nan")],
                "baseline_high": [5.0, 6.0, 7.0, 8.0],
                "baseline_mean": [3.0, 4.0, 5.0, 6.0],
            }
        ),
        trend=pl.DataFrame({"period": [month(i) for i in range(4)], "fitted": [1.0, 2, 3, 4]}),
    )
    spec = time_series(result, CTX, overlay=overlay)
    assert_valid(spec)
    assert "baseline-mean" in layers(spec)
    band = [d for d in data_values(spec) if d["layer"] == "baseline"]
    assert [d["low"] for d in band] == [1.0, 2.0, 3.0, None]
    fitted = [d["fitted"] for d in data_values(spec) if d["layer"] == "trend"]
    assert fitted == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        (Overlay(baseline=pl.DataFrame({"baseline_low": [1.0]})), "lacks baseline_high"),
        (
            Overlay(
                baseline=pl.DataFrame(
                    {"region": ["x"], "baseline_low": [1.0], "baseline_high": [2.0]}
                )
            ),
            "region",
        ),
        (Overlay(trend=pl.DataFrame({"slope": [1.0]})), "slope and intercept"),
        (Overlay(trend=pl.DataFrame({"fitted": [1.0]})), "fitted per period"),
        (
            Overlay(
                baseline=pl.DataFrame({"baseline_low": [1.0, 2.0], "baseline_high": [2.0, 3.0]})
            ),
            "which series",
        ),
    ],
)
def test_a_malformed_overlay_is_refused_with_the_reason(overlay: Overlay, message: str) -> None:
    with pytest.raises(InputError, match=message):
        time_series(make_result(), CTX, overlay=overlay)


def test_grouped_time_series_colours_each_series() -> None:
    result = make_result(["UG", "KE", None])
    spec = time_series(result, CTX, group="country")
    assert_valid(spec)
    colour = layers(spec)["value-line"]["encoding"]["color"]
    assert colour["field"] == "series"
    assert colour["scale"]["domain"] == ["KE", "UG", "(unknown)"]


def test_several_rows_per_period_without_a_group_is_refused() -> None:
    with pytest.raises(InputError, match="varies by country"):
        time_series(make_result(["KE", "UG"]), CTX)
    with pytest.raises(InputError, match="no column 'region'"):
        time_series(make_result(["KE"]), CTX, group="region")


def test_a_row_without_a_period_is_refused() -> None:
    result = make_result().with_columns(
        period=pl.when(pl.col("numerator") == 11).then(None).otherwise(pl.col("period"))
    )
    with pytest.raises(InputError) as info:
        time_series(result, CTX)
    assert "'period' is empty in 1 row(s)" in str(info.value)


def test_not_a_result_is_refused_with_every_reason() -> None:
    bad = pl.DataFrame({"period": ["2024-01-01"], "value": [1.0], "country": [3]})
    with pytest.raises(InputError) as info:
        time_series(bad, CTX)
    text = str(info.value)
    assert "'numerator' is missing" in text and "'suppressed' is missing" in text
    assert "'period' has type String" in text and "group column 'country'" in text


def test_small_multiples_has_one_panel_per_country() -> None:
    result = make_result(["UG", "KE"], suppressed={("UG", 2)})
    overlay = Overlay(
        baseline=pl.DataFrame({"baseline_low": [8.0], "baseline_high": [14.0]}),  # for every series
    )
    spec = small_multiples(result, CTX, facet="country", overlay=overlay, columns=2)
    assert_valid(spec)
    assert_states_context(spec)
    assert spec["facet"]["field"] == "series" and spec["facet"]["sort"] == ["KE", "UG"]
    assert spec["columns"] == 2
    assert {"baseline", "value-line", "suppressed"} <= set(layers(spec))
    assert_suppressed_not_plotted(spec, result, "country")
    independent = small_multiples(result, CTX, independent_y=True)
    assert independent["resolve"] == {"scale": {"y": "independent"}}


def breakdown_result() -> pl.DataFrame:
    rows = [
        (month(0), "abuse.grooming", 5, 5.0, False),
        (month(1), "abuse.grooming", 40, 40.0, False),
        (month(1), "abuse.sextortion", 12, 12.0, False),
        (month(1), "abuse.csam", SECRET_NUMERATOR, None, True),
        (month(1), "abuse.other", None, None, False),
    ]
    return pl.DataFrame(
        [
            {
                "period": p,
                "abuse_type": a,
                "numerator": n,
                "denominator": None,
                "value": v,
                "suppressed": s,
            }
            for p, a, n, v, s in rows
        ],
        schema={**SCHEMA, "abuse_type": pl.String},
    )


def label(concept: str) -> str:
    return {"abuse.grooming": "Grooming", "abuse.sextortion": "Sextortion"}.get(concept, concept)


def test_breakdown_bars_latest_period_sorted_with_labels() -> None:
    spec = breakdown_bars(breakdown_result(), CTX, by="abuse_type", labeller=label)
    assert_valid(spec)
    assert_states_context(spec)
    assert "Period: 2024-02." in caption(spec)
    by_layer = layers(spec)
    y = by_layer["bars"]["encoding"]["y"]
    assert y["sort"] == ["Grooming", "Sextortion", "abuse.csam", "abuse.other"]
    assert y["title"] == "abuse type"
    values = {d["series"]: d for d in data_values(spec)}
    assert values["Grooming"]["value"] == 40.0
    assert values["abuse.csam"]["value"] is None
    assert values["abuse.csam"]["note"] == "suppressed: fewer than 5"
    assert values["abuse.other"]["note"] == "no value for this period"
    # Suppressed and empty categories are words at the axis, never a bar.
    assert by_layer["bars"]["transform"] == [{"filter": {"field": "layer", "oneOf": ["value"]}}]
    assert by_layer["suppressed"]["encoding"]["x"] == {"value": 0}


def test_breakdown_bars_for_a_given_period_and_an_absent_one() -> None:
    spec = breakdown_bars(breakdown_result(), CTX, period=month(0))
    assert [d["series"] for d in data_values(spec)] == ["abuse.grooming"]
    assert "Period: 2024-01." in caption(spec)
    with pytest.raises(InputError, match="no rows for period 2023-01-01"):
        breakdown_bars(breakdown_result(), CTX, period=date(2023, 1, 1))


def test_labels_that_collide_keep_their_ids() -> None:
    spec = breakdown_bars(breakdown_result(), CTX, labeller=lambda _: "Abuse")
    series = {d["series"] for d in data_values(spec)}
    assert series == {
        "Abuse (abuse.grooming)",
        "Abuse (abuse.sextortion)",
        "Abuse (abuse.csam)",
        "Abuse (abuse.other)",
    }


def test_empty_result_gives_valid_charts() -> None:
    empty = make_result(["KE"], months=0)
    for spec in (
        time_series(empty, CTX),
        small_multiples(empty, CTX),
        breakdown_bars(empty, CTX, by="country"),
    ):
        assert_valid(spec)
        assert_states_context(spec)


@pytest.mark.parametrize(
    ("kind", "start", "label_text", "axis_format"),
    [("quarter", date(2024, 4, 1), "2024-Q2", "%Y Q%q"), ("year", date(2023, 1, 1), "2023", "%Y")],
)
def test_quarter_and_year_periods_are_named_as_people_name_them(
    kind: str, start: date, label_text: str, axis_format: str
) -> None:
    ctx = ChartContext(
        **{**CTX.__dict__, "period": kind, "suppressed_cells": 0, "min_cell_size": None}
    )
    result = make_result(months=1).with_columns(period=pl.lit(start))
    spec = time_series(result, ctx)
    assert data_values(spec)[0]["period_label"] == label_text
    assert layers(spec)["value-line"]["encoding"]["x"]["axis"]["format"] == axis_format
    assert "No cells suppressed (below the disclosure-control threshold)" in caption(spec)


def test_svg_and_png_render_without_a_browser() -> None:
    spec = time_series(make_result(["KE", "UG"], suppressed={("KE", 3)}), CTX, group="country")
    svg = render_svg(spec)
    assert "<svg" in svg and "Vocabulary version 2025.1" in svg
    png = render_png(spec)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(render_png(spec, scale=1)) < len(png)


def test_rendering_never_fetches_data() -> None:
    spec = {"data": {"url": "https://example.org/data.csv"}, "mark": "point"}
    with pytest.raises(InputError, match="could not be rendered"):
        render_svg(spec)


# --- property: any small result, any mix of suppressed and null, charts stay valid and safe ---

COUNTRIES = ["KE", "UG", "TZ", None]


@st.composite
def results(draw: st.DrawFn) -> pl.DataFrame:
    """Small results with unique (period, country) and anything in the measure columns."""
    countries = draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3, unique=True))
    periods = draw(st.lists(st.integers(0, 30), min_size=0, max_size=6, unique=True))
    floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64))
    counts = st.one_of(st.none(), st.integers(0, 10**9))
    rows = [
        {
            "period": month(i),
            "country": c,
            "numerator": draw(counts),
            "denominator": draw(counts),
            "value": draw(floats),
            "suppressed": draw(st.one_of(st.none(), st.booleans())),
        }
        for c in countries
        for i in periods
    ]
    return pl.DataFrame(rows, schema={**SCHEMA, "country": pl.String})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(result=results(), with_overlay=st.booleans())
def test_any_small_result_gives_valid_charts(result: pl.DataFrame, with_overlay: bool) -> None:
    overlay = (
        Overlay(
            baseline=pl.DataFrame({"baseline_low": [0.0], "baseline_high": [float("inf")]}),
            trend=pl.DataFrame({"slope": [1e308], "intercept": [1e308]}),
        )
        if with_overlay
        else None
    )
    charts = [
        (time_series(result, CTX, overlay=overlay, group="country"), "country"),
        (small_multiples(result, CTX, overlay=overlay), "country"),
        (breakdown_bars(result, CTX, by="country"), "country"),
    ]
    for spec, key in charts:
        assert_valid(spec)
        assert_states_context(spec)
        assert_suppressed_not_plotted(spec, result, key)
        for datum in data_values(spec):
            for field in ("value", "low", "high", "fitted"):
                assert datum.get(field) is None or math.isfinite(datum[field])


# --- the vendored front-end -------------------------------------------------------------------

STATIC = pathlib.Path(__file__).parents[2] / "src" / "concord" / "web" / "ui" / "static" / "vega"


def test_vendored_vega_bundle_is_documented_and_licensed() -> None:
    bundles = sorted(STATIC.glob("vega-bundle-*.min.js"))
    assert len(bundles) == 1
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    assert bundles[0].name in readme
    assert "BSD-3-Clause" in (STATIC / "LICENSE.txt").read_text(encoding="utf-8")
    # The bundle must be for the Vega-Lite version Altair writes specs for.
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    assert f"-vl{major_minor}." in bundles[0].name


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_vendored_bundle_draws_a_chart_offline(tmp_path: pathlib.Path) -> None:
    """The spec we produce, embedded with the vendored files only, draws in a real browser.

    The page also declares short global names, as minified page scripts do, to show the bundle
    keeps its own names to itself.
    """
    from playwright.sync_api import sync_playwright

    spec = time_series(make_result(suppressed={(None, 3)}), CTX)
    bundle = next(STATIC.glob("vega-bundle-*.min.js"))
    page_file = tmp_path / "chart.html"
    page_file.write_text(
        f"""<!doctype html><html><head><meta charset="utf-8">
<script src="{bundle.as_uri()}"></script><script>var n = 1; const t = 2;</script></head>
<body><div id="chart"></div><script>
vegaEmbed("#chart", {json.dumps(spec)}, {{actions: false, renderer: "svg"}})
  .then(() => {{ document.body.dataset.state = "done"; }})
  .catch((e) => {{ document.body.dataset.state = "error: " + e; }});
</script></body></html>""",
        encoding="utf-8",
    )
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_file.as_uri())
            page.wait_for_function("document.body.dataset.state", timeout=20_000)
            assert page.evaluate("document.body.dataset.state") == "done"
            svg = page.inner_html("#chart")
        finally:
            browser.close()
    assert errors == []
    assert "<svg" in svg and "Vocabulary version 2025.1" in svg
