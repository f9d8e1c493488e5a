"""In Chromium: click a Sozialraum on the deck.gl canvas of the map page and see its key figures."""

from __future__ import annotations

import json
import math
import shutil
import tempfile

from playwright.sync_api import expect

from quartier import db
from quartier.areas import layers
from tests.e2e.conftest import assert_no_exception, open_page, screenshot, wait_for_app


def _world_px(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    scale = 512 * 2 ** zoom / (2 * math.pi)  # deck.gl: 512 px world at zoom 0
    x = scale * (math.radians(lon) + math.pi)
    y = scale * (math.pi - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))
    return x, y


def _pixel_of(lon, lat, view, box) -> tuple[float, float]:
    cx, cy = _world_px(view["longitude"], view["latitude"], view["zoom"])
    px, py = _world_px(lon, lat, view["zoom"])
    return box["x"] + box["width"] / 2 + (px - cx), box["y"] + box["height"] / 2 + (py - cy)


# Resolves when the canvas's drawing buffer matches its size on screen and its position has stayed the same
# over ten animation frames (deck.gl resizes the buffer after the layout settles).
SETTLED_JS = """canvas => new Promise((resolve, reject) => {
  let last = "", same = 0, frames = 0;
  const step = () => {
    const r = canvas.getBoundingClientRect();
    const key = [r.x, r.y, r.width, r.height].join(",");
    const sized = r.width > 0 && Math.abs(canvas.width - r.width * devicePixelRatio) <= 1;
    same = key === last && sized ? same + 1 : 0;
    last = key;
    if (same >= 10) resolve(key);
    else if (++frames > 1800) reject(new Error("deck.gl-Karte kommt nicht zur Ruhe: " + key + " / " + canvas.width));
    else requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})"""


def _hover_until_tooltip(pg, tip, x: float, y: float, text: str, tries: int = 10) -> None:
    """Move the mouse onto (x, y) until deck.gl shows a tooltip with ``text`` (picking works once drawn)."""
    for i in range(tries):
        pg.mouse.move(x + (i % 2), y)  # a real move each time: deck.gl picks on pointermove
        try:
            expect(tip).to_contain_text(text, timeout=3_000)
            return
        except AssertionError:
            if i == tries - 1:
                raise


def test_click_on_map_selects_sozialraum(page, server):
    pg = page
    open_page(pg, server, "karte")  # logs in as the demo administrator when the login gate asks
    assert_no_exception(pg)
    # a large Sozialraum far from the corridor; its stored representative point lies inside it.
    # The server holds the database file: read a copy.
    with tempfile.TemporaryDirectory() as tmp:
        copy = f"{tmp}/copy.duckdb"
        shutil.copy(server["db"], copy)
        c = db.connect(copy, read_only=True)
        lon, lat, name = c.execute("SELECT centroid_lon, centroid_lat, name FROM sozialraum WHERE id = 'E01'").fetchone()
        payload = layers.payload_from_db(c)
        c.close()
    view = json.loads(layers.view_for_bounds(payload.bounds).to_json())
    canvas = pg.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(state="visible", timeout=30_000)
    # deck.gl has sized its drawing buffer to the laid-out canvas, and the layout no longer moves
    canvas.evaluate(SETTLED_JS)
    box = canvas.bounding_box()
    x, y = _pixel_of(lon, lat, view, box)
    assert box["x"] < x < box["x"] + box["width"] and box["y"] < y < box["y"] + box["height"]
    # hovering shows the tooltip with name, Stadtbezirk and value (once deck.gl has drawn the layer it picks from)
    tip = pg.locator(".deck-tooltip")
    _hover_until_tooltip(pg, tip, x, y, name)
    assert name in tip.inner_text() and "Stadtbezirk" in tip.inner_text()
    pg.mouse.click(x, y)
    side = pg.locator("h4", has_text=name)
    side.wait_for(timeout=15_000)
    wait_for_app(pg)
    assert_no_exception(pg)
    body = pg.locator('[data-testid="stMain"]').inner_text()
    assert "Rang:" in body and "Zähler / Nenner:" in body and "Korridor:" in body
    screenshot(pg, "karte_klick_E01")
