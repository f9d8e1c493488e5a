"""AppTest of the map parts: intervals in the tooltips, the LISA layer with legend and table, similar areas
outlined on the Karte and on the Steckbrief, corridor hatch, decluttered labels on every map page."""

from __future__ import annotations

import json

from quartier.access import ADMIN, VIEWER, Actor
from quartier.areas import layers, overlays
from quartier.ui.session import ACTOR_KEY

KARTE = "views/karte.py"
ADMIN_SESSION = {ACTOR_KEY: Actor("test-admin", ADMIN, raw_data=True)}
VIEWER = Actor("test-gast", VIEWER)


def _decks(at) -> list[dict]:
    """The deck specs, each with the tooltip Streamlit sends beside it."""
    return [{**json.loads(d.proto.json), "tooltip": json.loads(d.proto.tooltip or "{}")}
            for d in at.get("deck_gl_json_chart")]


def _layer(spec: dict, layer_id: str) -> dict:
    return next(la for la in spec["layers"] if la["id"] == layer_id)


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_karte_tooltip_has_interval_and_corridor_is_hatched(run_page):
    at = run_page(KARTE, session=ADMIN_SESSION)
    assert not at.exception, [e.value for e in at.exception]
    spec = _decks(at)[0]
    assert "{wert_text}</b>{ki}" in spec["tooltip"]["html"] and "Konfidenzintervall" in spec["tooltip"]["html"]
    feats = _layer(spec, layers.LAYER_AREAS)["data"]["features"]
    wh = next(f["properties"] for f in feats if f["properties"]["id"] == "M04")
    # "40,3 % (38,5–42,1)": value and 95 % interval in German
    assert wh["wert_text"].endswith(" %") and wh["ki"].startswith(" (") and "–" in wh["ki"] and wh["ki"].endswith(")")
    table = at.dataframe[-1].value
    assert {"ki_unten", "ki_oben"} <= set(table.columns)
    ok = table["ki_unten"].notna()
    assert ok.any() and (table.loc[ok, "ki_unten"] <= table.loc[ok, "wert"]).all()
    assert (table.loc[ok, "wert"] <= table.loc[ok, "ki_oben"]).all()
    corridor = _layer(spec, layers.LAYER_CORRIDOR)
    assert corridor["filled"] is False and len(_layer(spec, layers.LAYER_CORRIDOR_HATCH)["data"]) > 5
    labels = _layer(spec, layers.LAYER_LABELS)["data"]
    assert 0 < len(labels) <= 23


def test_viewer_tooltip_intervals_come_from_protected_values(run_page):
    at = run_page(KARTE, actor=VIEWER)
    at.sidebar.selectbox(key="sel_indikator").set_value("ohne_abschluss").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    hidden = set(table.loc[table["gesperrt"] == "ja", "sozialraum_id"])
    assert hidden, "the demo protects some values of this indicator for viewers"
    assert table.loc[table["gesperrt"] == "ja", ["ki_unten", "ki_oben"]].isna().all().all()
    assert table.loc[table["gesperrt"] == "nein", "ki_unten"].notna().any()
    feats = _layer(_decks(at)[0], layers.LAYER_AREAS)["data"]["features"]
    for f in feats:
        p = f["properties"]
        if p["id"] in hidden:
            assert p["ki"] == ""  # no interval for a protected value
            assert p["bruch"].split(" / ")[0] == p["wert_text"]  # numerator not shown either


