"""Staying logged in, in Chromium: a reload and a second tab keep the login (signed HttpOnly, SameSite=Strict
session cookie); logout ends it in every tab; a fresh browser asks for the password; an administrator ends a
session on "Benutzer und Sicherheit"."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import SESSION_COOKIE, assert_no_exception, login, submit_login, wait_for_app

LOGIN_HEADING = "Anmeldung"


def _cookie_arrives(pg) -> None:
    """The page hands the one-time ticket to the cookie route after the login; wait for its answer."""
    pg.wait_for_function("() => document.documentElement.dataset.quartierSitzung === 'gesetzt'", timeout=30_000)


def _session_cookie(ctx) -> dict | None:
    return next((c for c in ctx.cookies() if c["name"] == SESSION_COOKIE), None)


def _logged_in_as(pg, user: str) -> None:
    wait_for_app(pg)
    expect(pg.get_by_role("heading", name=LOGIN_HEADING, exact=True)).to_have_count(0)
    expect(pg.get_by_text(f"Angemeldet: {user}")).to_be_visible()
    assert_no_exception(pg)


def _asks_for_password(pg) -> None:
    wait_for_app(pg)
    expect(pg.get_by_role("heading", name=LOGIN_HEADING, exact=True)).to_be_visible()
    expect(pg.get_by_label("Benutzername")).to_be_visible()
    expect(pg.get_by_text("Angemeldet:")).to_have_count(0)


def test_reload_and_second_tab_stay_logged_in_until_logout(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    try:
        pg = ctx.new_page()
        login(pg, server, "bearbeitung", path="sozialraeume")
        _logged_in_as(pg, "bearbeitung")
        _cookie_arrives(pg)
        cookie = _session_cookie(ctx)
        assert cookie is not None
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert cookie["expires"] == -1          # a session cookie: no expiry date, the server ends it when idle
        assert pg.evaluate("document.cookie").find(SESSION_COOKIE) == -1   # no script can read it
        assert "." in cookie["value"] and len(cookie["value"]) > 80        # <random id>.<signature>

        pg.reload()
        _logged_in_as(pg, "bearbeitung")
        expect(pg.get_by_role("heading", level=1).first).to_contain_text("Sozialräume")  # the same page

        tab = ctx.new_page()
        tab.goto(f"{server['url']}/uebersicht")   # a typed address of the start page: no "Page not found"
        _logged_in_as(tab, "bearbeitung")
        expect(tab.get_by_role("heading", level=1).first).to_contain_text("Übersicht")
        expect(tab.get_by_text("Page not found")).to_have_count(0)

        # a forged cookie (signature changed) is refused: the password is asked for
        other = browser.new_context(locale="de-DE")
        try:
            forged = dict(cookie, value=cookie["value"][:-2] + ("AA" if not cookie["value"].endswith("AA") else "BB"))
            other.add_cookies([{k: forged[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
            fp = other.new_page()
            fp.goto(f"{server['url']}/uebersicht")
            _asks_for_password(fp)
        finally:
            other.close()

        # logout in the first tab ends the session in every tab
        pg.get_by_role("button", name="Abmelden").click()
        _asks_for_password(pg)
        pg.reload()
        _asks_for_password(pg)
        tab.reload()
        _asks_for_password(tab)
        # the second tab, still open on the old run, loses the login at its next click
    finally:
        ctx.close()


def test_the_open_tab_notices_a_logout_elsewhere(server, browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    try:
        pg = ctx.new_page()
        login(pg, server, "betrachtung", path="uebersicht")
        _cookie_arrives(pg)
        tab = ctx.new_page()
        tab.goto(f"{server['url']}/uebersicht")
        _logged_in_as(tab, "betrachtung")
        pg.get_by_role("button", name="Abmelden").click()
        _asks_for_password(pg)
        # the other tab's next click (a page change) shows the login with a notice, not the page
        tab.locator('[data-testid="stSidebarNav"] a', has_text="Karte").first.click()
        expect(tab.get_by_text("Ihre Sitzung ist abgelaufen oder wurde beendet.")).to_be_visible(timeout=30_000)
        _asks_for_password(tab)
    finally:
        ctx.close()


def test_a_fresh_browser_asks_for_the_password(server, browser):
    first = browser.new_context(locale="de-DE")
    fresh = browser.new_context(locale="de-DE")
    try:
        pg = first.new_page()
        login(pg, server, "betrachtung")
        _cookie_arrives(pg)
        other = fresh.new_page()
        other.goto(f"{server['url']}/uebersicht")
        _asks_for_password(other)
        assert _session_cookie(fresh) is None
        submit_login(other, "betrachtung")
        _logged_in_as(other, "betrachtung")
    finally:
        first.close()
        fresh.close()


def test_admin_ends_a_session_on_the_users_page(server, browser):
    user_ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    admin_ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="de-DE")
    try:
        upg = user_ctx.new_page()
        login(upg, server, "bearbeitung", path="uebersicht")
        _cookie_arrives(upg)
        apg = admin_ctx.new_page()
        login(apg, server, "admin", path="benutzer")
        _logged_in_as(apg, "admin")
        expect(apg.get_by_role("heading", name="Angemeldete Sitzungen")).to_be_visible()
        # choose the session of "bearbeitung" and end it
        choice = apg.get_by_label("Sitzung", exact=True)
        choice.click()
        choice.press_sequentially("bearbeitung ·")   # the list is long on a shared server: filter it
        apg.get_by_role("option", name="bearbeitung ·").first.click()
        expect(choice).to_have_value(re.compile(r"^bearbeitung · "))
        apg.get_by_role("button", name="Alle Sitzungen dieses Kontos beenden").click()
        expect(apg.get_by_text("von „bearbeitung“ beendet")).to_be_visible(timeout=30_000)
        wait_for_app(apg)
        upg.reload()
        _asks_for_password(upg)
    finally:
        user_ctx.close()
        admin_ctx.close()
