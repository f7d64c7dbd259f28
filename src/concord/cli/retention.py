"""``concord retention``: Retention rules, and deleting or anonymising what has expired."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Retention rules, and deleting or anonymising what has expired.", no_args_is_help=True
)
