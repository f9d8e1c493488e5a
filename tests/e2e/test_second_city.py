"""In Chromium, a second city (tests/city2.py, set up with the command line): the start page and the Karte show
this city's figures, nothing of the demo, no corridor controls but the hint how to add an axis; every page opens."""

from __future__ import annotations

import json
import shutil
import tempfile

from playwright.sync_api import expect

from quartier import db
from quartier.areas import layers
from quartier.ui.pages import PAGES
from tests import city2
from tests.e2e.conftest import assert_no_exception, forget_login, screenshot, submit_login, wait_for_app
from tests.e2e.test_karte import SETTLED_JS, _hover_until_tooltip, _pixel_of


def _open(pg, srv, path: str = "") -> str:
    forget_login(pg)
    pg.goto(f"{srv['url']}/{path}")
    wait_for_app(pg)
    pg.get_by_label("Benutzername").wait_for(timeout=30_000)
    submit_login(pg, city2.ADMIN_USER, city2.ADMIN_PASSWORD)
    assert_no_exception(pg)
    return pg.locator('[data-testid="stMain"]').inner_text()


def _no_demo(text: str) -> None:
    assert [w for w in city2.DEMO_WORDS if w in text] == []
    assert "Demo-Zugänge" not in text and "Beispieldaten" not in text


def test_start_page_shows_this_city(page, city2_server):
    pg = page
    body = _open(pg, city2_server)
    expect(pg.get_by_role("heading", name=f"Übersicht – {city2.CITY}")).to_be_visible()
    metrics = pg.locator('[data-testid="stMetric"]')
    expect(metrics.first).to_be_visible()
    labels = " ".join(metrics.all_inner_texts())
    assert "Kinder in Armutslagen" in labels and "Einwohnerzahl" in labels
    assert "%" in labels and "–\n" not in labels
    _no_demo(body + pg.locator('[data-testid="stSidebar"]').inner_text())
    screenshot(pg, "musterstadt_start")


def test_karte_shows_values_and_the_axis_hint(page, city2_server):
    pg = page
    body = _open(pg, city2_server, "karte")
    _no_demo(body + pg.locator('[data-testid="stSidebar"]').inner_text())
    assert "Kinder in Armutslagen 2024" in body          # the catalogue's default indicator, its latest year
    assert "keine Achse eingerichtet" in body and "--axis" in body
    expect(pg.get_by_text("Korridor auf der Karte zeigen")).to_have_count(0)
    expect(pg.get_by_text("Korridorbreite je Seite (m)")).to_have_count(0)
    with tempfile.TemporaryDirectory() as tmp:
        copy = f"{tmp}/copy.duckdb"
        shutil.copy(city2_server["db"], copy)
        c = db.connect(copy, read_only=True)
        lon, lat, name = c.execute("SELECT centroid_lon, centroid_lat, name FROM sozialraum WHERE id = 'P012'").fetchone()
        payload = layers.payload_from_db(c)
        c.close()
    view = json.loads(layers.view_for_bounds(payload.bounds).to_json())
    canvas = pg.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(state="visible", timeout=30_000)
    canvas.evaluate(SETTLED_JS)
    x, y = _pixel_of(lon, lat, view, canvas.bounding_box())
    tip = pg.locator(".deck-tooltip")
    _hover_until_tooltip(pg, tip, x, y, name)
    assert "%" in tip.inner_text()                       # the area has a value on the map, not "–"
    screenshot(pg, "musterstadt_karte")


def test_every_page_opens_without_demo_words(page, city2_server):
    pg = page
    _open(pg, city2_server)
    for spec in PAGES:
        pg.goto(f"{city2_server['url']}/{spec.url_path}")
        wait_for_app(pg)
        heading = pg.get_by_role("heading", level=1).first
        expect(heading).to_be_visible(timeout=30_000)
        if heading.inner_text().strip() == "Anmeldung":  # the stored login normally carries over; if not, log in
            submit_login(pg, city2.ADMIN_USER, city2.ADMIN_PASSWORD)
            expect(pg.get_by_role("heading", level=1, name="Anmeldung")).to_have_count(0, timeout=30_000)
        wait_for_app(pg)
        assert_no_exception(pg)
        _no_demo(pg.locator('[data-testid="stMain"]').inner_text())
