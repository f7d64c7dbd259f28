"""The node's signing key: created once, owner-only, never silently replaced."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from concord.errors import ConfigurationError, InputError
from concord.share.signing import (
    INFO_FILE,
    KEY_FILE,
    create_node_key,
    load_node_key,
    public_key_from_b64,
    verify_signature,
)


def test_create_and_load_round_trip(tmp_path: Path) -> None:
    created = create_node_key(tmp_path / "keys", "hotline-es")
    loaded = load_node_key(tmp_path / "keys")
    assert loaded.node_id == "hotline-es"
    assert loaded.key_id == created.key_id
    assert len(created.key_id) == 16
    assert len(base64.b64decode(created.public_key_b64)) == 32
    signature = loaded.sign(b"hello")
    assert verify_signature(public_key_from_b64(created.public_key_b64), signature, b"hello")
    assert not verify_signature(created.public_key, signature, b"hello!")


def test_the_private_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    create_node_key(tmp_path, "hotline-es")
    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert b"PRIVATE KEY" in (tmp_path / KEY_FILE).read_bytes()
    info = json.loads((tmp_path / INFO_FILE).read_text())
    assert set(info) == {"node_id", "key_id", "public_key"}


def test_an_existing_key_is_replaced_only_on_purpose(tmp_path: Path) -> None:
    first = create_node_key(tmp_path, "hotline-es")
    with pytest.raises(ConfigurationError, match="hub must register the new public key"):
        create_node_key(tmp_path, "hotline-es")
    assert load_node_key(tmp_path).key_id == first.key_id
    second = create_node_key(tmp_path, "hotline-es", overwrite=True)
    assert second.key_id != first.key_id
    assert load_node_key(tmp_path).key_id == second.key_id
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


def test_a_missing_key_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"concord federation key create --node <id>"):
        load_node_key(tmp_path)


def test_node_ids_are_slugs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="organisation slug"):
        create_node_key(tmp_path, "../evil")


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_garbage_public_keys_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        public_key_from_b64(text)
