"""Safe YAML reading with messages that name the file and line.

Why a module of its own: the vocabulary, crosswalks and (later) mapping specs and agreements
are all user-editable YAML, and a data steward needs "crosswalk.yaml line 12: ..." rather
than a PyYAML traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from concord.errors import MalformedFileError, UnreadableFileError


def parse_yaml(text: str, *, source: str) -> Any:
    """Parse YAML ``text`` with the safe loader; ``source`` names it in error messages."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source} line {mark.line + 1}, column {mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise MalformedFileError(f"{where}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise MalformedFileError(f"{source}: not valid YAML ({exc})") from exc


def read_yaml(path: Path) -> Any:
    """Read and parse a UTF-8 YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{path}: not UTF-8 text (is it a binary file?)") from exc
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_yaml(text, source=str(path))
