"""A deep link opened in a fresh browser: login first, then straight to the linked page with its parameters."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, submit_login, wait_for_app

# Records, from the first byte of the document on, whether Streamlit's "Page not found" dialog (or any other
# "not found" text) ever showed, and every address the app put into the location bar.
WATCH_JS = """
(() => {
  window.__notFound = [];
  window.__urls = [location.pathname + location.search];
  const check = () => {
    const text = document.body ? document.body.innerText : "";
    if (/page not found|not found/i.test(text)) window.__notFound.push(text.slice(0, 300));
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, characterData: true});
  for (const name of ["pushState", "replaceState"]) {
    const orig = history[name].bind(history);
    history[name] = (state, title, url) => {
      if (url !== undefined && url !== null) {
        const u = new URL(url, location.href);
        window.__urls.push(u.pathname + u.search);
      }
      return orig(state, title, url);
    };
  }
})();
"""


def test_deep_link_to_mein_bezirk_logs_in_and_lands_on_haspe(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    ctx.add_init_script(WATCH_JS)
    pg = ctx.new_page()
    try:
        pg.goto(f"{server['url']}/mein-bezirk?bezirk=haspe")
        wait_for_app(pg)
        # the login, at the linked address, with the parameters kept
        expect(pg.get_by_role("heading", name="Anmeldung")).to_be_visible()
        assert urlparse(pg.url).path == "/mein-bezirk" and parse_qs(urlparse(pg.url).query)["bezirk"] == ["haspe"]
        assert pg.evaluate("window.__notFound") == []
        submit_login(pg, "betrachtung")
        # straight to Mein Bezirk with Haspe selected (the page names the district in its heading)
        expect(pg.get_by_role("heading", name="Mein Bezirk – Haspe")).to_be_visible(timeout=60_000)
        wait_for_app(pg)
        assert_no_exception(pg)
        expect(pg.get_by_role("heading", name="Anmeldung")).to_have_count(0)
        assert urlparse(pg.url).path == "/mein-bezirk"
        assert parse_qs(urlparse(pg.url).query).get("bezirk") == ["haspe"]
        # at no point a "Page not found" dialog, and no detour through another address (the start page)
        assert pg.evaluate("window.__notFound") == []
        paths = {u.split("?")[0] for u in pg.evaluate("window.__urls")}
        assert paths == {"/mein-bezirk"}, pg.evaluate("window.__urls")
        assert pg.get_by_text("Angemeldet:").first.is_visible()
    finally:
        ctx.close()


def test_unknown_address_answers_in_german_without_streamlit_dialog(server, browser):
    """A typo or an old bookmark: the login, then a German "Seite nicht gefunden" with a way back."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    ctx.add_init_script(WATCH_JS)
    pg = ctx.new_page()
    try:
        pg.goto(f"{server['url']}/gibtsnicht")
        wait_for_app(pg)
        expect(pg.get_by_role("heading", name="Anmeldung")).to_be_visible()
        submit_login(pg, "betrachtung")
        expect(pg.get_by_role("heading", name="Seite nicht gefunden")).to_be_visible(timeout=60_000)
        wait_for_app(pg)
        assert_no_exception(pg)
        expect(pg.get_by_text("Unter dieser Adresse gibt es in Quartier keine Seite")).to_be_visible()
        assert pg.evaluate("window.__notFound") == []  # never Streamlit's English dialog
        # a page above the viewer's role (a new browser session: log in again): said so in German
        pg.goto(f"{server['url']}/audit")
        wait_for_app(pg)
        if pg.get_by_role("heading", name="Anmeldung").count():
            submit_login(pg, "betrachtung")
        expect(pg.get_by_text("ist für Ihre Rolle nicht freigegeben")).to_be_visible(timeout=60_000)
        assert pg.evaluate("window.__notFound") == []
        # the way back works
        pg.get_by_role("link", name="Zur Seite „Übersicht“").click()
        expect(pg.get_by_role("heading", name="Keine Berechtigung")).to_have_count(0, timeout=30_000)
        expect(pg).to_have_url(re.compile(r"/(uebersicht)?$"), timeout=30_000)
    finally:
        ctx.close()
