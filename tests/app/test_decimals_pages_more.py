"""Issue 16: the catalogue's ``dezimalstellen`` on the Karte (legend classes, corridor sentence) and the
Wirkungsblick; the Lieferungen page lists findings as wrapping lines (a table cell cuts them off)."""

from __future__ import annotations

from quartier import db, ingest
from quartier.ui.text import md
from tests.unit.test_decimals import _set_places
from tests.unit.test_decimals_everywhere import PLACES, _many_decimals


def test_karte_legend_and_corridor_sentence(run_page, app_db, tmp_path):
    con = db.connect(app_db)
    try:
        iid = con.execute("SELECT id FROM indikator WHERE einheit = '%' ORDER BY sortierung NULLS LAST, id LIMIT 1").fetchone()[0]
    finally:
        con.close()
    session = {"sel_indikator": iid}
    before = run_page("views/karte.py", session=session)
    assert not before.exception
    legend = next(m.value for m in before.markdown if "Legende" in m.value)
    assert " bis unter " in legend and not _many_decimals(legend)
    _set_places(app_db, tmp_path, iid, PLACES)
    at = run_page("views/karte.py", session=session)
    assert not at.exception, [e.value for e in at.exception]
    legend = next(m.value for m in at.markdown if "Legende" in m.value)
    assert len(_many_decimals(legend)) >= 4           # both ends of the class ranges
    sentence = next(m.value for m in at.markdown if "übrigen Stadtgebiet" in m.value)
    assert len(_many_decimals(sentence)) >= 2         # inside and outside value


def test_wirkungsblick_table_and_statement(run_page, app_db, tmp_path):
    con = db.connect(app_db)
    try:
        rid, iid = con.execute("SELECT e.id, i.indikator_id FROM empfehlung e JOIN empfehlung_indikator i"
                               " ON i.empfehlung_id = e.id WHERE e.beginn_ist IS NOT NULL ORDER BY e.id LIMIT 1").fetchone()
    finally:
        con.close()
    _set_places(app_db, tmp_path, iid, PLACES)
    at = run_page("views/wirkungsblick.py", query={"id": rid})
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    before_col = next(c for c in table.columns if c.startswith("vorher"))
    assert all(_many_decimals(v) for v in table[before_col])
    assert _many_decimals("\n".join(m.value for m in at.markdown if "Ziel-Sozialräume von" in m.value))


def test_lieferungen_findings_wrap(run_page, partial_app_db):
    con = db.connect(partial_app_db)
    try:
        lid = con.execute("SELECT max(id) FROM lieferung").fetchone()[0]
        rep = ingest.report_of(con, lid)
    finally:
        con.close()
    messages = [w["message"] for w in rep.get("warnings", []) + rep.get("errors", [])]
    assert messages and max(len(m) for m in messages) > 80  # long enough for a table cell to cut it
    at = run_page("views/lieferungen.py", session={"lief_sel": int(lid)})
    assert not at.exception, [e.value for e in at.exception]
    lines = "\n".join(m.value for m in at.markdown)
    for msg in messages[:5]:
        assert md(msg) in lines   # the whole message as a line that wraps, not only in a table cell
    assert ":material/warning: **Warnung**" in lines
