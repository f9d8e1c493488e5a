"""Stored (published) index results: saving with method version and data state, listing, reproducing."""

from __future__ import annotations

import json

import pandas as pd

from quartier import access, db
from quartier.access import Actor
from quartier.need.compute import IndexResult, compute
from quartier.need.method import MethodError, core_json, save_method_cur


def store_result(con, result: IndexResult, actor: Actor, title: str | None = None) -> int:
    """Store a (published) result with its method version and data state; saves the method if needed."""
    access.require(actor, access.EDITOR, "ein Index-Ergebnis speichern")
    with db.transaction(con) as cur:
        saved = None
        m = result.method
        if m.version:
            row = cur.execute("SELECT methode FROM index_methode WHERE name = ? AND version = ?",
                              [m.name, m.version]).fetchone()
            if row and core_json(json.loads(row[0])) == core_json(m):
                saved = m
        if saved is None:
            saved = save_method_cur(cur, m.unsaved(), actor.name)
        if m.version != saved.version:
            result.method = saved
        payload = result.to_json()
        rid = cur.execute(
            "INSERT INTO index_ergebnis (methode_name, methode_version, jahr, datenstand, ergebnis, titel, gespeichert_von)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [saved.name, saved.version, result.year, json.dumps(result.data_state),
             json.dumps(payload, ensure_ascii=False), title, actor.name],
        ).fetchone()[0]
        db.audit(cur, actor.name, "index_ergebnis_speichern", f"{saved.name} v{saved.version} {result.year}",
                 json.dumps({"id": int(rid), "datenstand": result.data_state, "titel": title}, ensure_ascii=False))
    return int(rid)


def stored_results(con) -> pd.DataFrame:
    """The list of stored results (no values): id, method, version, year, data state, title, who, when."""
    return db.query_df(
        con,
        "SELECT id, methode_name, methode_version, jahr, datenstand, titel, gespeichert_von, gespeichert_am"
        " FROM index_ergebnis ORDER BY id DESC",
    )


def stored_result(con, result_id: int, *, actor: Actor) -> dict:
    """The stored result's JSON (as ``index --json`` printed it). The index values are the same for every
    ``actor`` (they are computed from the delivered values; see :func:`quartier.need.compute.compute`)."""
    row = con.cursor().execute("SELECT ergebnis FROM index_ergebnis WHERE id = ?", [int(result_id)]).fetchone()
    if not row:
        raise MethodError(f"Gespeichertes Ergebnis Nr. {result_id} gibt es nicht.")
    return json.loads(row[0])


def reproduce(con, result_id: int, *, actor: Actor) -> IndexResult:
    """Recompute a stored result from exactly the Lieferungen it used, with the stored method version."""
    stored = stored_result(con, result_id, actor=actor)
    have = {r[0] for r in con.cursor().execute(
        "SELECT id FROM lieferung WHERE id IN (SELECT unnest(?))", [[int(i) for i in stored["data_state"]]]).fetchall()}
    gone = [i for i in stored["data_state"] if i not in have]
    if gone:
        raise MethodError(
            f"Ergebnis Nr. {result_id} lässt sich nicht nachrechnen: Lieferung(en) {', '.join(map(str, gone))} gibt es "
            "in dieser Datenbank nicht mehr (z. B. nach `demo --force` oder dem Einrichten einer neuen Stadt)."
        )
    return compute(con, stored["method"], int(stored["year"]), lieferung_ids=stored["data_state"], actor=actor)
