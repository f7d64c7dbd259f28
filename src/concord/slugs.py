"""The one spelling of an organisation id: lowercase letters, digits, ``-`` and ``_``, up to 64
characters, starting with a letter or digit. It names key files, so it must stay path-safe."""

from __future__ import annotations

import re

ORG_SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ORG_SLUG = re.compile(ORG_SLUG_PATTERN)
