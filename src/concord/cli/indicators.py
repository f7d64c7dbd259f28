"""``concord indicators``: list the shared indicators, show one, load a population table."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from concord.cli.common import VocabularyOption, console, migrated_engine, vocabulary_from
from concord.db import session_scope
from concord.indicators.compute import MEASURES, IndicatorResult, compute
from concord.indicators.definitions import (
    IndicatorDefinition,
    IndicatorRegistry,
    default_registry,
)
from concord.indicators.frame import load_batch_quality, load_frame
from concord.indicators.population import (
    population_from_database,
    read_population_csv,
    store_population,
)
from concord.indicators.schedule import load_release_schedule
from concord.vocab.model import Vocabulary

app = typer.Typer(
    help="Shared indicators: the same numbers, computed the same way, everywhere.",
    no_args_is_help=True,
)

#: Eight heights, lowest first: one character per period in the terminal.
SPARKS = "▁▂▃▄▅▆▇█"
NOT_RECORDED = "(not recorded)"


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


DefinitionsOption = Annotated[
    Path | None,
    typer.Option(
        "--definitions",
        help="A YAML file or directory of your own indicator definitions (added to the shipped).",
        exists=True,
    ),
]


def _echo_json(document: object) -> None:
    # Plain echo, not Rich: machine output must not be wrapped or highlighted.
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@app.command("list")
def list_indicators(
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.TABLE
    ),
    definitions: DefinitionsOption = None,
    vocabulary: VocabularyOption = None,
) -> None:
    """List the indicators this node knows (shipped, and yours with --definitions)."""
    registry = _registry(definitions, vocabulary_from(vocabulary))
    if output is OutputFormat.JSON:
        _echo_json([d.model_dump(mode="json") for d in registry])
        return
    table = Table(title=f"Indicators ({len(registry)})")
    for column in ("id", "name", "kind", "period", "status"):
        table.add_column(column)
    for d in registry:
        status = "planned" if d.status == "planned" else ""
        table.add_row(d.id, Text(d.name), d.kind, d.period, status)
    console.print(table)


@app.command("show")
def show(
    indicator: Annotated[str, typer.Argument(help="Indicator id (see `concord indicators list`).")],
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Break down by (repeatable): country, ...")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="Only this country (FR or country.fr).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Received on or after (YYYY-MM-DD).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Received on or before.")] = None,
    periods: Annotated[int, typer.Option(min=1, max=36, help="Latest periods in the table.")] = 6,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.TABLE,
    definitions: DefinitionsOption = None,
    vocabulary: VocabularyOption = None,
) -> None:
    """Compute one indicator over this node's records: latest periods and a sparkline."""
    vocab = vocabulary_from(vocabulary)
    definition = _registry(definitions, vocab).get(indicator)
    result = _compute(definition, vocab, by or [], country, org, _day(start), _day(end))
    if output is OutputFormat.JSON:
        _echo_json(result.to_dict())
    elif output is OutputFormat.CSV:
        typer.echo(result.data.write_csv(), nl=False)
    else:
        render(result, vocab, periods=periods)


def _registry(definitions: Path | None, vocabulary: Vocabulary) -> IndicatorRegistry:
    """Shipped, stored in this node's database, and from --definitions."""
    with session_scope(migrated_engine()) as session:
        return default_registry(definitions, vocabulary, session)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date like 2024-01-31") from None


def _compute(
    definition: IndicatorDefinition,
    vocab: Vocabulary,
    by: list[str],
    country: str | None,
    org: str | None,
    start: date | None,
    end: date | None,
) -> IndicatorResult:
    engine = migrated_engine()
    filters: dict[str, str] = {}
    if country:
        filters["country"] = country
    if org:
        filters["source_org"] = org
    with session_scope(engine) as session:
        population = population_from_database(session)
    needs_records = definition.source == "records" and definition.status == "active"
    frame = (
        load_frame(
            engine, organisations=[org] if org else None, received_from=start, received_to=end
        )
        if needs_records
        else pl.DataFrame()
    )
    batches = load_batch_quality(engine) if definition.source == "batches" else None
    releases = load_release_schedule(engine) if definition.source == "releases" else None
    return compute(
        definition,
        frame,
        vocab,
        by=by,
        filters=filters,
        start=start,
        end=end,
        batches=batches,
        population=population,
        releases=releases,
    )


