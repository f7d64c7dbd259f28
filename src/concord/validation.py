"""Turning pydantic validation errors into lines a data steward can read."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per problem: ``[prefix: ]path.to.field: message``."""
    lead = f"{prefix}: " if prefix else ""
    return [
        f"{lead}{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
        for err in exc.errors()
    ]
