"""``concord keys``: Manage field-encryption keys (rotation re-encrypts without downtime)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Manage field-encryption keys (rotation re-encrypts without downtime).",
    no_args_is_help=True,
)
