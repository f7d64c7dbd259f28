"""A release as a signed Frictionless Data Package: what a node sends a hub.

A bundle is a ZIP holding

* ``datapackage.json`` — a Tabular Data Package: each resource's path, size, SHA-256 and Table
  Schema, and the release's manifest (agreement, period, method, risk report, decision) under
  the ``concord`` property;
* ``data/<name>.csv`` — the tables, written by polars;
* ``signature.json`` — the node's Ed25519 signature over the exact ``datapackage.json`` bytes.

Why sign only ``datapackage.json``: it carries every resource's hash, so one signature covers
every byte of the bundle, and the SHA-256 of those bytes is the bundle's identity (a hub that
receives the same bundle twice sees the same hash). Entry timestamps are fixed so that the same
release always gives the same ZIP.

Reading refuses, each with its own reason: not a ZIP, too big (declared sizes are checked
before anything is decompressed: a ZIP bomb is refused unread), unexpected or unsafe entry
names, a missing package or signature, an unknown node or key, a signature that does not
verify, a resource whose bytes do not match their hash, and a CSV that does not match its
schema. Nothing is ever extracted to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import StringConstraints, TypeAdapter, ValidationError

from concord.errors import BundleError, InputError
from concord.moments import as_utc
from concord.share.signing import (
    NodeKey,
    PublicKeyLookup,
    check_signature_record,
    signature_record,
)
from concord.share.tableschema import frame_from_csv, frame_to_csv, table_schema
from concord.validation import describe_validation_error

PACKAGE = "datapackage.json"
SIGNATURE = "signature.json"
#: 200 MiB: far above any count table or a year of pseudonymised records from one node, far
#: below what would exhaust a hub's memory.
MAX_BUNDLE_BYTES = 200 * 1024 * 1024
#: A bundle carries a handful of tables; thousands of entries can only be an attack.
MAX_ENTRIES = 1000
#: Resource names: a Frictionless name without ``/``, so that ``data/<name>.csv`` is one file.
RESOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
_DATA_ENTRY = re.compile(r"^data/([a-z0-9][a-z0-9._-]{0,127})\.csv$")
#: 1980-01-01, the earliest time a ZIP can hold: the same release always gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_RELEASE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$"

BundleLevel = Literal["aggregate", "pseudonymised_records"]


def _utc_text(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class BundleManifest:
    """What a release is: under which agreement, from whom, for which period, made how."""

    release_id: Annotated[str, StringConstraints(pattern=_RELEASE_ID)]
    node: str
    agreement_id: str
    agreement_version: int
    provider: str
    recipients: tuple[str, ...]
    level: BundleLevel
    period: str
    period_start: date
    period_end: date
    created_at: datetime
    vocabulary_version: str
    marking: str
    onward_sharing: str
    method: dict[str, Any] = field(default_factory=dict)
    risk_report: dict[str, Any] = field(default_factory=dict)
    decision: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A naive time (SQLite gives them back) is UTC, as everywhere in Concord.
        object.__setattr__(self, "created_at", as_utc(self.created_at))
        if self.period_end < self.period_start:
            raise BundleError(
                f"period {self.period}: it ends ({self.period_end}) before it starts "
                f"({self.period_start})"
            )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-native form written under the package's ``concord`` property."""
        return {
            "release_id": self.release_id,
            "node": self.node,
            "agreement_id": self.agreement_id,
            "agreement_version": self.agreement_version,
            "provider": self.provider,
            "recipients": list(self.recipients),
            "level": self.level,
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "created_at": _utc_text(self.created_at),
            "vocabulary_version": self.vocabulary_version,
            "marking": self.marking,
            "onward_sharing": self.onward_sharing,
            "method": self.method,
            "risk_report": self.risk_report,
            "decision": self.decision,
            "context": self.context,
        }

    @classmethod
    def from_dict(cls, data: Any) -> BundleManifest:
        """Validate a manifest read from a package; a :class:`BundleError` lists what is wrong."""
        try:
            manifest = _MANIFEST.validate_python(data)
        except ValidationError as exc:
            raise BundleError(
                "the bundle's manifest (datapackage.json, property concord) is not valid",
                details=describe_validation_error(exc),
            ) from exc
        return manifest


