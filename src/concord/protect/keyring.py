"""Per-organisation envelope keys for field encryption: one key-encryption key, versioned data keys.

Why envelope keys: protected values are encrypted with a *data-encryption key* (DEK), and DEKs
are stored only *wrapped* (encrypted) by the organisation's *key-encryption key* (KEK). Rotating
the DEK then needs no downtime (old versions stay readable while values are re-encrypted, see
:mod:`concord.protect.rotation`), and the KEK can later move into a hardware module without
touching a single stored value.

Files in the key directory (``CONCORD_KEY_DIR``), never in the database:

* ``kek-{org}.key`` — 32 random bytes (hex), made by :func:`load_or_create_secret`;
* ``dek-{org}.json`` — every DEK version, wrapped with AES-GCM under the KEK. The associated
  data binds each wrapped key to its organisation and version number, so a wrapped key copied
  into another organisation's keyring, or renumbered, refuses to unwrap;
* ``dek-{org}.lock`` — an empty file that writers lock while they change the keyring.

Back these files up with (and as carefully as) the database: without them the encrypted values
cannot be read. Retiring a version destroys its wrapped key on purpose (crypto-shredding), so a
database backup taken before the rotation cannot be read for values still under that version.

Concurrency: every change is a read-modify-write under an exclusive ``flock`` (two rotations
started at once must not each add a "version 2" and lose one of them, with the values it
encrypted), written atomically (temporary file, fsync, ``os.replace``) so readers see the old or
the new file, never half of one. Readers re-read the file when it changed on disk, so a web
process sees a rotation started from the command line at its next encryption.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from concord.errors import (
    ConfigurationError,
    DecryptionError,
    InputError,
    NotFoundError,
)
from concord.protect.keyfiles import load_or_create_secret
from concord.slugs import ORG_SLUG

#: Same rule as :class:`concord.protect.pseudonyms.PseudonymKeys`: the slug becomes a file name.
DEK_BYTES = 32  # AES-256
_NONCE_BYTES = 12
_FORMAT = 1
#: Domain separation for wrapped DEKs (these bytes are never used as associated data elsewhere).
_WRAP_DOMAIN = b"concord-dek-wrap\x1f"


def validate_organisation(organisation: str) -> str:
    """``organisation`` if it is a valid slug; it becomes part of file names in the key dir."""
    if not ORG_SLUG.match(organisation):
        raise ConfigurationError(f"{organisation!r} is not a valid organisation slug")
    return organisation


@dataclass(frozen=True)
class KeyVersion:
    """One DEK version as the keyring describes it (never the key itself)."""

    version: int
    created_at: datetime
    current: bool
    retired_at: datetime | None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


@dataclass(frozen=True)
class RotationMark:
    """A rotation that was started and has not finished (an interrupted one is resumed)."""

    to_version: int
    started_at: datetime
    started_by: str


class _StoredVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    created_at: AwareDatetime
    #: hex of nonce || AES-GCM(KEK, DEK); None once the version is retired (key destroyed).
    wrapped: str | None
    retired_at: AwareDatetime | None = None


class _StoredRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_version: int = Field(ge=1)
    started_at: AwareDatetime
    started_by: str


class _KeyringFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal[1]
    organisation: str
    current: int
    versions: list[_StoredVersion]
    rotation: _StoredRotation | None = None

    def find(self, version: int) -> _StoredVersion | None:
        return next((v for v in self.versions if v.version == version), None)


#: (inode, modification time, size): cheap proof that the file on disk is the one we parsed.
_Signature = tuple[int, int, int]


class Keyring:
    """The envelope keys of every organisation, kept in ``key_dir``."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._keks: dict[str, bytes] = {}
        self._files: dict[str, tuple[_Signature, _KeyringFile]] = {}
        self._deks: dict[tuple[str, int, str], bytes] = {}

    # -- reading -----------------------------------------------------------------------------

    def path(self, organisation: str) -> Path:
        return self.key_dir / f"dek-{validate_organisation(organisation)}.json"

    def exists(self, organisation: str) -> bool:
        """Whether ``organisation`` has a keyring (something may have been encrypted)."""
        return self.path(organisation).exists()

    def organisations(self) -> list[str]:
        """Organisations with a keyring in the key directory, sorted."""
        if not self.key_dir.is_dir():
            return []
        found = (p.name[len("dek-") : -len(".json")] for p in self.key_dir.glob("dek-*.json"))
        return sorted(org for org in found if ORG_SLUG.match(org))

    def current_version(self, organisation: str) -> int:
        """The version new values are encrypted with; the first call creates version 1."""
        stored = self._read(organisation)
        if stored is None:
            stored = self._change(organisation, lambda doc, _created: doc, create=True)
        return stored.current

    def versions(self, organisation: str) -> list[KeyVersion]:
        """Every version ever made for ``organisation`` (retired ones too), oldest first."""
        stored = self._read(organisation)
        if stored is None:
            return []
        return [
            KeyVersion(v.version, v.created_at, v.version == stored.current, v.retired_at)
            for v in stored.versions
        ]

    def rotation_in_progress(self, organisation: str) -> RotationMark | None:
        stored = self._read(organisation)
        if stored is None or stored.rotation is None:
            return None
        mark = stored.rotation
        return RotationMark(mark.to_version, mark.started_at, mark.started_by)

    def dek(self, organisation: str, version: int) -> bytes:
        """The data-encryption key ``version`` of ``organisation``, unwrapped.

        Raises :class:`DecryptionError` when the version does not exist or was retired: the
        values under it cannot be read, and that is what the caller needs to report.
        """
        stored = self._read(organisation)
        entry = stored.find(version) if stored is not None else None
        if entry is None:
            raise DecryptionError(
                f"{organisation} has no encryption key version {version} in {self.key_dir} "
                "(CONCORD_KEY_DIR): restore the key directory from the backup taken with the "
                "database"
            )
        if entry.wrapped is None:
            raise DecryptionError(
                f"encryption key version {version} of {organisation} was retired on "
                f"{entry.retired_at:%Y-%m-%d}; values still encrypted with it cannot be read"
            )
        cache_key = (organisation, version, entry.wrapped)
        if cache_key not in self._deks:
            self._deks[cache_key] = self._unwrap(organisation, version, entry.wrapped)
        return self._deks[cache_key]

    # -- changing ----------------------------------------------------------------------------

    def add_version(self, organisation: str) -> int:
        """Make a new DEK version the current one and return its number (1 for a new keyring)."""

        def add(doc: _KeyringFile, created: bool) -> _KeyringFile:
            # A keyring made just now already has a fresh version 1: that is the new version.
            return doc if created else self._with_new_version(doc)

        return self._change(organisation, add, create=True).current

    def retire(self, organisation: str, version: int) -> None:
        """Destroy the wrapped key of ``version`` (refused for the current version).

        The caller must have checked that no stored value still uses it (rotation does): once
        retired, those values can never be decrypted again. Retiring twice is harmless.
        """

        def retire_one(doc: _KeyringFile, _created: bool) -> _KeyringFile:
            entry = doc.find(version)
            if entry is None:
                raise NotFoundError(f"{organisation} has no encryption key version {version}")
            if version == doc.current:
                raise InputError(
                    f"version {version} is the current encryption key of {organisation}; "
                    "rotate to a new version before retiring it"
                )
            if entry.wrapped is not None:
                entry.wrapped = None
                entry.retired_at = _now()
            return doc

        self._change(organisation, retire_one, create=False)

    def begin_rotation(self, organisation: str, actor: str) -> tuple[int, bool]:
        """Start a rotation, or pick up an unfinished one: ``(target version, resumed)``.

        Why the mark lives in the keyring: adding the new version and noting that a rotation
        is under way happen in one atomic write, so an interrupted rotation is resumed (not
        followed by yet another version) however early it stopped.
        """
        resumed = False

        def begin(doc: _KeyringFile, _created: bool) -> _KeyringFile:
            nonlocal resumed
            if doc.rotation is not None:
                resumed = True
                doc.rotation.to_version = doc.current
                return doc
            doc = self._with_new_version(doc)
            doc.rotation = _StoredRotation(
                to_version=doc.current, started_at=_now(), started_by=actor
            )
            return doc

        if not self.exists(organisation):
            raise NotFoundError(
                f"{organisation} has no field-encryption keys yet: nothing is encrypted, so "
                "there is nothing to rotate"
            )
        stored = self._change(organisation, begin, create=False)
        return stored.current, resumed

    def finish_rotation(self, organisation: str) -> None:
        def finish(doc: _KeyringFile, _created: bool) -> _KeyringFile:
            doc.rotation = None
            return doc

        self._change(organisation, finish, create=False)

    # -- internals ---------------------------------------------------------------------------

    def _with_new_version(self, doc: _KeyringFile) -> _KeyringFile:
        version = max(v.version for v in doc.versions) + 1
        doc.versions.append(self._new_version(doc.organisation, version))
        doc.current = version
        return doc

    def _new_version(self, organisation: str, version: int) -> _StoredVersion:
        dek = AESGCM.generate_key(bit_length=DEK_BYTES * 8)
        return _StoredVersion(
            version=version, created_at=_now(), wrapped=self._wrap(organisation, version, dek)
        )

    def _kek(self, organisation: str, *, create: bool) -> bytes:
        if organisation not in self._keks:
            path = self.key_dir / f"kek-{organisation}.key"
            if not create and not path.exists():
                # Never make a fresh KEK for an existing keyring: it could unwrap nothing.
                raise ConfigurationError(
                    f"the key-encryption key {path.name} is missing from {self.key_dir} "
                    f"(CONCORD_KEY_DIR) although dek-{organisation}.json exists: restore it "
                    "from the backup of the key directory"
                )
            self._keks[organisation] = load_or_create_secret(path)
        return self._keks[organisation]

    def _aad(self, organisation: str, version: int) -> bytes:
        return _WRAP_DOMAIN + json.dumps([_FORMAT, organisation, version]).encode()

    def _wrap(self, organisation: str, version: int, dek: bytes) -> str:
        kek = self._kek(organisation, create=True)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        wrapped = AESGCM(kek).encrypt(nonce, dek, self._aad(organisation, version))
        return (nonce + wrapped).hex()

    def _unwrap(self, organisation: str, version: int, wrapped_hex: str) -> bytes:
        kek = self._kek(organisation, create=False)
        try:
            blob = bytes.fromhex(wrapped_hex)
            dek = AESGCM(kek).decrypt(
                blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], self._aad(organisation, version)
            )
        except (ValueError, InvalidTag) as exc:
            raise ConfigurationError(
                f"{self.path(organisation)}: key version {version} does not unwrap with "
                f"kek-{organisation}.key: the keyring was altered, copied from another "
                "organisation, or belongs to another key-encryption key; restore both files "
                "from the same backup"
            ) from exc
        if len(dek) != DEK_BYTES:
            raise ConfigurationError(
                f"{self.path(organisation)}: key version {version} is not a {DEK_BYTES}-byte key"
            )
        return dek

    def _read(self, organisation: str) -> _KeyringFile | None:
        """The keyring as on disk now (parsed again only when the file changed)."""
        path = self.path(organisation)
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._files.pop(organisation, None)
            return None
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(organisation)
        if cached is not None and cached[0] == signature:
            return cached[1]
        stored = self._parse(organisation, path)
        self._files[organisation] = (signature, stored)
        return stored

    def _parse(self, organisation: str, path: Path) -> _KeyringFile:
        try:
            stored = _KeyringFile.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
                for err in exc.errors()[:5]
            ]
            raise ConfigurationError(
                f"{path} is not a valid Concord keyring (damaged or edited by hand); restore it "
                "from the backup of the key directory",
                details=problems,
            ) from exc
        problem = _inconsistency(stored, organisation)
        if problem:
            raise ConfigurationError(
                f"{path} is not a valid Concord keyring: {problem}; restore it from the backup "
                "of the key directory"
            )
        return stored

    def _change(
        self,
        organisation: str,
        change: Callable[[_KeyringFile, bool], _KeyringFile],
        *,
        create: bool,
    ) -> _KeyringFile:
        """Apply ``change`` to the keyring under the lock, reading the file afresh.

        ``change`` is told whether the keyring was created just now (with version 1), which
        happens only when ``create`` is true.
        """
        path = self.path(organisation)
        with self._locked(organisation):
            created = not path.exists()
            if not created:
                doc = self._parse(organisation, path)
                # Prove the KEK on disk is the one this keyring was wrapped with before adding
                # anything to it (a missing KEK must never be silently replaced by a new one).
                self.dek(organisation, doc.current)
            elif create:
                doc = _KeyringFile(
                    format=_FORMAT,
                    organisation=organisation,
                    current=1,
                    versions=[self._new_version(organisation, 1)],
                )
            else:
                raise NotFoundError(f"{organisation} has no keyring {path.name} in {self.key_dir}")
            doc = change(doc, created)
            self._write(path, doc)
            return self._remember(organisation, path, doc)

    def _remember(self, organisation: str, path: Path, doc: _KeyringFile) -> _KeyringFile:
        stat = path.stat()
        self._files[organisation] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), doc)
        return doc

    @contextmanager
    def _locked(self, organisation: str) -> Iterator[None]:
        lock_path = self.key_dir / f"dek-{organisation}.lock"
        try:
            self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot lock {lock_path.name} in {self.key_dir} (CONCORD_KEY_DIR): {exc.strerror}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, path: Path, doc: _KeyringFile) -> None:
        """Write atomically and durably: a DEK used for stored values must survive a crash."""
        data = json.dumps(doc.model_dump(mode="json"), indent=2).encode() + b"\n"
        try:
            fd, temp_name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
            )
            try:
                with os.fdopen(fd, "wb") as handle:  # mkstemp creates it with mode 0600
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                Path(temp_name).replace(path)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write {path.name} in {path.parent} (CONCORD_KEY_DIR): {exc.strerror}"
            ) from exc


def _inconsistency(stored: _KeyringFile, organisation: str) -> str | None:
    """Why a well-formed keyring still cannot be trusted, or None."""
    if stored.organisation != organisation:
        return f"it belongs to {stored.organisation!r}"
    numbers = [v.version for v in stored.versions]
    if not numbers or numbers != sorted(set(numbers)):
        return "its versions are missing, repeated or out of order"
    current = stored.find(stored.current)
    if current is None or current.wrapped is None:
        return f"its current version {stored.current} is missing or retired"
    for entry in stored.versions:
        if (entry.wrapped is None) != (entry.retired_at is not None):
            return f"version {entry.version} is half retired"
    return None


def _now() -> datetime:
    return datetime.now(UTC)
