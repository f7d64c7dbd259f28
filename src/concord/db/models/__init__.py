"""ORM models, one module per area; importing this package registers every table on ``Base``."""

from concord.db.models.audit import AuditEntry
from concord.db.models.base import Base
from concord.db.models.federation import FederationBundle, FederationNode, FederationOutbox
from concord.db.models.identity import (
    ApiToken,
    Membership,
    Organisation,
    OrganisationPurpose,
    Purpose,
    TrainingRecord,
    User,
    UserSession,
)
from concord.db.models.indicators import IndicatorAlert, IndicatorDefinitionRow, PopulationFigure
from concord.db.models.protection import (
    CapacityAssessment,
    ConsentRecord,
    HarmException,
    ProtectedValue,
    RetentionRule,
    SubjectDisclosure,
)
from concord.db.models.records import IngestBatch, QuarantinedRow, Record, RecordConcept
from concord.db.models.releases import Release, ReleaseTable
from concord.db.models.sharing import AgreementApproval, SharingAgreement
from concord.db.models.vocab import (
    VocabConcept,
    VocabConceptBroader,
    VocabDiscouragedTerm,
    VocabLabel,
    VocabRelease,
    VocabScheme,
)

__all__ = [
    "AgreementApproval",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CapacityAssessment",
    "ConsentRecord",
    "FederationBundle",
    "FederationNode",
    "FederationOutbox",
    "HarmException",
    "IndicatorAlert",
    "IndicatorDefinitionRow",
    "IngestBatch",
    "Membership",
    "Organisation",
    "OrganisationPurpose",
    "PopulationFigure",
    "ProtectedValue",
    "Purpose",
    "QuarantinedRow",
    "Record",
    "RecordConcept",
    "Release",
    "ReleaseTable",
    "RetentionRule",
    "SharingAgreement",
    "SubjectDisclosure",
    "TrainingRecord",
    "User",
    "UserSession",
    "VocabConcept",
    "VocabConceptBroader",
    "VocabDiscouragedTerm",
    "VocabLabel",
    "VocabRelease",
    "VocabScheme",
]
