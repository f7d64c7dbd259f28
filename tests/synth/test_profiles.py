"""The registry of organisations and of file writers: unique names, clear errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from concord.errors import ConfigurationError, NotFoundError
from concord.synth import get_profile, organisations
from concord.synth.identities import FIRST_NAMES, PHONES, narratives
from concord.synth.model import Format
from concord.synth.profiles import build_registry
from concord.synth.writers import CsvWriter, FileWriter, build_writers, writer_for


def test_slugs_are_unique_lowercase_and_checked() -> None:
    profiles = organisations()
    with pytest.raises(ConfigurationError, match="two synthetic organisations"):
        build_registry([*profiles, profiles[0]])
    with pytest.raises(ConfigurationError, match="lowercase"):
        build_registry([replace(profiles[0], slug="Helpline_FR")])


def test_repeated_columns_are_refused() -> None:
    profile = get_profile("helpline-fr")
    with pytest.raises(ConfigurationError, match="more than once"):
        build_registry([replace(profile, fields=(*profile.fields, profile.fields[0]))])


def test_unknown_organisation_names_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="helpline-fr, hotline-es"):
        get_profile("nope")


def test_every_format_has_one_writer() -> None:
    assert {writer_for(p).name for p in organisations()} == set(Format)
    with pytest.raises(ConfigurationError, match="two synthetic file writers"):
        build_writers([CsvWriter(), CsvWriter()])
    assert all(isinstance(writer_for(p), FileWriter) for p in organisations())


def test_identifying_values_exist_for_every_organisation() -> None:
    for profile in organisations():
        assert profile.country in FIRST_NAMES and profile.country in PHONES
        assert len(narratives(profile.language)) >= 100
        assert profile.identifying, profile.slug


def test_narratives_are_bland() -> None:
    """No sexual content, no places, no names: template sentences about worrying contact."""
    banned = ("sex", "nude", "naked", "photo", "image", "sexe", "sexual", "性", "裸")
    for language in ("en", "fr", "es", "zh"):
        for sentence in narratives(language):
            assert not any(word in sentence.lower() for word in banned), sentence
