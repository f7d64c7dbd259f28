"""``concord audit``: Verify and read the tamper-evident audit trail."""

from __future__ import annotations

import typer

app = typer.Typer(help="Verify and read the tamper-evident audit trail.", no_args_is_help=True)
