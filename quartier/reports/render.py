"""PNG rendering of the report's map and charts by vl-convert, remembered by content within the process.

Rendering is the costliest step of a report (a few tenths of a second per image); the same map or chart
(same SVG, same Vega-Lite spec with its data, same scale) always gives the same PNG, so a report built
again for the same figures reuses it. At most :data:`MAX_IMAGES` images are kept (least recently used out).

A report's charts are also remembered by what they are drawn from (:func:`remembered`, the chart's data and
titles), so a report built again skips building the Vega-Lite spec too; and a PNG is put into a PDF from its
parsed form (:func:`embed`: fpdf2 decodes and recompresses every PNG it embeds, a tenth of a second per report).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_IMAGES = 48
_cache: OrderedDict[str, bytes] = OrderedDict()
_parsed: OrderedDict[str, Any] = OrderedDict()   # fpdf2's image info per PNG (md5 of the bytes, as fpdf2 names it)
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


def remembered(parts: tuple[str, ...], render: Callable[[], bytes]) -> bytes:
    """The PNG ``render()`` gives, remembered under ``parts`` (text that fully determines the image, e.g. a
    chart's data and titles): the same parts again give the same PNG without calling ``render``."""
    return _remembered(_key("input", *parts), render)


def embed(pdf, png: bytes, **kwargs) -> None:
    """``pdf.image(png, **kwargs)`` with the PNG parsed once per process: fpdf2 keeps the parsed image (pixels
    recompressed for the PDF) per document under the md5 of the bytes; an image parsed for an earlier report is
    handed to this document's cache first, so fpdf2 finds it there. The PDF is the same byte for byte."""
    from fpdf.image_parsing import get_img_info

    name = hashlib.md5(png.strip(), usedforsecurity=False).hexdigest()  # fpdf2's name for the image
    images = pdf.image_cache.images
    if name not in images:
        with _lock:
            info = _parsed.get(name)
            if info is not None:
                _parsed.move_to_end(name)
        if info is None:
            info = get_img_info(name, io.BytesIO(png), pdf.image_cache.image_filter)
            with _lock:
                _parsed[name] = info
                while len(_parsed) > MAX_IMAGES:
                    _parsed.popitem(last=False)
        if info.get("iccp") is None:  # with a colour profile fpdf2 registers it per document: left to fpdf2
            entry = copy.copy(info)
            entry["i"], entry["usages"], entry["iccp_i"] = len(images) + 1, 0, None
            images[name] = entry
    pdf.image(io.BytesIO(png), **kwargs)
