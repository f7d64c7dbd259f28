"""Keyed pseudonyms (HMAC-SHA256) for identifiers such as a partner's record key.

Why keyed: a plain hash of a record key or a child's id can be reversed by hashing every
plausible id; an HMAC needs the organisation's secret. The same input gives the same pseudonym
inside one organisation (so re-imports and duplicates are recognised) and different pseudonyms
across organisations (so data cannot be joined without an agreement).

Keys are never stored in the database: each organisation's 32-byte key is a file in
``CONCORD_KEY_DIR`` (created on first use, readable by the owner only).
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from concord.errors import ConfigurationError

KEY_BYTES = 32
_ORG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class PseudonymKeys:
    """Per-organisation pseudonymisation keys kept in a directory."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._cache: dict[str, bytes] = {}

    def key_for(self, organisation: str) -> bytes:
        if not _ORG_RE.match(organisation):
            raise ConfigurationError(f"{organisation!r} is not a valid organisation slug")
        if organisation not in self._cache:
            self._cache[organisation] = self._load_or_create(organisation)
        return self._cache[organisation]

    def _load_or_create(self, organisation: str) -> bytes:
        path = self.key_dir / f"pseudonym-{organisation}.key"
        try:
            if path.exists():
                key = bytes.fromhex(path.read_text().strip())
                if len(key) != KEY_BYTES:
                    raise ConfigurationError(f"{path}: expected a {KEY_BYTES}-byte hex key")
                return key
            self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = secrets.token_bytes(KEY_BYTES)
            # O_EXCL: two processes creating the key at once must not end with two keys.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(key.hex() + "\n")
            return key
        except FileExistsError:
            return self._load_or_create(organisation)
        except ValueError as exc:
            raise ConfigurationError(f"{path}: the key file is not hexadecimal") from exc
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read or create the pseudonymisation key in {self.key_dir} "
                f"(CONCORD_KEY_DIR): {exc.strerror}"
            ) from exc

    def pseudonymise(self, organisation: str, values: Iterable[str]) -> list[str]:
        """HMAC-SHA256 hex pseudonyms of ``values`` under ``organisation``'s key."""
        key = self.key_for(organisation)
        return [hmac.digest(key, v.encode(), "sha256").hex() for v in values]
