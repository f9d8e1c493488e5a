"""In Chromium: the Karte's tooltip shows the 95 % interval, and switching to the LISA layer repaints the map
(hot/cold-spot colours on the canvas, LISA line in the tooltip, legend and table); no serious axe finding."""

from __future__ import annotations

import io
import json
import shutil
import tempfile

from PIL import Image
from playwright.sync_api import expect
from shapely.geometry import Polygon, box, shape

from quartier import db
from quartier.areas import layers, overlays
from tests.e2e.conftest import assert_no_exception, axe_violations, open_page, screenshot, wait_for_app
from tests.e2e.test_karte import SETTLED_JS, _hover_until_tooltip, _pixel_of

AREA = "E01"  # a large Sozialraum far from the corridor


def _area_and_view(server):
    with tempfile.TemporaryDirectory() as tmp:  # the server holds the database file: read a copy
        copy = f"{tmp}/copy.duckdb"
        shutil.copy(server["db"], copy)
        c = db.connect(copy, read_only=True)
        lon, lat, name = c.execute("SELECT centroid_lon, centroid_lat, name FROM sozialraum WHERE id = ?", [AREA]).fetchone()
        payload = layers.payload_from_db(c)
        c.close()
    geom = shape(payload.area_geoms[payload.ids.index(AREA)])
    return lon, lat, name, geom, json.loads(layers.view_for_bounds(payload.bounds).to_json())


def _probe_point(geom, view, bx, label_xy) -> tuple[float, float]:
    """A screen point well inside the area, away from its label (which sits on the label point)."""
    polys = list(getattr(geom, "geoms", [geom]))
    big = max(polys, key=lambda p: p.area)
    px = Polygon([_pixel_of(x, y, view, bx) for x, y in big.exterior.coords])
    lx, ly = label_xy
    inner = px.buffer(-8).difference(box(lx - 70, ly - 14, lx + 70, ly + 14))
    p = inner.representative_point()
    return p.x, p.y


def _pixel(pg, x: float, y: float) -> tuple[int, int, int]:
    png = pg.screenshot(clip={"x": round(x) - 1, "y": round(y) - 1, "width": 3, "height": 3})
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((1, 1))


def _near(rgb, target, alpha: int = 235, tol: int = 14) -> bool:
    blended = [round(c * alpha / 255 + 255 * (1 - alpha / 255)) for c in target[:3]]
    return all(abs(a - b) <= tol for a, b in zip(rgb, blended))


def test_interval_tooltip_and_lisa_layer_render(page, server):
    pg = page
    pg.set_viewport_size({"width": 1600, "height": 1000})
    open_page(pg, server, "karte")
    assert_no_exception(pg)
    lon, lat, name, geom, view = _area_and_view(server)
    canvas = pg.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(state="visible", timeout=30_000)
    canvas.evaluate(SETTLED_JS)
    bx = canvas.bounding_box()
    x, y = _pixel_of(lon, lat, view, bx)
    tip = pg.locator(".deck-tooltip")
    _hover_until_tooltip(pg, tip, x, y, name)
    text = tip.inner_text()
    assert "Konfidenzintervall" in text and "–" in text and "(" in text  # "40,3 % (38,5–42,1)"
    px, py = _probe_point(geom, view, bx, (x, y))
    pg.mouse.move(bx["x"] + 2, bx["y"] + 2)  # away: no hover highlight on the probed area
    before = _pixel(pg, px, py)

    pg.get_by_test_id("stRadioGroup").get_by_text("Hot Spots und Cold Spots (LISA)", exact=True).click()
    wait_for_app(pg)
    assert_no_exception(pg)
    main = pg.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("lokale Muster (LISA)", timeout=30_000)
    expect(main).to_contain_text("Tabelle zur Karte: Hot Spots und Cold Spots (LISA)")
    canvas = pg.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.evaluate(SETTLED_JS)
    # the table alternative is open beside the map (its content: tests/app/test_map_layers.py)
    expect(main.locator('[data-testid="stExpander"]', has_text="Tabelle zur Karte")
           .locator('[data-testid="stDataFrame"]')).to_be_visible()
    _hover_until_tooltip(pg, tip, x, y, "Lokales Muster (LISA)")
    category = tip.inner_text().split("Lokales Muster (LISA):")[1].strip().splitlines()[0].strip()
    assert category in overlays.LISA_COLORS
    pg.mouse.move(bx["x"] + 2, bx["y"] + 2)
    expect(tip).to_be_hidden(timeout=5_000)
    after = None
    for _ in range(60):  # the repaint follows the rerun: look again after each of the next animation frames
        after = _pixel(pg, px, py)
        if _near(after, overlays.LISA_COLORS[category]):
            break
        canvas.evaluate("c => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert _near(after, overlays.LISA_COLORS[category]), (before, after, category)
    assert after != before or _near(before, overlays.LISA_COLORS[category])
    assert axe_violations(pg) == []
    screenshot(pg, "karte_lisa")


def test_steckbrief_similar_areas_map_renders_without_axe_findings(page, server):
    pg = page
    open_page(pg, server, "sozialraeume?sr=M04")
    assert_no_exception(pg)
    main = pg.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Vergleichbare Sozialräume", timeout=30_000)
    chart = pg.locator('[data-testid="stDeckGlJsonChart"]').last
    chart.scroll_into_view_if_needed(timeout=30_000)
    canvas = chart.locator("canvas").first
    canvas.wait_for(state="visible", timeout=30_000)
    canvas.evaluate(SETTLED_JS)
    expect(main).to_contain_text("hellblau mit blauer Umrandung")
    assert axe_violations(pg) == []
    screenshot(pg, "steckbrief_aehnliche")
