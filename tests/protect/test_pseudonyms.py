"""Keyed pseudonyms: standard HMAC-SHA256, stable across releases, separated by purpose."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.protect.pseudonyms import SUBJECT_DOMAIN, PseudonymKeys


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.text(max_size=40), max_size=30))
def test_record_pseudonyms_are_hmac_sha256_of_the_key(
    tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    """Earlier imports stored exactly these values: any change would break re-import
    idempotence and duplicate detection against them."""
    keys = PseudonymKeys(tmp_path_factory.mktemp("k"))
    secret = keys.key_for("org-a")
    expected = [hmac.digest(secret, v.encode(), "sha256").hex() for v in values]
    assert keys.pseudonymise("org-a", values) == expected


def test_subject_pseudonyms_are_domain_separated_and_trimmed(tmp_path: Path) -> None:
    keys = PseudonymKeys(tmp_path)
    secret = keys.key_for("org-a")
    ids = ["C-1", " C-1 ", "C-2"]
    bulk = keys.subject_keys("org-a", ids)
    assert bulk == [keys.subject_key("org-a", i) for i in ids]
    assert bulk[0] == bulk[1] == hmac.digest(secret, SUBJECT_DOMAIN + b"C-1", "sha256").hex()
    assert bulk[0] != keys.pseudonymise("org-a", ["C-1"])[0]


def test_organisations_get_unrelated_pseudonyms(tmp_path: Path) -> None:
    keys = PseudonymKeys(tmp_path)
    assert keys.pseudonymise("org-a", ["R1"]) != keys.pseudonymise("org-b", ["R1"])
    assert PseudonymKeys(tmp_path).pseudonymise("org-a", ["R1"]) == keys.pseudonymise(
        "org-a", ["R1"]
    )
