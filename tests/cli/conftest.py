from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from concord.cli.main import main
from concord.config import get_settings


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every CLI test gets its own SQLite database and key directory."""
    monkeypatch.setenv("CONCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CONCORD_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("COLUMNS", "200")  # wide tables: assertions should not meet wrapping
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``concord ARGS...``; returns (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run
