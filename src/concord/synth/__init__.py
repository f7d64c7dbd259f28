"""Synthetic partner data: fictional organisations' exports with planted, recorded problems.

Real child data is never used in Concord's demos, tests or benchmarks; this package makes the
stand-in. Seven fictional organisations in seven countries and four languages each export
records in their own format, columns, labels and mistakes, with a mapping spec, a crosswalk and
a ground-truth manifest of every problem planted.

Public API::

    generate_partners(out_dir, rows_per_org=2000, seed=7) -> SynthManifest   # write files
    generate_rows("helpline-fr", 1000, seed=7) -> polars.DataFrame           # in memory
    organisations(), get_profile(slug)                                       # who exports what
    Messiness(rates), Problem, DEFECTS                                       # what is planted
"""

from concord.synth.manifest import (
    MANIFEST_NAME,
    OrganisationManifest,
    SynthManifest,
    read_planted,
)
from concord.synth.messiness import DEFAULT_RATES, DEFECTS, Messiness, Problem
from concord.synth.model import DATA_END, DATA_START, Format, Profile
from concord.synth.partners import CHUNK_ROWS, MAX_ROWS, Progress, generate_partners, generate_rows
from concord.synth.profiles import get_profile, organisations
from concord.synth.specs import crosswalk_yaml, mapping_spec_yaml

__all__ = [
    "CHUNK_ROWS",
    "DATA_END",
    "DATA_START",
    "DEFAULT_RATES",
    "DEFECTS",
    "MANIFEST_NAME",
    "MAX_ROWS",
    "Format",
    "Messiness",
    "OrganisationManifest",
    "Problem",
    "Profile",
    "Progress",
    "SynthManifest",
    "crosswalk_yaml",
    "generate_partners",
    "generate_rows",
    "get_profile",
    "mapping_spec_yaml",
    "organisations",
    "read_planted",
]
