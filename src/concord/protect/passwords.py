"""Password hashing with Argon2id (argon2-cffi), and the rules a new password must meet.

Why argon2-cffi's defaults: they follow RFC 9106's recommendations and are tuned by the library's
maintainers; ``needs_rehash`` lets us raise the cost later without forcing a reset.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from concord.errors import InputError

MIN_LENGTH = 12
_hasher = PasswordHasher()

#: A valid hash of a random password, verified against when the user does not exist, so that
#: "no such user" and "wrong password" take the same time (no username enumeration by timing).
_DUMMY_HASH = _hasher.hash("concord-no-such-user-placeholder")


def check_password_rules(password: str, *, username: str = "") -> None:
    """Refuse passwords that are too weak, with a message that says what to change."""
    if len(password) < MIN_LENGTH:
        raise InputError(f"a password needs at least {MIN_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise InputError("a password must not contain the username")
    if len(set(password)) < 5:
        raise InputError("a password needs more different characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (unknown user) still spends the same time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
