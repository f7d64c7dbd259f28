"""`concord db`, `concord vocab` and `concord demo --no-serve`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from concord.vocab.model import Vocabulary

Run = Callable[..., tuple[int, str, str]]


def test_version_and_help(run_cli: Run) -> None:
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("concord ")
    code, out, _ = run_cli("--help")
    assert code == 0
    for group in ("demo", "db", "vocab"):
        assert group in out


def test_db_upgrade_creates_tables(run_cli: Run) -> None:
    code, out, _ = run_cli("db", "upgrade")
    assert code == 0
    assert "is up to date" in out


def test_vocab_check_load_and_schemes(run_cli: Run, vocabulary: Vocabulary) -> None:
    code, out, _ = run_cli("vocab", "check")
    assert code == 0 and "no integrity problems" in out
    code, out, _ = run_cli("vocab", "load")
    assert code == 0 and "loaded" in out
    code, out, _ = run_cli("vocab", "load")
    assert code == 0 and "already loaded" in out
    code, out, _ = run_cli("vocab", "schemes")
    assert code == 0 and "abuse_type" in out


def test_demo_without_serving_sets_everything_up(
    run_cli: Run, vocabulary: Vocabulary, tmp_path: Path
) -> None:
    data = tmp_path / "demo-data"
    code, out, _ = run_cli("demo", "--no-serve", "--rows", "200", "--data-dir", str(data))
    assert code == 0
    assert f"vocabulary {vocabulary.version}" in out
    for org in ("helpline-fr", "hotline-uk", "ngo-ke", "office-mx", "platform-th", "ngo-my"):
        assert org in out
    code, again, _ = run_cli("demo", "--no-serve", "--rows", "200", "--data-dir", str(data))
    assert code == 0
    assert "(already)" in again  # idempotent: the second run imports nothing


def test_broken_vocabulary_directory_is_a_message_not_a_traceback(
    run_cli: Run, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    (broken / "schemes").mkdir(parents=True)
    (broken / "vocabulary.yaml").write_text("version: 1.0.0\nschemes: [x\n")
    code, _, err = run_cli("vocab", "check", "--vocabulary", str(broken))
    assert code == 2
    assert "vocabulary.yaml line" in err
    assert "Traceback" not in err


def test_bad_database_url_is_a_message(run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from concord.config import get_settings

    monkeypatch.setenv("CONCORD_DATABASE_URL", "definitely not a url")
    get_settings.cache_clear()
    code, _, err = run_cli("db", "upgrade")
    assert code == 2
    assert "is not a database URL" in err


def test_unknown_command_is_a_usage_error(run_cli: Run) -> None:
    code, _, err = run_cli("nonsense")
    assert code == 2
    assert "No such command" in err
