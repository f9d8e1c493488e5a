"""The profile of a Sozialraum in Chromium: opened by its address, content visible, screenshot, axe."""

from __future__ import annotations

from tests.e2e.conftest import assert_no_exception, axe_violations, open_page, screenshot, wait_for_app


def _login_if_needed(pg) -> None:
    """The app has a login gate: log in with the documented demo viewer account when it is shown."""
    if pg.get_by_role("heading", name="Anmeldung").count() == 0:
        return
    from quartier import auth

    name, _role, password = next(a for a in auth.DEMO_ACCOUNTS if a[0] == "betrachtung")
    pg.get_by_label("Benutzername").fill(name)
    pg.get_by_label("Passwort").fill(password)
    pg.get_by_role("button", name="Anmelden").click()
    pg.wait_for_timeout(500)
    wait_for_app(pg)


def test_profile_of_wehringhausen(server, page):
    open_page(page, server, "sozialraeume?sr=M04")
    _login_if_needed(page)
    assert_no_exception(page)
    heading = page.get_by_role("heading", name="Steckbrief Wehringhausen (M04)")
    heading.wait_for(timeout=30_000)
    assert heading.is_visible()
    assert page.get_by_text("Bevölkerung und Altersstruktur").first.is_visible()
    assert page.get_by_role("heading", name="Handlungsempfehlungen").first.is_visible()
    assert page.get_by_text("Rang 1 von 23").first.is_visible()
    assert page.get_by_text("Beispieldaten").first.is_visible()
    # the small multiples chart is drawn (vega-embed renders an svg or canvas)
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=30_000)
    assert "sr=M04" in page.url and "ansicht=steckbrief" in page.url
    out = screenshot(page, "sozialraeume-steckbrief-M04")
    assert out.stat().st_size > 20_000
    violations = axe_violations(page)
    assert not violations, violations


def test_time_series_of_a_district(server, page):
    open_page(page, server, "sozialraeume?bezirk=haspe&ind=sgb2_u18")
    _login_if_needed(page)
    assert_no_exception(page)
    page.get_by_role("heading", name="Minderjährige in SGB-II-Bedarfsgemeinschaften").wait_for(timeout=30_000)
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=30_000)
    assert page.get_by_text("Haspe-Zentrum (S01)").first.is_visible() or page.get_by_text("Letzte Werte").first.is_visible()
    screenshot(page, "sozialraeume-zeitreihen-haspe")
