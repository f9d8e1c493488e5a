"""Bad input: every case is rejected with a clear German message and the database stays as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from quartier import access, db, ingest
from quartier.access import Actor
from tests.unit.ingest_files import long_rows, xlsx, zip_bomb_claim

ROOT = Path(__file__).resolve().parents[2]
EDITOR = Actor("pruefer", access.EDITOR)
SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"


def snapshot(con):
    cur = con.cursor()
    return (cur.execute("SELECT count(*) FROM lieferung").fetchone()[0], cur.execute("SELECT count(*) FROM messwert").fetchone()[0],
            cur.execute("SELECT sum(hash(indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id))"
                        " FROM messwert_aktuell").fetchone()[0])


def good_xlsx(tmp_path, name="gut.xlsx") -> Path:
    return xlsx(tmp_path / name, {"Daten": long_rows([(2026, "Zentrum/Remberg", SGB, 10, 100, 10.0)])})


def rejected(con, data: bytes, name: str, rule: str, words: str, **kw):
    before = snapshot(con)
    fa = ingest.analyse_file(con, data, name, **kw)
    assert not fa.readable and fa.errors[0].rule == rule, fa.findings_frame().to_string()
    assert words in fa.errors[0].message
    with pytest.raises(ingest.ImportRejected):
        ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert snapshot(con) == before
    return fa


def test_empty_file(con):
    rejected(con, b"", "leer.xlsx", "leer", "leer")


def test_text_file_renamed_to_xlsx(con):
    rejected(con, b"Sozialraum;Wert\nM01;12\n", "umbenannt.xlsx", "keine_tabelle", "umbenannt")


def test_corrupt_zip(con, tmp_path):
    data = good_xlsx(tmp_path).read_bytes()
    rejected(con, data[: len(data) // 2], "kaputt.xlsx", "beschaedigt", "beschädigt")


def test_password_protected_workbook_real_encryption(con, tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = good_xlsx(tmp_path)
    out = tmp_path / "geschuetzt.xlsx"
    with plain.open("rb") as src, out.open("wb") as dst:
        msoffcrypto.OOXMLFile(src).encrypt("geheim", dst)
    assert out.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    rejected(con, out.read_bytes(), out.name, "kennwort", "Kennwort")


def test_ole_container_stand_in_is_not_crashing(con):
    # bare CFB magic plus padding: an OLE container calamine cannot read -> clear message, no traceback
    data = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 4096
    rejected(con, data, "alt.xls", "beschaedigt", "beschädigt")


def test_zip_bomb_claim_is_refused_before_decompression(con):
    fa = rejected(con, zip_bomb_claim(), "bombe.xlsx", "zip_bombe", "ZIP-Bombe")
    assert "2,0 GB" in fa.errors[0].message


def test_file_over_upload_limit(con, tmp_path):
    data = good_xlsx(tmp_path).read_bytes()
    rejected(con, data, "gross.xlsx", "zu_gross", "Upload-Limit", max_bytes=len(data) - 1)
    rejected(con, b"x" * (ingest.MAX_UPLOAD_BYTES + 1), "riesig.csv", "zu_gross", "50 MB")


def test_unsupported_type(con):
    rejected(con, b"%PDF-1.4", "bericht.pdf", "dateityp", ".pdf")


def test_sheet_with_only_headers(con, tmp_path):
    path = xlsx(tmp_path / "kopf.xlsx", {"Daten": long_rows([])})
    before = snapshot(con)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert fa.readable and [f.rule for f in fa.errors] == ["keine_daten"]
    assert "nur Überschriften" in fa.errors[0].message and fa.errors[0].cell == "A7"
    with pytest.raises(ingest.ImportRejected):
        ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert snapshot(con) == before


def test_hidden_sheets_only(con, tmp_path):
    path = xlsx(tmp_path / "versteckt.xlsx", {"Sichtbar": [["nur ein Hinweis"]],
                                              "Geheim": long_rows([(2026, "M01", SGB, 1, 10, 10.0)])}, hidden=("Geheim",))
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert any("Ausgeblendetes Blatt „Geheim“" in f.message for f in fa.infos)
    assert fa.values.empty and fa.errors


_KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from quartier import access, db, ingest
    con = db.connect({db!r})
    fa = ingest.analyse_file(con, Path({file!r}).read_bytes(), "kill.xlsx")
    assert not fa.errors, fa.errors
    real_audit = db.audit
    def dying_audit(cur, *a, **k):
        # inside the commit transaction, after the lieferung and all messwert rows were inserted
        n = cur.execute("SELECT count(*) FROM messwert").fetchone()[0]
        print("INSIDE", n, flush=True)
        {how}
    db.audit = dying_audit
    ingest.commit(con, fa, access.Actor("x", access.EDITOR), confirm_warnings=True)
    print("NOT REACHED", flush=True)
""")


@pytest.mark.parametrize("how", ["os._exit(3)", "os.kill(os.getpid(), signal.SIGKILL)"])
def test_killed_process_in_the_middle_of_a_commit_leaves_the_database_as_before(demo_copy, tmp_path, how):
    path = xlsx(tmp_path / "kill.xlsx", {"Daten": long_rows([(y, sid, SGB, 10, 100, 10.0) for y in (2025, 2026)
                                                            for sid in ("M01", "M02", "M04")])})
    con = db.connect(demo_copy)
    before = snapshot(con)
    con.close()
    script = _KILL_SCRIPT.format(root=str(ROOT), db=str(demo_copy), file=str(path), how=how)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert "INSIDE" in r.stdout and "NOT REACHED" not in r.stdout, r.stderr
    assert r.returncode != 0
    inside = int(r.stdout.split("INSIDE")[1].split()[0])
    assert inside == before[1] + 6  # the rows were written inside the transaction ...
    con = db.connect(demo_copy)
    assert snapshot(con) == before    # ... and are gone after the crash
    # and the database works: the same file imports cleanly now
    fa = ingest.analyse_file(con, path.read_bytes(), "kill.xlsx")
    assert ingest.commit(con, fa, EDITOR, confirm_warnings=True)["status"] == "imported"
    con.close()