def test_lisa_layer_colours_map_and_gives_legend_and_table(run_page):
    at = run_page(KARTE, session=ADMIN_SESSION)
    at.radio(key="karte_ebene").set_value("lisa").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = _decks(at)[0]
    assert "Lokales Muster (LISA)" in spec["tooltip"]["html"]
    feats = _layer(spec, layers.LAYER_AREAS)["data"]["features"]
    cats = {f["properties"]["lisa"] for f in feats}
    assert cats <= set(overlays.LISA_COLORS)
    for f in feats:
        assert f["properties"]["fill"][:3] == overlays.LISA_COLORS[f["properties"]["lisa"]]
    text = _text(at)
    assert "Hot Spots und Cold Spots" in text and "lokale Muster (LISA)" in text
    lisa = next(d.value for d in at.dataframe if "Lokales Muster (LISA)" in d.value.columns)
    assert len(lisa) == 23
    by_id = dict(zip(lisa["Nr."], lisa["Lokales Muster (LISA)"]))
    assert all(by_id[f["properties"]["id"]] == f["properties"]["lisa"] for f in feats)  # map and table agree
    # back to the classes
    at.radio(key="karte_ebene").set_value("werte").run()
    assert "lisa" not in _layer(_decks(at)[0], layers.LAYER_AREAS)["data"]["features"][0]["properties"]


def test_similar_areas_outlined_on_karte(run_page):
    at = run_page(KARTE, session=ADMIN_SESSION)
    at.selectbox(key="karte_sr").set_value("M04").run()
    at.toggle(key="karte_aehnliche").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    spec = _decks(at)[0]
    outlined = [f["properties"]["id"] for f in _layer(spec, layers.LAYER_SIMILAR)["data"]["features"]]
    assert len(outlined) == 5 and "M04" not in outlined
    text = _text(at)
    assert "Vergleichbare Sozialräume" in text and "blaue Umrandung" in text
    for sid in outlined:
        assert f"({sid})" in text  # named as text too


def test_steckbrief_shows_similar_areas_on_a_map_with_the_table(run_page):
    at = run_page("views/sozialraeume.py", query={"sr": "M04"}, session=ADMIN_SESSION)
    assert not at.exception, [e.value for e in at.exception]
    decks = _decks(at)
    assert decks, "Karte der vergleichbaren Sozialräume fehlt"
    spec = decks[-1]
    outlined = [f["properties"]["id"] for f in _layer(spec, layers.LAYER_SIMILAR)["data"]["features"]]
    table = next(d.value for d in at.dataframe if "ähnlich, weil …" in d.value.columns)
    assert len(outlined) == len(table) > 0
    assert all(f"({sid})" in s for sid, s in zip(outlined, table["Sozialraum"]))  # same order as the table
    labels = [d["text"] for d in _layer(spec, layers.LAYER_LABELS)["data"]]
    assert "Wehringhausen" in labels and all(t == "Wehringhausen" or t[0].isdigit() for t in labels)
    assert _layer(spec, layers.LAYER_SELECTED)


def test_mein_bezirk_and_handlungsbedarf_labels_do_not_pile_up(run_page):
    from quartier.areas import labels as area_labels

    for page in ("views/mein_bezirk.py", "views/handlungsbedarf.py"):
        at = run_page(page, session=ADMIN_SESSION)
        assert not at.exception, (page, [e.value for e in at.exception])
        if page.endswith("handlungsbedarf.py"):  # ranked labels go first
            texts = [d["text"] for d in _layer(_decks(at)[0], layers.LAYER_LABELS)["data"]]
            assert any(t.startswith("1. ") for t in texts) and any(t.startswith("2. ") for t in texts), texts
        for spec in _decks(at):
            lab = _layer(spec, layers.LAYER_LABELS)
            data = lab["data"]
            zoom = spec["initialViewState"]["zoom"]
            xy = [area_labels.to_pixels(d["position"][0], d["position"][1], zoom) for d in data]
            w, h = area_labels.text_boxes([d["text"] for d in data], lab["getSize"])
            for a in range(len(data)):
                for b in range(a + 1, len(data)):
                    assert not (2 * abs(xy[a][0] - xy[b][0]) < w[a] + w[b] and 2 * abs(xy[a][1] - xy[b][1]) < h[a] + h[b]), \
                        (page, data[a]["text"], data[b]["text"])
