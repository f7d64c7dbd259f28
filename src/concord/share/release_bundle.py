"""A stored release as a signed bundle, written beside the node's other bundles.

Why separate from :mod:`concord.share.release`: a release is made once, but its bundle may be
written again (a node that gets its signing key after releasing, a lost file); the bundle is
built only from what was stored, so it always says exactly what the release published.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from concord.errors import ConfigurationError, InputError
from concord.share.bundle import (
    BundleManifest,
    BundleResource,
    bundle_path,
    bundle_sha256,
    write_bundle,
)
from concord.share.record_release import RECORDS_TABLE
from concord.share.registry import get_agreement
from concord.share.release import RELEASED, get_release, release_tables
from concord.share.signing import NodeKey, load_node_key

_STATUS_NOTE = (
    "status: published, or why the cell is hidden (primary: a small cell; secondary: hidden so "
    "that a small cell cannot be recomputed from totals; differencing: hidden because it "
    "differs from an earlier release by a small amount)"
)


_RECORDS_NOTE = (
    "Pseudonymised records of subjects whose consent covers this agreement: subject is a "
    "pseudonym for this agreement's recipients only; dates are months; multi-valued fields are "
    "joined with |."
)


def release_bundle(session: Session, release_id: str, key: NodeKey) -> bytes:
    """The signed bundle of a stored release."""
    row = get_release(session, release_id)
    if row.status != RELEASED:
        raise InputError(f"release {release_id} is {row.status}: only a release has a bundle")
    agreement = get_agreement(session, row.agreement_id, row.agreement_version).agreement
    manifest = BundleManifest(
        release_id=row.id,
        node=key.node_id,
        agreement_id=row.agreement_id,
        agreement_version=row.agreement_version,
        provider=row.provider,
        recipients=tuple(agreement.recipients),
        level=agreement.level.value,
        period=row.period,
        period_start=row.period_start,
        period_end=row.period_end,
        created_at=row.created_at,
        vocabulary_version=row.vocabulary_version,
        marking=agreement.marking.value,
        onward_sharing=str(agreement.onward_sharing),
        method=row.method,
        risk_report={k: v for k, v in row.risk_report.items() if k != "context"},
        decision=row.decision,
        context=row.risk_report.get("context", {}),
    )
    resources = []
    for table in release_tables(session, release_id):
        dims = list(table.dimensions)
        if table.name == RECORDS_TABLE:
            text: dict[str, pl.DataType] = {d: pl.String() for d in dims}
            frame = pl.DataFrame(table.cells, schema=text, orient="row")
            resources.append(BundleResource(table.name, frame, _RECORDS_NOTE))
            continue
        schema = {**{d: pl.String() for d in dims}, "count": pl.Int64(), "status": pl.String()}
        frame = pl.DataFrame(table.cells, schema=schema, orient="row")
        resources.append(
            BundleResource(
                table.name,
                frame,
                f"Counts by {', '.join(dims)}; _total marks a total over that dimension. "
                + _STATUS_NOTE,
            )
        )
    return write_bundle(manifest, resources, key)


def write_release_bundle(
    session: Session, release_id: str, key_dir: Path, bundle_dir: Path
) -> Path | None:
    """Write the bundle to ``bundle_dir`` and note its hash; None without a signing key."""
    try:
        key = load_node_key(key_dir)
    except ConfigurationError:
        return None
    data = release_bundle(session, release_id, key)
    bundle_dir.mkdir(parents=True, exist_ok=True)
    path = bundle_path(bundle_dir, release_id)
    path.write_bytes(data)
    get_release(session, release_id).bundle_sha256 = bundle_sha256(data)
    session.flush()
    return path
