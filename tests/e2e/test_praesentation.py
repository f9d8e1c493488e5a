"""Presentation mode of "Mein Bezirk" on a 1920x1080 projector: sidebar hidden, large type, arrow keys."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_no_exception, axe_violations, open_page, screenshot, wait_for_app


@pytest.fixture
def projector(browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="de-DE")
    pg = ctx.new_page()
    yield pg
    ctx.close()


def _font_px(pg, text: str) -> float:
    loc = pg.get_by_text(text, exact=False).first
    loc.wait_for(timeout=30_000)
    return float(loc.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def test_presentation_mode_on_a_projector(server, projector):
    pg = projector
    open_page(pg, server, "mein-bezirk?bezirk=haspe&praesentation=1", user="betrachtung")
    # the login form submits asynchronously: wait until it is gone and the page script has run
    pg.get_by_role("heading", name="Anmeldung").wait_for(state="detached", timeout=30_000)
    wait_for_app(pg)
    assert_no_exception(pg)
    pg.get_by_text(re.compile(r"Folie 1 von \d+: Überblick und Karte")).first.wait_for(timeout=30_000)
    # sidebar hidden, large type, high contrast
    assert not pg.locator('[data-testid="stSidebar"]').is_visible()
    assert _font_px(pg, "Folie 1 von") >= 28
    assert float(pg.locator("h1").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 48
    assert pg.get_by_text("Beispieldaten").first.is_visible()
    pg.wait_for_selector("#deckgl-overlay, canvas", timeout=30_000)  # the map is drawn
    out = screenshot(pg, "mein-bezirk-praesentation-1920x1080")
    assert out.stat().st_size > 30_000

    # keyboard: arrow right = next slide, arrow left = back (no mouse)
    pg.keyboard.press("ArrowRight")
    pg.get_by_text(re.compile(r"Folie 2 von \d+: Kennzahlen")).first.wait_for(timeout=30_000)
    pg.wait_for_url(re.compile(r"[?&]folie=2\b"), timeout=30_000)
    wait_for_app(pg)
    assert "folie=2" in pg.url
    assert pg.get_by_text("sinkt (günstig)").count() + pg.get_by_text("steigt (ungünstig)").count() > 0
    assert _font_px(pg, "ggü. Vorjahr") >= 28
    screenshot(pg, "mein-bezirk-praesentation-kennzahlen")
    violations = axe_violations(pg)
    assert not violations, violations

    pg.keyboard.press("ArrowLeft")
    pg.get_by_text(re.compile(r"Folie 1 von \d+: Überblick und Karte")).first.wait_for(timeout=30_000)
    pg.wait_for_url(re.compile(r"[?&]folie=1\b"), timeout=30_000)
    wait_for_app(pg)
    assert "folie=1" in pg.url
    # the buttons are reachable by Tab and work with Enter as well
    nxt = pg.get_by_role("button", name="Weiter")
    nxt.focus()
    pg.keyboard.press("Enter")
    pg.get_by_text(re.compile(r"Folie 2 von \d+: Kennzahlen")).first.wait_for(timeout=30_000)
    wait_for_app(pg)
    assert_no_exception(pg)
