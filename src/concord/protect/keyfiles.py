"""Secrets kept as files in the key directory (``CONCORD_KEY_DIR``), never in the database.

One helper so every kind of secret (pseudonymisation keys, the audit key, key-encryption keys)
is created the same way: random bytes from ``secrets``, created exclusively (two processes
starting at once must not end up with two keys), readable by the owner only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from concord.errors import ConfigurationError

KEY_BYTES = 32


def load_or_create_secret(path: Path, size: int = KEY_BYTES) -> bytes:
    """The ``size``-byte secret in ``path`` (hex), created on first use."""
    try:
        if path.exists():
            key = bytes.fromhex(path.read_text().strip())
            if len(key) != size:
                raise ConfigurationError(f"{path}: expected a {size}-byte hex key")
            return key
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(size)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex() + "\n")
        return key
    except FileExistsError:
        return load_or_create_secret(path, size)
    except ValueError as exc:
        raise ConfigurationError(f"{path}: the key file is not hexadecimal") from exc
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read or create the key {path.name} in {path.parent} (CONCORD_KEY_DIR): "
            f"{exc.strerror}"
        ) from exc
