"""Every page in Chromium: heading, no exception block, no serious accessibility violation, screenshot."""

import pytest

from quartier.ui.pages import PAGES
from tests.e2e.conftest import assert_no_exception, axe_violations, open_page, screenshot, wait_for_app


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_in_browser(server, page, spec):
    open_page(page, server, spec.url_path)
    assert_no_exception(page)
    heading = page.locator("h1").first
    assert heading.is_visible()
    assert page.get_by_text("Beispieldaten").first.is_visible()
    screenshot(page, f"page-{spec.url_path}")
    violations = axe_violations(page)
    assert not violations, violations


def test_navigation_reaches_every_page(server, page):
    """An administrator reaches every page through the sidebar, in one browser session."""
    open_page(page, server)
    assert page.get_by_text("Angemeldet:").first.is_visible(), "Anmeldung fehlgeschlagen"
    for spec in PAGES[1:]:
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=spec.title).first.click()
        page.wait_for_url(f"**/{spec.url_path}**")
        wait_for_app(page)
        assert_no_exception(page)
        assert page.locator("h1").first.is_visible()
