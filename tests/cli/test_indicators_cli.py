"""`concord indicators list|show|load-population` from the command line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from concord.cli.indicators import SPARKS, sparkline
from concord.indicators.definitions import shipped_definitions
from concord.synth import generate_partners

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def ingested(run_cli: Run, tmp_path: Path) -> None:
    """One synthetic partner (helpline-fr) imported into the test's own database."""
    folder = tmp_path / "data"
    generate_partners(folder, rows_per_org=400, seed=3, organisations=["helpline-fr"])
    code, _, err = run_cli(
        "ingest",
        str(folder / "helpline-fr.csv"),
        "--mapping",
        str(folder / "helpline-fr.mapping.yaml"),
    )
    assert code == 0, err


def test_list_shows_every_shipped_indicator(run_cli: Run) -> None:
    code, out, _ = run_cli("indicators", "list")
    assert code == 0
    for d in shipped_definitions():
        assert d.id in out
    code, out, _ = run_cli("indicators", "list", "--format", "json")
    listed = json.loads(out)
    assert {d["id"] for d in listed} == {d.id for d in shipped_definitions()}


def test_show_on_an_empty_database_says_so(run_cli: Run) -> None:
    code, out, err = run_cli("indicators", "show", "reports.total")
    assert code == 0, err
    assert "No records match" in out
    assert "vocabulary 1.0.0" in out


def test_show_renders_the_latest_periods_and_a_sparkline(run_cli: Run, ingested: None) -> None:
    code, out, err = run_cli("indicators", "show", "reports.self_generated_share", "--periods", "3")
    assert code == 0, err
    assert "reports.self_generated_share v1" in out
    assert "vocabulary 1.0.0" in out and "cell(s) suppressed" in out
    assert "latest 3 of" in out and "2026 Q3" in out
    assert any(mark in out for mark in SPARKS)
    assert "• Reports that do not record" in out  # caveats travel with the numbers
    code, out, _ = run_cli("indicators", "show", "reports.abuse_type", "--country", "FR")
    assert code == 0 and "sexual extortion of children" in out  # labels, not ids


def test_show_json_and_csv(run_cli: Run, ingested: None) -> None:
    code, out, err = run_cli(
        "indicators", "show", "reports.total", "--by", "country", "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["indicator"] == "reports.total" and document["by"] == ["country"]
    assert document["vocabulary_version"] == "1.0.0"
    suppressed = [r for r in document["rows"] if r["suppressed"]]
    assert document["suppressed_cells"] == len(suppressed) > 0
    assert all(r["value"] is None and r["numerator"] is None for r in suppressed)
    published = sum(r["numerator"] for r in document["rows"] if not r["suppressed"])
    assert 0 < published < 400
    code, out, _ = run_cli(
        "indicators", "show", "reports.total", "--org", "helpline-fr", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["period", "numerator", "denominator", "value", "suppressed"]
    assert rows[0]["period"] == "2023-01-01"


def test_show_reports_bad_requests(run_cli: Run) -> None:
    code, _, err = run_cli("indicators", "show", "reports.nothing")
    assert code == 2 and "no indicator 'reports.nothing'" in err
    code, _, err = run_cli("indicators", "show", "reports.total", "--by", "colour")
    assert code == 2 and "cannot be broken down by 'colour'" in err
    code, _, err = run_cli("indicators", "show", "reports.total", "--country", "Atlantis")
    assert code == 2 and "'Atlantis' is not a concept" in err
    code, _, err = run_cli("indicators", "show", "reports.total", "--from", "yesterday")
    assert code == 2 and "is not a date" in err


def test_the_release_schedule_indicator_is_computed(run_cli: Run) -> None:
    code, out, _ = run_cli("indicators", "show", "collaboration.releases_on_schedule")
    assert code == 0
    assert "not available yet" not in out and "Releases delivered on schedule" in out


def test_codes_mapped_reads_the_import_reports(run_cli: Run, ingested: None) -> None:
    code, out, err = run_cli("indicators", "show", "collaboration.codes_mapped", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)["rows"]
    assert row["source_org"] == "helpline-fr" and 50 < row["value"] <= 100


def test_load_population_replaces_the_illustrative_figures(
    run_cli: Run, ingested: None, tmp_path: Path
) -> None:
    code, out, _ = run_cli("indicators", "show", "reports.per_100k_children")
    assert code == 0 and "illustrative" in out
    table = tmp_path / "children.csv"
    table.write_text("country,year,children\nFR,2024,100000\nFR,2025,100000\n", encoding="utf-8")
    code, out, err = run_cli(
        "indicators", "load-population", str(table), "--source", "Made-up office 2025"
    )
    assert code == 0, err
    assert "2 country-year figure(s) loaded from Made-up office 2025" in out
    code, out, _ = run_cli("indicators", "show", "reports.per_100k_children", "--format", "json")
    document = json.loads(out)
    assert "Child population: Made-up office 2025." in document["caveats"]
    france = [r for r in document["rows"] if r["country"] == "country.fr" and not r["suppressed"]]
    assert france and all(r["denominator"] in (100_000, None) for r in france)
    bad = tmp_path / "bad.csv"
    bad.write_text("country,year,children\nXX,2024,1\n", encoding="utf-8")
    code, _, err = run_cli("indicators", "load-population", str(bad))
    assert code == 2 and "'XX' is not a country code" in err


def test_sparkline_scales_each_series_and_leaves_gaps() -> None:
    assert sparkline([1.0, 2.0, 3.0, None, 8.0]) == "▁▂▃ █"
    assert sparkline([5.0, 5.0]) == "▄▄"
    assert sparkline([None, None]) == "  "
    assert sparkline([]) == ""
