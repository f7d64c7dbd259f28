"""``concord admin``: Organisations, users, roles, purposes, training and API tokens."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Organisations, users, roles, purposes, training and API tokens.", no_args_is_help=True
)
