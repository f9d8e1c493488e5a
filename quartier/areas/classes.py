"""Map classification: class breaks, colour-blind-safe palettes, class colours and legends (no streamlit)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from quartier import format as fmt

# ColorBrewer sequential schemes (9 classes, light -> dark) and viridis; all colour-blind safe.
PALETTES: dict[str, list[str]] = {
    "YlGnBu": ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"],
    "OrRd": ["#fff7ec", "#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000"],
    "Purples": ["#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"],
    "Viridis": ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989", "#482878"],
}
PALETTE_LABELS = {
    "YlGnBu": "Gelb–Grün–Blau (ColorBrewer)",
    "OrRd": "Orange–Rot (ColorBrewer)",
    "Purples": "Violett (ColorBrewer)",
    "Viridis": "Viridis",
}
DEFAULT_PALETTE = "YlGnBu"
METHODS = {"quantile": "Quantile (gleich viele Gebiete je Klasse)",
           "equal": "Gleiche Intervalle (Spannweite der Werte)",
           "fixed": "Feste Grenzen (aus der Indikatordefinition)"}
SUPPRESSED_COLOR = [150, 150, 150, 255]
MISSING_COLOR = [225, 225, 225, 255]


def hex_to_rgb(h: str, alpha: int = 255) -> list[int]:
    h = h.lstrip("#")
    return [int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha]


def decimals_for(unit: str | None, places=None) -> int:
    """The indicator's decimals (catalogue ``dezimalstellen``, else by unit): :func:`quartier.format.decimals_for`."""
    return fmt.decimals_for(unit, places)


# --------------------------------------------------------------------------------------------
# Classification


def class_breaks(values, method: str = "quantile", k: int = 5, *, vmin: float | None = None,
                 vmax: float | None = None, breaks: list[float] | None = None) -> list[float]:
    """Class edges (ascending, len = classes + 1) for the finite ``values``.

    ``quantile``: equal counts; ``equal``: equal widths over the data range; ``fixed``: the given inner
    ``breaks`` (a setting) or, without them, equal widths over the indicator's ``vmin``/``vmax``.
    Duplicate edges (e.g. many equal values) are merged, so fewer classes may result.
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if method not in METHODS:
        raise ValueError(f"Unbekannte Klassifizierung {method!r}: erlaubt sind {', '.join(METHODS)}.")
    k = max(1, int(k))
    if method == "fixed":
        if breaks:
            inner = sorted(float(b) for b in breaks)
            lo = min([inner[0]] + ([float(v.min())] if v.size else []) + ([vmin] if vmin is not None else []))
            hi = max([inner[-1]] + ([float(v.max())] if v.size else []) + ([vmax] if vmax is not None else []))
            edges = [lo] + [b for b in inner if lo < b < hi] + [hi]
        else:
            lo = vmin if vmin is not None else (float(v.min()) if v.size else 0.0)
            hi = vmax if vmax is not None else (float(v.max()) if v.size else 1.0)
            edges = list(np.linspace(lo, hi, k + 1))
    elif v.size == 0:
        return []
    elif method == "quantile":
        edges = list(np.quantile(v, np.linspace(0, 1, k + 1)))
    else:
        edges = list(np.linspace(v.min(), v.max(), k + 1))
    out: list[float] = []
    for e in edges:
        e = float(e)
        if not out or e > out[-1] + 1e-12:
            out.append(e)
    if len(out) == 1:
        out.append(out[0])
    return out


def assign_classes(values, edges: list[float]) -> np.ndarray:
    """Class index 0..n-1 for each value (last class closed on the right); -1 for missing values."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, -1, dtype=int)
    if len(edges) < 2:
        return out
    ok = np.isfinite(v)
    idx = np.searchsorted(np.asarray(edges[1:-1]), v[ok], side="right")
    out[ok] = np.clip(idx, 0, len(edges) - 2)
    return out


