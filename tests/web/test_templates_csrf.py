"""Every POST form in the templates carries the session's CSRF token (the login form excepted:
there is no session yet). Without it a logged-in user's form would be refused."""

from __future__ import annotations

import re
from pathlib import Path

from concord.web.app import UI_DIR

FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_post_forms_carry_the_csrf_token() -> None:
    missing = []
    for template in sorted((UI_DIR / "templates").glob("*.html")):
        if template.name == "login.html":
            continue
        for form in FORM.findall(template.read_text(encoding="utf-8")):
            opening = form.split(">", 1)[0].lower()
            if ('method="post"' in opening or "hx-post" in opening) and "csrf_token" not in form:
                missing.append(f"{Path(template).name}: {opening[:80]}")
    assert missing == []
