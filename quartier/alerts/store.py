"""Hinweise stored per Lieferung (migration 016): computed once when a delivery is imported, read by the
Lieferungen page, the start page, Mein Bezirk and ``hinweise --lieferung``.

Two views are stored: ``roh`` (what staff see, from the raw values) and ``geschuetzt`` (what viewers see,
computed from the protected values only). :func:`stored` returns the view the actor may see.

A withdrawn Lieferung keeps its rows (the record of what it raised) but they no longer count:
:func:`stored` returns nothing for it, :func:`withdrawn_count` tells how many there were.

The stored Hinweise are a snapshot of the moment of the import: a later delivery or a withdrawal of another
delivery does not change them (``hinweise --seit`` and the pages' "seit Datum" compute afresh).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from quartier import access, db
from quartier.access import PUBLIC, SYSTEM, Actor
from quartier.alerts import hinweise as hw
from quartier.alerts import similar

SICHTEN: dict[str, Actor] = {"roh": SYSTEM, "geschuetzt": PUBLIC}
COLUMNS = ["lieferung_id", "sicht", "rang", "sozialraum_id", "indikator", "jahr", "art", "alt_wert", "alt_text",
           "neu_wert", "neu_text", "text", "schlechter", "staerke"]


def sicht_of(actor: Actor) -> str:
    return "roh" if actor.can_see_raw else "geschuetzt"


def _rows(lid: int, sicht: str, items: list[hw.Hinweis]) -> pd.DataFrame:
    def num(v):
        return None if v is None or isinstance(v, str) or not np.isfinite(v) else float(v)

    def txt(v):
        return v if isinstance(v, str) else None

    return pd.DataFrame([(lid, sicht, k, h.sozialraum, h.indikator, int(h.jahr), h.art, num(h.alt), txt(h.alt),
                          num(h.neu), txt(h.neu), h.text, h.schlechter, float(h.staerke))
                         for k, h in enumerate(items)], columns=COLUMNS).astype(
        {"alt_wert": "float64", "neu_wert": "float64", "schlechter": "object"})


def record(con, lieferung_id: int, *, actor: Actor, sichten: tuple[str, ...] = ("roh", "geschuetzt"),
           memo: dict | None = None, profiles: bool = True) -> dict[str, int]:
    """Compute the Hinweise of ``lieferung_id`` (as :func:`hinweise.hinweise` with ``lieferung=``) for each
    view and store them, replacing what was stored before. ``actor`` is who triggers it (an import: editor).
    Returns the number of Hinweise per view. ``memo``: shared by :func:`record_missing` across deliveries
    (class changes computed once); ``profiles``: also precompute the comparable-area profiles."""
    access.require(actor, access.EDITOR, "Hinweise einer Lieferung speichern")
    lid = int(lieferung_id)
    out: dict[str, int] = {}
    frames, runs = [], []
    for sicht in sichten:
        t0 = time.perf_counter()
        items = hw.hinweise(con, actor=SICHTEN[sicht], lieferung=lid, memo=memo)
        runs.append((lid, sicht, len(items), round(time.perf_counter() - t0, 3)))
        frames.append(_rows(lid, sicht, items))
        out[sicht] = len(items)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    with db.transaction(con) as cur:
        cur.execute("DELETE FROM hinweis WHERE lieferung_id = ? AND list_contains(?, sicht)", [lid, list(sichten)])
        cur.execute("DELETE FROM hinweis_lauf WHERE lieferung_id = ? AND list_contains(?, sicht)", [lid, list(sichten)])
        if len(rows):
            cur.register("_hinweis_rows", rows)
            cur.execute("INSERT INTO hinweis BY NAME SELECT * FROM _hinweis_rows")
            cur.unregister("_hinweis_rows")
        cur.executemany("INSERT INTO hinweis_lauf (lieferung_id, sicht, anzahl, sekunden) VALUES (?, ?, ?, ?)",
                        [list(r) for r in runs])
    if profiles:
        precompute_profiles(con, sichten)
    return out


def precompute_profiles(con, sichten: tuple[str, ...] = ("roh", "geschuetzt")) -> None:
    """Store the comparable-area profiles of the default indicators and their latest year for the new data
    stamp (:func:`similar.profiles`), so that the first Steckbrief after an import reads them ready-made."""
    ids = similar.default_indicators(con)
    year = similar.latest_year(con, ids) if ids else None
    if year is None:
        return
    for sicht in sichten:
        try:
            similar.profiles(con, year, ids, actor=SICHTEN[sicht])
        except similar.SimilarError:
            return


def is_recorded(con, lieferung_id: int, *, actor: Actor) -> bool:
    row = con.cursor().execute("SELECT count(*) FROM hinweis_lauf WHERE lieferung_id = ? AND sicht = ?",
                               [int(lieferung_id), sicht_of(actor)]).fetchone()
    return bool(row and row[0])


def status(con, lieferung_id: int) -> str | None:
    row = con.cursor().execute("SELECT status FROM lieferung WHERE id = ?", [int(lieferung_id)]).fetchone()
    return None if not row else str(row[0])


def _read(con, lid: int, sicht: str) -> list[hw.Hinweis]:
    df = db.query_df(con, "SELECT h.*, s.name AS sozialraum_name, s.bezirk_id FROM hinweis h"
                          " LEFT JOIN sozialraum s ON s.id = h.sozialraum_id"
                          " WHERE h.lieferung_id = ? AND h.sicht = ? ORDER BY h.rang", [lid, sicht])

    def col(name: str) -> list:
        return df[name].astype(object).where(df[name].notna(), None).tolist()

    def pick(text: list, num: list) -> list:
        return [t if isinstance(t, str) else (None if v is None else float(v)) for t, v in zip(text, num)]

    alt, neu = pick(col("alt_text"), col("alt_wert")), pick(col("neu_text"), col("neu_wert"))
    worse = [None if w is None else bool(w) for w in col("schlechter")]
    return [hw.Hinweis(str(s), str(i), int(y), str(a), o, n, str(t), str(nm or ""), None if b is None else str(b), w,
                       float(st or 0.0))
            for s, i, y, a, o, n, t, nm, b, w, st in zip(
                col("sozialraum_id"), col("indikator"), col("jahr"), col("art"), alt, neu, col("text"),
                col("sozialraum_name"), col("bezirk_id"), worse, col("staerke"))]


def stored(con, lieferung_id: int, *, actor: Actor, bezirk: str | None = None) -> list[hw.Hinweis] | None:
    """The stored Hinweise of an active Lieferung as ``actor`` may see them (in order of importance);
    ``[]`` for a withdrawn one; ``None`` when nothing was stored for it (delivered before migration 016)."""
    st = status(con, lieferung_id)
    if st is None:
        raise hw.HinweisError(f"Lieferung Nr. {lieferung_id} gibt es nicht.")
    bez_id = hw.resolve_bezirk(con, bezirk)
    if st != "aktiv":
        return []
    if not is_recorded(con, lieferung_id, actor=actor):
        return None
    items = _read(con, int(lieferung_id), sicht_of(actor))
    return [h for h in items if bez_id is None or h.bezirk_id == bez_id]


def withdrawn_count(con, lieferung_id: int, *, actor: Actor) -> int:
    """How many Hinweise a (withdrawn) Lieferung had raised in the actor's view."""
    row = con.cursor().execute("SELECT count(*) FROM hinweis WHERE lieferung_id = ? AND sicht = ?",
                               [int(lieferung_id), sicht_of(actor)]).fetchone()
    return int(row[0]) if row else 0


