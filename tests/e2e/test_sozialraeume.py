"""The profile of a Sozialraum in Chromium: opened by its address, content visible, screenshot, axe."""

from __future__ import annotations

from tests.e2e.conftest import assert_no_exception, axe_violations, open_page, screenshot


def test_profile_of_wehringhausen(server, page):
    open_page(page, server, "sozialraeume?sr=M04", user="betrachtung")  # a viewer: protected values
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
    assert_no_exception(page)
    page.get_by_role("heading", name="Minderjährige in SGB-II-Bedarfsgemeinschaften").wait_for(timeout=30_000)
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=30_000)
    assert page.get_by_text("Haspe-Zentrum (S01)").first.is_visible() or page.get_by_text("Letzte Werte").first.is_visible()
    screenshot(page, "sozialraeume-zeitreihen-haspe")
