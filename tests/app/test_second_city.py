"""A second city (tests/city2.py) looks like its own product: every page, as administrator and as viewer,
renders without an exception and shows nothing of the demo (no Hagen, no B 7, no demo indicator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from quartier.access import ADMIN, VIEWER, Actor
from quartier.ui.pages import PAGES
from quartier.ui.session import ACTOR_KEY
from tests import city2

APP = Path(__file__).resolve().parents[2] / "app.py"
ACTORS = {"admin": Actor("leitung", ADMIN, raw_data=True), "viewer": Actor("gast", VIEWER)}


def all_text(at: AppTest) -> str:
    """Every text the page shows: element protos (labels, markdown, chart specs) and table cells."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if getattr(node, "type", "") == "arrow_data_frame":
            out.append(node.value.to_string())        # the cells, not the Arrow bytes
        elif proto is not None and hasattr(proto, "DESCRIPTOR"):
            out.append(text_format.MessageToString(proto, as_utf8=True))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def run(db_path: Path, monkeypatch, page_file: str, actor: Actor, session: dict | None = None) -> AppTest:
    monkeypatch.setenv("QUARTIER_DB", str(db_path))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state[ACTOR_KEY] = actor
    for k, v in (session or {}).items():
        at.session_state[k] = v
    at.run()
    at.switch_page(page_file)
    at.run()
    return at


def demo_words_in(text: str) -> list[str]:
    return [w for w in city2.DEMO_WORDS if w in text]


# every page for the administrator, every page in a viewer's navigation for the viewer
CASES = [(p, who) for who, a in ACTORS.items() for p in PAGES if a.has(p.min_role)]


@pytest.mark.parametrize(("spec", "who"), CASES, ids=[f"{p.url_path}-{w}" for p, w in CASES])
def test_every_page_shows_this_city_only(city2_copy, monkeypatch, spec, who):
    at = run(city2_copy, monkeypatch, spec.file, ACTORS[who])
    assert not at.exception, [e.value for e in at.exception]
    text = all_text(at)
    assert not demo_words_in(text), (demo_words_in(text), spec.file)
    assert "Beispieldaten" not in text      # no demo notice in a real city


def test_start_page_headlines_from_the_catalogue(city2_copy, monkeypatch):
    at = run(city2_copy, monkeypatch, "views/uebersicht.py", ACTORS["viewer"])
    assert city2.CITY in at.title[0].value
    labels = " ".join(m.label for m in at.metric)
    assert "Kinder in Armutslagen" in labels and "Einwohnerzahl" in labels
    assert all(m.value and m.value not in ("–", "nan", "None") for m in at.metric)


def test_karte_without_axis_says_how_to_add_one(city2_copy, monkeypatch):
    at = run(city2_copy, monkeypatch, "views/karte.py", ACTORS["admin"])
    assert not at.exception
    text = all_text(at)
    assert "--axis" in text and "--axis-name" in text            # how to add an axis
    assert not [w for w in at.toggle if "Korridor" in w.label]
    assert not [w for w in at.checkbox if "Korridor" in w.label or "Achse" in w.label]
    assert at.selectbox(key="sel_indikator").value == "arm_kind" if any(
        s.key == "sel_indikator" for s in at.selectbox) else True


@pytest.mark.parametrize("page_file", ["views/mein_bezirk.py", "views/handlungsbedarf.py"])
def test_pages_without_index_method_say_what_they_rank_by(city2_copy, monkeypatch, page_file):
    at = run(city2_copy, monkeypatch, page_file, ACTORS["admin"])
    assert not at.exception, [e.value for e in at.exception]
    text = all_text(at)
    if page_file.endswith("mein_bezirk.py"):   # ranked by the catalogue's default indicator, and it says so
        assert "Rangfolge nach „Kinder in Armutslagen“" in text and "keine Index-Methode" in text
        assert "keine Achse eingerichtet" in text and "--axis" in text
    else:                                       # a proposal with every indicator that has a direction
        assert "Noch keine Methode gespeichert" in text and "Kinder in Armutslagen" in text
