"""The Handlungsbedarf page on the demo city (AppTest)."""

import io
import json

from openpyxl import load_workbook

from quartier import access, db
from quartier.demo import hagen
from quartier.need import compute, explain, export, store
from quartier.need import method as index_method
from quartier.ui.session import ACTOR_KEY

PAGE = "views/handlungsbedarf.py"
STAFF = {ACTOR_KEY: access.Actor("planerin", access.EDITOR, raw_data=True)}


def _core(path, year=2025, **changes):
    con = db.connect(path)
    try:
        m = {**index_method.get_method(con, hagen.DEMO_METHOD_NAME).to_dict(), **changes}
        res = compute.compute(con, m, year, actor=access.SYSTEM)
        return res, explain.ranking_table(res, compute.previous_year(con, res.method, year, actor=access.SYSTEM))
    finally:
        con.close()


def _frames(at):
    return [d.value for d in at.dataframe]


def test_page_shows_the_ranking_of_the_core(run_page, app_db):
    at = run_page(PAGE, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Handlungsbedarf"
    assert at.selectbox(key="hb_methode").value == hagen.DEMO_METHOD_NAME
    assert at.selectbox(key="hb_jahr").value == 2025
    res, table = _core(app_db)
    ranking = _frames(at)[1]
    assert list(ranking["Rang"]) == list(table["rank"])
    # every row links to the area's Steckbrief, the link text is the area's name
    assert list(ranking["Sozialraum"]) == [f"/sozialraeume?sr={i}&ansicht=steckbrief#{n} ({i})"
                                           for n, i in zip(table["name"], table["id"])]
    assert list(ranking["Klasse"])[:2] == list(table["class"])[:2]
    # German number format and a contribution column per indicator (short names)
    assert "," in ranking["Indexwert"].iloc[0] and "SGB II u18" in ranking.columns
    md = " ".join(m.value for m in at.markdown)
    assert "23 von 23 Sozialräumen bewertet" in md
    top = table.iloc[0]["name"]
    # explanation for the first area, in plain German
    assert f"{top} hat den Indexwert" in md and "Den Wert erhöhen vor allem" in md
    # the map has a text alternative; the matrix has a table; the note on limits is there
    assert "Textfassung der Karte" in md and "Was der Index sagen kann" in " ".join(h.value for h in at.subheader)
    assert "Wodurch entsteht der Wert?" in [h.value for h in at.subheader]
    matrix = next(f for f in _frames(at) if "Status" in f.columns)
    assert set(matrix["Status"]) == {"sehr hoch", "hoch", "mittel", "niedrig"}
    robust = next(f for f in _frames(at) if "Rang ohne je 1 Indikator" in f.columns)
    assert len(robust) == 23


def test_choosing_year_area_and_method_settings(run_page, app_db):
    at = run_page(PAGE, session=STAFF)
    at.selectbox(key="hb_jahr").set_value(2019).run()
    assert not at.exception
    _, table = _core(app_db, 2019)
    ranking = _frames(at)[1]
    assert list(ranking["Rang"]) == list(table["rank"])
    # rank change against the previous year is shown with an arrow and a sign
    assert any(str(v).startswith(("▲", "▼", "±")) for v in ranking["Rang ggü. Vorjahr"])
    last = table.iloc[-1]
    at.selectbox(key="hb_sr").set_value(last["id"]).run()
    assert any(m.value.startswith(f"{last['name']} hat den Indexwert") for m in at.markdown)
    # the points method gives the points ranking of the core
    at.selectbox(key=f"hb_verfahren_{hagen.DEMO_METHOD_NAME}").set_value("points:quintile").run()
    assert not at.exception
    _, pts = _core(app_db, 2019, kind="points", points_scheme="quintile", cutoffs=index_method.POINTS_DEFAULT_CUTOFFS)
    assert list(_frames(at)[1]["Rang"]) == list(pts["rank"])
    assert any("noch nicht gespeichert" in c.value for c in at.caption)
    # a minimum population above every area leaves no area rated – and says why
    at.number_input(key=f"hb_minpop_{hagen.DEMO_METHOD_NAME}").set_value(1_000_000).run()
    assert not at.exception
    assert "0 von 23 Sozialräumen bewertet" in " ".join(m.value for m in at.markdown)


def test_export_and_saving_for_staff(run_page, app_db):
    at = run_page(PAGE, session=STAFF)
    # the export is the core's xlsx: two sheets, ranking first
    res, table = _core(app_db)
    con = db.connect(app_db)
    try:
        data = export.export_xlsx(con, res, compute.previous_year(con, res.method, 2025, actor=access.SYSTEM), actor=access.SYSTEM)
    finally:
        con.close()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Rangfolge", "Methode"]
    assert [r[2] for r in wb["Rangfolge"].iter_rows(min_row=2, values_only=True)] == list(table["name"])
    # staff can store the result with its data state
    forms_buttons = [b for b in at.button if b.label == "Ergebnis mit Datenstand speichern"]
    assert forms_buttons, [b.label for b in at.button]
    forms_buttons[0].click().run()
    assert not at.exception
    assert any("gespeichert" in s.value for s in at.success)
    con = db.connect(app_db)
    try:
        stored = store.stored_results(con)
        assert len(stored) == 1 and stored["gespeichert_von"].iat[0] == "planerin"
        rid = int(stored["id"].iat[0])
        assert store.reproduce(con, rid, actor=access.SYSTEM).to_json() == store.stored_result(con, rid, actor=access.SYSTEM)
        assert json.loads(stored["datenstand"].iat[0]) == res.data_state
    finally:
        con.close()
    # the page lists it and reproduces it from exactly its Lieferungen
    at.run()
    assert any("Nr." in f.columns and len(f) == 1 for f in _frames(at))
    at.button(key="hb_reproduce_btn").click().run()
    assert any("identisch" in s.value for s in at.success)


def test_viewers_cannot_save_and_see_no_protected_values(run_page, app_db):
    viewer = access.Actor("gast", access.VIEWER)
    con = db.connect(app_db)
    try:
        res = compute.compute(con, index_method.get_method(con, hagen.DEMO_METHOD_NAME), 2025, actor=access.SYSTEM)
        hidden = explain.protected_cells(con, res, actor=viewer)
        assert hidden and not explain.protected_cells(con, res, actor=STAFF[ACTOR_KEY])
        short_names = explain.indicator_labels(db.query_df(con, "SELECT * FROM indikator"), res.indicator_ids)
    finally:
        con.close()
    sid, iid = sorted(hidden)[0]
    at = run_page(PAGE, session={ACTOR_KEY: viewer, "hb_sr": sid})
    assert not at.exception
    assert not [b for b in at.button if "speichern" in b.label]
    expl = next(f for f in _frames(at) if "Beitrag" in f.columns and "Richtung" in f.columns)
    short = short_names[iid]
    row = expl[expl["Indikator"] == short].iloc[0]
    # for viewers a protected cell counts as missing: no value, no score, no contribution
    assert row["Wert"] == "•" and row["z-Wert"] == "•" and row["Beitrag"] == "–"
    # staff see the value
    at = run_page(PAGE, session={**STAFF, "hb_sr": sid})
    expl = next(f for f in _frames(at) if "Beitrag" in f.columns and "Richtung" in f.columns)
    assert expl[expl["Indikator"] == short].iloc[0]["Wert"] != "•"


def test_viewer_page_shows_the_index_from_protected_values(run_page, app_db):
    """Issue "Protected means protected" 1: the viewer's ranking is computed from the protected values,
    says so, and has no contribution for a protected cell (the staff page keeps the raw-based view)."""
    viewer = access.Actor("betrachtung", access.VIEWER)
    con = db.connect(app_db)
    try:
        m = index_method.get_method(con, hagen.DEMO_METHOD_NAME)
        res = compute.compute(con, m, 2025, actor=viewer)
        table = explain.ranking_table(res, compute.previous_year(con, m, 2025, actor=viewer))
        labels = explain.indicator_labels(db.query_df(con, "SELECT * FROM indikator"), res.indicator_ids)
    finally:
        con.close()
    hidden = res.hidden_cells
    assert len(hidden) == 7
    at = run_page(PAGE, actor=viewer)
    assert not at.exception, [e.value for e in at.exception]
    notice = " ".join(i.value for i in at.info)
    assert "Für Betrachtende ist der Index aus den geschützten Werten berechnet: 7 geschützte Werte zählen als fehlend" in notice
    ranking = _frames(at)[1]
    assert list(ranking["Rang"]) == list(table["rank"])
    ids = [s.rsplit("(", 1)[1].rstrip(")") for s in ranking["Sozialraum"]]
    for sid, iid in hidden:
        assert ranking[labels[iid]].iloc[ids.index(sid)] == "–"
    visible = [(sid, iid) for sid in ids for iid in res.indicator_ids if (sid, iid) not in hidden]
    assert any(ranking[labels[iid]].iloc[ids.index(sid)] != "–" for sid, iid in visible)
    # staff see no such notice
    at = run_page(PAGE, session=STAFF, actor=STAFF[ACTOR_KEY])
    assert not any("Für Betrachtende" in i.value for i in at.info)
