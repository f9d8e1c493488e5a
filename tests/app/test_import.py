"""Daten-Import and Lieferungen pages through AppTest: upload a real file, check the preview, confirm, withdraw."""

from __future__ import annotations

import duckdb

from quartier.access import EDITOR, VIEWER, Actor
from tests.unit.ingest_files import long_rows, xlsx

STAFF = Actor("pruefer", EDITOR)
SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [s.value for s in at.success] + [w.value for w in at.warning]
                     + [e.value for e in at.error] + [i.value for i in at.info] + [c.value for c in at.caption])


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_upload_preview_confirm_and_duplicate(run_page, app_db, tmp_path):
    path = xlsx(tmp_path / "jobcenter_2026.xlsx", {"Daten": long_rows([
        (2026, "Zentrum/Remberg", SGB, 10, 100, "10,0"), (2026, "Wehringhausen", SGB, "*", 80, "*"),
        (2025, "M01", SGB, 1, 100, 1.0)])})
    at = run_page("views/daten_import.py", actor=STAFF)
    assert not at.exception
    uploader = at.file_uploader[0]
    assert uploader.accept_multiple_files and set(uploader.allowed_type) >= {".xlsx", ".csv"}
    uploader.set_value((path.name, path.read_bytes(), XLSX))
    at.run(timeout=120)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Werte neu"] == "2" and metrics["Werte geändert"] == "1" and metrics["Werte gesperrt"] == "1"
    assert "Lieferant (liefernde Stelle)" in [s.label for s in at.selectbox]
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.label.startswith("Lieferant"))).value == "Jobcenter"
    # findings table with the changed value and the download buttons for the error report
    assert any("Prüfergebnis" in m.value for m in at.markdown)
    # warnings need the confirmation checkbox before the button works
    commit = button(at, "Lieferung übernehmen")
    assert commit.disabled
    next(c for c in at.checkbox if "Warnung" in c.label).check()
    at.run(timeout=120)
    button(at, "Lieferung übernehmen").click()
    at.run(timeout=120)
    assert not at.exception, at.exception
    assert "Übernommen als Lieferung #6" in texts(at)
    con = duckdb.connect(str(app_db))
    row = con.execute("SELECT lieferant, importiert_von, n_neu, n_geaendert, n_gesperrt FROM lieferung WHERE id = 6").fetchone()
    val = con.execute("SELECT wert FROM messwert_aktuell WHERE indikator_id='sgb2_u18' AND sozialraum_id='M01' AND jahr=2026").fetchone()
    con.close()
    assert row == ("Jobcenter", "pruefer", 2, 1, 1) and val == (10.0,)
    # the same file again in a new session: shown as already imported, no button
    at = run_page("views/daten_import.py", actor=STAFF)
    at.file_uploader[0].set_value((path.name, path.read_bytes(), XLSX))
    at.run(timeout=120)
    assert "bereits am" in texts(at) and "Lieferung #6" in texts(at)
    assert not [b for b in at.button if b.label == "Lieferung übernehmen"]


def test_errors_block_and_suggestion_can_be_accepted(run_page, tmp_path):
    path = xlsx(tmp_path / "fehler.xlsx", {"Daten": long_rows([(2026, "Wehringhausn", SGB, 10, 100, 10.0)])})
    at = run_page("views/daten_import.py", actor=STAFF)
    at.file_uploader[0].set_value((path.name, path.read_bytes(), XLSX))
    at.run(timeout=120)
    assert "die Datei kann so nicht übernommen werden" in texts(at)
    assert not [b for b in at.button if b.label == "Lieferung übernehmen"]
    assert [d for d in at.get("download_button") if "Prüfbericht" in d.proto.label]
    next(c for c in at.checkbox if "Wehringhausn" in c.label).check()
    at.run(timeout=120)
    assert "die Datei kann so nicht übernommen werden" not in texts(at)
    assert [b for b in at.button if b.label == "Lieferung übernehmen"]


def test_lieferungen_history_status_and_withdraw(run_page, app_db):
    at = run_page("views/lieferungen.py", actor=STAFF)
    assert not at.exception, at.exception
    assert any("ausstehend" in m.value for m in at.markdown)  # Lieferstatus explains its symbols
    at.selectbox(key="lief_sel").set_value(1)
    at.run()
    assert "Lieferung #1" in texts(at)
    assert button(at, "Zurückziehen").disabled
    at.checkbox(key="wd_sure_1").check()
    at.text_input(key="wd_reason_1").input("Test: falsche Datei")
    at.run()
    button(at, "Zurückziehen").click()
    at.run()
    assert not at.exception, at.exception
    assert "Lieferung #1 zurückgezogen" in texts(at)
    con = duckdb.connect(str(app_db))
    status = con.execute("SELECT status, zurueckgezogen_von FROM lieferung WHERE id = 1").fetchone()
    left = con.execute("SELECT count(*) FROM messwert_aktuell WHERE lieferung_id = 1").fetchone()[0]
    con.close()
    assert status == ("zurueckgezogen", "pruefer") and left == 0


def test_viewer_does_not_get_the_import_pages(run_page):
    for page in ("views/daten_import.py", "views/lieferungen.py"):
        at = run_page(page, actor=Actor("gast", VIEWER))  # its address, opened by a viewer
        assert not at.exception
        assert "ist für Ihre Rolle nicht freigegeben" in " ".join(w.value for w in at.warning)
        assert not at.get("file_uploader") and not at.dataframe  # neither the upload nor the deliveries
        assert "Daten-Import" not in str(at.sidebar) and "Lieferungen" not in str(at.sidebar)
