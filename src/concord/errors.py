"""One exception tree for Concord.

Every error a user can meet is a :class:`ConcordError` with a message a data steward understands.
Third-party errors (YAML, SQLAlchemy, rdflib, ...) are translated at the boundary with
``raise ConcordX(...) from exc`` so that the CLI, the API and the UI each have exactly one place
that turns a ``ConcordError`` into an exit code, an RFC 9457 problem document or a page.

::

    ConcordError                 anything Concord reports on purpose
    ├── ConfigurationError       settings, key directory, database URL
    ├── DatabaseError            the database could not be reached or migrated
    ├── NotFoundError            an id, scheme or file that does not exist
    ├── InputError               bad input from a user: the message says what and where
    │   ├── UnreadableFileError  binary, undecodable, too large or missing file
    │   ├── MalformedFileError   YAML/JSON/CSV that does not parse
    │   ├── CrosswalkError       a crosswalk file whose structure is wrong
    │   └── BundleError          a release bundle (or revocation) refused: unsigned, altered, ...
    ├── VocabularyError          the shipped or a supplied vocabulary breaks an integrity rule
    ├── DecryptionError          a protected value that was altered, moved, or whose key is gone
    └── AccessError              the protection layer refused a request
        ├── AuthenticationError  not logged in, wrong password, locked account, bad token (401)
        ├── PermissionDeniedError  logged in, but the policy says no; ``details`` say why (403)
        └── ConsentDeniedError   consent (or a harm exception) does not allow this use (403)
"""

from __future__ import annotations


class ConcordError(Exception):
    """Base class: ``title`` is a short summary, the message says what to do."""

    #: Short, stable summary used as the problem ``title`` in API responses.
    title = "Concord error"
    #: HTTP status used when this error reaches the API.
    status_code = 500
    #: CLI exit status; 1 is reserved for "the check found something" (linters, checkers).
    exit_code = 2

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[str] = details or []

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)


class ConfigurationError(ConcordError):
    title = "Configuration error"


class DatabaseError(ConcordError):
    title = "Database error"
    status_code = 503


class NotFoundError(ConcordError):
    title = "Not found"
    status_code = 404


class InputError(ConcordError):
    title = "Invalid input"
    status_code = 422


class UnreadableFileError(InputError):
    title = "Unreadable file"


class MalformedFileError(InputError):
    title = "Malformed file"


class CrosswalkError(InputError):
    title = "Invalid crosswalk"


class BundleError(InputError):
    """A signed release bundle or revocation that is refused; the message gives the one reason
    (not a zip, unsigned, signed by an unknown key, altered, not allowed by the agreement...)."""

    title = "Bundle refused"


class VocabularyError(ConcordError):
    title = "Vocabulary integrity error"
    status_code = 422


class DecryptionError(ConcordError):
    """An encrypted (protected) value could not be read back.

    Why its own class: it means the stored data no longer matches its key or its place (altered,
    copied to another record or field, or its key version retired), which a data steward must
    investigate; it is never the user's input that is wrong.
    """

    title = "Protected value cannot be decrypted"


class AccessError(ConcordError):
    title = "Access refused"
    status_code = 403


class AuthenticationError(AccessError):
    title = "Authentication required"
    status_code = 401


class PermissionDeniedError(AccessError):
    """The access policy refused; ``details`` list every reason (missing training, purpose)."""

    title = "Permission denied"
    status_code = 403


class ConsentDeniedError(AccessError):
    """Consent, or an in-force harm exception, does not allow this use of a subject's data;
    ``details`` carry the registry's reason (withdrawn, refused, never given)."""

    title = "Not allowed by consent"
    status_code = 403
