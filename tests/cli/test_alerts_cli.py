"""`concord alerts run|list|ack|export` on a small synthetic node."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., tuple[int, str, str]]


def test_run_list_ack_export(run_cli: Run, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        run_cli("synth", str(data), "--rows", "300", "--org", "hotline-es", "--org", "ngo-ke")[0]
        == 0
    )
    for org in ("hotline-es", "ngo-ke"):
        code, _, err = run_cli(
            "ingest", str(data / f"{org}.csv"), "--mapping", str(data / f"{org}.mapping.yaml")
        )
        assert code == 0, err
    code, out, err = run_cli("alerts", "run")
    assert code == 0, err
    assert "alert" in out or "No indicator rose" in out
    code, out, _ = run_cli("alerts", "list", "--status", "all", "--format", "json")
    alerts = json.loads(out)
    if alerts:
        assert run_cli("alerts", "ack", str(alerts[0]["id"]), "--note", "seen")[0] == 0
    code, out, _ = run_cli("alerts", "export", "-o", str(tmp_path / "alerts.json"))
    assert code == 0 and json.loads((tmp_path / "alerts.json").read_text()) is not None
    code, _, err = run_cli("alerts", "ack", "424242")
    assert code == 2 and "no alert 424242" in err


def test_run_at_a_hub_reads_the_federated_tables(run_cli: Run) -> None:
    code, out, err = run_cli("alerts", "run", "--hub")
    assert code == 0, err
    # no node has pushed anything to this hub: nothing to assess, no alert
    assert "No open alert" in out
    code, _, err = run_cli("alerts", "run", "--hub", "--dimension", "galaxy")
    assert code != 0 and "--dimension must be one of" in err
