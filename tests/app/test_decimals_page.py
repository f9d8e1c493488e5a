"""Issue 16: the catalogue's ``dezimalstellen`` reach the pages (Steckbrief, Übersicht cards)."""

from __future__ import annotations

from quartier import db
from quartier import format as fmt
from tests.app.test_text_scan import _texts
from tests.unit.test_decimals import _headline_rate, _set_places


def test_two_decimals_on_steckbrief_and_overview(run_page, app_db, tmp_path):
    iid = _headline_rate(app_db)
    con = db.connect(app_db)
    try:
        unit = con.execute("SELECT einheit FROM indikator WHERE id = ?", [iid]).fetchone()[0]
        w = con.execute("SELECT wert FROM messwert_aktuell WHERE indikator_id = ? AND sozialraum_id = 'M04'"
                        " AND wert IS NOT NULL ORDER BY jahr DESC LIMIT 1", [iid]).fetchone()[0]
    finally:
        con.close()
    before = " ".join(_texts(run_page("views/sozialraeume.py", query={"sr": "M04"})))
    assert fmt.value(w, unit, 1) in before and fmt.value(w, unit, 2) not in before
    _set_places(app_db, tmp_path, iid, 2)
    at = run_page("views/sozialraeume.py", query={"sr": "M04"})
    assert not at.exception
    text = " ".join(_texts(at))
    assert fmt.value(w, unit, 2) in text      # the Steckbrief card and table
    over = run_page("views/uebersicht.py")
    assert not over.exception
    cards = [m for m in over.metric if m.label.startswith(con_name(app_db, iid))]
    assert cards and all(fmt.is_zero_text(m.value) or "," in m.value and len(m.value.split(",")[1].split()[0]) == 2
                         for m in cards)


def con_name(path, iid: str) -> str:
    con = db.connect(path)
    try:
        return con.execute("SELECT name FROM indikator WHERE id = ?", [iid]).fetchone()[0]
    finally:
        con.close()
