"""Safe sharing: agreements as data, their versions and approvals.

The public API; the rest of the package is internal.
"""

from concord.share.agreement import (
    Agreement,
    DifferentialPrivacy,
    Disclosure,
    Frequency,
    Level,
    Marking,
    OnwardSharing,
    Shares,
    agreement_problems,
    dump_agreement,
    parse_agreement,
)
from concord.share.registry import (
    ApprovalResult,
    StoredAgreement,
    approve,
    export_agreement,
    get_agreement,
    import_agreement,
    in_force,
    list_agreements,
)

__all__ = [
    "Agreement",
    "ApprovalResult",
    "DifferentialPrivacy",
    "Disclosure",
    "Frequency",
    "Level",
    "Marking",
    "OnwardSharing",
    "Shares",
    "StoredAgreement",
    "agreement_problems",
    "approve",
    "dump_agreement",
    "export_agreement",
    "get_agreement",
    "import_agreement",
    "in_force",
    "list_agreements",
    "parse_agreement",
]
