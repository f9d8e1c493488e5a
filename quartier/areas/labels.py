"""Map labels that do not overlap ("declutter"): which area labels the map prints at its opening zoom.

The browser draws labels in screen pixels, so whether two labels collide depends on the zoom. At the zoom
the map opens with (:func:`quartier.areas.layers.view_for_bounds`) each label's text box is estimated
(characters × font size × :data:`CHAR_WIDTH`, lines × font size, plus the TextLayer's background padding
and a small gap) around the area's label point in web-mercator pixels. Labels are placed greedily, the
larger areas first (ties: the order given, i.e. by id); a label is kept only when its box does not
collide with a label already placed. The others are not printed: their name shows on hover (tooltip) and
in the table under each map.

Deterministic and cheap for 10,000 areas (exact greedy, no pairwise matrix; the projection and box
estimates are vectorised): each placed label marks the candidates whose boxes it overlaps, looking only
at those in the neighbouring cells of a grid of the largest box size; marked candidates are skipped.
"""

from __future__ import annotations

import numpy as np

CHAR_WIDTH = 0.6       # average glyph width in em (Source Sans Pro ~0.5; generous so that estimates do not touch)
LINE_HEIGHT = 1.2      # em per line
PADDING = (3.0, 1.0)   # TextLayer background_padding (x, y) in px
GAP = 2.0              # px kept free between two labels
WORLD_PX = 512.0       # deck.gl's web-mercator world at zoom 0


def to_pixels(lon, lat, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """Web-mercator pixel coordinates (x right, y down) of WGS84 points at ``zoom`` (deck.gl convention)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.clip(np.asarray(lat, dtype=float), -85.05, 85.05)
    scale = WORLD_PX * 2.0 ** zoom
    x = (lon + 180.0) / 360.0 * scale
    y = (1.0 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / np.pi) / 2.0 * scale
    return x, y


def text_boxes(texts: list[str], size: float) -> tuple[np.ndarray, np.ndarray]:
    """Estimated (width, height) in px of each label's box (multi-line texts: longest line × number of lines)."""
    chars = np.fromiter((len(t) for t in texts), dtype=float, count=len(texts))
    n_lines = np.ones(len(texts))
    for k in (k for k, t in enumerate(texts) if "\n" in t):  # few: split only these
        parts = texts[k].split("\n")
        chars[k], n_lines[k] = max(len(s) for s in parts), len(parts)
    w = chars * size * CHAR_WIDTH + 2 * PADDING[0]
    h = n_lines * size * LINE_HEIGHT + 2 * PADDING[1]
    return w, h


def declutter(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, priority: np.ndarray,
              gap: float = GAP) -> np.ndarray:
    """Boolean mask of the labels to print: greedy by descending ``priority`` (ties: input order), a label
    is kept when its box (centre x, y; size w × h, plus ``gap``) overlaps no box kept before it."""
    n = len(x)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w, h = np.asarray(w, dtype=float) + gap, np.asarray(h, dtype=float) + gap
    order = np.argsort(-np.asarray(priority, dtype=float), kind="stable")
    # Candidates in buckets of a grid of the largest box size: two boxes can only overlap when their
    # centres lie in neighbouring cells. Each placed label marks the candidates in the 3 x 3 cells around
    # it whose boxes it overlaps; the next unmarked candidate in priority order is placed.
    gw, gh = float(w.max()), float(h.max())
    gx = np.floor(x / gw).astype(np.int64)
    gy = np.floor(y / gh).astype(np.int64)
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, cell in enumerate(zip(gx.tolist(), gy.tolist())):
        buckets.setdefault(cell, []).append(i)
    xs, ys, ws, hs, gxs, gys = x.tolist(), y.tolist(), w.tolist(), h.tolist(), gx.tolist(), gy.tolist()
    blocked = [False] * n
    for i in order.tolist():
        if blocked[i]:
            continue
        keep[i] = True
        xi, yi, wi, hi = xs[i], ys[i], ws[i], hs[i]
        for cx in (gxs[i] - 1, gxs[i], gxs[i] + 1):
            for cy in (gys[i] - 1, gys[i], gys[i] + 1):
                for j in buckets.get((cx, cy), ()):
                    if not blocked[j] and 2 * abs(xi - xs[j]) < wi + ws[j] and 2 * abs(yi - ys[j]) < hi + hs[j]:
                        blocked[j] = True
    return keep


def placed_labels(positions: list[tuple[float, float]], texts: list[str], priority, zoom: float,
                  size: float, obstacles: list[tuple[float, float, str, float, float]] = ()) -> np.ndarray:
    """Indices (ascending) of the labels printed at ``zoom``; empty texts are never printed.

    ``obstacles``: labels that are always printed (e.g. the axis name): (lon, lat, text, size, pixel offset y);
    area labels must not collide with them."""
    pos = np.asarray(positions, dtype=float).reshape(-1, 2)
    has_text = np.fromiter((bool(t and t.strip()) for t in texts), dtype=bool, count=len(texts))
    idx = np.nonzero(has_text & np.isfinite(pos).all(axis=1))[0]
    if not len(idx):
        return idx
    x, y = to_pixels(pos[idx, 0], pos[idx, 1], zoom)
    w, h = text_boxes([texts[i] for i in idx], size)
    prio = np.asarray(priority, dtype=float)[idx]
    if len(obstacles):
        ox, oy = to_pixels([o[0] for o in obstacles], [o[1] for o in obstacles], zoom)
        oy = oy + np.array([o[4] for o in obstacles], dtype=float)
        ow = np.array([text_boxes([o[2]], o[3])[0][0] + 4 for o in obstacles])  # bold, wider padding
        oh = np.array([text_boxes([o[2]], o[3])[1][0] + 2 for o in obstacles])
        x, y, w, h = np.concatenate([ox, x]), np.concatenate([oy, y]), np.concatenate([ow, w]), np.concatenate([oh, h])
        prio = np.concatenate([np.full(len(obstacles), np.inf), prio])
        return idx[declutter(x, y, w, h, prio)[len(obstacles):]]
    return idx[declutter(x, y, w, h, prio)]
