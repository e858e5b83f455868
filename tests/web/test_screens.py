"""Screenshots of the main pages on a laptop (1366×800) and a phone (390×844), for people to look at.

They land in ``$MM_SCREENSHOTS`` (default: a session tmp folder, printed). The test also
checks what a screenshot cannot: nothing overflows the phone's width sideways.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import make_incident

SIZES = {"laptop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots(size, browser, login, dashboard, shot, screenshot_dir):
    viewport = SIZES[size]
    context = browser.new_context(base_url=dashboard.url, viewport=viewport)
    page = context.new_page()
    page.goto("/login")
    shot(page, f"{size}-login", full_page=False)
    context.close()

    page = login("mia", viewport=viewport, is_mobile=size == "phone", has_touch=size == "phone")
    incident_id = make_incident(dashboard, 4, term=f"login ({size})")
    pages = {
        "inbox": "/",
        "inbox-complaints": "/?label=complaint&sort=urgency",
        "mention": f"/mentions/{dashboard.ids['outage']}",
        "mention-hostile": f"/mentions/{dashboard.ids['xss']}",
        "incidents": "/incidents",
        "incident": f"/incidents/{incident_id}",
        "not-found": "/mentions/999999",
    }
    for name, path in pages.items():
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        shot(page, f"{size}-{name}", full_page=name.startswith("mention"))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than the {size} screen"
    print(f"\nscreenshots in {screenshot_dir}")
