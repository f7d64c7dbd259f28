"""Per-organisation envelope keys: versions, wrapping, retirement and damaged key files."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from concord.errors import ConfigurationError, DecryptionError, InputError, NotFoundError
from concord.protect.keyring import DEK_BYTES, Keyring


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_version_one_with_owner_only_files(keyring: Keyring) -> None:
    assert keyring.versions("ngo-ke") == []
    assert not keyring.exists("ngo-ke")
    assert keyring.current_version("ngo-ke") == 1
    dek_file = keyring.key_dir / "dek-ngo-ke.json"
    kek_file = keyring.key_dir / "kek-ngo-ke.key"
    assert _mode(dek_file) == 0o600
    assert _mode(kek_file) == 0o600
    assert len(keyring.dek("ngo-ke", 1)) == DEK_BYTES
    assert keyring.organisations() == ["ngo-ke"]


def test_keyring_file_holds_only_wrapped_keys(keyring: Keyring) -> None:
    dek = keyring.dek("ngo-ke", keyring.current_version("ngo-ke"))
    text = (keyring.key_dir / "dek-ngo-ke.json").read_text()
    assert dek.hex() not in text
    assert keyring.key_dir.joinpath("kek-ngo-ke.key").read_text().strip() not in text


def test_add_version_makes_a_new_current_key_and_keeps_the_old(keyring: Keyring) -> None:
    first = keyring.dek("hotline-uk", keyring.current_version("hotline-uk"))
    assert keyring.add_version("hotline-uk") == 2
    assert keyring.current_version("hotline-uk") == 2
    assert keyring.dek("hotline-uk", 1) == first
    assert keyring.dek("hotline-uk", 2) != first
    listed = keyring.versions("hotline-uk")
    assert [(v.version, v.current, v.retired) for v in listed] == [
        (1, False, False),
        (2, True, False),
    ]
    assert listed[0].created_at <= listed[1].created_at


def test_add_version_on_a_new_organisation_is_version_one(keyring: Keyring) -> None:
    assert keyring.add_version("office-mx") == 1


def test_keys_survive_a_new_process(keyring: Keyring) -> None:
    keyring.add_version("ngo-my")
    keyring.add_version("ngo-my")
    again = Keyring(keyring.key_dir)
    assert again.current_version("ngo-my") == 2
    assert again.dek("ngo-my", 1) == keyring.dek("ngo-my", 1)
    assert again.dek("ngo-my", 2) == keyring.dek("ngo-my", 2)


def test_a_rotation_made_elsewhere_is_seen_at_once(keyring: Keyring) -> None:
    web = Keyring(keyring.key_dir)
    assert web.current_version("platform-th") == 1
    keyring.add_version("platform-th")  # e.g. `concord keys rotate` in another process
    assert web.current_version("platform-th") == 2


def test_organisations_have_separate_keys(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    keyring.current_version("ngo-my")
    assert keyring.dek("ngo-ke", 1) != keyring.dek("ngo-my", 1)
    assert keyring.organisations() == ["ngo-ke", "ngo-my"]


def test_concurrent_writers_never_lose_a_version(keyring: Keyring) -> None:
    keyring.current_version("hotline-es")
    results: list[int] = []

    def add() -> None:
        results.append(Keyring(keyring.key_dir).add_version("hotline-es"))

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(2, 10))
    fresh = Keyring(keyring.key_dir)
    assert [v.version for v in fresh.versions("hotline-es")] == list(range(1, 10))
    assert len({fresh.dek("hotline-es", v) for v in range(1, 10)}) == 9
    assert not list(keyring.key_dir.glob(".*.tmp"))


def test_the_current_version_cannot_be_retired(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    with pytest.raises(InputError, match="current encryption key"):
        keyring.retire("ngo-ke", 1)
    assert keyring.dek("ngo-ke", 1)


def test_retiring_destroys_the_old_key(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    keyring.add_version("ngo-ke")
    keyring.retire("ngo-ke", 1)
    keyring.retire("ngo-ke", 1)  # twice is harmless
    with pytest.raises(DecryptionError, match="retired"):
        keyring.dek("ngo-ke", 1)
    with pytest.raises(DecryptionError, match="retired"):
        Keyring(keyring.key_dir).dek("ngo-ke", 1)
    stored = json.loads((keyring.key_dir / "dek-ngo-ke.json").read_text())
    assert stored["versions"][0]["wrapped"] is None
    assert keyring.versions("ngo-ke")[0].retired
    assert keyring.add_version("ngo-ke") == 3  # numbers are never reused


def test_unknown_versions_and_organisations(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    with pytest.raises(NotFoundError):
        keyring.retire("ngo-ke", 7)
    with pytest.raises(DecryptionError, match="no encryption key version 7"):
        keyring.dek("ngo-ke", 7)
    with pytest.raises(DecryptionError, match="restore the key directory"):
        keyring.dek("nobody", 1)


@pytest.mark.parametrize("slug", ["", "NGO", "../etc", "a/b", "x" * 65, "-lead"])
def test_organisation_slugs_are_validated(keyring: Keyring, slug: str) -> None:
    with pytest.raises(ConfigurationError, match="not a valid organisation slug"):
        keyring.current_version(slug)


def test_rotation_mark_is_set_with_the_new_version_and_resumed(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    assert keyring.begin_rotation("ngo-ke", "cli:steward") == (2, False)
    mark = keyring.rotation_in_progress("ngo-ke")
    assert mark is not None
    assert (mark.to_version, mark.started_by) == (2, "cli:steward")
    assert keyring.begin_rotation("ngo-ke", "cli:other") == (2, True)  # no version 3
    keyring.finish_rotation("ngo-ke")
    assert keyring.rotation_in_progress("ngo-ke") is None
    with pytest.raises(NotFoundError, match="nothing to rotate"):
        keyring.begin_rotation("office-mx", "cli:steward")


# -- damaged key directories ------------------------------------------------------------------


def _damage(keyring: Keyring, edit: object) -> Keyring:
    """Make ngo-ke's keyring, apply ``edit`` to its JSON (or raw text), return a new reader."""
    keyring.current_version("ngo-ke")
    keyring.add_version("ngo-ke")
    path = keyring.key_dir / "dek-ngo-ke.json"
    if isinstance(edit, str):
        path.write_text(edit)
    else:
        data = json.loads(path.read_text())
        assert callable(edit)
        edit(data)
        path.write_text(json.dumps(data))
    return Keyring(keyring.key_dir)