def class_colors(n: int, palette: str = DEFAULT_PALETTE, direction: str | None = "higher") -> list[list[int]]:
    """``n`` colours for classes in ascending value order; more need is always darker.

    ``direction='lower'`` (a low value means more need) reverses the ramp, so the lowest class is
    darkest. Without a direction, higher values are darker.
    """
    ramp = PALETTES.get(palette, PALETTES[DEFAULT_PALETTE])
    if n <= 0:
        return []
    # Skip the lightest ColorBrewer step so no class looks like "keine Daten".
    lo = 1 if n < len(ramp) else 0
    idx = [round(i) for i in np.linspace(lo, len(ramp) - 1, n)] if n > 1 else [len(ramp) // 2 + 1]
    cols = [hex_to_rgb(ramp[i]) for i in idx]
    return cols[::-1] if direction == "lower" else cols


def luminance(rgb: list[int]) -> float:
    """Relative luminance (WCAG) of an sRGB colour."""
    def ch(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb[:3]
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)


def range_label(lo: float, hi: float, unit: str | None, last: bool, decimals: int) -> str:
    a, b = fmt.number(lo, decimals), fmt.value(hi, unit, decimals)
    if lo == hi:
        return fmt.value(lo, unit, decimals)
    return f"{a} bis {b}" if last else f"{a} bis unter {b}"


@dataclass
class Classification:
    method: str
    edges: list[float]
    colors: list[list[int]]
    classes: np.ndarray  # per value, -1 = no class
    unit: str | None
    direction: str | None
    decimals: int | None = None  # the indicator's (catalogue ``dezimalstellen``); None = by unit

    def color_of(self, i: int, suppressed: bool = False) -> list[int]:
        if suppressed:
            return SUPPRESSED_COLOR
        return self.colors[i] if 0 <= i < len(self.colors) else MISSING_COLOR


def classify(values: pd.Series, unit: str | None, direction: str | None, method: str = "quantile", k: int = 5,
             palette: str = DEFAULT_PALETTE, *, vmin: float | None = None, vmax: float | None = None,
             breaks: list[float] | None = None, decimals: int | None = None) -> Classification:
    edges = class_breaks(values.tolist(), method, k, vmin=vmin, vmax=vmax, breaks=breaks)
    n = max(0, len(edges) - 1)
    return Classification(method, edges, class_colors(n, palette, direction), assign_classes(values, edges), unit, direction, decimals)


def legend(cls: Classification, counts_suppressed: int = 0, counts_missing: int = 0,
           always_special: bool = True) -> list[dict]:
    """Legend entries: the classes (German ranges, unit, count), then "gesperrt" and "keine Daten"."""
    dec = decimals_for(cls.unit) if cls.decimals is None else int(cls.decimals)
    out = []
    n = len(cls.edges) - 1
    for i in range(n):
        out.append({
            "kind": "class",
            "label": range_label(cls.edges[i], cls.edges[i + 1], cls.unit, i == n - 1, dec),
            "color": cls.colors[i],
            "count": int((cls.classes == i).sum()),
        })
    if always_special or counts_suppressed:
        out.append({"kind": "suppressed", "label": f"gesperrt ({fmt.SUPPRESSED}, kleine Fallzahl)",
                    "color": SUPPRESSED_COLOR, "count": int(counts_suppressed)})
    if always_special or counts_missing:
        out.append({"kind": "missing", "label": f"keine Daten ({fmt.NOTHING})", "color": MISSING_COLOR,
                    "count": int(counts_missing)})
    return out


def legend_html(entries: list[dict], title: str, note: str | None = None) -> str:
    """The legend as accessible HTML: a list with colour swatch AND text range and count."""
    items = []
    for e in entries:
        r, g, b = e["color"][:3]
        style = f"background:rgb({r},{g},{b});"
        if e["kind"] == "suppressed":
            style += "background-image:repeating-linear-gradient(45deg,#fff 0 2px,transparent 2px 6px);"
        n = e.get("count")
        count = f" <span style='color:#555'>({n} {'Gebiet' if n == 1 else 'Gebiete'})</span>" if n is not None else ""
        items.append(
            "<li style='display:flex;align-items:center;gap:.5em;margin:.15em 0'>"
            f"<span aria-hidden='true' style='display:inline-block;width:1.6em;height:1em;border:1px solid #444;{style}'></span>"
            f"<span>{escape(e['label'])}{count}</span></li>"
        )
    note_html = f"<div style='font-size:.9em;color:#333'>{escape(note)}</div>" if note else ""
    return (f"<div role='group' aria-label='Legende: {escape(title)}'><b>{escape(title)}</b>"
            f"<ul style='list-style:none;padding:0;margin:.3em 0'>{''.join(items)}</ul>{note_html}</div>")