def render(result: IndicatorResult, vocabulary: Vocabulary, *, periods: int) -> None:
    """The definition, then one row per series: its latest periods and a sparkline of all."""
    d = result.definition
    console.print(f"[bold]{escape(d.name)}[/]  ({d.id} v{d.version}, {d.kind}, per {d.period})")
    console.print(Text(d.description))
    min_cell = d.disclosure.min_cell
    console.print(
        f"Unit: {d.unit_label()} · vocabulary {result.vocabulary_version} · "
        f"{result.suppressed_cells:,} cell(s) suppressed"
        + (f" (fewer than {min_cell} records)" if min_cell else "")
    )
    if not result.available:
        console.print(Text(result.reason or "not available", style="yellow"))
        return
    if not result.data.height:
        console.print("[yellow]No records match: nothing to show.[/]")
    else:
        console.print(_table(result, vocabulary, periods))
    for caveat in result.caveats:
        console.print(Text(f"• {caveat}"), style="dim")


def _table(result: IndicatorResult, vocabulary: Vocabulary, periods: int) -> Table:
    data = result.data
    groups = [c for c in data.columns if c not in ("period", *MEASURES)]
    all_periods = data["period"].unique().sort().to_list()
    shown = all_periods[-periods:]
    fmt = _formatter(result)
    table = Table(title=f"{result.definition.name}: latest {len(shown)} of {len(all_periods)}")
    for name in groups:
        table.add_column(name)
    for day in shown:
        table.add_column(_period_label(day, result.definition.period), justify="right")
    table.add_column("trend (all periods)")
    series = data.partition_by(groups, as_dict=False, maintain_order=True) if groups else [data]
    series.sort(key=lambda s: -(s["numerator"].sum() or 0))
    for part in series:
        by_period = {row["period"]: row for row in part.iter_rows(named=True)}
        cells = [_label(part[name][0], name, vocabulary) for name in groups]
        cells += [fmt(by_period.get(day), result.definition.disclosure.min_cell) for day in shown]
        values = [by_period[p]["value"] if p in by_period else None for p in all_periods]
        table.add_row(*cells, sparkline(values))
    return table


def _formatter(result: IndicatorResult) -> Callable[[dict[str, Any] | None, int], Text]:
    kind = result.definition.kind

    def fmt(row: dict[str, Any] | None, min_cell: int) -> Text:
        if row is None:
            return Text("–", style="dim")
        if row["suppressed"]:
            return Text(f"<{min_cell}", style="dim italic")
        value = row["value"]
        if not isinstance(value, float):
            return Text("–", style="dim")
        if kind == "count":
            return Text(f"{value:,.0f}")
        if kind == "share":
            return Text(f"{value:.1f}%")
        return Text(f"{value:,.2f}" if kind == "rate" else f"{value:,.1f}")

    return fmt


def _period_label(day: date, period: str) -> str:
    if period == "year":
        return str(day.year)
    if period == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return day.strftime("%Y-%m")


def _label(value: object, dimension: str, vocabulary: Vocabulary) -> Text:
    if value is None:
        return Text(NOT_RECORDED, style="dim")
    concept = vocabulary.get(str(value))
    return Text(concept.label("en") if concept else str(value))


def sparkline(values: Sequence[float | None]) -> str:
    """``▁▂▃▅▇``: one character per period, scaled between the series' own min and max.

    A period without a value (suppressed, or no records) is a space: a gap, never a low bar
    that would pass for a real small number.
    """
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    top = len(SPARKS) - 1
    return "".join(
        " " if v is None else SPARKS[round((v - low) / span * top) if span else top // 2]
        for v in values
    )


@app.command("load-population")
def load_population(
    file: Annotated[Path, typer.Argument(help="CSV with country,year,children.", exists=True)],
    source: Annotated[
        str | None, typer.Option(help="Where the figures come from (shown with every rate).")
    ] = None,
    vocabulary: VocabularyOption = None,
) -> None:
    """Load a child population table (the denominator of per-100,000-children rates)."""
    table = read_population_csv(file, vocabulary_from(vocabulary), source=source)
    with session_scope(migrated_engine()) as session:
        stored = store_population(session, table)
    console.print(f"{stored:,} country-year figure(s) loaded from {escape(table.source)}")