def _flip_wrapped(data: dict[str, list[dict[str, str]]]) -> None:
    wrapped = data["versions"][0]["wrapped"]
    data["versions"][0]["wrapped"] = wrapped[:-2] + ("00" if wrapped[-2:] != "00" else "01")


def _swap_wrapped(data: dict[str, list[dict[str, str]]]) -> None:
    first, second = data["versions"]
    first["wrapped"], second["wrapped"] = second["wrapped"], first["wrapped"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("", "not a valid Concord keyring"),
        ("{not json", "not a valid Concord keyring"),
        ("[]", "not a valid Concord keyring"),
        (lambda d: d.update(format=9), "not a valid Concord keyring"),
        (lambda d: d.update(current=5), "current version 5 is missing"),
        (lambda d: d.update(organisation="ngo-my"), "belongs to 'ngo-my'"),
        (lambda d: d["versions"].reverse(), "out of order"),
        (lambda d: d["versions"][0].update(wrapped="zz"), "does not unwrap"),
        (_flip_wrapped, "does not unwrap"),
        (_swap_wrapped, "does not unwrap"),
    ],
)
def test_a_damaged_keyring_is_a_configuration_error(
    keyring: Keyring, edit: object, message: str
) -> None:
    damaged = _damage(keyring, edit)
    with pytest.raises(ConfigurationError, match=message) as caught:
        damaged.dek("ngo-ke", 1)
    assert "dek-ngo-ke.json" in str(caught.value)


def test_a_keyring_copied_from_another_organisation_does_not_unwrap(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    keyring.current_version("ngo-my")
    data = json.loads((keyring.key_dir / "dek-ngo-ke.json").read_text())
    data["organisation"] = "ngo-my"
    (keyring.key_dir / "dek-ngo-my.json").write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match="does not unwrap"):
        Keyring(keyring.key_dir).dek("ngo-my", 1)


def test_a_missing_kek_is_reported_and_never_replaced(keyring: Keyring) -> None:
    keyring.current_version("ngo-ke")
    kek = keyring.key_dir / "kek-ngo-ke.key"
    kek.unlink()
    fresh = Keyring(keyring.key_dir)
    with pytest.raises(ConfigurationError, match=r"kek-ngo-ke\.key is missing"):
        fresh.dek("ngo-ke", 1)
    with pytest.raises(ConfigurationError, match=r"kek-ngo-ke\.key is missing"):
        fresh.add_version("ngo-ke")
    assert not kek.exists()