def for_lieferung(con, lieferung_id: int, *, actor: Actor, bezirk: str | None = None) -> list[hw.Hinweis]:
    """Stored Hinweise of the Lieferung, or computed now when none were stored (older deliveries)."""
    items = stored(con, lieferung_id, actor=actor, bezirk=bezirk)
    if items is None:
        return hw.hinweise(con, actor=actor, lieferung=int(lieferung_id), bezirk=bezirk)
    return items


def record_missing(con, *, actor: Actor) -> dict[int, dict[str, int]]:
    """Store the Hinweise of every active Lieferung that has none stored yet (after an update, for the demo)."""
    rows = con.cursor().execute(
        "SELECT id FROM lieferung l WHERE status = 'aktiv' AND NOT EXISTS"
        " (SELECT 1 FROM hinweis_lauf h WHERE h.lieferung_id = l.id) ORDER BY id").fetchall()
    memo: dict = {}
    out = {int(r[0]): record(con, int(r[0]), actor=actor, memo=memo, profiles=False) for r in rows}
    if out:
        precompute_profiles(con)
    return out


def deliveries(con) -> pd.DataFrame:
    """Per Lieferung: id, dateiname, importiert_am, status, anzahl_roh, anzahl_geschuetzt (None: not stored)."""
    return db.query_df(
        con, "SELECT l.id, l.dateiname, l.importiert_am, l.status,"
             " max(CASE WHEN h.sicht = 'roh' THEN h.anzahl END) AS anzahl_roh,"
             " max(CASE WHEN h.sicht = 'geschuetzt' THEN h.anzahl END) AS anzahl_geschuetzt"
             " FROM lieferung l LEFT JOIN hinweis_lauf h ON h.lieferung_id = l.id"
             " GROUP BY ALL ORDER BY l.id DESC")


__all__ = ["SICHTEN", "deliveries", "for_lieferung", "is_recorded", "meetings", "precompute_profiles", "record", "record_missing",
           "sicht_of", "status", "stored", "withdrawn_count"]


def meetings(con) -> pd.DataFrame:
    """The saved Berichtsstände (frozen report states, e.g. "Bericht JHA September 2026") as the meetings that
    "seit der letzten Sitzung" can refer to: name, stichtag, erstellt_am (the moment it was frozen), newest first."""
    return db.query_df(con, "SELECT name, stichtag, erstellt_am FROM berichtsstand ORDER BY erstellt_am DESC, id DESC")
