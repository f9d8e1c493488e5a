"""PNG rendering of the report's map and charts by vl-convert, remembered by content within the process.

Rendering is the costliest step of a report (a few tenths of a second per image); the same map or chart
(same SVG, same Vega-Lite spec with its data, same scale) always gives the same PNG, so a report built
again for the same figures reuses it. At most :data:`MAX_IMAGES` images are kept (least recently used out).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

MAX_IMAGES = 24
_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def _remembered(key: str, render: Callable[[], bytes]) -> bytes:
    with _lock:
        png = _cache.get(key)
        if png is not None:
            _cache.move_to_end(key)
            return png
    png = render()
    with _lock:
        _cache[key] = png
        while len(_cache) > MAX_IMAGES:
            _cache.popitem(last=False)
    return png


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def svg_png(svg: str, scale: float) -> bytes:
    """``svg`` as PNG at ``scale``."""
    import vl_convert as vlc

    return _remembered(_key("svg", repr(scale), svg), lambda: vlc.svg_to_png(svg, scale=scale))


def vegalite_png(spec: dict, scale: float) -> bytes:
    """The Vega-Lite ``spec`` (a dict with its data) as PNG at ``scale``, numbers in German format."""
    import vl_convert as vlc

    text = json.dumps(spec, sort_keys=True, default=str)
    return _remembered(_key("vl-de", repr(scale), text),
                       lambda: vlc.vegalite_to_png(spec, scale=scale, format_locale="de-DE"))
