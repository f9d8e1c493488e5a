"""The demo city and the core commands."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from quartier import db
from quartier.access import SYSTEM
from quartier.demo import hagen as demo
from quartier.values import indicators
from tests.password_hashes import use_cheap_hashes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    """The demo accounts' hashes with cheap Argon2id parameters (tests/unit/test_auth.py checks the product's)."""
    use_cheap_hashes(monkeypatch)


def test_demo_content(demo_db):
    con = db.connect(demo_db, read_only=True)
    assert con.execute("SELECT count(*) FROM sozialraum").fetchone()[0] == 23
    assert con.execute("SELECT count(*) FROM stadtbezirk").fetchone()[0] == 5
    assert con.execute("SELECT count(*) FROM indikator").fetchone()[0] >= 15
    years = [r[0] for r in con.execute("SELECT DISTINCT jahr FROM messwert_aktuell ORDER BY 1").fetchall()]
    assert years[0] == 2015 and years[-1] == 2025
    lieferanten = {r[0] for r in con.execute("SELECT DISTINCT lieferant FROM lieferung").fetchall()}
    assert {"Jobcenter", "Einwohnerwesen", "Gesundheitsamt", "Schulverwaltung", "Jugendamt"} <= lieferanten
    # numerators and denominators for every rate; the 2019 city rate near the published 26.92 %
    v = indicators.current_values(con, ["sgb2_u18"], [2019], actor=SYSTEM)
    rate = v["zaehler"].sum() / v["nenner"].sum() * 100
    assert 22 < rate < 32
    assert 30000 < v["nenner"].sum() < 37000
    # poverty is higher along the B 7: Wehringhausen above a far-away area
    w = v.set_index("sozialraum_id")["wert"]
    assert w["M04"] > w["E02"]
    con.close()


def test_demo_is_deterministic():
    g = demo.build_geometry()
    a, b = demo.build_values(g), demo.build_values(g)
    pd.testing.assert_frame_equal(a, b)


def test_demo_writes_real_excel_deliveries(demo_db):
    folder = demo_db.parent / "lieferungen"
    files = sorted(folder.iterdir())
    assert len(files) == 5
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(folder / "jobcenter_sgb2_2015-2025.xlsx"))
    rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    assert any("Stadt Hagen gesamt" in str(c) for r in rows for c in r)


def test_demo_refuses_to_overwrite_without_force(cli, demo_copy):
    r = cli("demo", "--db", str(demo_copy))
    assert r.returncode == 2 and "--force" in r.stderr


def test_export_values_csv_and_xlsx(cli, demo_copy, tmp_path):
    out = tmp_path / "werte.csv"
    r = cli("export", "values", "--db", str(demo_copy), "--out", str(out))
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert list(df.columns[:7]) == ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"]
    assert len(df) == 15 * 23 * 11
    xlsx = tmp_path / "werte.xlsx"
    assert cli("export", "values", "--db", str(demo_copy), "--out", str(xlsx)).returncode == 0
    assert len(pd.read_excel(xlsx, engine="calamine")) == len(df)


def test_indicator_catalogue_round_trip(cli, demo_copy, tmp_path):
    out = tmp_path / "ind.xlsx"
    assert cli("indicators", "export", "--db", str(demo_copy), "--out", str(out)).returncode == 0
    con = db.connect(demo_copy)
    before = indicators.catalogue(con)
    con.close()
    r = cli("indicators", "load", str(out), "--db", str(demo_copy), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"file": str(out), "new": 0, "updated": len(before)}
    con = db.connect(demo_copy)
    after = indicators.catalogue(con)
    pd.testing.assert_frame_equal(before, after)


def test_indicator_file_with_bad_direction_is_rejected(cli, demo_copy, tmp_path):
    f = tmp_path / "ind.csv"
    f.write_text("id;name;richtung\nx1;Neu;seitwärts\n", encoding="utf-8")
    r = cli("indicators", "load", str(f), "--db", str(demo_copy))
    assert r.returncode == 1 and "Zeile 2" in r.stderr


def test_usage_errors_exit_2_in_german(cli):
    r = cli("export")
    assert r.returncode == 2
    r = cli("--help")
    assert "Aufruf:" in r.stdout and "Befehle" in r.stdout


def test_python_m_quartier_help_runs_as_a_real_process():
    """The one subprocess test: ``python -m quartier`` starts as its own process (the others run in-process)."""
    r = subprocess.run([sys.executable, "-m", "quartier", "--help"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Aufruf:" in r.stdout and "Befehle" in r.stdout


@pytest.mark.parametrize("text,expected", [(12.5, "12,5"), (1234.0, "1.234,0")])
def test_number_format(text, expected):
    from quartier import format as fmt

    assert fmt.number(text) == expected


def test_demo_force_never_wipes_a_real_city_without_confirmation_and_backup(demo_copy, capsys):
    """Attack review: `demo --force` on a production database wiped recommendations and their history without a
    backup and added the demo administrator with its published password."""
    from quartier.cli import main

    con = db.connect(demo_copy)
    with db.transaction(con) as cur:  # make the copy look like a real city's database
        db.set_setting(cur, "demo", "0")
        db.set_setting(cur, "stadt", "Musterstadt")
        cur.execute("DELETE FROM benutzer")
    history = con.execute("SELECT count(*) FROM empfehlung_verlauf").fetchone()[0]
    con.close()
    assert main(["demo", "--force", "--db", str(demo_copy)]) == 2
    err = capsys.readouterr().err
    assert "Musterstadt" in err and "--bestaetigen" in err
    assert main(["demo", "--force", "--bestaetigen", "Falschstadt", "--db", str(demo_copy)]) == 2
    con = db.connect(demo_copy, read_only=True)
    assert con.execute("SELECT count(*) FROM empfehlung_verlauf").fetchone()[0] == history  # nothing touched
    con.close()
    capsys.readouterr()
    assert main(["demo", "--force", "--bestaetigen", "musterstadt", "--json", "--db", str(demo_copy)]) == 0
    saved = Path(json.loads(capsys.readouterr().out)["sicherung"])
    assert saved.exists()
    old = db.connect(saved, read_only=True)
    assert db.get_setting(old, "stadt") == "Musterstadt"
    assert old.execute("SELECT count(*) FROM empfehlung_verlauf").fetchone()[0] == history
    old.close()
    con = db.connect(demo_copy, read_only=True)
    assert con.execute("SELECT count(*) FROM benutzer").fetchone()[0] == 0  # no published demo passwords
    con.close()


def test_demo_command_json_and_force_on_a_demo_needs_no_confirmation_but_backs_up(cli, demo_copy):
    """One build for three checks (each build costs seconds): the JSON of `demo` (formerly test_demo_command_json);
    `--force` on a demo needs no confirmation but backs up; the rebuild over existing data goes through the
    importer again (formerly in test_ingest_core). Regression: a half-read cursor in build() kept a transaction
    open and the backup's CHECKPOINT failed. Building into a new file: the demo_db fixture (tests/conftest.py)."""
    r = cli("demo", "--force", "--json", "--db", str(demo_copy))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["sozialraeume"] == 23
    assert isinstance(out["seconds"], (int, float)) and out["seconds"] > 0  # how long it took: bench/, not a test
    assert Path(out["sicherung"]).exists()
    assert out["lieferungen"] == 5
    con = db.connect(demo_copy, read_only=True)
    rows = con.execute("SELECT count(*), count(DISTINCT sha256), min(status), max(status) FROM lieferung").fetchall()[0]
    con.close()
    assert rows == (5, 5, "aktiv", "aktiv")


def test_cli_parser_is_reused_but_follows_the_default_user(monkeypatch):
    """main() reuses one parser per process (building it costs more than most commands' checks); the default of
    --user comes from QUARTIER_USER when the parser is built, so another user gets another parser, and every
    command gets its own copy of the list options (changing them must not change the next command's defaults)."""
    from quartier.cli import base

    monkeypatch.setenv("QUARTIER_USER", "erste")
    first = base._parser()
    assert base._parser() is first
    assert base.parse(["indicators", "load", "k.csv"]).user == "erste"
    monkeypatch.setenv("QUARTIER_USER", "zweite")
    assert base._parser() is not first
    assert base.parse(["indicators", "load", "k.csv"]).user == "zweite"
    argv = ["versorgung", "--kategorie", "Kita", "--radius", "500"]
    args = base.parse(argv)
    assert args.neu == []
    args.neu.append("7.4,51.3")
    assert base.parse(argv).neu == []
