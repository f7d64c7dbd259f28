"""Roles, the permissions each grants, and which permissions touch data about children.

Why a table in code and not in the database: the roles are part of the protection design a data
protection officer reviews (``docs/data-protection.md`` prints this table); an organisation
chooses *who* holds a role, not what a role means.

Need-to-know: administrators manage people but see no records; auditors see the audit trail
and consent decisions but no records; only caseworkers may reveal identifying values.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    DATA_STEWARD = "data_steward"
    ANALYST = "analyst"
    CASEWORKER = "caseworker"
    AUDITOR = "auditor"
    VIEWER = "viewer"


class Permission(StrEnum):
    """What a request does. The sensitivity of each is in :data:`SENSITIVITY`."""

    AGGREGATE_READ = "aggregate.read"  # counts, indicators, quality summaries
    BATCH_READ = "batch.read"  # import batches, reconciliation, quality reports
    RECORD_READ = "record.read"  # pseudonymised harmonised records
    QUARANTINE_MANAGE = "quarantine.manage"  # quarantined rows show original values
    INGEST = "ingest.write"  # import partner files
    IDENTIFYING_READ = "identifying.read"  # decrypt identifying values
    CONSENT_READ = "consent.read"
    CONSENT_WRITE = "consent.write"
    MINIMISATION_READ = "minimisation.read"  # which identifying fields are held, why
    RETENTION_MANAGE = "retention.manage"
    AUDIT_READ = "audit.read"
    ORG_ADMIN = "org.admin"  # users, roles, training and purposes of the organisation
    RELEASE_READ = "release.read"  # release plans, releases made, regional tables at a hub
    RELEASE_WRITE = "release.write"  # run and revoke releases under agreements in force
    FEDERATION_MANAGE = "federation.manage"  # the nodes a hub trusts, pushes to the hub


class Sensitivity(StrEnum):
    """How close to a child a permission gets; decides purpose and training requirements."""

    AGGREGATE = "aggregate"  # no single child can be seen
    OPERATIONAL = "operational"  # about the system or staff, not about children
    RECORD = "record"  # one child's pseudonymised record
    IDENTIFYING = "identifying"  # who the child is


SENSITIVITY: dict[Permission, Sensitivity] = {
    Permission.AGGREGATE_READ: Sensitivity.AGGREGATE,
    Permission.BATCH_READ: Sensitivity.AGGREGATE,
    Permission.RECORD_READ: Sensitivity.RECORD,
    Permission.QUARANTINE_MANAGE: Sensitivity.RECORD,
    Permission.INGEST: Sensitivity.RECORD,
    Permission.IDENTIFYING_READ: Sensitivity.IDENTIFYING,
    Permission.CONSENT_READ: Sensitivity.RECORD,
    Permission.CONSENT_WRITE: Sensitivity.RECORD,
    Permission.MINIMISATION_READ: Sensitivity.OPERATIONAL,
    Permission.RETENTION_MANAGE: Sensitivity.OPERATIONAL,
    Permission.AUDIT_READ: Sensitivity.OPERATIONAL,
    Permission.ORG_ADMIN: Sensitivity.OPERATIONAL,
    Permission.RELEASE_READ: Sensitivity.AGGREGATE,
    # The release pipeline itself checks the agreement's purpose, consent and the releasing
    # person's training, rule by rule, so the permission is operational here.
    Permission.RELEASE_WRITE: Sensitivity.OPERATIONAL,
    Permission.FEDERATION_MANAGE: Sensitivity.OPERATIONAL,
}

_P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(
        {
            _P.AGGREGATE_READ,
            _P.BATCH_READ,
            _P.ORG_ADMIN,
            _P.MINIMISATION_READ,
            _P.RETENTION_MANAGE,
            _P.RELEASE_READ,
            _P.FEDERATION_MANAGE,
        }
    ),
    Role.DATA_STEWARD: frozenset(
        {
            _P.AGGREGATE_READ,
            _P.BATCH_READ,
            _P.RECORD_READ,
            _P.QUARANTINE_MANAGE,
            _P.INGEST,
            _P.MINIMISATION_READ,
            _P.RETENTION_MANAGE,
            _P.CONSENT_READ,
            _P.RELEASE_READ,
            _P.RELEASE_WRITE,
        }
    ),
    Role.ANALYST: frozenset({_P.AGGREGATE_READ, _P.BATCH_READ, _P.RECORD_READ, _P.RELEASE_READ}),
    Role.CASEWORKER: frozenset(
        {
            _P.AGGREGATE_READ,
            _P.RECORD_READ,
            _P.IDENTIFYING_READ,
            _P.CONSENT_READ,
            _P.CONSENT_WRITE,
        }
    ),
    Role.AUDITOR: frozenset({_P.AGGREGATE_READ, _P.AUDIT_READ, _P.CONSENT_READ, _P.RELEASE_READ}),
    Role.VIEWER: frozenset({_P.AGGREGATE_READ}),
}


def parse_role(value: str) -> Role:
    """A role from its name, or a clear error listing the roles."""
    from concord.errors import InputError

    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {value!r}; roles are: {names}") from None
