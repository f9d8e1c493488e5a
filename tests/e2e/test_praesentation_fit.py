"""Presentation mode switched on with the page's own toggle: every slide fits a projector without scrolling,
the buttons are fully visible, "Weiter" and "Präsentation beenden" work and keep the district."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, axe_violations, open_page, screenshot, wait_for_app

TOPICS = 5  # tables longer than a slide continue on the next one, so there may be more slides

# What scrolls: the document itself and every element with a scroll bar of its own (Streamlit's main area
# scrolls inside the page, so the document alone would never report an overflow).
OVERFLOW_JS = """() => {
  const out = [];
  const se = document.scrollingElement;
  if (se.scrollHeight > window.innerHeight + 1) out.push(['document', se.scrollHeight, window.innerHeight]);
  for (const el of document.querySelectorAll('body *')) {
    const cs = getComputedStyle(el);
    if (!/(auto|scroll)/.test(cs.overflowY) || el.clientHeight === 0) continue;
    if (el.scrollHeight > el.clientHeight + 2)
      out.push([el.getAttribute('data-testid') || el.tagName + '.' + el.className, el.scrollHeight, el.clientHeight]);
  }
  return out;
}"""

# every button of the page lies completely inside the window
CUT_BUTTONS_JS = """() => [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null).filter(b => {
  const r = b.getBoundingClientRect();
  return r.top < 0 || r.left < 0 || r.bottom > window.innerHeight + 0.5 || r.right > window.innerWidth + 0.5;
}).map(b => b.innerText.trim())"""


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)], ids=["1920x1080", "1280x720"])
def test_presentation_by_toggle_fits_the_projector(server, browser, size):
    w, h = size
    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="de-DE")
    pg = ctx.new_page()
    try:
        open_page(pg, server, "mein-bezirk?bezirk=haspe", user="betrachtung")
        expect(pg.get_by_role("heading", name="Mein Bezirk – Haspe")).to_be_visible(timeout=30_000)
        pg.get_by_text("Präsentationsmodus", exact=True).click()
        first = pg.get_by_text(re.compile(r"Folie 1 von \d+:")).first
        first.wait_for(timeout=30_000)
        n_slides = int(re.search(r"von (\d+)", first.inner_text()).group(1))
        assert n_slides >= TOPICS
        for k in range(1, n_slides + 1):
            pg.get_by_text(f"Folie {k} von {n_slides}:").first.wait_for(timeout=30_000)
            wait_for_app(pg)
            screenshot(pg, f"praesentation-{w}x{h}-folie-{k}")
            assert_no_exception(pg)
            assert "bezirk=haspe" in pg.url
            over = pg.evaluate(OVERFLOW_JS)
            assert over == [], (k, over)
            assert pg.evaluate(CUT_BUTTONS_JS) == [], k
            if k == 2:
                assert axe_violations(pg) == []
            if k < n_slides:
                pg.get_by_role("button", name="Weiter").click()
                pg.wait_for_url(f"**folie={k + 1}**", timeout=30_000)
        pg.reload()  # a reload keeps district and slide (from the address)
        wait_for_app(pg)
        if pg.get_by_label("Benutzername").count():
            from tests.e2e.conftest import submit_login
            submit_login(pg, "betrachtung")
        pg.get_by_text(f"Folie {n_slides} von {n_slides}:").first.wait_for(timeout=30_000)
        pg.get_by_role("button", name="Präsentation beenden").click()
        expect(pg.get_by_text(f"Folie {n_slides} von {n_slides}:")).to_have_count(0, timeout=30_000)
        wait_for_app(pg)
        assert_no_exception(pg)
        expect(pg.get_by_role("heading", name="Mein Bezirk – Haspe")).to_be_visible()
        assert "praesentation" not in pg.url and "bezirk=haspe" in pg.url
    finally:
        ctx.close()
