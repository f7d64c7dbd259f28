"""What every command shares: consoles, the error boundary, the vocabulary and database options.

Why here: commands stay thin (parse, call a service function, render), and a ConcordError
becomes the same one-line message and exit status everywhere.
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from concord.config import get_settings
from concord.db import create_db_engine, upgrade_database
from concord.errors import InputError
from concord.protect.audit import AuditTrail
from concord.vocab.loader import load_vocabulary, shipped_vocabulary
from concord.vocab.model import Vocabulary

# soft_wrap: messages with paths must stay on one line (people grep and copy them).
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

VocabularyOption = Annotated[
    Path | None,
    typer.Option(
        "--vocabulary",
        help="Directory of a vocabulary (vocabulary.yaml + schemes/); default: the shipped one.",
        file_okay=False,
        exists=True,
    ),
]


def vocabulary_from(directory: Path | None) -> Vocabulary:
    """The vocabulary a command works with: a user's directory, or the shipped one."""
    return load_vocabulary(directory) if directory else shipped_vocabulary()


def migrated_engine() -> Engine:
    """The configured database, migrated to the latest schema."""
    engine = create_db_engine(get_settings().database_url)
    upgrade_database(engine)
    return engine


def cli_actor() -> str:
    """Who the audit trail names for a command run from a shell: the operating-system user.

    Why not a Concord user: the CLI is for operators with access to the machine and its key
    directory; what they do is still recorded, under their system account.
    """
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = "unknown"
    return f"cli:{name}"


def audit_trail() -> AuditTrail:
    """The node's audit trail, keyed from the configured key directory."""
    return AuditTrail.from_key_dir(get_settings().key_dir)


def parse_date(value: str, option: str) -> date:
    """A ``YYYY-MM-DD`` option value, or an error naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option}: {value!r} is not a date like 2026-03-31") from None
