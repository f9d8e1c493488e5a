"""AppTest of the page "Sozialräume" with several selections, from the URL and from the widgets."""

from __future__ import annotations

from quartier.access import ADMIN, VIEWER, Actor

PAGE = "views/sozialraeume.py"
STAFF = {"quartier_actor": Actor("planung", ADMIN, raw_data=True)}  # logged in (the app has a login gate)


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    return "\n".join(parts)


def _charts(at) -> list:
    return at.get("vega_lite_chart")


def _qp(at, key):
    v = at.query_params.get(key)
    return v[0] if isinstance(v, list) else v


def test_profile_from_url_single_area(run_page):
    at = run_page(PAGE, query={"sr": "M04"}, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="sr_ansicht").value == "Steckbrief"
    assert "Steckbrief Wehringhausen (M04)" in [s.value for s in at.subheader]
    text = _text(at)
    assert "Stadtbezirk **Hagen-Mitte**" in text
    assert "Rang 1 von 23" in text  # Wehringhausen leads several need indicators in the demo
    assert "verbessert" in text or "verschlechtert" in text  # the meaning in words, not only by colour
    metrics = {m.label: m.value for m in at.metric}
    pop = next(v for k, v in metrics.items() if k.startswith("Bevölkerung"))
    assert "." in pop and "," not in pop  # German thousands separator
    assert any(k.startswith("Anteil unter 18") and v.endswith("%") for k, v in metrics.items())
    # the small multiples chart plus its table; the recommendations table with status
    assert len(_charts(at)) == 1
    frames = [d.value for d in at.dataframe]
    recs = next(f for f in frames if "Umsetzungsstand" in f.columns)
    assert len(recs) > 0 and recs["Nr."].str.startswith("HE-").all()
    # status as symbol and word (not colour only)
    assert recs["Umsetzungsstand"].str[0].isin(["○", "◔", "◑", "●", "★", "‖", "✕"]).all()
    assert any("Handlungsempfehlungen:" in c.value for c in at.caption)
    assert _qp(at, "ansicht") == "steckbrief" and _qp(at, "sr") == "M04"


def test_time_series_for_two_areas_and_two_indicators(run_page):
    at = run_page(PAGE, query={"sr": "M04,S01", "ind": "sgb2_u18,seu_sprache"}, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="sr_ansicht").value == "Zeitreihen"
    assert at.multiselect(key="sr_auswahl").value == ["M04", "S01"]
    assert at.multiselect(key="sr_indikatoren").value == ["sgb2_u18", "seu_sprache"]
    heads = [s.value for s in at.subheader]
    assert "Minderjährige in SGB-II-Bedarfsgemeinschaften" in heads
    assert any(h.startswith("Sprachförderbedarf") for h in heads)
    assert len(_charts(at)) == 2
    # a table under every chart, with German numbers and both Sozialräume and the references
    table = at.dataframe[0].value
    assert {"Wehringhausen (M04)", "Haspe-Zentrum (S01)", "Hagen (Stadt)", "Bezirk Hagen-Mitte", "Bezirk Haspe"} <= set(table["Reihe"])
    assert table["Wert"].str.contains(",").all() or (table["Wert"] == "•").any()
    assert "Letzte Werte – " in _text(at)


def test_whole_district_comparison(run_page):
    at = run_page(PAGE, query={"bezirk": "haspe", "ind": "sgb2_u18,kita_u3", "ansicht": "vergleich"}, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="sr_modus").value == "Stadtbezirk"
    assert at.selectbox(key="sr_bezirk").value == "haspe"
    assert at.radio(key="sr_ansicht").value == "Vergleich"
    assert len(_charts(at)) == 2  # one bar chart per indicator
    wide = next(d.value for d in at.dataframe if "Sozialraum" in d.value.columns and "Nr." in d.value.columns)
    assert set(wide["Nr."]) >= {"S01", "S02", "S03", "S04"}
    assert "Hagen (Stadt)" in set(wide["Sozialraum"])
    assert _qp(at, "bezirk") == "haspe" and at.query_params.get("sr") in (None, [])


def test_unknown_ids_are_reported_and_skipped(run_page):
    at = run_page(PAGE, query={"sr": "M04,ZZ9", "ind": "gibtsnicht"}, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    warnings = " ".join(w.value for w in at.warning)
    assert "ZZ9" in warnings and "gibtsnicht" in warnings
    assert at.multiselect(key="sr_auswahl").value == ["M04"]
    # the default indicator comes from the catalogue (first headline rate with a direction), never from code
    from quartier.ui.common import get_con
    from quartier.values import indicators

    assert at.multiselect(key="sr_indikatoren").value == [indicators.default_indicator(get_con())]


def test_changing_widgets_updates_the_url(run_page):
    at = run_page(PAGE, query={"sr": "M04", "ind": "sgb2_u18"}, session=STAFF)
    at.multiselect(key="sr_auswahl").set_value(["M04", "E01"]).run()
    at.radio(key="sr_ansicht").set_value("Vergleich").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _qp(at, "sr") == "M04,E01"
    assert _qp(at, "ansicht") == "vergleich"
    assert "Alle Werte 2025" in [s.value for s in at.subheader]


def test_viewer_without_raw_rights_gets_the_page(run_page):
    at = run_page(PAGE, query={"sr": "M04,M01", "ind": "ohne_abschluss"},
                  session={"quartier_actor": Actor("gast", VIEWER)})
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    # raw numerators below the minimum case count never appear for a viewer
    shown = table.loc[table["Zähler"] != "•", "Zähler"].str.replace(".", "", regex=False)
    assert all(int(z) >= 3 or int(z) == 0 for z in shown if z != "–")


def test_a_new_link_in_the_same_session_wins_over_the_old_choice(run_page):
    """The map links with ?sr=ID: a changed address replaces the choice kept in the session."""
    at = run_page(PAGE, query={"sr": "M04,S01", "ind": "sgb2_u18"}, session=STAFF)
    assert at.radio(key="sr_ansicht").value == "Zeitreihen"
    at.query_params.clear()
    at.query_params["sr"] = "E01"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="sr_auswahl").value == ["E01"]
    assert at.radio(key="sr_ansicht").value == "Steckbrief"
    assert "Steckbrief Eilpe/Delstern/Selbecke (E01)" in [s.value for s in at.subheader]
