"""Entry point of the ``concord`` command; registers each command group and the error boundary."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from concord import __version__
from concord.cli.common import err_console
from concord.errors import ConcordError

app = typer.Typer(
    name="concord",
    help="Concord: a shared language and safe sharing for organisations fighting online child "
    "sexual exploitation and abuse. Settings come from CONCORD_* environment variables "
    "(CONCORD_DATABASE_URL, CONCORD_KEY_DIR, ...).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"concord {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Concord command line."""


def _register() -> None:
    """Attach every command group. Imported here so ``concord --help`` lists them all."""
    from concord.cli import (
        admin,
        agreement,
        alerts,
        audit,
        bundle,
        consent,
        crosswalk,
        db,
        demo,
        federation,
        indicators,
        ingest,
        keys,
        lint,
        release,
        retention,
        synth,
        vocab,
    )

    app.add_typer(admin.app, name="admin")
    app.add_typer(agreement.app, name="agreement")
    app.add_typer(alerts.app, name="alerts")
    app.add_typer(audit.app, name="audit")
    app.add_typer(bundle.app, name="bundle")
    app.add_typer(consent.app, name="consent")
    app.add_typer(crosswalk.app, name="crosswalk")
    app.add_typer(federation.app, name="federation")
    app.add_typer(keys.app, name="keys")
    app.add_typer(release.app, name="release")
    app.add_typer(retention.app, name="retention")
    app.add_typer(db.app, name="db")
    app.add_typer(vocab.app, name="vocab")
    app.add_typer(indicators.app, name="indicators")
    app.command("demo")(demo.demo)
    app.command("ingest")(ingest.ingest)
    app.command("batches")(ingest.batches)
    app.command("quality")(ingest.quality)
    app.add_typer(ingest.quarantine_app, name="quarantine")
    app.command("lint")(lint.lint)
    app.command("synth")(synth.synth)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a ConcordError becomes one readable message and a non-zero exit status.

    Usage errors (unknown command, bad option) are reported by Typer itself with exit status 2.
    """
    try:
        app(args=argv, prog_name="concord")
    except ConcordError as exc:
        err_console.print("[bold red]error:[/]", escape(str(exc)), highlight=False)
        sys.exit(exc.exit_code)
