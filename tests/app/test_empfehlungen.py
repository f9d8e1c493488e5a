"""AppTest: the Handlungsempfehlungen page filters via widgets and URL, and staff change a status with a justification."""

from __future__ import annotations

from quartier.access import EDITOR, VIEWER, Actor
from quartier.ui.session import ACTOR_KEY

PAGE = "views/empfehlungen.py"
STAFF = {ACTOR_KEY: Actor("m.schneider", EDITOR)}
GUEST = {ACTOR_KEY: Actor("gast", VIEWER)}


def table_ids(at) -> list[str]:
    return list(at.dataframe[0].value["Nummer"])


def test_filtering_by_text_and_field_updates_table_and_url(run_page):
    at = run_page(PAGE, session=GUEST)
    assert not at.exception
    all_ids = table_ids(at)
    assert len(all_ids) >= 25 and "HE-27" not in all_ids  # internal one hidden from viewers
    assert not [s for s in at.subheader if s.value == "Bearbeitung"]
    at.text_input(key="emp_q").input("Kümmerer").run()
    assert table_ids(at) == ["HE-01", "HE-02"]
    assert at.query_params["q"] == ["Kümmerer"] or at.query_params["q"] == "Kümmerer"
    at.text_input(key="emp_q").input("").run()
    at.multiselect(key="emp_feld").select("Sprache").run()
    at.checkbox(key="emp_ueberfaellig").check().run()
    assert table_ids(at) == ["HE-04"]
    assert "ueberfaellig" in at.query_params


def test_filters_are_read_from_the_url(run_page):
    at = run_page(PAGE, session=GUEST, query={"sozialraum": "E01", "status": "offen,in Planung"})
    assert not at.exception
    ids = table_ids(at)
    assert ids and set(ids) <= {"HE-25", "HE-29"}


def test_staff_change_status_needs_justification_then_history_shows_it(run_page):
    at = run_page(PAGE, session=STAFF)
    assert not at.exception
    at.selectbox(key="emp_id").select("HE-25").run()
    assert any("HE-25" in s.value for s in at.subheader)
    at.selectbox(key="emp_edit_status_HE-25").select("in Umsetzung")
    save = next(b for b in at.button if b.label == "Änderungen speichern")
    save.click().run()
    assert any("Begründung" in e.value for e in at.error)
    at.selectbox(key="emp_edit_status_HE-25").select("in Umsetzung")
    at.text_area(key="emp_edit_reason_HE-25").input("Beide Stellen besetzt.")
    next(b for b in at.button if b.label == "Änderungen speichern").click().run()
    assert not at.exception
    assert any("HE-25" in s.value and "gespeichert" in s.value for s in at.success)
    row = at.dataframe[0].value.set_index("Nummer").loc["HE-25"]
    assert "in Umsetzung" in row["Status"]
    history = "\n".join(m.value for m in at.markdown)
    assert "Status: in Planung → in Umsetzung" in history and "Beide Stellen besetzt." in history


def test_staff_retire_hides_from_catalogue_until_asked(run_page):
    at = run_page(PAGE, session=STAFF)
    at.selectbox(key="emp_id").select("HE-29").run()
    next(b for b in at.button if b.label == "Ausscheiden").click().run()
    assert any("Begründung" in e.value for e in at.error)
    at.text_input(key="emp_retire_reason_HE-29").input("In HE-09 aufgegangen.")
    next(b for b in at.button if b.label == "Ausscheiden").click().run()
    assert not at.exception
    assert "HE-29" not in table_ids(at)
    at.checkbox(key="emp_retired").check().run()
    assert "HE-29" in table_ids(at)
    assert "ausgeschieden" in at.dataframe[0].value.set_index("Nummer").at["HE-29", "Hinweise"]


def test_umsetzungsstand_snapshot_create_and_compare(run_page):
    guest = run_page("views/umsetzungsstand.py", session=GUEST)
    assert not guest.exception
    assert not [b for b in guest.button if b.label == "Berichtsstand anlegen"]
    at = run_page("views/umsetzungsstand.py", session=STAFF)
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Empfehlungen"] == "30"
    at.text_input(key="ust_snap_name").input("JHA Test")
    next(b for b in at.button if b.label == "Berichtsstand anlegen").click().run()
    assert not at.exception
    assert any("JHA Test" in s.value for s in at.success)
    names = at.selectbox(key="ust_cmp_b").options
    assert "JHA Test" in names and "Bericht JHA März 2025" in names
    at.selectbox(key="ust_cmp_a").select("Bericht JHA März 2025").run()
    at.selectbox(key="ust_cmp_b").select("JHA Test").run()
    diff = at.dataframe[-1].value
    assert "HE-06" in set(diff["Nummer"])  # umgesetzt in March 2025, verstetigt since September 2025


