"""Handlungsempfehlungen: reading (listing with derived flags), validation, writing with history, roll-ups.

Who is looking is explicit: every function returning recommendations takes a keyword ``actor``
(``access.PUBLIC`` for the viewer's view, ``access.SYSTEM`` for internal raw work).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pandas as pd

from quartier import access, db, settings
from quartier.access import Actor
from quartier.actions.model import (
    ACTIVE,
    COLUMN_FIELDS,
    CREATED,
    FIELDS,
    LEVELS,
    LINK_FIELDS,
    NEEDS_UPDATES,
    PRIORITIES,
    REQUIRED,
    STALE_SETTING,
    STATUS_NAMES,
    CatalogueError,
    as_date,
    db_value,
    from_text,
    may_see_internal,
    months_before,
    new_record,
    norm_value,
    to_text,
)
from quartier.values import indicators

# --------------------------------------------------------------------------------------------
# Reading


def stale_months(con) -> int:
    return settings.read_int(con, STALE_SETTING)


def set_stale_months(con, actor, months: int) -> None:
    access.require(actor, access.ADMIN, "die Frist „ohne Aktualisierung“ ändern")
    if int(months) < 1 or int(months) > 60:
        raise CatalogueError("Die Frist muss zwischen 1 und 60 Monaten liegen.")
    with db.transaction(con) as cur:
        db.set_setting(cur, STALE_SETTING, str(int(months)))
        db.audit(cur, actor.name, "einstellung_aendern", STALE_SETTING, str(int(months)))


def records(cur) -> dict[str, dict]:
    """All recommendations (including retired) as {id: record} with link lists."""
    cols = ["id"] + COLUMN_FIELDS + ["erstellt_am", "erstellt_von", "geaendert_am", "geaendert_von"]
    rows = cur.execute(f"SELECT {', '.join(cols)} FROM empfehlung ORDER BY id").fetchall()  # noqa: S608 - fixed columns
    recs = {}
    for r in rows:
        rec = dict(zip(cols, r))
        for k in COLUMN_FIELDS:
            rec[k] = norm_value(k, rec[k])
        for key in LINK_FIELDS:
            rec[key] = []
        recs[rec["id"]] = rec
    for key, (table, col) in LINK_FIELDS.items():
        for eid, other in cur.execute(f"SELECT empfehlung_id, {col} FROM {table} ORDER BY 1, 2").fetchall():  # noqa: S608
            if eid in recs:
                recs[eid][key].append(other)
    return recs


def get(con, rec_id: str, *, actor: Actor) -> dict | None:
    """One recommendation as a record, or None when it does not exist or the actor may not see it."""
    cur = con.cursor()
    try:
        rec = records(cur).get(rec_id)
    finally:
        cur.close()
    if rec is None or (not may_see_internal(actor) and (not rec["oeffentlich"] or rec["ausgeschieden"])):
        return None
    return rec


def history(con, rec_id: str | None = None, *, actor: Actor) -> pd.DataFrame:
    """History rows (oldest first) of one or all recommendations the actor may see."""
    sql = "SELECT id, empfehlung_id, feld, alt, neu, begruendung, benutzer, zeitpunkt FROM empfehlung_verlauf"
    where, params = [], []
    if rec_id is not None:
        where.append("empfehlung_id = ?")
        params.append(rec_id)
    if not may_see_internal(actor):
        where.append("empfehlung_id IN (SELECT id FROM empfehlung WHERE oeffentlich AND NOT ausgeschieden)")
    if where:
        sql += " WHERE " + " AND ".join(where)
    df = db.query_df(con, sql + " ORDER BY zeitpunkt, id", params)
    df["feld_label"] = df["feld"].map(lambda f: FIELDS.get(f, ("Angelegt" if f == CREATED else f, ""))[0])
    return df


def last_changes(cur, until: datetime | None = None) -> dict[str, datetime]:
    sql = "SELECT empfehlung_id, max(zeitpunkt) FROM empfehlung_verlauf"
    params = []
    if until is not None:
        sql += " WHERE zeitpunkt <= ?"
        params.append(until)
    return dict(cur.execute(sql + " GROUP BY 1", params).fetchall())


def derived_frame(recs: list[dict], last: dict[str, datetime], today: date, months: int, areas: pd.DataFrame,
           ind_names: dict[str, str]) -> pd.DataFrame:
    """Records -> DataFrame with derived flags and readable link names."""
    cols = ["id"] + list(FIELDS) + ["letzte_aenderung", "ueberfaellig", "ohne_aktualisierung",
                                    "sozialraum_namen", "bezirk_ids", "bezirke", "indikator_namen"]
    if not recs:
        return pd.DataFrame(columns=cols)
    sr_name = dict(zip(areas["id"], areas["name"]))
    sr_bez = dict(zip(areas["id"], areas["bezirk_id"]))
    bez_name = dict(zip(areas["bezirk_id"], areas["bezirk"]))
    stale_before = months_before(today, months)
    rows = []
    for rec in recs:
        r = {k: rec.get(k) for k in ["id"] + list(FIELDS)}
        lc = last.get(rec["id"]) or rec.get("erstellt_am")
        r["letzte_aenderung"] = lc
        r["ueberfaellig"] = bool(rec["ende_geplant"] and rec["ende_geplant"] < today and rec["status"] in ACTIVE
                                 and not rec["ausgeschieden"])
        r["ohne_aktualisierung"] = bool(lc is not None and as_date(lc) < stale_before and rec["status"] in NEEDS_UPDATES
                                        and not rec["ausgeschieden"])
        r["sozialraum_namen"] = [sr_name.get(s, s) for s in rec["sozialraeume"]]
        bez = sorted({sr_bez.get(s) for s in rec["sozialraeume"] if sr_bez.get(s)})
        r["bezirk_ids"] = bez
        r["bezirke"] = [bez_name.get(b, b) for b in bez]
        r["indikator_namen"] = [ind_names.get(i, i) for i in rec["indikatoren"]]
        rows.append(r)
    return pd.DataFrame(rows, columns=cols)


def lookups(con) -> tuple[pd.DataFrame, dict[str, str]]:
    """(areas, {indicator id: name}) for readable link names."""
    areas = indicators.areas(con)
    ind = indicators.catalogue(con)
    return areas, dict(zip(ind["id"], ind["name"]))


def catalogue_frame(con, today: date | None = None, *, actor: Actor) -> pd.DataFrame:
    """The catalogue as the actor may see it (for staff and ``access.SYSTEM`` including internal and retired
    recommendations) with derived flags for ``today``; not filtered otherwise."""
    today = today or date.today()
    cur = con.cursor()
    try:
        recs = list(records(cur).values())
        last = last_changes(cur)
    finally:
        cur.close()
    areas, ind_names = lookups(con)
    return visible(derived_frame(recs, last, today, stale_months(con), areas, ind_names), actor)


def visible(df: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    """Viewers without editing rights see public, not retired recommendations only."""
    if may_see_internal(actor):
        return df
    return df[df["oeffentlich"].astype(bool) & ~df["ausgeschieden"].astype(bool)]


def filter_frame(df: pd.DataFrame, *, text: str | None = None, handlungsfeld=None, sozialraum=None, bezirk=None,
                 federfuehrung=None, status=None, overdue: bool = False, stale: bool = False,
                 include_retired: bool = False) -> pd.DataFrame:
    """Apply catalogue filters; list filters match any of the given values."""
    out = df
    if not include_retired:
        out = out[~out["ausgeschieden"].astype(bool)]
    if text:
        words = [w for w in str(text).lower().split() if w]
        hay = (out["id"].fillna("") + " " + out["titel"].fillna("") + " " + out["beschreibung"].fillna("") + " "
               + out["federfuehrung"].fillna("") + " " + out["handlungsfeld"].fillna("") + " "
               + out["sozialraum_namen"].map(" ".join) + " " + out["vorlage"].fillna("")).str.lower()
        for w in words:
            out = out[hay.loc[out.index].str.contains(w, regex=False)]
    if handlungsfeld:
        out = out[out["handlungsfeld"].isin(list(handlungsfeld))]
    if sozialraum:
        wanted = set(sozialraum)
        out = out[out["sozialraeume"].map(lambda s: bool(wanted & set(s)))]
    if bezirk:
        wanted_b = set(bezirk)
        out = out[out["bezirk_ids"].map(lambda s: bool(wanted_b & set(s)))]
    if federfuehrung:
        out = out[out["federfuehrung"].isin(list(federfuehrung))]
    if status:
        out = out[out["status"].isin(list(status))]
    if overdue:
        out = out[out["ueberfaellig"]]
    if stale:
        out = out[out["ohne_aktualisierung"]]
    return out


def listing(con, today: date | None = None, *, actor: Actor, **filters) -> pd.DataFrame:
    """The catalogue as the actor may see it, filtered (see :func:`filter_frame`)."""
    return filter_frame(catalogue_frame(con, today, actor=actor), **filters)


SOZIALRAUM_COLUMNS = ("id", "titel", "handlungsfeld", "status", "fortschritt", "federfuehrung", "ende_geplant",
                      "ueberfaellig", "ohne_aktualisierung")


def of_sozialraum(con, sozialraum_id: str, *, actor: Actor) -> pd.DataFrame:
    """Handlungsempfehlungen linked to the Sozialraum with their status (not retired; viewers: public ones only)."""
    df = listing(con, actor=actor, sozialraum=[sozialraum_id])
    if df.empty:  # (filtering an empty frame can drop its columns)
        return pd.DataFrame(columns=list(SOZIALRAUM_COLUMNS))
    return df[list(SOZIALRAUM_COLUMNS)].sort_values("id").reset_index(drop=True)


OFFER_COLUMNS = ("id", "titel", "status", "fortschritt", "federfuehrung")


def of_offer(con, angebot_id: str, *, actor: Actor) -> pd.DataFrame:
    """Handlungsempfehlungen that name the offer (it was created or extended by them); viewers: public ones only."""
    df = listing(con, actor=actor)
    if df.empty:
        return pd.DataFrame(columns=list(OFFER_COLUMNS))
    df = df[df["angebote"].map(lambda a: angebot_id in (a or []))]
    return df[list(OFFER_COLUMNS)].sort_values("id").reset_index(drop=True)


def offer_links(con, *, actor: Actor) -> dict[str, list[str]]:
    """{offer id: [recommendation ids]} over the recommendations the actor may see (for the offers table)."""
    out: dict[str, list[str]] = {}
    for r in catalogue_frame(con, actor=actor)[["id", "angebote", "ausgeschieden"]].to_dict("records"):
        if r["ausgeschieden"]:
            continue
        for a in r["angebote"] or []:
            out.setdefault(a, []).append(r["id"])
    return out


# --------------------------------------------------------------------------------------------
# Validation and writing


def known_ids(con) -> tuple[set[str], set[str]]:
    """Ids of the Sozialräume and indicators (for validation)."""
    cur = con.cursor()
    try:
        return ({r[0] for r in cur.execute("SELECT id FROM sozialraum").fetchall()},
                {r[0] for r in cur.execute("SELECT id FROM indikator").fetchall()})
    finally:
        cur.close()


def validate(con, rec: dict, known: tuple[set[str], set[str]] | None = None) -> list[str]:
    """Errors (German) for a complete record; ``known`` = :func:`known_ids` (read when not given)."""
    errs = []
    for k in REQUIRED:
        if not rec.get(k):
            errs.append(f"{FIELDS[k][0]} fehlt: bitte eintragen.")
    if rec.get("status") not in STATUS_NAMES:
        errs.append(f"Status „{rec.get('status')}“ unbekannt. Erlaubt: {', '.join(STATUS_NAMES)}.")
    if rec.get("ebene") not in LEVELS:
        errs.append(f"Ebene „{rec.get('ebene')}“ unbekannt. Erlaubt: {', '.join(LEVELS)}.")
    if rec.get("prioritaet") is not None and rec["prioritaet"] not in PRIORITIES:
        errs.append(f"Priorität „{rec['prioritaet']}“ unbekannt. Erlaubt: {', '.join(PRIORITIES)} oder leer.")
    p = rec.get("fortschritt")
    if p is not None and not 0 <= int(p) <= 100:
        errs.append(f"Fortschritt {p} % liegt nicht zwischen 0 und 100.")
    for a, b in (("beginn_geplant", "ende_geplant"), ("beginn_ist", "ende_ist")):
        if rec.get(a) and rec.get(b) and rec[b] < rec[a]:
            errs.append(f"{FIELDS[b][0]} ({rec[b]:%d.%m.%Y}) liegt vor {FIELDS[a][0]} ({rec[a]:%d.%m.%Y}).")
    known_sr, known_ind = known or known_ids(con)
    bad = [s for s in rec.get("sozialraeume") or [] if s not in known_sr]
    if bad:
        errs.append(f"Sozialraum {', '.join(bad)} unbekannt: bitte die Nummer aus der Gebietsliste verwenden.")
    bad = [i for i in rec.get("indikatoren") or [] if i not in known_ind]
    if bad:
        errs.append(f"Kennzahl {', '.join(bad)} unbekannt: bitte die Id aus dem Indikatorenkatalog verwenden.")
    if rec.get("angebote"):
        known_offers = {r[0] for r in con.cursor().execute("SELECT id FROM angebot").fetchall()}
        bad = [a for a in rec["angebote"] if a not in known_offers]
        if bad:
            errs.append(f"Angebot {', '.join(bad)} unbekannt: bitte die Id aus der Angebotsliste verwenden.")
    return errs


def now_seconds(now: datetime | None) -> datetime:
    """``now`` (default: the current time) without microseconds, as stored in the history."""
    return (now or datetime.now()).replace(microsecond=0)


def _log(cur, rec_id, feld, alt, neu, begruendung, user, when) -> None:
    cur.execute(
        "INSERT INTO empfehlung_verlauf (empfehlung_id, feld, alt, neu, begruendung, benutzer, zeitpunkt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", [rec_id, feld, alt, neu, begruendung, user, when])


def _write_links(cur, rec_id: str, key: str, values: list[str]) -> None:
    table, col = LINK_FIELDS[key]
    cur.execute(f"DELETE FROM {table} WHERE empfehlung_id = ?", [rec_id])  # noqa: S608 - fixed table names
    for v in values:
        cur.execute(f"INSERT INTO {table} (empfehlung_id, {col}) VALUES (?, ?)", [rec_id, v])  # noqa: S608



def insert_record(cur, rec_id: str, rec: dict, justification, user, when) -> None:
    cols = COLUMN_FIELDS
    vals = [db_value(k, rec[k]) for k in cols]
    cur.execute(
        f"INSERT INTO empfehlung (id, {', '.join(cols)}, erstellt_am, erstellt_von, geaendert_am, geaendert_von)"  # noqa: S608
        f" VALUES (?, {', '.join('?' for _ in cols)}, ?, ?, ?, ?)",
        [rec_id] + vals + [when, user, when, user],
    )
    for key in LINK_FIELDS:
        _write_links(cur, rec_id, key, rec[key])
    _log(cur, rec_id, CREATED, None, json.dumps({k: to_text(k, rec[k]) for k in FIELDS}, ensure_ascii=False),
         justification, user, when)


def apply_changes(cur, rec_id: str, old: dict, changes: dict, justification, user, when) -> list[tuple[str, str, str]]:
    """Apply changed fields; append one history row per field. Returns [(field, old, new)]."""
    diff = []
    for k, v in changes.items():
        if k not in FIELDS:
            continue
        a, b = to_text(k, old.get(k)), to_text(k, v)
        if a != b:
            diff.append((k, a, b))
    if not diff:
        return []
    col_changes = [(k, from_text(k, b)) for k, _, b in diff if k not in LINK_FIELDS]
    if col_changes:
        sets = ", ".join(f"{k} = ?" for k, _ in col_changes)
        cur.execute(f"UPDATE empfehlung SET {sets}, geaendert_am = ?, geaendert_von = ? WHERE id = ?",  # noqa: S608
                    [db_value(k, v) for k, v in col_changes] + [when, user, rec_id])
    else:
        cur.execute("UPDATE empfehlung SET geaendert_am = ?, geaendert_von = ? WHERE id = ?", [when, user, rec_id])
    for k, a, b in diff:
        if k in LINK_FIELDS:
            _write_links(cur, rec_id, k, from_text(k, b))
        _log(cur, rec_id, k, a, b, justification, user, when)
    return diff


def _check_change(con, rec_id: str, old: dict, changes: dict, justification: str | None) -> dict:
    unknown = [k for k in changes if k not in FIELDS]
    if unknown:
        raise CatalogueError(f"Unbekannte Felder: {', '.join(unknown)}.")
    merged = dict(old)
    merged.update({k: norm_value(k, v) for k, v in changes.items()})
    if merged["status"] != old["status"] and not (justification or "").strip():
        raise CatalogueError(
            f"{rec_id}: Statusänderung von „{old['status']}“ auf „{merged['status']}“ braucht eine Begründung. "
            "Bitte eintragen, warum sich der Status ändert.")
    errs = validate(con, merged)
    if errs:
        raise CatalogueError(f"{rec_id}: " + " ".join(errs))
    return merged


def create(con, actor, rec_id: str, values: dict, justification: str | None = None, now: datetime | None = None) -> dict:
    """Create a recommendation; returns the stored record."""
    access.require(actor, access.EDITOR, "Handlungsempfehlungen anlegen")
    rec_id = (rec_id or "").strip()
    if not rec_id:
        raise CatalogueError("Die Nummer fehlt: bitte eine eindeutige Nummer eintragen (z. B. HE-30).")
    rec = new_record(**values)
    errs = validate(con, rec)
    if errs:
        raise CatalogueError(f"{rec_id}: " + " ".join(errs))
    when = now_seconds(now)
    with db.transaction(con) as cur:
        if cur.execute("SELECT 1 FROM empfehlung WHERE id = ?", [rec_id]).fetchone():
            raise CatalogueError(f"Die Nummer {rec_id} ist schon vergeben: bitte eine andere wählen.")
        insert_record(cur, rec_id, rec, justification, actor.name, when)
        db.audit(cur, actor.name, "empfehlung_anlegen", rec_id, rec["titel"])
    return get(con, rec_id, actor=access.SYSTEM)


def update(con, actor, rec_id: str, changes: dict, justification: str | None = None, now: datetime | None = None) -> list:
    """Change any fields of one recommendation; returns [(field, old, new)] (empty when nothing changed)."""
    access.require(actor, access.EDITOR, "Handlungsempfehlungen ändern")
    old = get(con, rec_id, actor=access.SYSTEM)
    if old is None:
        raise CatalogueError(f"Handlungsempfehlung {rec_id} gibt es nicht.")
    _check_change(con, rec_id, old, changes, justification)
    with db.transaction(con) as cur:
        diff = apply_changes(cur, rec_id, old, changes, (justification or "").strip() or None, actor.name, now_seconds(now))
        if diff:
            db.audit(cur, actor.name, "empfehlung_aendern", rec_id,
                     json.dumps([{"feld": k, "alt": a, "neu": b} for k, a, b in diff], ensure_ascii=False))
    return diff


def bulk_status(con, actor, rec_ids: list[str], status: str, justification: str, now: datetime | None = None) -> int:
    """Set the status of several recommendations at once (one justification for all); returns how many changed."""
    access.require(actor, access.EDITOR, "den Status mehrerer Handlungsempfehlungen ändern")
    if status not in STATUS_NAMES:
        raise CatalogueError(f"Status „{status}“ unbekannt. Erlaubt: {', '.join(STATUS_NAMES)}.")
    if not (justification or "").strip():
        raise CatalogueError("Eine Statusänderung braucht eine Begründung: bitte eintragen.")
    cur = con.cursor()
    try:
        recs = records(cur)
    finally:
        cur.close()
    missing = [r for r in rec_ids if r not in recs]
    if missing:
        raise CatalogueError(f"Handlungsempfehlung(en) {', '.join(missing)} gibt es nicht.")
    when = now_seconds(now)
    n = 0
    with db.transaction(con) as cur:
        for rid in rec_ids:
            if apply_changes(cur, rid, recs[rid], {"status": status}, justification.strip(), actor.name, when):
                n += 1
        db.audit(cur, actor.name, "empfehlungen_status", ",".join(rec_ids), json.dumps({"status": status, "geaendert": n},
                                                                                     ensure_ascii=False))
    return n


def retire(con, actor, rec_id: str, justification: str, now: datetime | None = None) -> None:
    """Retire a recommendation (kept with its history, hidden from the catalogue by default)."""
    if not (justification or "").strip():
        raise CatalogueError("Zum Ausscheiden einer Empfehlung bitte eine Begründung eintragen.")
    update(con, actor, rec_id, {"ausgeschieden": True}, justification, now)


# --------------------------------------------------------------------------------------------
# Roll-ups and changes


DISTRICT_RULE = ("Die Empfehlungen eines Stadtbezirks sind die für mindestens einen seiner Sozialräume und alle "
                 "stadtweiten Empfehlungen.")


def of_district(df: pd.DataFrame, bezirk_id: str) -> pd.DataFrame:
    """The recommendations of a Stadtbezirk (``DISTRICT_RULE``): linked to one of its Sozialräume, or city-wide.
    The one definition for Mein Bezirk, the PDF and Umsetzungsstand (counts, changes, Berichtsstände)."""
    if df.empty:
        return df
    mine = df["bezirk_ids"].map(lambda b: bezirk_id in set(b or []))
    return df[mine | (df["ebene"] == "stadtweit")]


def days_overdue(df: pd.DataFrame, today: date) -> pd.Series:
    """Days since the planned end of overdue recommendations (NA for the others)."""
    end = pd.to_datetime(df["ende_geplant"], errors="coerce")
    days = (pd.Timestamp(today) - end).dt.days
    return days.where(df["ueberfaellig"].astype(bool)).astype("Int64")


def rollup(df: pd.DataFrame, by: str, districts: dict[str, str] | None = None) -> pd.DataFrame:
    """Counts per status by ``handlungsfeld``, ``sozialraum`` (city-wide ones as "stadtweit") or
    ``stadtbezirk`` (``districts``: id -> name; each district's recommendations by :func:`of_district`, so a
    city-wide one counts in every district); long format."""
    if df.empty:
        return pd.DataFrame(columns=[by, "status", "anzahl"])
    if by == "stadtbezirk":
        parts = [of_district(df, b).assign(stadtbezirk=name) for b, name in (districts or {}).items()]
        d = pd.concat(parts, ignore_index=True) if parts else df.assign(stadtbezirk=pd.Series(dtype=object))
        if d.empty:
            return pd.DataFrame(columns=[by, "status", "anzahl"])
    elif by == "sozialraum":
        d = df.assign(sozialraum=df.apply(
            lambda r: r["sozialraum_namen"] if (r["ebene"] == "Sozialraum" and r["sozialraum_namen"]) else ["stadtweit"],
            axis=1)).explode("sozialraum")
    else:
        d = df
    g = d.groupby([by, "status"]).size().rename("anzahl").reset_index()
    g["status"] = pd.Categorical(g["status"], STATUS_NAMES, ordered=True)
    return g.sort_values([by, "status"]).reset_index(drop=True)


def rollup_wide(df: pd.DataFrame, by: str, districts: dict[str, str] | None = None) -> pd.DataFrame:
    """The roll-up as a table: one row per group, one column per status, plus total."""
    long = rollup(df, by, districts)
    if long.empty:
        return pd.DataFrame(columns=[by, *STATUS_NAMES, "gesamt"])
    wide = long.pivot_table(index=by, columns="status", values="anzahl", aggfunc="sum", fill_value=0, observed=False)
    wide = wide.reindex(columns=list(STATUS_NAMES), fill_value=0)
    wide["gesamt"] = wide.sum(axis=1)
    return wide.reset_index()


def changed_since(con, since: date | datetime, *, actor: Actor) -> pd.DataFrame:
    """History entries since ``since`` (inclusive), newest first, for recommendations the actor may see."""
    start = since if isinstance(since, datetime) else datetime.combine(since, time.min)
    df = db.query_df(
        con,
        "SELECT v.empfehlung_id, e.titel, v.feld, v.alt, v.neu, v.begruendung, v.benutzer, v.zeitpunkt,"
        " e.oeffentlich, e.ausgeschieden FROM empfehlung_verlauf v JOIN empfehlung e ON e.id = v.empfehlung_id"
        " WHERE v.zeitpunkt >= ? ORDER BY v.zeitpunkt DESC, v.id DESC", [start])
    if not may_see_internal(actor):
        df = df[df["oeffentlich"] & ~df["ausgeschieden"]]
    df["feld_label"] = df["feld"].map(lambda f: FIELDS.get(f, ("Angelegt" if f == CREATED else f, ""))[0])
    return df.drop(columns=["oeffentlich", "ausgeschieden"]).reset_index(drop=True)

