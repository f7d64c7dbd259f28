"""Keyed pseudonyms (HMAC-SHA256) for identifiers such as a partner's record key.

Why keyed: a plain hash of a record key or a child's id can be reversed by hashing every
plausible id; an HMAC needs the organisation's secret. The same input gives the same pseudonym
inside one organisation (so re-imports and duplicates are recognised) and different pseudonyms
across organisations (so data cannot be joined without an agreement).

Keys are never stored in the database: each organisation's 32-byte key is a file in
``CONCORD_KEY_DIR`` (created on first use, readable by the owner only).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

from concord.errors import ConfigurationError
from concord.protect.keyfiles import load_or_create_secret
from concord.slugs import ORG_SLUG


class PseudonymKeys:
    """Per-organisation pseudonymisation keys kept in a directory."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._cache: dict[str, bytes] = {}

    def key_for(self, organisation: str) -> bytes:
        if not ORG_SLUG.match(organisation):
            raise ConfigurationError(f"{organisation!r} is not a valid organisation slug")
        if organisation not in self._cache:
            self._cache[organisation] = self._load_or_create(organisation)
        return self._cache[organisation]

    def _load_or_create(self, organisation: str) -> bytes:
        return load_or_create_secret(self.key_dir / f"pseudonym-{organisation}.key")

    def pseudonymise(self, organisation: str, values: Iterable[str]) -> list[str]:
        """HMAC-SHA256 hex pseudonyms of ``values`` under ``organisation``'s key."""
        return _hex_macs(self.key_for(organisation), (v.encode() for v in values))

    def subject_key(self, organisation: str, subject_id: str) -> str:
        """The pseudonym of a child's id inside ``organisation``.

        Domain-separated from record keys (a child id that happens to equal a report id must
        not get the same pseudonym), stable across imports, consent and referrals.
        """
        key = self.key_for(organisation)
        return hmac.digest(key, SUBJECT_DOMAIN + subject_id.strip().encode(), "sha256").hex()

    def subject_keys(self, organisation: str, subject_ids: Iterable[str]) -> list[str]:
        key = self.key_for(organisation)
        return _hex_macs(key, (SUBJECT_DOMAIN + s.strip().encode() for s in subject_ids))


def _hex_macs(key: bytes, messages: Iterable[bytes]) -> list[str]:
    """HMAC-SHA256 (hex) of each message.

    The keyed state is set up once and copied per message: the one-shot ``hmac.digest`` sets
    the key up again on every call, which for a million record keys costs more than hashing
    them (about 1.5x slower, docs/performance.md). Same standard-library HMAC, same output.
    """
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    out: list[str] = []
    for message in messages:
        mac = keyed.copy()
        mac.update(message)
        out.append(mac.hexdigest())
    return out


#: Prefix separating subject pseudonyms from record-key pseudonyms under the same key.
SUBJECT_DOMAIN = b"concord-subject\x1f"
