"""Handlungsempfehlungen: Berichtsstände (frozen snapshots of the catalogue at a Stichtag) and their comparison."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from quartier import access, db
from quartier.access import Actor
from quartier.actions import store
from quartier.actions.model import CREATED, FIELDS, CatalogueError, from_text, may_see_internal, to_text

# --------------------------------------------------------------------------------------------
# Berichtsstände (frozen snapshots)


def state_at(con, when: datetime, *, actor: Actor) -> list[dict]:
    """The catalogue as it was at ``when``: the current state with every later change undone (viewers: the
    recommendations that were public and not retired then)."""
    cur = con.cursor()
    try:
        recs = store.records(cur)
        later = cur.execute(
            "SELECT empfehlung_id, feld, alt FROM empfehlung_verlauf WHERE zeitpunkt > ? ORDER BY zeitpunkt DESC, id DESC",
            [when]).fetchall()
    finally:
        cur.close()
    for rid, feld, alt in later:
        if rid not in recs:
            continue
        if feld == CREATED:
            del recs[rid]
        elif feld in FIELDS:
            recs[rid][feld] = from_text(feld, alt)
    if not may_see_internal(actor):
        return [r for r in recs.values() if r["oeffentlich"] and not r["ausgeschieden"]]
    return list(recs.values())


SNAPSHOT_FIELDS = ["id"] + list(FIELDS) + ["letzte_aenderung", "ueberfaellig", "ohne_aktualisierung", "sozialraum_namen"]


def create_snapshot(con, actor, name: str, stichtag: date | None = None, now: datetime | None = None) -> int:
    """Freeze the catalogue as at the end of ``stichtag`` (default today) under ``name``; returns the id."""
    access.require(actor, access.EDITOR, "einen Berichtsstand anlegen")
    name = (name or "").strip()
    if not name:
        raise CatalogueError("Bitte einen Namen für den Berichtsstand eintragen (z. B. „JHA 12.03.2026“).")
    when = store.now_seconds(now)
    stichtag = stichtag or when.date()
    if stichtag > when.date():
        raise CatalogueError("Der Stichtag eines Berichtsstands darf nicht in der Zukunft liegen.")
    end = datetime.combine(stichtag, time.max)
    recs = state_at(con, end, actor=access.SYSTEM)
    cur = con.cursor()
    try:
        last = store.last_changes(cur, end)
    finally:
        cur.close()
    areas, ind_names = store.lookups(con)
    frame = store.derived_frame(recs, last, stichtag, store.stale_months(con), areas, ind_names)
    rows = []
    for r in frame.to_dict("records"):
        row = {}
        for k in SNAPSHOT_FIELDS:
            v = r.get(k)
            if k in FIELDS:
                v = to_text(k, v)
            elif k == "letzte_aenderung":
                v = None if v is None else pd.Timestamp(v).isoformat()
            elif isinstance(v, list):
                v = "|".join(v)
            else:
                v = bool(v) if k in ("ueberfaellig", "ohne_aktualisierung") else v
            row[k] = v
        rows.append(row)
    data = json.dumps({"stichtag": stichtag.isoformat(), "frist_monate": store.stale_months(con), "empfehlungen": rows},
                      ensure_ascii=False)
    with db.transaction(con) as cur:
        if cur.execute("SELECT 1 FROM berichtsstand WHERE name = ?", [name]).fetchone():
            raise CatalogueError(f"Einen Berichtsstand „{name}“ gibt es schon: bitte einen anderen Namen wählen.")
        sid = cur.execute(
            "INSERT INTO berichtsstand (name, stichtag, erstellt_von, erstellt_am, daten) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [name, stichtag, actor.name, when, data]).fetchone()[0]
        db.audit(cur, actor.name, "berichtsstand_anlegen", name, json.dumps({"stichtag": stichtag.isoformat(),
                                                                            "empfehlungen": len(rows)}))
    return int(sid)


def snapshots(con) -> pd.DataFrame:
    return db.query_df(con, "SELECT id, name, stichtag, erstellt_von, erstellt_am FROM berichtsstand ORDER BY stichtag DESC, id DESC")


def load_snapshot(con, snapshot_id: int, *, actor: Actor) -> pd.DataFrame:
    """A Berichtsstand as a DataFrame (field values as canonical text); viewers see public entries only."""
    row = con.cursor().execute("SELECT daten FROM berichtsstand WHERE id = ?", [int(snapshot_id)]).fetchone()
    if row is None:
        raise CatalogueError(f"Berichtsstand {snapshot_id} gibt es nicht.")
    df = pd.DataFrame(json.loads(row[0])["empfehlungen"], columns=SNAPSHOT_FIELDS)
    if not may_see_internal(actor):
        df = df[(df["oeffentlich"] == "ja") & (df["ausgeschieden"] != "ja")]
    return df.reset_index(drop=True)


COMPARE_FIELDS = ["titel", "status", "fortschritt", "beginn_geplant", "ende_geplant", "beginn_ist", "ende_ist",
                  "sozialraeume", "federfuehrung", "ausgeschieden", "ueberfaellig", "ohne_aktualisierung"]


def compare_snapshots(con, a_id: int, b_id: int, *, actor: Actor) -> pd.DataFrame:
    """Differences from Berichtsstand A to B: one row per recommendation and changed field (plus new/missing)."""
    a = load_snapshot(con, a_id, actor=actor).set_index("id")
    b = load_snapshot(con, b_id, actor=actor).set_index("id")
    out = []
    for rid in sorted(set(a.index) | set(b.index)):
        if rid not in a.index:
            out.append({"id": rid, "titel": b.at[rid, "titel"], "feld": "Empfehlung", "a": "–", "b": "neu"})
            continue
        if rid not in b.index:
            out.append({"id": rid, "titel": a.at[rid, "titel"], "feld": "Empfehlung", "a": "vorhanden", "b": "nicht enthalten"})
            continue
        for f in COMPARE_FIELDS:
            va, vb = a.at[rid, f], b.at[rid, f]
            va = None if va is None or (isinstance(va, float) and pd.isna(va)) else va
            vb = None if vb is None or (isinstance(vb, float) and pd.isna(vb)) else vb
            if va != vb:
                label = FIELDS[f][0] if f in FIELDS else {"ueberfaellig": "überfällig",
                                                          "ohne_aktualisierung": "ohne Aktualisierung"}[f]
                out.append({"id": rid, "titel": b.at[rid, "titel"], "feld": label, "a": show_value(va), "b": show_value(vb)})
    return pd.DataFrame(out, columns=["id", "titel", "feld", "a", "b"])


def show_value(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "ja" if v else "nein"
    s = str(v)
    if len(s) == 10 and s[4] == "-" and s[7] == "-":
        try:
            return date.fromisoformat(s).strftime("%d.%m.%Y")
        except ValueError:
            return s
    return s.replace("|", ", ")

