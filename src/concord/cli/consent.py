"""``concord consent``: Record and check consent, capacity assessments and harm exceptions."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Record and check consent, capacity assessments and harm exceptions.", no_args_is_help=True
)
