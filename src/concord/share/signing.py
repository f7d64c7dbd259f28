"""The node's Ed25519 signing key: it signs every bundle and revocation the node sends a hub.

Why Ed25519 from ``cryptography``: small keys that fit in a registry row, deterministic
signatures, and an audited implementation (never hand-rolled). The private key lives in the key
directory (``CONCORD_KEY_DIR``) as a PKCS8 PEM readable by its owner only, never in the
database; the hub stores only the public key, so a stolen hub database cannot forge a bundle.

A key is named by its *key id*: the first 16 hex characters of the SHA-256 of the raw public
key. The id travels in every signature so a hub can tell "signed by a key I do not know" (the
node rotated its key and the hub has not registered the new one) from "tampered with".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from concord.errors import BundleError, ConfigurationError, InputError
from concord.slugs import ORG_SLUG

KEY_FILE = "node-signing.pem"
INFO_FILE = "node-signing.json"
_RAW_KEY_BYTES = 32

#: ``public_key_for(node, key_id)``: the public key a reader trusts for that node and key id,
#: or None; it may raise a :class:`BundleError` with a more precise reason.
PublicKeyLookup = Callable[[str, str], Ed25519PublicKey | None]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of ``public_key`` (what the key id and the registry are built from)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """The key id: the first 16 hex characters of SHA-256 over the raw public key."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class NodeKey:
    """A node's id and its private signing key."""

    node_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_b64(self) -> str:
        """The raw 32-byte public key, base64: what a hub registers."""
        return base64.b64encode(raw_public_key(self.public_key)).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """An Ed25519 signature over exactly ``data``."""
        return self.private_key.sign(data)


def _check_node_id(node_id: str) -> None:
    if not ORG_SLUG.match(node_id):
        raise InputError(
            f"node id {node_id!r}: use the organisation slug (lowercase letters, digits, - and _)"
        )


def _write_private(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` readable by the owner only; exclusively unless ``overwrite``.

    Why exclusive creation: two commands creating a key at once must not both believe they hold
    the node's key. An overwrite writes a temporary file and renames it, so a crash never leaves
    half a key.
    """
    if not overwrite:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def create_node_key(key_dir: Path, node_id: str, *, overwrite: bool = False) -> NodeKey:
    """Create the node's signing key in ``key_dir``; refuses to replace one unless ``overwrite``.

    Why refuse by default: every hub knows the node by its public key. A new key makes every
    hub refuse the node's bundles until an administrator there registers the new public key.
    """
    _check_node_id(node_id)
    pem_path, info_path = key_dir / KEY_FILE, key_dir / INFO_FILE
    if pem_path.exists() and not overwrite:
        raise ConfigurationError(
            f"{pem_path} already holds this node's signing key; a new key means every hub must "
            "register the new public key before it accepts this node's bundles again "
            "(use --overwrite to rotate it on purpose)"
        )
    key = NodeKey(node_id, Ed25519PrivateKey.generate())
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {"node_id": node_id, "key_id": key.key_id, "public_key": key.public_key_b64}
    try:
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_private(pem_path, pem, overwrite=overwrite)
        info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    except FileExistsError as exc:
        raise ConfigurationError(f"{pem_path} was created by another command meanwhile") from exc
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the signing key to {key_dir} (CONCORD_KEY_DIR): {exc.strerror}"
        ) from exc
    return key


def load_node_key(key_dir: Path) -> NodeKey:
    """The node's signing key from ``key_dir``, or a :class:`ConfigurationError` saying how to
    create one."""
    pem_path, info_path = key_dir / KEY_FILE, key_dir / INFO_FILE
    if not pem_path.exists() or not info_path.exists():
        raise ConfigurationError(
            f"this node has no signing key in {key_dir} (CONCORD_KEY_DIR): create one with "
            "`concord federation key create --node <id>`"
        )
    try:
        private = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigurationError(f"{pem_path}: not a readable signing key ({exc})") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(f"{pem_path}: not an Ed25519 key")
    node_id = info.get("node_id") if isinstance(info, dict) else None
    if not isinstance(node_id, str):
        raise ConfigurationError(f"{info_path}: no node_id")
    key = NodeKey(node_id, private)
    if info.get("key_id") not in (None, key.key_id):
        raise ConfigurationError(
            f"{info_path} names key {info.get('key_id')}, but {pem_path} holds key {key.key_id}"
        )
    return key


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Read a raw Ed25519 public key written as base64 (what ``key show`` prints)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"public key {text[:60]!r} is not base64") from exc
    if len(raw) != _RAW_KEY_BYTES:
        raise InputError(
            f"a public key is {_RAW_KEY_BYTES} bytes (44 base64 characters), not {len(raw)}"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s signature over exactly ``data``."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def signature_record(key: NodeKey, data: bytes) -> dict[str, str]:
    """The detached signature a node attaches to ``data`` (``signature.json`` in a bundle)."""
    return {
        "algorithm": "ed25519",
        "node": key.node_id,
        "key_id": key.key_id,
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }


def check_signature_record(
    record: Any, data: bytes, public_key_for: PublicKeyLookup, *, what: str
) -> tuple[str, str]:
    """The ``(node, key_id)`` that signed ``data``, or a :class:`BundleError` saying why not.

    ``what`` names the signed thing in messages (``datapackage.json``, ``the revocation``).
    """
    if not isinstance(record, dict):
        raise BundleError(f"{what} is unsigned: it carries no signature")
    node, key_id, text = (record.get(k) for k in ("node", "key_id", "signature"))
    if record.get("algorithm") != "ed25519":
        raise BundleError(f"the signature of {what} must use the algorithm ed25519")
    if not (isinstance(node, str) and isinstance(key_id, str) and isinstance(text, str)):
        raise BundleError(f"the signature of {what} must name the node, key_id and signature")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BundleError(f"the signature of {what} is not base64") from exc
    public_key = public_key_for(node, key_id)
    if public_key is None:
        raise BundleError(f"{what} is signed by an unknown node or key ({node}, key {key_id})")
    if key_id_of(public_key) != key_id:
        raise BundleError(f"{what} names key {key_id}, which is not node {node}'s key")
    if not verify_signature(public_key, raw, data):
        raise BundleError(
            f"the signature does not verify: {what} was changed after node {node} signed it, "
            "or it was signed with another key"
        )
    return node, key_id
