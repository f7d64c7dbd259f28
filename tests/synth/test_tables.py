"""Spelling variants map through the real crosswalk index; typos and unknown codes do not."""

from __future__ import annotations

import pytest

from concord.errors import ConfigurationError
from concord.synth import get_profile, organisations
from concord.synth.model import Choice, LabelField
from concord.synth.specs import crosswalk_yaml
from concord.synth.tables import TYPOS, VARIANTS, build_table, tables_for
from concord.vocab.crosswalk import parse_crosswalk
from concord.vocab.crosswalk_check import CrosswalkIndex


@pytest.mark.parametrize("slug", [p.slug for p in organisations()])
def test_variants_resolve_and_typos_do_not(slug: str) -> None:
    profile = get_profile(slug)
    crosswalk = parse_crosswalk(
        crosswalk_yaml(profile), source=slug, fmt="yaml", default_organisation=slug
    )
    index = CrosswalkIndex(crosswalk)
    for table in tables_for(profile).values():
        scheme = table.item.scheme
        for number, value in enumerate(table.values):
            entry = index.lookup(scheme, value.text)
            assert entry is not None and entry.target == value.target
            for variant in table.variants[number * VARIANTS : (number + 1) * VARIANTS]:
                assert variant != value.text
                found = index.lookup(scheme, variant)
                assert found is not None and found.target == value.target, (slug, variant)
            for typo in table.typos[number * TYPOS : (number + 1) * TYPOS]:
                assert index.lookup(scheme, typo) is None, (slug, typo)
        for unknown in table.unknown:
            assert index.lookup(scheme, unknown) is None, (slug, unknown)


def test_labels_equal_once_normalised_are_refused() -> None:
    field = LabelField(
        "channel", "Canal", "channel", (Choice("Appel", "channel.phone"), Choice("APPEL ", None))
    )
    with pytest.raises(ConfigurationError, match="same once case"):
        build_table(field)


def test_the_null_entry_is_last() -> None:
    table = tables_for(get_profile("helpline-fr"))["Sexe"]
    strings = table.strings()
    assert strings[table.null] is None and len(strings) == table.null + 1
