"""Writing deliveries: commit all-or-nothing, withdraw, history, Lieferstatus, remembered mappings."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from quartier import access, db
from quartier.admin import backup
from quartier.errors import QuartierError
from quartier.ingest.analysis import VALUE_COLUMNS, FileAnalysis
from quartier.ingest.compare import delivery_state
from quartier.ingest.detect import SheetPlan, remember_key, sheet_key
from quartier.ingest.match import remember_alias
from quartier.values import realloc


class ImportRejected(QuartierError):
    """The delivery cannot be written (errors, unconfirmed warnings); nothing was changed."""


def commit(con: db.Con, fa: FileAnalysis, actor: access.Actor, *, confirm_warnings: bool = False,
           lieferant: str | None = None) -> dict[str, Any]:
    """Write the analysed file as one ``lieferung`` in one transaction; return the report.

    Same sha256 as an active delivery: status ``duplicate``, nothing changes.
    """
    access.require(actor, access.EDITOR, "eine Lieferung importieren")
    if fa.duplicate:
        return fa.report("duplicate", fa.duplicate["lieferung_id"])
    if not fa.readable or fa.errors:
        raise ImportRejected(f"{fa.filename}: {len(fa.errors)} Fehler – die Datei wird nicht übernommen. "
                             "Bitte die Fehler beheben und die Datei erneut liefern.")
    if fa.values.empty:
        raise ImportRejected(f"{fa.filename}: keine Werte zum Übernehmen.")
    if fa.warnings and not confirm_warnings:
        raise ImportRejected(f"{fa.filename}: {len(fa.warnings)} Warnung(en) müssen bestätigt werden, bevor die Lieferung "
                             "übernommen wird.")
    lieferant = lieferant or fa.lieferant or "unbekannt"
    _backup(con, f"Import {fa.filename}")
    vals = _value_frame(fa)
    with db.transaction(con) as cur:
        rows = cur.execute("SELECT id, importiert_am, importiert_von, dateiname FROM lieferung WHERE sha256 = ? "
                           "AND status = 'aktiv' ORDER BY id LIMIT 1", [fa.sha256]).fetchall()
        if rows:
            row = rows[0]
            fa.duplicate = {"lieferung_id": row[0], "importiert_am": str(row[1])[:19], "importiert_von": row[2],
                            "dateiname": row[3]}
            return fa.report("duplicate", row[0])
        was_fresh = realloc.fresh(cur)
        cur.register("_imp_commit", vals)
        counts: tuple[Any, ...]
        if fa.state is not None and fa.state == delivery_state(cur):
            rc = fa.counts()
            counts = (rc["new"], rc["changed"], rc["suppressed"])
        else:  # another delivery came in between: count again against the values now current
            counts = cur.execute(
                "SELECT count(*) FILTER (WHERE a.lieferung_id IS NULL),"
                " count(*) FILTER (WHERE a.lieferung_id IS NOT NULL AND NOT ("
                "   a.wert IS NOT DISTINCT FROM i.wert AND a.zaehler IS NOT DISTINCT FROM i.zaehler"
                "   AND a.nenner IS NOT DISTINCT FROM i.nenner AND a.gesperrt = i.gesperrt)),"
                " count(*) FILTER (WHERE i.gesperrt)"
                " FROM _imp_commit i LEFT JOIN messwert_aktuell a"
                " ON a.indikator_id = i.indikator_id AND a.sozialraum_id = i.sozialraum_id AND a.jahr = i.jahr").fetchall()[0]
        n_new, n_changed, n_supp = (int(x or 0) for x in counts)
        shown = fa.counts()
        if fa.state is not None and (n_new, n_changed) != (shown["new"], shown["changed"]):
            # the preview the user confirmed is no longer true (e.g. "1 neu" is now "1 geändert": an overwrite
            # nobody was warned about): stop, nothing is written
            cur.unregister("_imp_commit")
            raise ImportRejected(
                f"{fa.filename}: Während der Prüfung wurde eine andere Lieferung übernommen. Statt {shown['new']} neu / "
                f"{shown['changed']} geändert wären es jetzt {n_new} neu / {n_changed} geändert. Es wurde nichts "
                "geändert: bitte die Datei erneut prüfen und die neue Vorschau bestätigen.")
        n_same = len(vals) - n_new - n_changed
        report = fa.report("imported")
        report["rows"] = {"new": n_new, "changed": n_changed, "unchanged": n_same, "suppressed": n_supp}
        lid = _first(cur.execute(
            "INSERT INTO lieferung (dateiname, sha256, lieferant, berichtsjahr, importiert_von, n_neu, n_geaendert,"
            " n_unveraendert, n_gesperrt, bericht) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [fa.filename, fa.sha256, lieferant, fa.berichtsjahr, actor.name, n_new, n_changed, n_same, n_supp,
             json.dumps(report, ensure_ascii=False, default=str)],
        ).fetchone())
        cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt)"
                    " SELECT ?, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt FROM _imp_commit", [lid])
        cur.unregister("_imp_commit")
        _refuse_repeated_keys(cur, fa.filename, lid)
        _store_version(cur, fa, lid, was_fresh)
        for (art, text), ziel in fa.accepted.items():
            if (art, text) in fa.remember:  # only after the second confirmation "gilt für alle künftigen Dateien"
                remember_alias(cur, art, text, ziel)
        if fa.user_plans:
            for plan in fa.plans:
                save_plan(cur, lieferant, plan, actor.name)
        db.audit(cur, actor.name, "lieferung_importieren", f"lieferung:{lid}",
                 json.dumps({"datei": fa.filename, "lieferant": lieferant, "sha256": fa.sha256, **report["rows"],
                             "warnungen_bestaetigt": len(fa.warnings)}, ensure_ascii=False))
    report["lieferung_id"] = lid
    report["lieferant"] = lieferant
    return report


def _refuse_repeated_keys(cur: db.Con, filename: str, lid: int) -> None:
    """The database's own guarantee that a Lieferung holds one value per indicator, Sozialraum and year
    (``messwert`` has no primary-key index since migration 020): checked on the new Lieferung's rows inside the
    write transaction, so a repeated key rolls the whole import back. The analysis already refuses such files
    ("doppelt"); this is the backstop for any other way in."""
    rows = cur.execute("SELECT indikator_id, sozialraum_id, jahr, count(*) FROM messwert WHERE lieferung_id = ?"
                       " GROUP BY indikator_id, sozialraum_id, jahr HAVING count(*) > 1 LIMIT 1", [lid]).fetchall()
    if rows:
        ind, area, year, n = rows[0]
        raise ImportRejected(f"{filename}: Kennzahl {ind}, Sozialraum {area}, Jahr {year} kommt {n}-mal vor. "
                             "Es wurde nichts geändert: bitte die Datei prüfen lassen und erneut liefern.")


def _value_frame(fa: FileAnalysis) -> pd.DataFrame:
    """The columns written to ``messwert``: a new frame (selecting columns copies), converted only where the type
    differs (the analysis already gives int64 years and boolean flags)."""
    vals = fa.values[VALUE_COLUMNS]
    if vals["jahr"].dtype != np.int64:
        vals = vals.assign(jahr=vals["jahr"].astype("int64"))
    if vals["gesperrt"].dtype != bool:
        vals = vals.assign(gesperrt=vals["gesperrt"].astype(bool))
    return vals


def _store_version(cur: db.Con, fa: FileAnalysis, lid: int, was_fresh: bool) -> None:
    """Record the Gebietsstand a delivery was made on (import --gebietsstand) and re-allocate its pairs (Issue 19)."""
    if fa.gebietsstand is not None:
        cur.execute("INSERT INTO lieferung_gebietsstand (lieferung_id, gebietsstand_id) VALUES (?, ?)",
                    [lid, int(fa.gebietsstand)])
    realloc.refresh(cur, [lid], was_fresh=was_fresh)


def _first(row: tuple[Any, ...] | None) -> Any:
    """The first column of a row a statement always returns (INSERT … RETURNING, count(*))."""
    if row is None:
        raise RuntimeError("Die Datenbank hat keine Zeile zurückgegeben.")
    return row[0]


def _backup(con: db.Con, reason: str) -> None:
    """Automatic backup before every import and withdrawal (quartier.backup); no backup, no write."""
    try:
        backup.before_write(con, reason=reason)
    except (backup.BackupError, OSError) as exc:
        raise ImportRejected(f"Die Sicherung vor dem Schreiben ist fehlgeschlagen ({exc}); es wurde nichts geändert. "
                             "Bitte Speicherplatz und das Sicherungsverzeichnis prüfen.") from exc


def save_plan(cur: db.Con, lieferant: str, plan: SheetPlan, user: str) -> None:
    """Remember a confirmed plan for the Lieferant: per column (position + header without years) and the sheet layout."""
    for c in plan.columns:
        jahr = c.jahr if c.jahr_quelle in (None, "plan") else None   # a year read from the header is read again next year
        save_column(cur, lieferant, remember_key(c.col, c.header), c.header, c.role, c.indikator_id, jahr, user)
    layout = {"header_row": plan.header_row, "header_rows": plan.header_rows, "data_row": plan.data_row,
              "area_col": plan.area_col}
    save_column(cur, lieferant, sheet_key(plan.sheet), json.dumps(layout), "blatt", None, None, user)


def save_column(cur: db.Con, lieferant: str, key: str, header: str, role: str, indikator_id: str | None, jahr: int | None,
                user: str) -> None:
    cur.execute(
        "INSERT INTO import_spaltenzuordnung (lieferant, kopf_norm, kopf, rolle, indikator_id, jahr, geaendert_von)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lieferant, kopf_norm) DO UPDATE SET kopf = excluded.kopf,"
        " rolle = excluded.rolle, indikator_id = excluded.indikator_id, jahr = excluded.jahr,"
        " geaendert_von = excluded.geaendert_von, geaendert_am = now()::TIMESTAMP",
        [lieferant, key, header, role, indikator_id, jahr, user],
    )


def accept_suggestion(con: db.Con, actor: access.Actor, art: str, text: str, ziel_id: str) -> None:
    """Remember an accepted "Meinten Sie …?" match at once (also done on commit)."""
    access.require(actor, access.EDITOR, "einen Namensvorschlag übernehmen")
    with db.transaction(con) as cur:
        remember_alias(cur, art, text, ziel_id)
        db.audit(cur, actor.name, "alias_uebernehmen", f"{art}:{ziel_id}", text)


def withdraw(con: db.Con, lieferung_id: int, actor: access.Actor, reason: str | None = None) -> dict[str, Any]:
    """Withdraw a delivery: its values stop counting, the ones it superseded count again."""
    access.require(actor, access.EDITOR, "eine Lieferung zurückziehen")
    _backup(con, f"Rueckzug Lieferung {lieferung_id}")
    with db.transaction(con) as cur:
        row = cur.execute("SELECT status, dateiname FROM lieferung WHERE id = ?", [int(lieferung_id)]).fetchone()
        if row is None:
            raise ImportRejected(f"Lieferung #{lieferung_id} gibt es nicht.")
        if row[0] != "aktiv":
            raise ImportRejected(f"Lieferung #{lieferung_id} ({row[1]}) ist bereits zurückgezogen.")
        n = _first(cur.execute("SELECT count(*) FROM messwert_aktuell WHERE lieferung_id = ?", [int(lieferung_id)]).fetchone())
        was_fresh = realloc.fresh(cur)
        cur.execute("UPDATE lieferung SET status = 'zurueckgezogen', zurueckgezogen_am = current_timestamp,"
                    " zurueckgezogen_von = ? WHERE id = ?", [actor.name, int(lieferung_id)])
        back = _first(cur.execute(
            "SELECT count(*) FROM messwert m JOIN messwert_aktuell a USING (indikator_id, sozialraum_id, jahr)"
            " WHERE m.lieferung_id = ? AND a.lieferung_id <> ?", [int(lieferung_id), int(lieferung_id)]).fetchone())
        realloc.refresh(cur, [lieferung_id], was_fresh=was_fresh)
        db.audit(cur, actor.name, "lieferung_zurueckziehen", f"lieferung:{lieferung_id}",
                 json.dumps({"datei": row[1], "grund": reason, "werte": n, "wieder_gueltig": back}, ensure_ascii=False))
    return {"lieferung_id": int(lieferung_id), "dateiname": row[1], "werte_entfernt": int(n), "wieder_gueltig": int(back)}


def history(con: db.Con) -> pd.DataFrame:
    """All deliveries, newest first."""
    return db.query_df(
        con,
        "SELECT l.id, l.dateiname, l.lieferant, l.berichtsjahr, l.importiert_von, l.importiert_am, l.n_neu, l.n_geaendert,"
        " l.n_unveraendert, l.n_gesperrt, l.status, l.zurueckgezogen_am, l.zurueckgezogen_von, l.sha256,"
        " (SELECT count(*) FROM messwert m WHERE m.lieferung_id = l.id) AS n_werte,"
        " (SELECT count(*) FROM messwert_aktuell a WHERE a.lieferung_id = l.id) AS n_aktuell"
        " FROM lieferung l ORDER BY l.id DESC",
    )


def report_of(con: db.Con, lieferung_id: int) -> dict[str, Any]:
    row = con.cursor().execute("SELECT bericht FROM lieferung WHERE id = ?", [int(lieferung_id)]).fetchone()
    if not row or not row[0]:
        return {}
    try:
        out = json.loads(row[0])
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def lieferstatus(con: db.Con, years: list[int] | None = None) -> pd.DataFrame:
    """Per Lieferant, indicator and year: delivered (how many Sozialräume) or outstanding."""
    if years is None:
        row = con.cursor().execute("SELECT min(jahr), max(jahr) FROM messwert_aktuell").fetchone()
        if row is None or row[0] is None:
            return pd.DataFrame(columns=["lieferant", "indikator_id", "indikator", "jahr", "sozialraeume", "status"])
        years = list(range(int(row[0]), int(row[1]) + 1))
    return db.query_df(
        con,
        "WITH y AS (SELECT unnest(?::INTEGER[]) AS jahr),"
        " n AS (SELECT indikator_id, jahr, count(*) AS sozialraeume, max(lieferung_id) AS lieferung_id"
        "       FROM messwert_aktuell GROUP BY ALL)"
        " SELECT coalesce(i.lieferant, 'ohne Lieferant') AS lieferant, i.id AS indikator_id, i.name AS indikator, y.jahr,"
        " coalesce(n.sozialraeume, 0) AS sozialraeume, n.lieferung_id,"
        " CASE WHEN n.sozialraeume IS NULL THEN 'ausstehend' ELSE 'geliefert' END AS status"
        " FROM indikator i CROSS JOIN y LEFT JOIN n ON n.indikator_id = i.id AND n.jahr = y.jahr"
        " ORDER BY lieferant, i.sortierung NULLS LAST, i.id, y.jahr",
        [[int(y) for y in years]],
    )