def test_staff_upload_status_updates_preview_then_commit(run_page, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Empfehlungen"
    ws.append(["Nummer", "Status", "Fortschritt %", "Begründung"])
    ws.append(["HE-14", "in Planung", 10, "Konzept mit dem Integrationszentrum begonnen."])
    ws.append(["HE-29", "in Umsetzung", None, None])  # status change without justification
    path = tmp_path / "status.xlsx"
    wb.save(path)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    at = run_page(PAGE, session=STAFF)
    at.file_uploader(key="emp_upload").set_value(("status.xlsx", path.read_bytes(), xlsx)).run()
    assert not at.exception
    assert any("nicht übernommen" in e.value for e in at.error)
    errors = next(d.value for d in at.dataframe if "Zelle" in d.value.columns)
    assert list(errors["Zelle"]) == ["B3"]
    assert not [b for b in at.button if b.label == "Alle Änderungen übernehmen"]

    ws.delete_rows(3)
    wb.save(path)
    at.file_uploader(key="emp_upload").set_value(("status.xlsx", path.read_bytes(), xlsx)).run()
    assert any("1 geändert" in m.value for m in at.markdown)
    assert "in Planung" not in at.dataframe[0].value.set_index("Nummer").at["HE-14", "Status"]
    next(b for b in at.button if b.label == "Alle Änderungen übernehmen").click().run()
    assert not at.exception
    assert any("1 geändert übernommen" in s.value for s in at.success)
    assert "in Planung" in at.dataframe[0].value.set_index("Nummer").at["HE-14", "Status"]


def test_wirkungsblick_page_compares_and_states_limits(run_page):
    at = run_page("views/wirkungsblick.py", session=GUEST, query={"id": "HE-09"})
    assert not at.exception
    assert at.selectbox(key="wb_id").value == "HE-09"
    assert any("nicht zeigen" in i.value for i in at.info)
    text = "\n".join(m.value for m in at.markdown)
    assert "Übergewicht bei der Schuleingangsuntersuchung: Ziel-Sozialräume von" in text
    assert "kein Wirkungsnachweis" in text or "etwa wie die übrige Stadt" in text
    table = at.dataframe[0].value
    assert list(table["Gebiet"]) == ["Ziel-Sozialräume", "übrige Stadt"]
    options = at.selectbox(key="wb_id").options
    assert any(o.startswith("HE-04") for o in options)
    assert not any(o.startswith("HE-27") for o in options)  # internal, hidden from viewers


def at_db():
    import os

    return os.environ["QUARTIER_DB"]


def test_umsetzungsstand_district_filter_and_stale_setting(run_page):
    at = run_page("views/umsetzungsstand.py", session={ACTOR_KEY: Actor("admin", "Administration")},
                  query={"bezirk": "haspe"})
    assert not at.exception
    assert at.selectbox(key="ust_bezirk").value == "haspe"
    labels = {m.label: m.value for m in at.metric}
    # the district's recommendations: its areas' plus the city-wide ones, as Mein Bezirk counts them
    from quartier import db
    from quartier.reports import scope as report_scope
    from quartier.reports import summary as report_summary

    con = db.connect(at_db())
    try:
        recs, _ = report_summary.recommendations(con, report_scope.bezirk_scope(con, "haspe"),
                                                 actor=Actor("admin", "Administration"))
    finally:
        con.close()
    assert labels["Empfehlungen"] == str(len(recs)) and len(recs) > 7  # before: 7 (its areas only)
    assert "stadtweiten Empfehlungen" in " ".join(c.value for c in at.caption)
    stale_before = int(labels["ohne Aktualisierung seit 6 Monaten"])
    at.number_input(key="ust_frist_monate").set_value(24)
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert "ohne Aktualisierung seit 24 Monaten" in labels
    assert int(labels["ohne Aktualisierung seit 24 Monaten"]) < stale_before
