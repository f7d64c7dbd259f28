"""``concord consent`` from the command line: record, check (exit 0 allowed, 1 denied),
withdraw with the recipients to tell, the harm exception's four eyes, show, and the audit
entries the commands write. The child's own id is never printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from concord.cli.common import migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.db.models import AuditEntry
from concord.protect.consent import record_disclosure
from concord.protect.pseudonyms import PseudonymKeys

Run = Callable[..., tuple[int, str, str]]
ORG = "helpline-fr"
CHILD_ID = "HL-2026-000417"
WHO = ("--org", ORG, "--subject", CHILD_ID)


def consent_given(run_cli: Run, *scopes: str) -> None:
    flags = [arg for scope in scopes for arg in ("--scope", scope)]
    code, _, err = run_cli("consent", "assess", *WHO, "--outcome", "capable", "--by", "dr-lee")
    assert code == 0, err
    code, out, err = run_cli(
        "consent",
        "record",
        *WHO,
        "--party",
        "child",
        "--status",
        "given",
        *flags,
        "--evidence",
        "form-17",
    )
    assert code == 0, err
    assert "child given" in out
    code, _, err = run_cli(
        "consent",
        "record",
        *WHO,
        "--party",
        "caregiver",
        "--status",
        "given",
        *flags,
        "--evidence",
        "form-18",
    )
    assert code == 0, err


def check(run_cli: Run, scope: str) -> tuple[int, dict[str, object]]:
    code, out, err = run_cli("consent", "check", *WHO, "--scope", scope, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def test_record_check_withdraw_and_check_again(run_cli: Run) -> None:
    code, out, _ = run_cli("consent", "check", *WHO, "--scope", "referral")
    assert code == 1
    assert "referral: denied (basis: none)" in out
    assert "no caregiver consent covers referral" in out

    consent_given(run_cli, "referral", "research")
    code, out, _ = run_cli("consent", "check", *WHO, "--scope", "referral")
    assert code == 0, out
    assert "allowed (basis: consent)" in out and "assessed capable on" in out

    with session_scope(migrated_engine()) as session:
        subject_key = PseudonymKeys(get_settings().key_dir).subject_key(ORG, CHILD_ID)
        record_disclosure(
            session,
            organisation=ORG,
            subject_key=subject_key,
            recipient="health-service",
            scope="referral",
            reference="referral-88",
        )
    code, out, err = run_cli(
        "consent", "withdraw", *WHO, "--party", "caregiver", "--scope", "referral"
    )
    assert code == 0, err
    assert "Withdrawn: caregiver consent record" in out
    assert "The scopes not withdrawn continue in record" in out
    assert "tell these recipients" in out and "health-service" in out and "referral-88" in out

    code, decision = check(run_cli, "referral")
    assert code == 1 and decision["allowed"] is False
    assert "caregiver consent to referral withdrawn on" in str(decision["reason"])
    code, decision = check(run_cli, "research")
    assert code == 0 and decision["basis"] == "consent"


def test_withdraw_json_and_by_id(run_cli: Run) -> None:
    consent_given(run_cli, "case_management")
    code, out, _ = run_cli("consent", "show", *WHO, "--format", "json")
    records = json.loads(out)["records"]
    child = next(r for r in records if r["party"] == "child")
    code, out, err = run_cli(
        "consent", "withdraw", *WHO, "--id", str(child["id"]), "--format", "json", "--by", "hl-sw"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["withdrawn"] == [child["id"]] and report["flagged"] == []
    assert report["party"] == "child" and report["scopes"] == ["case_management"]
    code, _, err = run_cli("consent", "withdraw", *WHO, "--id", str(child["id"]))
    assert code == 2 and "already withdrawn" in err
    code, _, err = run_cli("consent", "withdraw", *WHO)
    assert code == 2 and "--id" in err and "--party" in err


def test_harm_exception_needs_a_second_person(run_cli: Run) -> None:
    review = (date.today() + timedelta(days=14)).isoformat()
    code, out, err = run_cli(
        "consent",
        "harm",
        "request",
        *WHO,
        "--scope",
        "referral",
        "--justification",
        "child at immediate risk at home",
        "--review-on",
        review,
        "--by",
        "alice",
    )
    assert code == 0, err
    assert "allows nothing until another person approves it" in out
    assert check(run_cli, "referral")[0] == 1

    code, _, err = run_cli("consent", "harm", "approve", *WHO, "--id", "1", "--approver", "alice")
    assert code == 2 and "another person must approve it" in err
    code, out, err = run_cli("consent", "harm", "approve", *WHO, "--id", "1", "--approver", "bob")
    assert code == 0, err
    assert f"in force until its review on {review}" in out
    code, decision = check(run_cli, "referral")
    assert code == 0 and decision["basis"] == "harm_exception"
    assert decision["harm_exception_id"] == 1

    code, out, err = run_cli("consent", "harm", "end", *WHO, "--id", "1", "--by", "bob")
    assert code == 0, err
    assert check(run_cli, "referral")[0] == 1


def test_harm_exception_for_another_child_is_not_found(run_cli: Run) -> None:
    review = (date.today() + timedelta(days=7)).isoformat()
    run_cli(
        "consent",
        "harm",
        "request",
        *WHO,
        "--scope",
        "referral",
        "--justification",
        "risk",
        "--review-on",
        review,
        "--by",
        "alice",
    )
    code, _, err = run_cli(
        "consent",
        "harm",
        "approve",
        "--org",
        ORG,
        "--subject",
        "HL-OTHER",
        "--id",
        "1",
        "--approver",
        "bob",
    )
    assert code == 2 and "no harm exception #1 for this subject" in err


def test_show_lists_everything_without_the_childs_id(run_cli: Run) -> None:
    consent_given(run_cli, "referral", "sharing:org:police-fr")
    run_cli(
        "consent",
        "record",
        *WHO,
        "--party",
        "caregiver",
        "--status",
        "refused",
        "--scope",
        "research",
    )
    code, out, err = run_cli("consent", "show", *WHO)
    assert code == 0, err
    for heading in ("What consent allows now", "Capacity assessments", "Consent records"):
        assert heading in out
    assert "Harm exceptions: none" in out and "Shared about this child: none" in out
    assert "sharing:org:police-fr" in out and "form-17" in out and "dr-lee" in out
    assert "the caregiver refused research on" in out
    assert CHILD_ID not in out

    code, out, _ = run_cli("consent", "show", *WHO, "--format", "json")
    summary = json.loads(out)
    assert {d["scope"]: d["allowed"] for d in summary["decisions"]} == {
        "case_management": False,
        "referral": True,
        "research": False,
        "sharing:org:police-fr": True,
    }
    assert CHILD_ID not in out
    assert summary["subject_key"] == PseudonymKeys(get_settings().key_dir).subject_key(
        ORG, CHILD_ID
    )


def test_refusals_are_one_line_errors(run_cli: Run) -> None:
    code, _, err = run_cli("consent", "check", *WHO, "--scope", "sharing")
    assert code == 2 and "consent to sharing must name the organisation" in err
    code, _, err = run_cli(
        "consent", "record", *WHO, "--party", "caregiver", "--status", "not_applicable"
    )
    assert code == 2 and "the reason consent is not applicable is required" in err
    code, _, err = run_cli(
        "consent",
        "record",
        *WHO,
        "--party",
        "child",
        "--status",
        "given",
        "--scope",
        "referral",
        "--evidence",
        "f-1",
    )
    assert code == 2 and "assess the child's capacity" in err
    code, _, err = run_cli("consent", "check", *WHO, "--scope", "referral", "--at", "soon")
    assert code == 2 and "--at: 'soon' is not a time" in err
    code, _, err = run_cli(
        "consent",
        "harm",
        "request",
        *WHO,
        "--scope",
        "referral",
        "--justification",
        "x",
        "--review-on",
        "next week",
    )
    assert code == 2 and "--review-on: 'next week' is not a date" in err


def test_commands_are_audited_under_the_named_person(run_cli: Run) -> None:
    consent_given(run_cli, "referral")
    run_cli("consent", "withdraw", *WHO, "--party", "child")
    with session_scope(migrated_engine()) as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        actions = [(e.action, e.actor) for e in entries]
    assert actions[0] == ("consent.capacity_assess", "dr-lee")
    assert [a for a, _ in actions] == [
        "consent.capacity_assess",
        "consent.record",
        "consent.record",
        "consent.withdraw",
    ]
    assert actions[3][1].startswith("cli:")
    assert all(CHILD_ID not in json.dumps(e.details) for e in entries)
