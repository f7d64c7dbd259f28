"""Signed bundles: a valid Frictionless Data Package, read back only when nothing was changed."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from frictionless import validate
from polars.testing import assert_frame_equal

from concord.errors import BundleError, InputError
from concord.share.bundle import (
    PACKAGE,
    SIGNATURE,
    BundleManifest,
    BundleResource,
    bundle_sha256,
    read_bundle,
    write_bundle,
)
from concord.share.signing import NodeKey, signature_record
from tests.share.federation_setup import (
    TABLE,
    agreement,
    bundle,
    count_table,
    manifest,
    node_key,
    record_table,
    records_agreement,
)

KEY = node_key()


def trusting(key: NodeKey) -> Callable[[str, str], Ed25519PublicKey | None]:
    """A lookup that knows exactly ``key``."""
    return lambda node, key_id: (
        key.public_key if (node, key_id) == (key.node_id, key.key_id) else None
    )


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def resigned(files: dict[str, bytes], key: NodeKey) -> dict[str, bytes]:
    """``files`` with a fresh, valid signature over their (edited) package."""
    record = signature_record(key, files[PACKAGE])
    return files | {SIGNATURE: json.dumps(record).encode()}


def test_round_trip() -> None:
    records = record_table(["a" * 64, "b" * 64]).with_columns(
        pl.Series("received", [date(2026, 7, 1), None]),
        pl.Series("score", [1.5, None]),
        pl.Series("flagged", [True, False]),
    )
    counts = count_table({"_total": 40, "ES": 25, "PT": None, None: 15})
    made = manifest(KEY, records_agreement())
    data = write_bundle(
        made,
        [BundleResource(TABLE, counts, "counts"), BundleResource("records", records, "rows")],
        KEY,
    )
    found = read_bundle(data, public_key_for=trusting(KEY))
    assert found.manifest == made
    assert found.node == KEY.node_id
    assert found.key_id == KEY.key_id
    assert_frame_equal(found.resources[TABLE], counts)
    assert_frame_equal(found.resources["records"], records)
    assert found.sha256 == hashlib.sha256(entries(data)[PACKAGE]).hexdigest()
    assert found.sha256 == bundle_sha256(data)


def test_the_same_release_gives_the_same_bytes() -> None:
    made = manifest(KEY, agreement())
    tables = [BundleResource(TABLE, count_table({"_total": 3}), "")]
    assert write_bundle(made, tables, KEY) == write_bundle(made, tables, KEY)


def test_manifest_to_dict_and_back() -> None:
    made = manifest(KEY, agreement(), context={"note": "x"})
    assert BundleManifest.from_dict(json.loads(json.dumps(made.to_dict()))) == made
    with pytest.raises(BundleError, match="manifest"):
        BundleManifest.from_dict(made.to_dict() | {"period_start": "soon"})


def test_the_package_is_a_valid_frictionless_data_package(tmp_path: Path) -> None:
    data = bundle(
        KEY,
        agreement(),
        tables={
            TABLE: count_table({"_total": 40, "ES": None, "PT": 15}),
            "records": record_table(["s1", "s2"]).with_columns(
                pl.Series("received", [date(2026, 7, 1), None])
            ),
        },
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
    report = validate(tmp_path / PACKAGE)
    assert report.valid, report.flatten(["type", "note"])
    descriptor = json.loads((tmp_path / PACKAGE).read_text())
    assert descriptor["profile"] == "tabular-data-package"
    resource = descriptor["resources"][0]
    assert resource["path"] == f"data/{TABLE}.csv"
    assert resource["hash"].startswith("sha256:")
    assert [f["type"] for f in resource["schema"]["fields"]] == ["string", "integer", "string"]
    assert descriptor["concord"]["release_id"] == descriptor["id"]


def test_frictionless_sees_a_tampered_resource_too(tmp_path: Path) -> None:
    files = entries(bundle(KEY, agreement()))
    path = f"data/{TABLE}.csv"
    files[path] = files[path].replace(b"25", b"26")
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    assert not validate(tmp_path / PACKAGE).valid


def test_a_tampered_csv_byte_is_refused() -> None:
    files = entries(bundle(KEY, agreement()))
    path = f"data/{TABLE}.csv"
    files[path] = files[path].replace(b"25", b"26")
    with pytest.raises(BundleError, match=f"resource '{TABLE}' was altered"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))


def test_a_tampered_package_is_refused() -> None:
    files = entries(bundle(KEY, agreement()))
    files[PACKAGE] = files[PACKAGE].replace(b"2026-Q3", b"2026-Q4")
    with pytest.raises(BundleError, match="signature does not verify"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))


def test_an_unsigned_bundle_is_refused() -> None:
    files = entries(bundle(KEY, agreement()))
    del files[SIGNATURE]
    with pytest.raises(BundleError, match="unsigned"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))


def test_a_signature_by_another_key_is_refused() -> None:
    intruder = node_key()  # same node id, another key
    data = bundle(intruder, agreement())
    with pytest.raises(BundleError, match="unknown node or key"):
        read_bundle(data, public_key_for=trusting(KEY))
    with pytest.raises(BundleError, match="is not node hotline-es's key"):
        read_bundle(data, public_key_for=lambda node, key_id: KEY.public_key)
    # ... and claiming the real key id does not help: the signature does not verify.
    files = entries(data)
    forged = json.loads(files[SIGNATURE]) | {"key_id": KEY.key_id}
    files[SIGNATURE] = json.dumps(forged).encode()
    with pytest.raises(BundleError, match="signature does not verify"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))


def test_an_unknown_node_is_refused() -> None:
    with pytest.raises(BundleError, match=r"unknown node or key \(hotline-es"):
        read_bundle(bundle(KEY, agreement()), public_key_for=lambda node, key_id: None)


def test_a_csv_that_does_not_match_its_schema_is_refused() -> None:
    files = entries(bundle(KEY, agreement()))
    path = f"data/{TABLE}.csv"
    files[path] = files[path].replace(b"25", b"2x")
    package = json.loads(files[PACKAGE])
    package["resources"][0]["bytes"] = len(files[path])
    package["resources"][0]["hash"] = "sha256:" + hashlib.sha256(files[path]).hexdigest()
    files[PACKAGE] = json.dumps(package).encode()
    with pytest.raises(BundleError, match="'2x' is not a valid integer"):
        read_bundle(rezip(resigned(files, KEY)), public_key_for=trusting(KEY))


def test_a_header_that_does_not_match_its_schema_is_refused() -> None:
    files = entries(bundle(KEY, agreement()))
    path = f"data/{TABLE}.csv"
    files[path] = files[path].replace(b"country,", b"region,")
    package = json.loads(files[PACKAGE])
    package["resources"][0] |= {
        "bytes": len(files[path]),
        "hash": "sha256:" + hashlib.sha256(files[path]).hexdigest(),
    }
    files[PACKAGE] = json.dumps(package).encode()
    with pytest.raises(BundleError, match="header"):
        read_bundle(rezip(resigned(files, KEY)), public_key_for=trusting(KEY))


def test_not_a_zip_is_refused() -> None:
    with pytest.raises(BundleError, match="not a ZIP"):
        read_bundle(b"PK? not really", public_key_for=trusting(KEY))


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    files = entries(bundle(KEY, agreement()))
    files[f"data/{TABLE}.csv"] = b"0" * 5_000_000  # deflates to a few kilobytes
    data = rezip(files)
    assert len(data) < 100_000
    with pytest.raises(BundleError, match="would unpack to 5,00"):
        read_bundle(data, public_key_for=trusting(KEY), max_bytes=1_000_000)


def test_a_bundle_over_the_limit_is_refused() -> None:
    data = bundle(KEY, agreement())
    with pytest.raises(BundleError, match="the limit is 100"):
        read_bundle(data, public_key_for=trusting(KEY), max_bytes=100)


@pytest.mark.parametrize("name", ["../evil.csv", "/etc/passwd", "data/../../x.csv", "a\\..\\b"])
def test_path_traversal_is_refused(name: str) -> None:
    files = entries(bundle(KEY, agreement())) | {name: b"x"}
    with pytest.raises(BundleError, match="path traversal"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))


def test_unexpected_entries_are_refused() -> None:
    files = entries(bundle(KEY, agreement())) | {"notes.txt": b"hello"}
    with pytest.raises(BundleError, match=r"unexpected entry 'notes\.txt'"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))
    files = entries(bundle(KEY, agreement())) | {"data/extra.csv": b"a\n1\n"}
    with pytest.raises(BundleError, match=r"files no resource declares: data/extra\.csv"):
        read_bundle(rezip(files), public_key_for=trusting(KEY))


def test_writing_checks_names_and_key() -> None:
    made = manifest(KEY, agreement())
    with pytest.raises(InputError, match="unique name"):
        write_bundle(made, [BundleResource("Bad Name", count_table({"_total": 1}))], KEY)
    with pytest.raises(InputError, match="signing key"):
        write_bundle(made, [BundleResource(TABLE, count_table({"_total": 1}))], node_key("x"))


def test_a_naive_creation_time_is_utc() -> None:
    naive = manifest(KEY, agreement()).created_at.replace(tzinfo=None)
    made = manifest(KEY, agreement(), created_at=naive)
    assert made.created_at.utcoffset() is not None
    assert made.to_dict()["created_at"].endswith("Z")
