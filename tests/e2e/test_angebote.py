"""In Chromium: click a planning point on the Angebote map, a planned offer appears and the reach changes."""

from __future__ import annotations

import json
import shutil
import tempfile

import numpy as np
from playwright.sync_api import expect

from quartier import access, db
from quartier.areas import layers
from quartier.offers import locate, store
from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_for_app
from tests.e2e.test_karte import SETTLED_JS, _pixel_of


def _far_grid_point(path) -> tuple[float, float, dict]:
    """A planning point of the page's grid far from every Kita (so the reach surely grows), and the map view."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = f"{tmp}/copy.duckdb"
        shutil.copy(path, copy)
        c = db.connect(copy, read_only=True)
        city = store.city_geometry(c)
        x, y, _ = locate.grid_inside(city, 250)
        kitas = store.offers(c, "Kita", actor=access.PUBLIC).dropna(subset=["lon"])
        payload = layers.payload_from_db(c)
        c.close()
    kx, ky = store.to_metric_xy(kitas["lon"], kitas["lat"])
    d = np.min(np.hypot(x[:, None] - kx[None, :], y[:, None] - ky[None, :]), axis=1)
    # far from offers, and near the middle of the city (not at the map's edge)
    mid = np.hypot(x - np.mean(x), y - np.mean(y))
    i = int(np.argmax(np.where(d > 1200, -mid, -np.inf)))
    lon, lat = store.to_wgs_xy(x[i:i + 1], y[i:i + 1])
    view = json.loads(layers.view_for_bounds(payload.bounds).to_json())
    return round(float(lon[0]), 6), round(float(lat[0]), 6), view


def _reach_text(pg) -> str:
    return pg.locator('[data-testid="stMetric"]', has_text="Stadtfläche in Reichweite").inner_text()


def test_click_places_planned_offer_and_reach_changes(page, server):
    pg = page
    lon, lat, view = _far_grid_point(server["db"])
    open_page(pg, server, "angebote")
    assert_no_exception(pg)
    canvas = pg.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(state="visible", timeout=30_000)
    canvas.evaluate(SETTLED_JS)
    before = _reach_text(pg)
    box = canvas.bounding_box()
    x, y = _pixel_of(lon, lat, view, box)
    assert box["x"] < x < box["x"] + box["width"] and box["y"] < y < box["y"] + box["height"]
    tip = pg.locator(".deck-tooltip")
    for i in range(10):  # deck.gl picks once it has drawn the layer
        pg.mouse.move(x + (i % 2), y)
        try:
            expect(tip).to_contain_text("geplantes Angebot setzen", timeout=3_000)
            break
        except AssertionError:
            if i == 9:
                raise
    pg.mouse.click(x, y)
    expect(pg.get_by_text("1 geplante Angebote:")).to_be_visible(timeout=30_000)
    wait_for_app(pg)
    assert_no_exception(pg)
    after = _reach_text(pg)
    assert before != after, (before, after)
    screenshot(pg, "angebote_geplant")


def test_saved_scenario_reloads_after_discarding(page, server):
    """Place a planned offer by coordinates, save it as a named scenario, discard it, load the scenario again."""
    pg = page
    lon, lat, _ = _far_grid_point(server["db"])
    open_page(pg, server, "angebote")
    assert_no_exception(pg)
    form = pg.locator('[data-testid="stForm"]', has=pg.get_by_role("button", name="Geplantes Angebot hinzufügen"))
    form.get_by_label("Breitengrad").fill(f"{lat:.5f}")
    form.get_by_label("Längengrad").fill(f"{lon:.5f}")
    form.get_by_role("button", name="Geplantes Angebot hinzufügen").click()
    planned = pg.get_by_text("1 geplante Angebote:")
    expect(planned).to_be_visible(timeout=60_000)
    wait_for_app(pg)
    name = "E2E Szenario Wiederladen"
    save = pg.locator('[data-testid="stForm"]', has=pg.get_by_role("button", name="Szenario speichern"))
    save.get_by_label("Name des Szenarios").fill(name)
    save.get_by_role("button", name="Szenario speichern").click()
    expect(pg.get_by_text(f"Szenario „{name}“ gespeichert.")).to_be_visible(timeout=60_000)
    wait_for_app(pg)
    pg.get_by_role("button", name="Geplante Angebote verwerfen").click()
    expect(planned).to_have_count(0, timeout=60_000)
    wait_for_app(pg)
    box = pg.locator('[data-testid="stSelectbox"]', has_text="Gespeicherte Szenarien")
    box.click()
    pg.get_by_role("option", name=name).first.click()
    wait_for_app(pg)
    pg.get_by_role("button", name="Szenario laden").click()
    expect(pg.get_by_text(f"Szenario „{name}“ geladen (1 geplante Angebote).")).to_be_visible(timeout=60_000)
    expect(planned).to_be_visible(timeout=60_000)
    wait_for_app(pg)
    assert_no_exception(pg)
    screenshot(pg, "angebote_szenario_geladen")
    pg.get_by_role("button", name="Szenario löschen").click()
    expect(pg.get_by_text(f"Szenario „{name}“ gelöscht.")).to_be_visible(timeout=60_000)
