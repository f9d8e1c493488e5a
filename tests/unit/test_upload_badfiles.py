"""One reader for every upload: each bad file is refused on each upload path, in German, with nothing written.

Paths: delivery analysis (core) and ``import`` (CLI), Handlungsempfehlungen import (core with a path and with
uploaded bytes, and ``empfehlungen import``), indicator catalogue (core and ``indicators load``). Bad files:
too large, zip bomb, password, huge declared sheet (A1 + XFD1048576), not a spreadsheet, NUL byte after the
first 4 KB of a CSV, and a FIFO / ``/dev/zero`` on the command line (must neither hang nor read without end).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from quartier import access, db, ingest, uploads
from quartier.access import Actor
from quartier.actions import excel as recommendations
from quartier.cli.base import main
from quartier.ingest.template import error_report_xlsx
from quartier.values import indicators
from tests.unit import ingest_files as F

EDITOR = Actor("pruefer", access.EDITOR)
TABLES = ("lieferung", "messwert", "indikator", "alias", "empfehlung", "empfehlung_verlauf", "empfehlung_sozialraum",
          "audit_log", "import_spaltenzuordnung")

# kind -> (maker, file name, words the German message must contain)
BAD: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "zu_gross": (F.too_large, "gross.xlsx", "Upload-Limit"),
    "zip_bombe": (F.zip_bomb, "bombe.xlsx", "ZIP-Bombe"),
    "kennwort": (F.encrypted, "geschuetzt.xlsx", "Kennwort"),
    "riesiges_blatt": (F.huge_dimension, "riesig.xlsx", "1.048.576 Zeilen × 16.384 Spalten"),
    "keine_tabelle": (F.not_a_spreadsheet, "bericht.xlsx", "keine Tabellendatei"),
    "nul_zeichen": (F.nul_after_4k, "nul.csv", "Zeile 302 Binärdaten"),
}
CLI_ONLY = {"fifo": (F.fifo, "pipe.csv", "keine gewöhnliche Datei")}


def fingerprint(con: db.Con) -> tuple:
    cur = con.cursor()
    return tuple(cur.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone() for t in TABLES)  # noqa: S608


def make(tmp_path: Path, kind: str) -> tuple[Path, str]:
    maker, name, words = {**BAD, **CLI_ONLY}[kind]
    return maker(tmp_path / name), words


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_german(message: str, words: str) -> None:
    assert words in message, message
    assert "Traceback" not in message and "Error" not in message, message


# ------------------------------------------------------------------------------------------------ core


@pytest.mark.parametrize("kind", list(BAD))
def test_delivery_analysis_refuses(con, tmp_path, kind):
    path, words = make(tmp_path, kind)
    before = fingerprint(con)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert not fa.readable and len(fa.errors) == 1, fa.findings_frame().to_string()
    assert_german(fa.errors[0].message, words)
    with pytest.raises(ingest.ImportRejected):
        ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert fingerprint(con) == before


@pytest.mark.parametrize("as_bytes", [False, True], ids=["pfad", "upload"])
@pytest.mark.parametrize("kind", list(BAD) + list(CLI_ONLY))
def test_recommendations_import_refuses(con, tmp_path, kind, as_bytes):
    if as_bytes and kind in CLI_ONLY:
        pytest.skip("ein Upload hat keine Pipe")
    path, words = make(tmp_path, kind)
    before = fingerprint(con)
    source = path.read_bytes() if as_bytes else path
    with pytest.raises(recommendations.ImportFileError) as err:
        recommendations.import_file(con, EDITOR, source, path.name)
    assert_german(str(err.value), words)
    assert path.name in str(err.value)
    assert fingerprint(con) == before


@pytest.mark.parametrize("kind", list(BAD) + list(CLI_ONLY))
def test_indicator_catalogue_refuses(con, tmp_path, kind):
    path, words = make(tmp_path, kind)
    before = fingerprint(con)
    with pytest.raises(indicators.CatalogueFileError) as err:
        indicators.load_catalogue(con, path)
    assert_german(str(err.value), words)
    assert fingerprint(con) == before


# ------------------------------------------------------------------------------------------------ CLI


def _cli_case(capsys, demo_copy: Path, argv: list[str]) -> tuple[int, str, str, tuple]:
    con = db.connect(demo_copy)
    before = fingerprint(con)
    con.close()
    code, out, err = cli(capsys, *argv)
    con = db.connect(demo_copy)
    after = fingerprint(con)
    con.close()
    return code, out, err, (before, after)


@pytest.mark.parametrize("kind", list(BAD) + list(CLI_ONLY))
def test_import_cli_refuses_with_exit_2(demo_copy, tmp_path, capsys, kind):
    path, words = make(tmp_path, kind)
    code, out, _, (before, after) = _cli_case(capsys, demo_copy, ["import", str(path), "--db", str(demo_copy), "--json"])
    res = json.loads(out)
    assert code == 2 and res["status"] == "rejected" and res["lieferung_id"] is None
    assert_german(res["errors"][0]["message"], words)
    assert after == before


@pytest.mark.parametrize("kind", list(BAD) + list(CLI_ONLY))
def test_empfehlungen_import_cli_refuses_with_exit_2(demo_copy, tmp_path, capsys, kind):
    path, words = make(tmp_path, kind)
    code, out, err, (before, after) = _cli_case(
        capsys, demo_copy, ["empfehlungen", "import", str(path), "--db", str(demo_copy), "--json"])
    assert code == 2 and json.loads(out)["status"] == "rejected"
    assert_german(err, words)
    assert after == before


@pytest.mark.parametrize("kind", list(BAD) + list(CLI_ONLY))
def test_indicators_load_cli_refuses_with_exit_2(demo_copy, tmp_path, capsys, kind):
    path, words = make(tmp_path, kind)
    code, _, err, (before, after) = _cli_case(capsys, demo_copy, ["indicators", "load", str(path), "--db", str(demo_copy)])
    assert code == 2
    assert_german(err, words)
    assert after == before


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="kein /dev/zero")
@pytest.mark.parametrize("argv", [["import", "/dev/zero", "--json"], ["empfehlungen", "import", "/dev/zero"],
                                  ["indicators", "load", "/dev/zero"]], ids=["import", "empfehlungen", "indicators"])
def test_dev_zero_is_refused_without_reading(demo_copy, capsys, argv):
    code, out, err = cli(capsys, *argv, "--db", str(demo_copy))
    assert code == 2
    text = out + err
    assert "keine gewöhnliche Datei" in text or "nicht unterstützt" in text, text


# ------------------------------------------------------------------------------------------------ reader details


def test_huge_dimension_is_refused_before_calamine_loads_the_sheet(tmp_path, no_calamine):
    data = F.huge_dimension(tmp_path / "riesig.xlsx").read_bytes()
    with pytest.raises(uploads.FileRejected) as err:  # from the sheet XML, not from a loaded grid
        uploads.read_book(data, "riesig.xlsx")
    assert err.value.kind == "zu_gross" and "Blatt „Daten“" in str(err.value)


def test_real_extent_counts_when_the_declared_dimension_lies(tmp_path):
    src = F.huge_dimension(tmp_path / "riesig.xlsx")
    out = tmp_path / "gelogen.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = body.replace(b'ref="A1:XFD1048576"', b'ref="A1"')
                assert b'<dimension ref="A1"' in body
            zout.writestr(item, body)
    with pytest.raises(uploads.FileRejected, match="16.384 Spalten"):
        uploads.read_book(out.read_bytes(), out.name)


def test_normal_workbook_sizes_are_read_from_the_xml(tmp_path):
    path = F.xlsx(tmp_path / "gut.xlsx", {"Daten": F.long_rows([(2025, "M01", "x", 1, 10, 10.0)]), "Zwei": [["a", None, "c"]]})
    with zipfile.ZipFile(path) as zf:
        assert uploads.sheet_sizes(zf) == {"Daten": (8, 6), "Zwei": (1, 3)}


def test_read_path_refuses_directories_and_missing_files(tmp_path):
    with pytest.raises(uploads.FileRejected, match="Ordner"):
        uploads.read_path(tmp_path)
    with pytest.raises(uploads.FileRejected, match="nicht gefunden"):
        uploads.read_path(tmp_path / "fehlt.xlsx")
    small = tmp_path / "klein.csv"
    small.write_bytes(b"a;b\n")
    assert uploads.read_path(small) == b"a;b\n"
    with pytest.raises(uploads.FileRejected, match="Upload-Limit"):
        uploads.read_path(small, max_bytes=3)


def test_one_csv_decoding_for_every_reader(tmp_path):
    """The catalogue reader and the delivery reader agree on encoding and separator (Windows-1252, comma)."""
    raw = "id,name,einheit\nx1,Übergänge,%\n".encode("cp1252")
    assert uploads.decode_csv(raw) == ("id,name,einheit\nx1,Übergänge,%\n", ",")
    path = tmp_path / "kat.csv"
    path.write_bytes(raw)
    from quartier.tables import read_table

    assert read_table(path).to_dict("records") == [{"id": "x1", "name": "Übergänge", "einheit": "%"}]
    assert uploads.read_csv_rows(raw) == [["id", "name", "einheit"], ["x1", "Übergänge", "%"]]


def test_error_report_survives_control_characters(con):
    """Control characters in a delivery end up in the report as U+FFFD, marked with a comment, no crash."""
    text = "Jahr;Sozialraum;Kennzahl;Wert\n" + "2025;M01;Kennzahl;1\n" * 300 + "2025;M01\x07;Kenn\x1bzahl;1\x01\n"
    fa = ingest.analyse_file(con, text.encode(), "steuer.csv")
    assert fa.readable and any("\x01" in f.value for f in fa.errors)
    data = error_report_xlsx(fa, text.encode())
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(data))
    sheet = wb[wb.sheetnames[1]]
    assert sheet["D302"].value == "1\ufffd" and "Steuerzeichen" in sheet["D302"].comment.text
    assert any("1\ufffd" == c.value for row in wb["Fehlerbericht"].iter_rows() for c in row)