_MANIFEST = TypeAdapter(BundleManifest)


@dataclass(frozen=True)
class BundleResource:
    """One table of a release, and a sentence saying what it counts."""

    name: str
    frame: pl.DataFrame
    description: str = ""


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose signature, hashes and schemas all checked out."""

    manifest: BundleManifest
    resources: dict[str, pl.DataFrame]
    sha256: str
    key_id: str
    node: str
    descriptor: dict[str, Any]


def bundle_path(bundle_dir: Path, release_id: str) -> Path:
    """Where a node keeps the bundle of a release: ``<bundle_dir>/<release id>.zip``."""
    return bundle_dir / f"{release_id}.zip"


def _descriptor(
    manifest: BundleManifest, resources: Sequence[BundleResource], csvs: list[bytes]
) -> dict[str, Any]:
    rule = manifest.onward_sharing
    return {
        "profile": "tabular-data-package",
        "name": f"concord-release-{manifest.release_id.lower()}",
        "id": manifest.release_id,
        "title": f"{manifest.agreement_id} v{manifest.agreement_version}, {manifest.period}, "
        f"from {manifest.provider}",
        "created": _utc_text(manifest.created_at),
        "licenses": [
            {
                # "other-closed": the Open Definition id for "not open"; the terms are the
                # agreement's, summarised in the title.
                "name": "other-closed",
                "title": f"Sharing agreement {manifest.agreement_id} v"
                f"{manifest.agreement_version}: TLP:{manifest.marking}, onward sharing: {rule}",
            }
        ],
        "contributors": [{"title": manifest.provider, "role": "publisher"}],
        "resources": [
            {
                "name": resource.name,
                "path": f"data/{resource.name}.csv",
                "profile": "tabular-data-resource",
                "description": resource.description,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(csv),
                "hash": "sha256:" + hashlib.sha256(csv).hexdigest(),
                "schema": table_schema(resource.frame),
            }
            for resource, csv in zip(resources, csvs, strict=True)
        ],
        "concord": manifest.to_dict(),
    }


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_bundle(
    manifest: BundleManifest, resources: Sequence[BundleResource], key: NodeKey
) -> bytes:
    """The signed bundle of a release, as ZIP bytes (the same input gives the same bytes)."""
    if key.node_id != manifest.node:
        raise InputError(
            f"the manifest names node {manifest.node!r}, but the signing key is node "
            f"{key.node_id!r}'s"
        )
    names = [r.name for r in resources]
    bad = [n for n in names if not RESOURCE_NAME.match(n)]
    if bad or len(set(names)) != len(names) or not names:
        raise InputError(
            "a bundle needs at least one table, each with a unique name of lowercase letters, "
            f"digits, '.', '-' and '_' (got {', '.join(map(repr, names)) or 'none'})"
        )
    csvs = [frame_to_csv(r.frame) for r in resources]
    package = (
        json.dumps(_descriptor(manifest, resources, csvs), indent=2, ensure_ascii=False) + "\n"
    ).encode("utf-8")
    signature = signature_record(key, package)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry(PACKAGE), package)
        for resource, csv in zip(resources, csvs, strict=True):
            archive.writestr(_entry(f"data/{resource.name}.csv"), csv)
        archive.writestr(_entry(SIGNATURE), (json.dumps(signature, indent=2) + "\n").encode())
    return buffer.getvalue()


def _open(data: bytes, max_bytes: int) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The archive and its entries by name, after every check that needs no decompression."""
    if len(data) > max_bytes:
        raise BundleError(f"the bundle is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise BundleError("the bundle is not a ZIP file") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"the bundle has {len(infos):,} entries; a bundle has a few tables")
    declared = sum(i.file_size for i in infos)
    if declared > max_bytes:
        raise BundleError(
            f"the bundle would unpack to {declared:,} bytes; the limit is {max_bytes:,} "
            "(refused unread: this is how a ZIP bomb looks)"
        )
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or "\\" in name or ":" in parts[0]:
            raise BundleError(f"the bundle has an unsafe entry name {name!r} (path traversal)")
        if name not in (PACKAGE, SIGNATURE) and not _DATA_ENTRY.match(name):
            raise BundleError(f"the bundle has an unexpected entry {name!r}")
        if name in entries:
            raise BundleError(f"the bundle has the entry {name!r} twice")
        if info.flag_bits & 0x1:
            raise BundleError(f"the bundle's entry {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"the bundle's entry {name!r} uses an unsupported compression")
        entries[name] = info
    if PACKAGE not in entries:
        raise BundleError(f"the bundle has no {PACKAGE}: it is not a data package")
    if SIGNATURE not in entries:
        raise BundleError(f"the bundle is unsigned: it has no {SIGNATURE}")
    return archive, entries


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as handle:
            # zipfile stops at the declared size, which was checked against the limit.
            return handle.read(info.file_size)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise BundleError(f"the bundle's entry {info.filename!r} is damaged") from exc


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise BundleError(f"{what} is not a JSON object")
    return value


def _resource_frames(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], descriptor: dict[str, Any]
) -> dict[str, pl.DataFrame]:
    listed = descriptor.get("resources")
    if not isinstance(listed, list) or not listed:
        raise BundleError(f"{PACKAGE} lists no resources")
    frames: dict[str, pl.DataFrame] = {}
    for resource in listed:
        name = resource.get("name") if isinstance(resource, dict) else None
        if not isinstance(name, str) or not RESOURCE_NAME.match(name) or name in frames:
            raise BundleError(f"{PACKAGE}: a resource has a missing, bad or repeated name")
        path = f"data/{name}.csv"
        if resource.get("path") != path:
            raise BundleError(f"resource {name!r} must have the path {path!r}")
        if path not in entries:
            raise BundleError(f"resource {name!r}: the bundle has no file {path}")
        content = _read(archive, entries[path])
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        if resource.get("bytes") != len(content) or resource.get("hash") != digest:
            raise BundleError(
                f"resource {name!r} was altered: its bytes do not match the size and hash "
                "the signed package declares"
            )
        frames[name] = frame_from_csv(content, resource.get("schema"), resource=name)
    extra = sorted(set(entries) - {PACKAGE, SIGNATURE} - {f"data/{n}.csv" for n in frames})
    if extra:
        raise BundleError(f"the bundle has files no resource declares: {', '.join(extra)}")
    return frames


def read_bundle(
    data: bytes,
    *,
    public_key_for: PublicKeyLookup,
    max_bytes: int = MAX_BUNDLE_BYTES,
) -> VerifiedBundle:
    """Verify a bundle and read its tables, or refuse it with a :class:`BundleError`.

    ``public_key_for`` gives the public key the reader trusts for a node and key id (see
    :data:`concord.share.signing.PublicKeyLookup`).
    """
    archive, entries = _open(data, max_bytes)
    with archive:
        package = _read(archive, entries[PACKAGE])
        signature = _json(_read(archive, entries[SIGNATURE]), SIGNATURE)
        node, key_id = check_signature_record(signature, package, public_key_for, what=PACKAGE)
        descriptor = _json(package, PACKAGE)
        manifest = BundleManifest.from_dict(descriptor.get("concord"))
        if manifest.node != node:
            raise BundleError(f"the manifest names node {manifest.node!r}; {node!r} signed it")
        if descriptor.get("id") != manifest.release_id:
            raise BundleError(f"{PACKAGE}: the package id is not the release id")
        frames = _resource_frames(archive, entries, descriptor)
    return VerifiedBundle(
        manifest=manifest,
        resources=frames,
        sha256=hashlib.sha256(package).hexdigest(),
        key_id=key_id,
        node=node,
        descriptor=descriptor,
    )


def bundle_sha256(data: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES) -> str:
    """A bundle's identity (SHA-256 of its ``datapackage.json``), without verifying it."""
    archive, entries = _open(data, max_bytes)
    with archive:
        return hashlib.sha256(_read(archive, entries[PACKAGE])).hexdigest()
