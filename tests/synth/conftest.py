"""One generated data set shared by the synth tests (generating it takes about a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from concord.synth import SynthManifest, generate_partners


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthManifest]:
    """Every organisation, 2,000 rows each, default seed and messiness."""
    directory = tmp_path_factory.mktemp("synth")
    return directory, generate_partners(directory, rows_per_org=2000, seed=7)


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthManifest]:
    """The same records with nothing planted."""
    from concord.synth import Messiness

    directory = tmp_path_factory.mktemp("synth-clean")
    return directory, generate_partners(
        directory, rows_per_org=2000, seed=7, messiness=Messiness.none()
    )
