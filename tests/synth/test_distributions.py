"""The patterns the indicators are meant to find are really in the data."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from concord.synth import DATA_END, DATA_START, Messiness, generate_rows, get_profile
from concord.synth.specs import mapping_fields
from concord.synth.tables import tables_for

SEXTORTION = {"abuse.sexual_extortion", "abuse.financial_sexual_extortion"}
SLUGS = ["helpline-fr", "hotline-es", "hotline-uk", "ngo-ke", "office-mx", "platform-th", "ngo-my"]


def _records(slug: str, n: int = 20_000) -> tuple[pl.DataFrame, dict[str, dict[str, str]]]:
    frame = generate_rows(slug, n, seed=21, messiness=Messiness.none())
    fields = mapping_fields(get_profile(slug))
    received = fields["received_date"]
    is_time = "%H" in received["date_format"]
    parsed = pl.col(received["column"]).str.strptime(
        pl.Datetime if is_time else pl.Date, received["date_format"]
    )
    return frame.with_columns(received=parsed.cast(pl.Date)), fields


@pytest.mark.parametrize("slug", SLUGS)
def test_sexual_extortion_share_rises(slug: str) -> None:
    frame, fields = _records(slug)
    abuse = fields["abuse_types"]
    table = tables_for(get_profile(slug))[abuse["column"]]
    texts = {v.text for v in table.values if v.target in SEXTORTION}
    parts = pl.col(abuse["column"]).str.split(abuse.get("split") or "\x00")
    shares = (
        frame.with_columns(sext=parts.list.eval(pl.element().is_in(list(texts))).list.any())
        .group_by(pl.col("received").dt.year().alias("year"))
        .agg(pl.col("sext").mean())
        .sort("year")
    )
    first, last = shares.row(0), shares.row(-1)
    assert last[0] == 2026 and first[0] in (2023, 2024)
    assert last[1] > first[1] * 1.5, shares


@pytest.mark.parametrize("slug", SLUGS)
def test_dates_fall_in_the_period_in_file_order(slug: str) -> None:
    frame, _ = _records(slug, 5000)
    received = frame.get_column("received")
    assert received.min() >= DATA_START and received.max() <= DATA_END
    assert received.is_sorted()


def test_ages_are_skewed_to_eleven_to_seventeen() -> None:
    frame, fields = _records("helpline-fr")
    ages = frame.get_column(fields["victim_age_band"]["column"]).drop_nulls()
    assert ages.is_between(11, 17).mean() > 0.6
    assert ages.is_between(0, 6).mean() < 0.1


def test_countries_differ_in_volume_and_the_home_country_leads() -> None:
    for slug in SLUGS:
        frame, fields = _records(slug, 5000)
        counts = frame.get_column(fields["country"]["column"]).value_counts(sort=True)
        home = get_profile(slug).country
        table = tables_for(get_profile(slug))[fields["country"]["column"]]
        top = next(v for v in table.values if v.text == counts.row(0)[0])
        assert top.target == f"country.{home.lower()}", slug
        assert counts.row(0)[1] > 0.35 * 5000 > counts.row(1)[1]


def test_the_kenyan_network_starts_in_march_2024() -> None:
    frame, _ = _records("ngo-ke", 5000)
    assert frame.get_column("received").min() >= date(2024, 3, 1)


def test_the_helpline_is_quieter_at_weekends_and_busier_in_december() -> None:
    frame, _ = _records("helpline-fr", 50_000)
    weekday = frame.get_column("received").dt.weekday()  # 1 = Monday
    assert (weekday >= 6).mean() < 2 / 7 * 0.9
    months = frame.filter(pl.col("received").dt.year() == 2025).get_column("received").dt.month()
    assert (months == 12).sum() > (months == 2).sum() * 1.2
