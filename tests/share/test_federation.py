"""The hub: registered nodes, bundles accepted only under an agreement in force, replays and
revocations refused or applied, and regional tables added up from the nodes."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry, FederationBundle, FederationNode
from concord.errors import BundleError, InputError
from concord.share.federation import (
    list_nodes,
    receive_bundle,
    regional_tables,
    register_node,
    remove_node,
    revoke_release,
)
from concord.share.revocation import sign_revocation
from concord.share.signing import NodeKey
from tests.share.federation_setup import (
    AUDIT,
    ES,
    HUB,
    MADE,
    PT,
    RECORDS,
    TABLE,
    VOCABULARY,
    agreement,
    bundle,
    cheap_passwords,
    count_table,
    in_force,
    node_key,
    record_table,
    records_agreement,
    register,
)

ES_KEY, PT_KEY = node_key(ES), node_key(PT)


def receive(session: Session, data: bytes, **changes: str) -> bool:
    options = {"hub_org": HUB, "vocabulary_version": VOCABULARY} | changes
    return receive_bundle(session, data, audit=AUDIT, now=MADE, **options).stored


def stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FederationBundle)) or 0


def actions(session: Session, prefix: str = "federation.") -> list[str]:
    query = select(AuditEntry.action).where(AuditEntry.action.like(prefix + "%"))
    return list(session.scalars(query.order_by(AuditEntry.seq)))


@pytest.fixture
def hub(session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    """The hub with both nodes registered and both aggregate agreements (and ES's record-level
    agreement) in force."""
    cheap_passwords(monkeypatch)
    in_force(session, agreement(ES), agreement(PT), records_agreement())
    register(session, ES_KEY)
    register(session, PT_KEY)
    return session


def test_register_list_and_remove_nodes(session: Session) -> None:
    key = node_key("hotline-fr")
    register(session, key, ["hotline-fr"])
    register(session, key, ["hotline-fr"])  # the same again: no change, no audit entry
    assert [n.id for n in list_nodes(session)] == ["hotline-fr"]
    assert actions(session) == ["federation.node.register"]
    rotated = NodeKey("hotline-fr", node_key().private_key)
    register(session, rotated, ["hotline-fr"])
    node = session.get(FederationNode, "hotline-fr")
    assert node is not None
    assert node.key_id == rotated.key_id
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    assert entry.details["replaced_key"] == key.key_id
    remove_node(session, "hotline-fr", actor="test", audit=AUDIT)
    assert list_nodes(session) == []


def test_registration_checks_its_input(session: Session) -> None:
    key = node_key("hotline-fr")
    with pytest.raises(InputError, match="not base64"):
        register_node(
            session,
            node_id="hotline-fr",
            name="FR",
            public_key_b64="garbage!",
            organisations=["hotline-fr"],
            url=None,
            actor="t",
            audit=AUDIT,
        )
    with pytest.raises(InputError, match="organisations"):
        register(session, key, ["Not A Slug"])


def test_a_bundle_is_stored_once(hub: Session) -> None:
    data = bundle(ES_KEY, agreement(ES))
    assert receive(hub, data) is True
    assert receive(hub, data) is False  # a retried push changes nothing
    assert stored(hub) == 1
    row = hub.scalars(select(FederationBundle)).one()
    assert row.tables[TABLE]["dimensions"] == ["country"]
    assert row.tables[TABLE]["cells"][0] == ["_total", 40, "published"]
    assert row.package == data
    node = hub.get(FederationNode, ES)
    assert node is not None
    assert node.last_received_at is not None
    assert actions(hub, "federation.receive") == ["federation.receive"]


def test_an_unknown_node_is_refused(hub: Session) -> None:
    stranger = node_key("hotline-fr")
    with pytest.raises(BundleError, match="'hotline-fr' is not registered at this hub"):
        receive(hub, bundle(stranger, agreement(ES), provider=ES))


def test_a_bundle_signed_with_another_key_is_refused(hub: Session) -> None:
    with pytest.raises(BundleError, match="if the node rotated its key, register the new"):
        receive(hub, bundle(node_key(ES), agreement(ES)))


def test_a_node_speaks_only_for_its_organisations(hub: Session) -> None:
    with pytest.raises(BundleError, match="node 'hotline-pt' speaks for hotline-pt, not for"):
        receive(hub, bundle(PT_KEY, agreement(ES)))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"agreement_version": 7}, "v7 is not known at this hub"),
        ({"created_at": MADE.replace(year=2025)}, "was not in force at this hub on 2025-10-05"),
        (
            {
                "period": "2028-Q1",
                "period_start": date(2028, 1, 1),
                "period_end": date(2028, 3, 31),
            },
            "not within the agreement's validity",
        ),
        ({"vocabulary_version": "0.9"}, "version 0.9; this hub uses 1.0.0"),
        ({"level": "pseudonymised_records"}, "shares aggregate, not pseudonymised_records"),
    ],
)
def test_bundles_outside_the_agreement_are_refused(
    hub: Session, changes: dict[str, object], reason: str
) -> None:
    with pytest.raises(BundleError, match=reason):
        receive(hub, bundle(ES_KEY, agreement(ES), **changes))


def test_the_hub_must_be_a_recipient(hub: Session) -> None:
    with pytest.raises(BundleError, match=r"does not list this hub \(other-hub\)"):
        receive(hub, bundle(ES_KEY, agreement(ES)), hub_org="other-hub")


@pytest.mark.parametrize(
    ("name", "frame", "reason"),
    [
        ("reports.total", count_table({"_total": 3}), "not a table of an indicator"),
        (TABLE, count_table({"_total": 3}).rename({"country": "region"}), "region is not shared"),
        (
            TABLE,
            count_table({"_total": 3}).with_columns(victim_age_band=pl.lit("_total")),
            "crosses victim_age_band × country",
        ),
        (TABLE, pl.DataFrame({"country": ["ES"], "n": [1]}), "'count' and 'status'"),
    ],
)
def test_tables_the_agreement_does_not_share_are_refused(
    hub: Session, name: str, frame: pl.DataFrame, reason: str
) -> None:
    with pytest.raises(BundleError, match=reason):
        receive(hub, bundle(ES_KEY, agreement(ES), tables={name: frame}))


def test_record_tables_carry_shared_fields_only(hub: Session) -> None:
    frame = record_table(["s1"]).with_columns(name=pl.lit("Noor"))
    with pytest.raises(BundleError, match="fields not shared by the agreement: name"):
        receive(hub, bundle(ES_KEY, records_agreement(), tables={RECORDS: frame}))


def test_a_changed_bundle_under_a_used_release_id_is_refused(hub: Session) -> None:
    first = bundle(ES_KEY, agreement(ES), release_id="r-1")
    receive(hub, first)
    changed = bundle(ES_KEY, agreement(ES), {"_total": 41, "ES": 26, "PT": 15}, release_id="r-1")
    with pytest.raises(BundleError, match="already received with other content"):
        receive(hub, changed)


def test_revocation_deletes_and_a_replay_is_refused(hub: Session) -> None:
    data = bundle(ES_KEY, agreement(ES), release_id="r-1")
    receive(hub, data)
    message = sign_revocation(ES_KEY, release_id="r-1", reason="wrong period")
    result = revoke_release(hub, message, audit=AUDIT)
    assert result.whole and result.changed
    row = hub.get(FederationBundle, "r-1")
    assert row is not None
    assert row.revoked_at is not None
    assert row.revoked_reason == "wrong period"
    assert row.tables == {}
    assert row.package is None
    assert not revoke_release(hub, message, audit=AUDIT).changed  # applied once
    with pytest.raises(BundleError, match="r-1 was revoked on"):
        receive(hub, data)
    assert actions(hub, "federation.revoke") == ["federation.revoke"]


def test_only_the_sending_node_may_revoke(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), release_id="r-1"))
    with pytest.raises(BundleError, match="only it may revoke"):
        revoke_release(hub, sign_revocation(PT_KEY, release_id="r-1", reason="x"), audit=AUDIT)
    forged = sign_revocation(node_key(ES), release_id="r-1", reason="x")
    with pytest.raises(BundleError, match="register the new public key"):
        revoke_release(hub, forged, audit=AUDIT)


def test_a_release_revoked_before_it_arrives_is_refused_later(hub: Session) -> None:
    revoke_release(hub, sign_revocation(ES_KEY, release_id="r-9", reason="oops"), audit=AUDIT)
    with pytest.raises(BundleError, match="r-9 was revoked"):
        receive(hub, bundle(ES_KEY, agreement(ES), release_id="r-9"))


def test_consent_withdrawal_removes_only_that_subjects_rows(hub: Session) -> None:
    frame = record_table(["child-a", "child-b", "child-a", "child-c"])
    receive(hub, bundle(ES_KEY, records_agreement(), tables={RECORDS: frame}, release_id="r-2"))
    message = sign_revocation(
        ES_KEY, release_id="r-2", reason="consent withdrawn", subjects=["child-a"]
    )
    result = revoke_release(hub, message, audit=AUDIT)
    assert not result.whole
    assert result.subjects_removed == 2
    row = hub.get(FederationBundle, "r-2")
    assert row is not None
    assert row.revoked_at is None
    assert [r[0] for r in row.tables[RECORDS]["rows"]] == ["child-b", "child-c"]
    assert row.package is None  # the signed package still held child-a's rows
    assert actions(hub, "federation.withdraw") == ["federation.withdraw_subjects"]


def test_subjects_cannot_be_withdrawn_from_aggregates(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), release_id="r-1"))
    message = sign_revocation(ES_KEY, release_id="r-1", reason="consent", subjects=["child-a"])
    with pytest.raises(BundleError, match="record-level releases only"):
        revoke_release(hub, message, audit=AUDIT)


def test_a_node_with_bundles_is_removed_only_with_them(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES)))
    with pytest.raises(InputError, match="--purge"):
        remove_node(hub, ES, actor="test", audit=AUDIT)
    assert remove_node(hub, ES, actor="test", audit=AUDIT, purge=True) == 1
    assert stored(hub) == 0


def cells(table_cells: pl.DataFrame) -> dict[str, tuple[int | None, str]]:
    return {r["country"]: (r["count"], r["status"]) for r in table_cells.iter_rows(named=True)}


def test_regional_tables_add_up_nodes_and_mark_incomplete_cells(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), {"_total": 40, "ES": 25, "PT": 15}))
    pt = bundle(PT_KEY, agreement(PT), {"_total": 30, "ES": None, "PT": None}, release_id="p")
    receive(hub, pt)
    (table,) = regional_tables(hub)
    assert (table.name, table.period, table.dimensions) == (TABLE, "2026-Q3", ["country"])
    assert table.nodes == [ES, PT]
    assert table.agreements == [f"{ES}-to-hub", f"{PT}-to-hub"]
    assert cells(table.cells) == {
        "_total": (70, "published"),
        "ES": (None, "incomplete"),
        "PT": (None, "incomplete"),
    }
    # Revoking PT's release recomputes the regional table from ES alone.
    revoke_release(hub, sign_revocation(PT_KEY, release_id="p", reason="x"), audit=AUDIT)
    (table,) = regional_tables(hub)
    assert table.nodes == [ES]
    assert cells(table.cells) == {
        "_total": (40, "published"),
        "ES": (25, "published"),
        "PT": (15, "published"),
    }


def test_the_hub_suppresses_small_regional_cells(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), {"_total": 40, "ES": 25, "PT": 15}))
    (table,) = regional_tables(hub, min_cell=20)
    # PT is small; ES is hidden too, or the total minus ES would give PT back.
    assert cells(table.cells) == {
        "_total": (40, "published"),
        "ES": (None, "suppressed"),
        "PT": (None, "suppressed"),
    }
    assert "secondary" in table.protection


def test_a_cell_missing_at_one_node_counts_as_zero_there(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), {"_total": 40, "ES": 25, "PT": 15}))
    receive(hub, bundle(PT_KEY, agreement(PT), {"_total": 30, "PT": 30}))
    (table,) = regional_tables(hub)
    assert cells(table.cells)["ES"] == (25, "published")
    assert cells(table.cells)["PT"] == (45, "published")


def test_only_each_nodes_latest_bundle_counts(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), {"_total": 40, "ES": 25, "PT": 15}))
    later = bundle(ES_KEY, agreement(ES), {"_total": 50, "ES": 35, "PT": 15})
    receive_bundle(
        hub,
        later,
        hub_org=HUB,
        vocabulary_version=VOCABULARY,
        audit=AUDIT,
        now=MADE + timedelta(days=1),
    )
    (table,) = regional_tables(hub)
    assert cells(table.cells)["_total"] == (50, "published")
    assert regional_tables(hub, period="2026-Q4") == []
    assert len(regional_tables(hub, agreement_id=f"{ES}-to-hub")) == 1
    assert regional_tables(hub, agreement_id="nothing") == []


def test_record_level_bundles_make_no_regional_table(hub: Session) -> None:
    frame = record_table(["child-a"])
    receive(hub, bundle(ES_KEY, records_agreement(), tables={RECORDS: frame}))
    assert regional_tables(hub) == []


def test_a_table_without_margins_gets_primary_suppression(hub: Session) -> None:
    receive(hub, bundle(ES_KEY, agreement(ES), {"ES": 25, "PT": 12}))
    (table,) = regional_tables(hub, min_cell=15)  # a hub may be stricter than its nodes
    assert cells(table.cells) == {"ES": (25, "published"), "PT": (None, "suppressed")}
    assert table.protection.startswith("primary suppression below 15")


def test_a_bundle_that_breaks_the_disclosure_rules_is_refused(hub: Session) -> None:
    small = bundle(ES_KEY, agreement(ES), {"_total": 30, "ES": 25, "PT": 5})
    with pytest.raises(BundleError, match=r"1 published cell.* below the agreement's min_cell"):
        receive(hub, small)
    leaky = count_table({"_total": 30, "ES": 25, "PT": None}).with_columns(
        pl.when(pl.col("status") != "published").then(5).otherwise(pl.col("count")).alias("count")
    )
    with pytest.raises(BundleError, match=r"1 hidden cell.* carry a count"):
        receive(hub, bundle(ES_KEY, agreement(ES), tables={TABLE: leaky}))
