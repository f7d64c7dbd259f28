"""ORM models, one module per area; importing this package registers every table on ``Base``."""

from concord.db.models.base import Base
from concord.db.models.records import IngestBatch, QuarantinedRow, Record, RecordConcept
from concord.db.models.vocab import (
    VocabConcept,
    VocabConceptBroader,
    VocabDiscouragedTerm,
    VocabLabel,
    VocabRelease,
    VocabScheme,
)

__all__ = [
    "Base",
    "IngestBatch",
    "QuarantinedRow",
    "Record",
    "RecordConcept",
    "VocabConcept",
    "VocabConceptBroader",
    "VocabDiscouragedTerm",
    "VocabLabel",
    "VocabRelease",
    "VocabScheme",
]
