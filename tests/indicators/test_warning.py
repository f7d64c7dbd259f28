"""Early warning: a rise in several countries at once raises one alert with its evidence; one
country alone, or none, raises nothing; alerts are stored once and acknowledged with an audit."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.errors import InputError
from concord.indicators.warning import acknowledge, early_warning, list_alerts, store_alerts
from tests.protect.factories import audit_trail

MONTHS = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(42)]


def _frame(surging: list[str], calm: list[str], seed: int = 4) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for country in surging + calm:
        for index, month in enumerate(MONTHS):
            mean = 120 * (1 + 0.25 * np.sin(2 * np.pi * month.month / 12))
            if country in surging and index >= len(MONTHS) - 3:
                mean *= 1.8  # a surge in the last three months
            rows.append({"period": month, "country": country, "value": float(rng.poisson(mean))})
    return pl.DataFrame(rows)


def test_surge_in_several_countries_raises_one_alert_with_evidence() -> None:
    alerts = early_warning(
        "reports.sextortion",
        _frame(["country.fr", "country.es", "country.ke"], ["country.mx"]),
        dimension="country",
    )
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.period == MONTHS[-1]
    assert alert.members == ["country.es", "country.fr", "country.ke"]
    assert set(alert.evidence) == set(alert.members)
    assert all(alert.evidence[m]["reasons"] for m in alert.members)
    assert "3 countries" in alert.summary


def test_one_country_alone_or_none_raises_nothing() -> None:
    assert (
        early_warning(
            "x", _frame(["country.fr"], ["country.es", "country.ke"]), dimension="country"
        )
        == []
    )
    assert early_warning("x", _frame([], ["country.fr", "country.es"]), dimension="country") == []
    assert (
        early_warning(
            "x", pl.DataFrame({"period": [], "country": [], "value": []}), dimension="country"
        )
        == []
    )


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError, match="needs the columns"):
        early_warning("x", pl.DataFrame({"period": [MONTHS[0]]}), dimension="country")
    with pytest.raises(InputError, match="at least 2"):
        early_warning("x", _frame([], ["country.fr"]), dimension="country", min_members=1)


def test_alerts_are_stored_once_and_acknowledged(session: Session) -> None:
    candidates = early_warning(
        "reports.sextortion", _frame(["country.fr", "country.es"], []), dimension="country"
    )
    first = store_alerts(session, candidates)
    again = store_alerts(session, candidates)
    assert [a.id for a in first] == [a.id for a in again]
    assert len(list_alerts(session, status="open")) == 1
    acknowledge(session, audit_trail(), alert_id=first[0].id, by="ana", note="seen; informing")
    assert list_alerts(session, status="open") == []
    assert session.scalars(select(AuditEntry.action)).all()[-1] == "alert.acknowledge"


def test_unknown_country_and_suppressed_latest_cells_do_not_count() -> None:
    frame = _frame(["country.fr", "country.zz"], ["country.es"])
    assert early_warning("x", frame, dimension="country") == []
    hidden = _frame(["country.fr", "country.es"], []).with_columns(
        pl.when((pl.col("country") == "country.es") & (pl.col("period") == MONTHS[-1]))
        .then(None)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    assert early_warning("x", hidden, dimension="country") == []
