"""Any seed and size within bounds gives files that read back whole and match their truth."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concord.synth import generate_partners, organisations, read_planted
from tests.synth.files import read_export, read_spec

SLUGS = [p.slug for p in organisations()]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**63 - 1),
    rows=st.integers(min_value=0, max_value=400),
    slug=st.sampled_from(SLUGS),
)
def test_any_seed_and_size_give_valid_files(seed: int, rows: int, slug: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        manifest = generate_partners(directory, rows_per_org=rows, seed=seed, organisations=[slug])
        org = manifest.organisations[0]
        header, frame = read_export(directory, org)
        assert frame.height == rows == org.rows
        if rows:
            spec = read_spec(directory, org)
            assert {f["column"] for f in spec["fields"].values()} <= set(header)
        planted = read_planted(directory, org)
        assert planted.height == org.planted_total
        assert planted.get_column("row").is_unique().all()
        assert all(1 <= row <= rows for row in planted.get_column("row"))
