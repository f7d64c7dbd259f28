"""docs/data-protection.md must say what the code does: its roles table is compared with
ROLE_PERMISSIONS, and its purposes table with the shipped purposes."""

from __future__ import annotations

from pathlib import Path

from concord.protect.purposes import DEFAULT_PURPOSES
from concord.protect.roles import ROLE_PERMISSIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-protection.md"


def _rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
    ]


def test_roles_table_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- roles-table:start -->")[1].split("<!-- roles-table:end -->")[0]
    documented = {row[0]: row[1] for row in _rows(table)[1:]}
    expected = {
        role.value: ", ".join(sorted(p.value for p in permissions))
        for role, permissions in ROLE_PERMISSIONS.items()
    }
    assert documented == expected


def test_purposes_table_matches_the_shipped_purposes() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = {row[0]: row[1:] for row in _rows(text) if len(row) == 3}
    for spec in DEFAULT_PURPOSES:
        assert rows[spec.slug] == [
            "yes" if spec.record_level else "no",
            "yes" if spec.identifying else "no",
        ], spec.slug
