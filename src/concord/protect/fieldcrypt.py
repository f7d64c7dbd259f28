"""Field encryption of identifying values (AES-256-GCM) and the one audited way to read them.

A protected value is stored as ``(key_version, blob)`` with ``blob = nonce (12 bytes) ||
ciphertext || tag (16 bytes)``, encrypted under the organisation's data-encryption key of that
version (see :mod:`concord.protect.keyring`). The associated data, authenticated but not
stored, is a canonical encoding of (format version, organisation, record id, field): a blob
copied to another record, another field or another organisation's table, or altered by a
single bit, is refused with a :class:`DecryptionError` instead of decrypting to something.

Why random 96-bit nonces: they need no counter shared between processes. The usual bound for
random GCM nonces (about 2**32 encryptions per key) is far above what one organisation stores
under one key version, and rotation starts a fresh key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from concord.db.models import ProtectedValue
from concord.errors import DecryptionError, InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.keyring import Keyring, validate_organisation

#: Bumped if the blob layout or the associated data ever change (old blobs then fail loudly).
FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_AAD_DOMAIN = b"concord.protected_value"
#: ``ProtectedValue.field`` is a String(128).
MAX_FIELD_LENGTH = 128


def associated_data(organisation: str, record_id: int, field: str) -> bytes:
    """The bytes that bind a blob to its place: each part length-prefixed, so no two
    different places can ever encode to the same bytes (``("ab", "c")`` vs ``("a", "bc")``)."""
    parts = (
        _AAD_DOMAIN,
        str(FORMAT_VERSION).encode(),
        organisation.encode(),
        str(int(record_id)).encode(),
        field.encode(),
    )
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


class FieldCipher:
    """Encrypts and decrypts protected values with the keys of a :class:`Keyring`."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aeads: dict[tuple[str, int], tuple[bytes, AESGCM]] = {}

    def encrypt(
        self,
        organisation: str,
        record_id: int,
        field: str,
        plaintext: str,
        *,
        version: int | None = None,
    ) -> tuple[int, bytes]:
        """``(key_version, blob)`` for one value; ``version`` defaults to the current key."""
        used, blobs = self.encrypt_column(
            organisation, field, [record_id], [plaintext], version=version
        )
        return used, blobs[0]

    def encrypt_column(
        self,
        organisation: str,
        field: str,
        record_ids: Sequence[int],
        plaintexts: Sequence[str],
        *,
        version: int | None = None,
    ) -> tuple[int, list[bytes]]:
        """Encrypt one field of many records at once (what an import does with a column).

        All values get the same key version (looked up once), so a rotation starting midway
        cannot split one column across versions.
        """
        _check_field(field)
        if len(record_ids) != len(plaintexts):
            raise InputError(
                f"{len(record_ids)} record ids but {len(plaintexts)} values to encrypt for {field}"
            )
        if version is None:
            version = self.keyring.current_version(organisation)
        aead = self._aead(organisation, version)
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))  # one system call for the column
        blobs = []
        for index, (record_id, plaintext) in enumerate(zip(record_ids, plaintexts, strict=True)):
            nonce = nonces[index * NONCE_BYTES : (index + 1) * NONCE_BYTES]
            try:
                data = plaintext.encode("utf-8")
            except UnicodeEncodeError as exc:  # lone surrogates from a broken decoder
                raise InputError(
                    f"the value of {field} for record {record_id} is not valid text "
                    "(it contains an unpaired surrogate) and cannot be encrypted"
                ) from exc
            aad = associated_data(organisation, record_id, field)
            blobs.append(nonce + aead.encrypt(nonce, data, aad))
        return version, blobs

    def decrypt(
        self, organisation: str, record_id: int, field: str, key_version: int, blob: bytes
    ) -> str:
        """The plaintext of one value, or :class:`DecryptionError` saying why it cannot be read.

        Not audited: people read values through :func:`reveal`; this is for code that must
        handle plaintext without showing it (rotation re-encrypts, export pseudonymises).
        """
        place = f"{field} of record {record_id} ({organisation}, key version {key_version})"
        blob = bytes(blob)  # some drivers hand back memoryview for binary columns
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"the protected value {place} is truncated")
        aead = self._aead(organisation, key_version)
        try:
            data = aead.decrypt(
                blob[:NONCE_BYTES],
                blob[NONCE_BYTES:],
                associated_data(organisation, record_id, field),
            )
            return data.decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError(
                f"the protected value {place} does not decrypt: it was altered, copied from "
                "another record, field or organisation, or encrypted with a different key; "
                "report it to your data protection lead"
            ) from exc
        except UnicodeDecodeError as exc:  # only possible if the key itself was misused
            raise DecryptionError(f"the protected value {place} is not text") from exc

    def _aead(self, organisation: str, version: int) -> AESGCM:
        """The AES-GCM object for a key version, rebuilt only if the key changed."""
        validate_organisation(organisation)
        dek = self.keyring.dek(organisation, version)  # re-checks retirement every call
        cached = self._aeads.get((organisation, version))
        if cached is None or cached[0] != dek:
            cached = (dek, AESGCM(dek))
            self._aeads[(organisation, version)] = cached
        return cached[1]


def _check_field(field: str) -> None:
    if not field or len(field) > MAX_FIELD_LENGTH:
        raise InputError(f"a protected field name must be 1 to {MAX_FIELD_LENGTH} characters")


def protect_value(
    session: Session,
    cipher: FieldCipher,
    *,
    record_id: int,
    field: str,
    plaintext: str,
    organisation: str,
    purpose: str,
    actor: str,
) -> ProtectedValue:
    """Encrypt ``plaintext`` and store it as ``field`` of ``record_id`` (replacing any earlier
    value), in ``session``'s transaction. Storing is not audited per value: the import or
    edit that calls this is audited as a whole."""
    version, blob = cipher.encrypt(organisation, record_id, field, plaintext)
    row = session.get(ProtectedValue, (record_id, field))
    if row is None:
        row = ProtectedValue(record_id=record_id, field=field)
        session.add(row)
    row.organisation = organisation
    row.purpose = purpose
    row.key_version = version
    row.ciphertext = blob
    row.created_at = datetime.now(UTC)
    row.created_by = actor
    session.flush()
    return row


def reveal(
    session: Session,
    cipher: FieldCipher,
    audit: AuditTrail,
    *,
    record_id: int,
    field: str,
    actor: str,
    purpose: str,
    organisation: str,
) -> str:
    """Decrypt one protected value for a person and record that they saw it.

    The caller must already have checked the access policy (need-to-know, current training,
    the purpose, consent) and passes the purpose it approved; this function does not decide
    who may read, it makes sure every read leaves an audit entry (action
    ``protected_value.decrypt``; ids only, never the value). The entry is appended in
    ``session``'s transaction: commit it before the value is shown or sent, so that a read
    whose audit entry rolled back never happens.
    """
    row = session.get(ProtectedValue, (record_id, field))
    if row is None or row.organisation != organisation:
        # Same message whether absent or another organisation's: existence is not revealed.
        raise NotFoundError(f"record {record_id} has no protected {field} in {organisation}")
    plaintext = cipher.decrypt(organisation, record_id, field, row.key_version, row.ciphertext)
    audit.record(
        session,
        actor=actor,
        action="protected_value.decrypt",
        organisation=organisation,
        purpose=purpose,
        target=f"record:{record_id}",
        details={"record_id": record_id, "field": field, "key_version": row.key_version},
    )
    return plaintext
