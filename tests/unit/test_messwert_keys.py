"""messwert without its primary-key index (migration 020): the values survive the rebuild, and a Lieferung still
holds one value per indicator, Sozialraum and year — the commit refuses a repeated key inside its transaction."""

from __future__ import annotations

import pandas as pd
import pytest

from quartier import access, db, ingest
from quartier.access import Actor
from quartier.demo import synth
from tests.unit.ingest_files import long_rows, xlsx
from tests.unit.test_ingest_badfiles import SGB, snapshot

EDITOR = Actor("pruefer", access.EDITOR)
COLS = "lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt"


def _constraints(con) -> list[tuple[str, list[str]]]:
    return sorted((r[0], list(r[1])) for r in con.execute(
        "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() WHERE table_name = 'messwert'").fetchall())


def test_the_rebuild_keeps_every_value_and_drops_only_the_key(tmp_path, monkeypatch):
    shipped = db.migrations()
    assert shipped[-1][1] == "020_messwert_ohne_index.sql"
    monkeypatch.setattr(db, "migrations", lambda: shipped[:-1])
    con = db.connect(tmp_path / "alt.duckdb")  # a city as it was before migration 020 ...
    synth.build(con, 20, 4, 3, actor=access.cli_actor("test"))
    assert ("PRIMARY KEY", ["lieferung_id", "indikator_id", "sozialraum_id", "jahr"]) in _constraints(con)
    before = con.execute(f"SELECT {COLS} FROM messwert ORDER BY ALL").fetchall()
    current = con.execute("SELECT * FROM messwert_heute ORDER BY ALL").fetchall()
    columns = con.execute("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
                          " WHERE table_name = 'messwert' ORDER BY ordinal_position").fetchall()
    monkeypatch.setattr(db, "migrations", lambda: shipped)
    assert db.apply_migrations(con) == [20]  # ... updated in place
    assert con.execute(f"SELECT {COLS} FROM messwert ORDER BY ALL").fetchall() == before and len(before) > 200
    assert con.execute("SELECT * FROM messwert_heute ORDER BY ALL").fetchall() == current  # the views read the new table
    assert con.execute("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
                       " WHERE table_name = 'messwert' ORDER BY ordinal_position").fetchall() == columns
    assert _constraints(con) == [("NOT NULL", [c]) for c in ("gesperrt", "indikator_id", "jahr", "lieferung_id", "sozialraum_id")]
    con.close()


def test_a_repeated_key_is_refused_in_the_commit_and_nothing_is_written(con, tmp_path):
    path = xlsx(tmp_path / "doppelt.xlsx", {"Daten": long_rows([(2026, sid, SGB, 10, 100, 10.0) for sid in ("M01", "M02")])})
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert not fa.errors and len(fa.values) == 2
    # A way in that skips the analysis' own duplicate check: the same key twice, with different values.
    twice = fa.values.iloc[[0]].assign(wert=99.0)
    fa.values = pd.concat([fa.values, twice], ignore_index=True)
    before = snapshot(con)
    with pytest.raises(ingest.ImportRejected, match=r"Sozialraum M01, Jahr 2026 kommt 2-mal vor\. Es wurde nichts geändert"):
        ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert snapshot(con) == before
    fa.values = fa.values.iloc[:2]  # without the repeated row the same delivery goes through
    assert ingest.commit(con, fa, EDITOR, confirm_warnings=True)["status"] == "imported"
    assert snapshot(con)[1] == before[1] + 2
