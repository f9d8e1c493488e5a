"""Every page as every role: no "None", "nan", "NaN", "-0,0" or English decimals next to "%" in what people read."""

from __future__ import annotations

import re

import pytest

from quartier.access import ADMIN, EDITOR, ROLES, VIEWER, Actor
from quartier.ui.pages import PAGES

ACTORS = {VIEWER: Actor("scan-gast", VIEWER), EDITOR: Actor("scan-bearbeitung", EDITOR),
          ADMIN: Actor("scan-admin", ADMIN, raw_data=True)}
RANK = {r: i for i, r in enumerate(ROLES)}
BAD_WORDS = re.compile(r"(?<![\w-])(None|nan|NaN)(?![\w-])")
NEG_ZERO = re.compile(r"[-−]0,0+(?!\d*[1-9])")
ENGLISH_PERCENT = re.compile(r"\b\d+\.\d+\s?%")


def _texts(at) -> list[str]:
    out: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "success", "error", "text"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [f"{m.label} {m.value} {m.delta or ''}" for m in at.metric]
    for df in at.dataframe:
        v = df.value
        for col in v.columns:
            if v[col].dtype == object:
                out += [str(x) for x in v[col].tolist() if isinstance(x, str)]
        out += [str(c) for c in v.columns]
    return out


def _without_css(text: str) -> str:
    return re.sub(r"<style>.*?</style>", "", text, flags=re.S)


@pytest.mark.parametrize("role", ROLES)
def test_no_raw_values_on_any_page(run_page, role):
    bad: list[tuple[str, str]] = []
    for spec in PAGES:
        if RANK[role] < RANK[spec.min_role]:
            continue
        at = run_page(spec.file, actor=ACTORS[role])
        assert not at.exception, (spec.file, [e.value for e in at.exception])
        bad += _findings(spec.file, at)
    assert bad == [], bad


def _findings(page_file: str, at) -> list[tuple[str, str]]:
    """Every text of the page that shows None/nan, a negative zero or an English decimal, with its context."""
    found = []
    for t in _texts(at):
        t = _without_css(t)
        for rx in (BAD_WORDS, NEG_ZERO, ENGLISH_PERCENT):
            m = rx.search(t)
            if m:
                found.append((page_file, t[max(0, m.start() - 60): m.end() + 60]))
    return found


def test_scan_patterns_catch_what_they_should():
    assert BAD_WORDS.search("Wert: None") and BAD_WORDS.search("nan %") and not BAD_WORDS.search("Nanny")
    assert NEG_ZERO.search("−0,0 Pp.") and NEG_ZERO.search("-0,00") and not NEG_ZERO.search("-0,05")
    assert ENGLISH_PERCENT.search("11.2 %") and not ENGLISH_PERCENT.search("11,2 %")


def test_no_raw_values_after_a_partial_delivery(partial_app_db, run_page):
    """The same scan with a new, incomplete year chosen (empty city values must not show as None/nan)."""
    from tests.coverage_files import PARTIAL_INDICATOR, PARTIAL_YEAR

    bad = []
    for spec in PAGES:
        at = run_page(spec.file, actor=ACTORS[ADMIN],
                      session={"filter:indikator": PARTIAL_INDICATOR, "filter:jahr": PARTIAL_YEAR},
                      query={"sr": "M04", "ind": PARTIAL_INDICATOR})
        assert not at.exception, (spec.file, [e.value for e in at.exception])
        bad += _findings(spec.file, at)
    assert bad == [], bad


def test_every_chart_formats_numbers_in_german(run_page):
    """Axes and tooltips of every Vega-Lite chart use the German locale (decimal comma), on every page."""
    import json

    seen, missing = 0, []
    for spec in PAGES:
        at = run_page(spec.file, actor=ACTORS[ADMIN], query={"bezirk": "haspe", "sr": "M04"})
        for chart in at.get("vega_lite_chart"):
            seen += 1
            vl = json.loads(chart.proto.spec)
            number = ((vl.get("config") or {}).get("locale") or {}).get("number") or {}
            if number.get("decimal") != ",":
                missing.append((spec.file, str(vl.get("title"))[:60]))
    assert seen >= 5 and missing == [], missing
