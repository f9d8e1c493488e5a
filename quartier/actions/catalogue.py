"""Handlungsempfehlungen: status model, history, derived flags, listing, roll-ups, Berichtsstände, Wirkungsblick.

Rules the rest of the tool relies on:

* Every write function takes an ``actor`` and needs the role "Bearbeitung"; every write is audited.
* Every change of a field is appended to ``empfehlung_verlauf`` (field, old, new, justification, who, when);
  the history is never updated or deleted. A status change without a justification is refused.
* "überfällig" and "ohne Aktualisierung seit N Monaten" are derived for a given day (``today``), never stored.
* The progress (%) is never set from the status: a status "umgesetzt" with 60 % stays 60 % (with a hint).
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from quartier import access, db, settings
from quartier.errors import QuartierError

# --------------------------------------------------------------------------------------------
# Status model


@dataclass(frozen=True)
class Status:
    name: str
    definition: str
    colour: str      # Okabe-Ito based, colour-blind safe; always shown together with the name
    symbol: str      # a second, non-colour carrier of the status


STATUSES: tuple[Status, ...] = (
    Status("offen", "Beschlossen, aber noch nicht bearbeitet: es gibt noch keine Planung und keine Zuständigkeit in Arbeit.",
           "#BBBBBB", "○"),
    Status("in Planung", "Die federführende Stelle plant die Umsetzung (Konzept, Finanzierung, Partner), "
           "die Maßnahme hat aber noch nicht begonnen.", "#56B4E9", "◔"),
    Status("in Umsetzung", "Die Maßnahme hat begonnen und läuft; sie ist noch nicht abgeschlossen.", "#0072B2", "◑"),
    Status("umgesetzt", "Die Maßnahme ist abgeschlossen bzw. vollständig eingerichtet.", "#009E73", "●"),
    Status("verstetigt", "Die Maßnahme ist umgesetzt und dauerhaft gesichert (Regelangebot, Regelfinanzierung).",
           "#00563B", "★"),
    Status("zurückgestellt", "Die Umsetzung ist bewusst aufgeschoben (z. B. fehlende Mittel oder Personal); "
           "sie soll später wieder aufgenommen werden.", "#E69F00", "‖"),
    Status("verworfen", "Die Empfehlung wird nicht umgesetzt; die Begründung steht im Verlauf.", "#CC79A7", "✕"),
)
STATUS_NAMES: tuple[str, ...] = tuple(s.name for s in STATUSES)
STATUS_BY_NAME = {s.name: s for s in STATUSES}
STATUS_COLOURS = {s.name: s.colour for s in STATUSES}
ACTIVE = ("offen", "in Planung", "in Umsetzung")           # can be overdue
NEEDS_UPDATES = ACTIVE + ("zurückgestellt",)               # can be stale
DONE = ("umgesetzt", "verstetigt")

FLAG_DEFINITIONS = {
    "überfällig": "Das geplante Ende liegt vor dem Stichtag, und der Status ist noch offen, in Planung oder in Umsetzung.",
    "ohne Aktualisierung": "Seit mehr als N Monaten (Einstellung, Standard 6) wurde nichts an der Empfehlung geändert; "
                           "gilt für offene, geplante, laufende und zurückgestellte Empfehlungen.",
}
HANDLUNGSFELDER = ("Bildung", "Sprache", "Bewegung", "Gesundheit", "Kulturelle Teilhabe", "Vernetzung")
ZIELGRUPPEN = ("Kinder", "Jugendliche", "Familien", "Fachkräfte")
PRIORITIES = ("hoch", "mittel", "niedrig")
LEVELS = ("Sozialraum", "stadtweit")
STALE_SETTING = "empfehlung_aktualisierung_monate"
STALE_DEFAULT = settings.spec(STALE_SETTING).default

# Field key -> (label, kind). Kinds: text, date, int, bool, list, status, choice.
FIELDS: dict[str, tuple[str, str]] = {
    "titel": ("Titel", "text"),
    "beschreibung": ("Beschreibung", "text"),
    "handlungsfeld": ("Handlungsfeld", "text"),
    "ebene": ("Ebene", "choice"),
    "sozialraeume": ("Sozialräume", "list"),
    "zielgruppe": ("Zielgruppe", "list"),
    "federfuehrung": ("Federführung", "text"),
    "beteiligte": ("Beteiligte Ämter", "list"),
    "kontakt": ("Kontakt", "text"),
    "prioritaet": ("Priorität", "choice"),
    "vorlage": ("Vorlage", "text"),
    "gremium": ("Gremium", "text"),
    "beschluss_datum": ("Beschlussdatum", "date"),
    "beginn_geplant": ("Beginn geplant", "date"),
    "ende_geplant": ("Ende geplant", "date"),
    "beginn_ist": ("Beginn tatsächlich", "date"),
    "ende_ist": ("Ende tatsächlich", "date"),
    "status": ("Status", "status"),
    "fortschritt": ("Fortschritt %", "int"),
    "indikatoren": ("Kennzahlen", "list"),
    "oeffentlich": ("Öffentlich", "bool"),
    "ausgeschieden": ("Ausgeschieden", "bool"),
    "beispiel": ("Beispiel", "bool"),
}
LINK_FIELDS = {"sozialraeume": ("empfehlung_sozialraum", "sozialraum_id"),
               "indikatoren": ("empfehlung_indikator", "indikator_id")}
COLUMN_FIELDS = [k for k in FIELDS if k not in LINK_FIELDS]
REQUIRED = ("titel", "handlungsfeld")
CREATED = "angelegt"   # history field for the creation of a recommendation


class CatalogueError(QuartierError):
    """A refused change (German message saying what to do)."""


# --------------------------------------------------------------------------------------------
# Canonical values (the history stores text; these convert both ways)


def to_text(key: str, value) -> str | None:
    """The canonical text of a field value, as stored in the history and written to files."""
    kind = FIELDS[key][1] if key in FIELDS else "text"
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if kind == "date":
        return _as_date(value).isoformat()
    if kind == "bool":
        return "ja" if bool(value) else "nein"
    if kind == "int":
        return str(int(value))
    if kind == "list":
        items = sorted({str(v).strip() for v in value if str(v).strip()}) if not isinstance(value, str) else \
            sorted({v.strip() for v in value.split("|") if v.strip()})
        return "|".join(items) if items else None
    text = str(value).strip()
    return text or None


def from_text(key: str, text: str | None):
    """Inverse of :func:`to_text`."""
    kind = FIELDS[key][1] if key in FIELDS else "text"
    if kind == "list":
        return sorted({v for v in (text or "").split("|") if v})
    if text is None:
        return False if kind == "bool" else None
    if kind == "date":
        return date.fromisoformat(text)
    if kind == "bool":
        return text == "ja"
    if kind == "int":
        return int(text)
    return text


def _as_date(v) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, pd.Timestamp):
        return v.date()
    return date.fromisoformat(str(v)[:10])


def _db_value(key: str, value):
    """A field value as stored in its ``empfehlung`` column (lists as "|"-joined text)."""
    return to_text(key, value) if FIELDS[key][1] == "list" else value


def _norm_value(key: str, value):
    """A field value in its Python form (date, int, bool, sorted list, str or None)."""
    return from_text(key, to_text(key, value))


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


def months_before(d: date, n: int) -> date:
    y, m = d.year, d.month - n
    while m <= 0:
        m += 12
        y -= 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _records(cur) -> dict[str, dict]:
    """All recommendations (including retired) as {id: record} with link lists."""
    cols = ["id"] + COLUMN_FIELDS + ["erstellt_am", "erstellt_von", "geaendert_am", "geaendert_von"]
    rows = cur.execute(f"SELECT {', '.join(cols)} FROM empfehlung ORDER BY id").fetchall()  # noqa: S608 - fixed columns
    recs = {}
    for r in rows:
        rec = dict(zip(cols, r))
        for k in COLUMN_FIELDS:
            rec[k] = _norm_value(k, rec[k])
        rec["sozialraeume"] = []
        rec["indikatoren"] = []
        recs[rec["id"]] = rec
    for key, (table, col) in LINK_FIELDS.items():
        for eid, other in cur.execute(f"SELECT empfehlung_id, {col} FROM {table} ORDER BY 1, 2").fetchall():  # noqa: S608
            if eid in recs:
                recs[eid][key].append(other)
    return recs


def get(con, rec_id: str) -> dict | None:
    cur = con.cursor()
    try:
        return _records(cur).get(rec_id)
    finally:
        cur.close()


def history(con, rec_id: str | None = None) -> pd.DataFrame:
    sql = "SELECT id, empfehlung_id, feld, alt, neu, begruendung, benutzer, zeitpunkt FROM empfehlung_verlauf"
    params = []
    if rec_id is not None:
        sql += " WHERE empfehlung_id = ?"
        params.append(rec_id)
    df = db.query_df(con, sql + " ORDER BY zeitpunkt, id", params)
    df["feld_label"] = df["feld"].map(lambda f: FIELDS.get(f, ("Angelegt" if f == CREATED else f, ""))[0])
    return df


def _last_changes(cur, until: datetime | None = None) -> dict[str, datetime]:
    sql = "SELECT empfehlung_id, max(zeitpunkt) FROM empfehlung_verlauf"
    params = []
    if until is not None:
        sql += " WHERE zeitpunkt <= ?"
        params.append(until)
    return dict(cur.execute(sql + " GROUP BY 1", params).fetchall())


def _frame(recs: list[dict], last: dict[str, datetime], today: date, months: int, areas: pd.DataFrame,
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
        r["ohne_aktualisierung"] = bool(lc is not None and _as_date(lc) < stale_before and rec["status"] in NEEDS_UPDATES
                                        and not rec["ausgeschieden"])
        r["sozialraum_namen"] = [sr_name.get(s, s) for s in rec["sozialraeume"]]
        bez = sorted({sr_bez.get(s) for s in rec["sozialraeume"] if sr_bez.get(s)})
        r["bezirk_ids"] = bez
        r["bezirke"] = [bez_name.get(b, b) for b in bez]
        r["indikator_namen"] = [ind_names.get(i, i) for i in rec["indikatoren"]]
        rows.append(r)
    return pd.DataFrame(rows, columns=cols)


def _lookups(con):
    from quartier.values import indicators

    areas = indicators.areas(con)
    ind = indicators.catalogue(con)
    return areas, dict(zip(ind["id"], ind["name"]))


def catalogue_frame(con, today: date | None = None) -> pd.DataFrame:
    """The whole catalogue (including internal and retired recommendations) with derived flags for ``today``."""
    today = today or date.today()
    cur = con.cursor()
    try:
        recs = list(_records(cur).values())
        last = _last_changes(cur)
    finally:
        cur.close()
    areas, ind_names = _lookups(con)
    return _frame(recs, last, today, stale_months(con), areas, ind_names)


def may_see_internal(actor) -> bool:
    return actor is not None and isinstance(actor, access.Actor) and actor.has(access.EDITOR)


def visible(df: pd.DataFrame, actor) -> pd.DataFrame:
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


def listing(con, actor=None, today: date | None = None, **filters) -> pd.DataFrame:
    """The catalogue as the actor may see it, filtered (see :func:`filter_frame`)."""
    return filter_frame(visible(catalogue_frame(con, today), actor), **filters)


def hints(rec: dict) -> list[str]:
    """Consistency hints (never applied automatically)."""
    out = []
    p, s = rec.get("fortschritt"), rec.get("status")
    if s in DONE and p is not None and p < 100:
        out.append(f"Status „{s}“, aber Fortschritt {p} %: bitte den Fortschritt prüfen (er wird nicht automatisch gesetzt).")
    if s == "offen" and p:
        out.append(f"Status „offen“, aber Fortschritt {p} %: bitte Status oder Fortschritt prüfen.")
    if s in DONE and not rec.get("ende_ist"):
        out.append(f"Status „{s}“ ohne tatsächliches Ende: bitte das Datum eintragen.")
    if s in ("in Umsetzung",) + DONE and not rec.get("beginn_ist"):
        out.append(f"Status „{s}“ ohne tatsächlichen Beginn: bitte das Datum eintragen.")
    if rec.get("ebene") == "Sozialraum" and not rec.get("sozialraeume"):
        out.append("Ebene „Sozialraum“, aber kein Sozialraum zugeordnet.")
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
    return errs


def _now(now: datetime | None) -> datetime:
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


def new_record(**values) -> dict:
    """A complete record with defaults for a new recommendation."""
    rec = {k: _norm_value(k, None) for k in FIELDS}
    rec.update({"ebene": "Sozialraum", "status": "offen", "oeffentlich": True, "ausgeschieden": False, "beispiel": False})
    for k, v in values.items():
        if k in FIELDS:
            rec[k] = _norm_value(k, v)
    return rec


def _insert(cur, rec_id: str, rec: dict, justification, user, when) -> None:
    cols = COLUMN_FIELDS
    vals = [_db_value(k, rec[k]) for k in cols]
    cur.execute(
        f"INSERT INTO empfehlung (id, {', '.join(cols)}, erstellt_am, erstellt_von, geaendert_am, geaendert_von)"  # noqa: S608
        f" VALUES (?, {', '.join('?' for _ in cols)}, ?, ?, ?, ?)",
        [rec_id] + vals + [when, user, when, user],
    )
    for key in LINK_FIELDS:
        _write_links(cur, rec_id, key, rec[key])
    _log(cur, rec_id, CREATED, None, json.dumps({k: to_text(k, rec[k]) for k in FIELDS}, ensure_ascii=False),
         justification, user, when)


def _update(cur, rec_id: str, old: dict, changes: dict, justification, user, when) -> list[tuple[str, str, str]]:
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
                    [_db_value(k, v) for k, v in col_changes] + [when, user, rec_id])
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
    merged.update({k: _norm_value(k, v) for k, v in changes.items()})
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
    when = _now(now)
    with db.transaction(con) as cur:
        if cur.execute("SELECT 1 FROM empfehlung WHERE id = ?", [rec_id]).fetchone():
            raise CatalogueError(f"Die Nummer {rec_id} ist schon vergeben: bitte eine andere wählen.")
        _insert(cur, rec_id, rec, justification, actor.name, when)
        db.audit(cur, actor.name, "empfehlung_anlegen", rec_id, rec["titel"])
    return get(con, rec_id)


def update(con, actor, rec_id: str, changes: dict, justification: str | None = None, now: datetime | None = None) -> list:
    """Change any fields of one recommendation; returns [(field, old, new)] (empty when nothing changed)."""
    access.require(actor, access.EDITOR, "Handlungsempfehlungen ändern")
    old = get(con, rec_id)
    if old is None:
        raise CatalogueError(f"Handlungsempfehlung {rec_id} gibt es nicht.")
    _check_change(con, rec_id, old, changes, justification)
    with db.transaction(con) as cur:
        diff = _update(cur, rec_id, old, changes, (justification or "").strip() or None, actor.name, _now(now))
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
        recs = _records(cur)
    finally:
        cur.close()
    missing = [r for r in rec_ids if r not in recs]
    if missing:
        raise CatalogueError(f"Handlungsempfehlung(en) {', '.join(missing)} gibt es nicht.")
    when = _now(now)
    n = 0
    with db.transaction(con) as cur:
        for rid in rec_ids:
            if _update(cur, rid, recs[rid], {"status": status}, justification.strip(), actor.name, when):
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


def rollup(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """Counts per status by ``handlungsfeld`` or ``sozialraum`` (city-wide ones as "stadtweit"); long format."""
    if df.empty:
        return pd.DataFrame(columns=[by, "status", "anzahl"])
    if by == "sozialraum":
        d = df.assign(sozialraum=df.apply(
            lambda r: r["sozialraum_namen"] if (r["ebene"] == "Sozialraum" and r["sozialraum_namen"]) else ["stadtweit"],
            axis=1)).explode("sozialraum")
    else:
        d = df
    g = d.groupby([by, "status"]).size().rename("anzahl").reset_index()
    g["status"] = pd.Categorical(g["status"], STATUS_NAMES, ordered=True)
    return g.sort_values([by, "status"]).reset_index(drop=True)


def rollup_wide(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """The roll-up as a table: one row per group, one column per status, plus total."""
    long = rollup(df, by)
    if long.empty:
        return pd.DataFrame(columns=[by, *STATUS_NAMES, "gesamt"])
    wide = long.pivot_table(index=by, columns="status", values="anzahl", aggfunc="sum", fill_value=0, observed=False)
    wide = wide.reindex(columns=list(STATUS_NAMES), fill_value=0)
    wide["gesamt"] = wide.sum(axis=1)
    return wide.reset_index()


def changed_since(con, since: date | datetime, actor=None) -> pd.DataFrame:
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


# --------------------------------------------------------------------------------------------
# Berichtsstände (frozen snapshots)


def state_at(con, when: datetime) -> list[dict]:
    """The catalogue as it was at ``when``: the current state with every later change undone."""
    cur = con.cursor()
    try:
        recs = _records(cur)
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
    return list(recs.values())


SNAPSHOT_FIELDS = ["id"] + list(FIELDS) + ["letzte_aenderung", "ueberfaellig", "ohne_aktualisierung", "sozialraum_namen"]


def create_snapshot(con, actor, name: str, stichtag: date | None = None, now: datetime | None = None) -> int:
    """Freeze the catalogue as at the end of ``stichtag`` (default today) under ``name``; returns the id."""
    access.require(actor, access.EDITOR, "einen Berichtsstand anlegen")
    name = (name or "").strip()
    if not name:
        raise CatalogueError("Bitte einen Namen für den Berichtsstand eintragen (z. B. „JHA 12.03.2026“).")
    when = _now(now)
    stichtag = stichtag or when.date()
    if stichtag > when.date():
        raise CatalogueError("Der Stichtag eines Berichtsstands darf nicht in der Zukunft liegen.")
    end = datetime.combine(stichtag, time.max)
    recs = state_at(con, end)
    cur = con.cursor()
    try:
        last = _last_changes(cur, end)
    finally:
        cur.close()
    areas, ind_names = _lookups(con)
    frame = _frame(recs, last, stichtag, stale_months(con), areas, ind_names)
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
    data = json.dumps({"stichtag": stichtag.isoformat(), "frist_monate": stale_months(con), "empfehlungen": rows},
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


def load_snapshot(con, snapshot_id: int, actor=None) -> pd.DataFrame:
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


def compare_snapshots(con, a_id: int, b_id: int, actor=None) -> pd.DataFrame:
    """Differences from Berichtsstand A to B: one row per recommendation and changed field (plus new/missing)."""
    a = load_snapshot(con, a_id, actor).set_index("id")
    b = load_snapshot(con, b_id, actor).set_index("id")
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
                out.append({"id": rid, "titel": b.at[rid, "titel"], "feld": label, "a": _show(va), "b": _show(vb)})
    return pd.DataFrame(out, columns=["id", "titel", "feld", "a", "b"])


def _show(v) -> str:
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


# --------------------------------------------------------------------------------------------
# Wirkungsblick


LIMITS_STATEMENT = (
    "Was die Daten zeigen können: wie sich die Kennzahl in den Ziel-Sozialräumen vor und nach dem Start der "
    "Maßnahme entwickelt hat, verglichen mit der übrigen Stadt. Was sie nicht zeigen können: ob die Maßnahme "
    "die Veränderung bewirkt hat. Die übrige Stadt ist keine Kontrollgruppe; gleichzeitige Entwicklungen "
    "(Zuzug, Konjunktur, andere Angebote, geänderte Erhebung), kleine Fallzahlen und Zufallsschwankungen "
    "können Unterschiede ebenso erklären. Kennzahlen reagieren oft erst Jahre später."
)


def effect(con, rec_id: str, actor=None, years_before: int = 3) -> dict:
    """Wirkungsblick data: pooled indicator values in the target Sozialräume vs. the rest of the city.

    Returns {"start", "start_quelle", "start_jahr", "ziel", "hinweise", "indikatoren": [{id, name, einheit,
    richtung, reihe (DataFrame jahr/gruppe/wert/zaehler/nenner), vorher/nachher per group, aussage}], "grenzen"}.
    Years before the start year count as "vorher" (at most ``years_before``), years after it as "nachher";
    the start year itself is a transition year and belongs to neither.
    """
    from quartier import format as fmt
    from quartier.values import indicators

    rec = get(con, rec_id)
    if rec is None or (not may_see_internal(actor) and (not rec["oeffentlich"] or rec["ausgeschieden"])):
        raise CatalogueError(f"Handlungsempfehlung {rec_id} gibt es nicht.")
    out = {"id": rec_id, "titel": rec["titel"], "ziel": rec["sozialraeume"], "indikatoren": [], "hinweise": [],
           "grenzen": LIMITS_STATEMENT}
    start, source = (rec["beginn_ist"], "tatsächlicher Beginn") if rec["beginn_ist"] else (rec["beginn_geplant"], "geplanter Beginn")
    out["start"], out["start_quelle"] = start, source
    out["start_jahr"] = start.year if start else None
    if start is None:
        out["hinweise"].append("Die Empfehlung hat noch kein Startdatum: ohne Start gibt es kein Vorher und Nachher.")
    if not rec["indikatoren"]:
        out["hinweise"].append("Der Empfehlung sind keine Kennzahlen zugeordnet.")
    if rec["ebene"] == "stadtweit" or not rec["sozialraeume"]:
        out["hinweise"].append("Die Empfehlung wirkt stadtweit: es gibt keine übrige Stadt zum Vergleich, gezeigt "
                               "wird nur die Entwicklung der Gesamtstadt.")
    if start is None or not rec["indikatoren"]:
        return out
    cat = indicators.catalogue(con).set_index("id")
    values = indicators.current_values(con, rec["indikatoren"], actor=actor)
    target = set(rec["sozialraeume"])
    for iid in rec["indikatoren"]:
        meta = cat.loc[iid]
        unit, direction = meta["einheit"], meta["richtung"]
        v = values[values["indikator_id"] == iid].copy()
        if target and rec["ebene"] != "stadtweit":
            v["gruppe"] = v["sozialraum_id"].map(lambda s: "Ziel-Sozialräume" if s in target else "übrige Stadt")
        else:
            v["gruppe"] = "Gesamtstadt"
        series = indicators.aggregate(v, unit, ["gruppe", "jahr"]) if not v.empty else pd.DataFrame(
            columns=["gruppe", "jahr", "wert", "zaehler", "nenner", "n"])
        y0 = out["start_jahr"]
        before_years = sorted(y for y in series["jahr"].unique() if y < y0)[-years_before:]
        after_years = sorted(y for y in series["jahr"].unique() if y > y0)
        periods = {}
        for grp in series["gruppe"].unique():
            part = v[v["gruppe"] == grp]
            pb = indicators.aggregate(part[part["jahr"].isin(before_years)].assign(g=1), unit, ["g"]) if before_years else None
            pa = indicators.aggregate(part[part["jahr"].isin(after_years)].assign(g=1), unit, ["g"]) if after_years else None
            periods[grp] = {
                "vorher": None if pb is None or pb.empty else _f(pb["wert"].iloc[0]),
                "nachher": None if pa is None or pa.empty else _f(pa["wert"].iloc[0]),
                "basis_vorher": None if pb is None or pb.empty else _f(pb["nenner"].iloc[0]),
                "basis_nachher": None if pa is None or pa.empty else _f(pa["nenner"].iloc[0]),
            }
            periods[grp]["veraenderung"] = (None if periods[grp]["vorher"] is None or periods[grp]["nachher"] is None
                                            else periods[grp]["nachher"] - periods[grp]["vorher"])
        statement = _effect_statement(meta["name"], unit, direction, y0, before_years, after_years, periods, fmt)
        small = [g for g, p in periods.items()
                 if any(b is not None and b < SMALL_BASE for b in (p["basis_vorher"], p["basis_nachher"]))]
        if small:
            statement += (f" Achtung: kleine Basis ({', '.join(small)}: weniger als {SMALL_BASE} Fälle im Nenner je "
                          "Zeitraum) – schon wenige Fälle verschieben den Wert deutlich.")
        out["indikatoren"].append({
            "id": iid, "name": meta["name"], "kurzname": meta["kurzname"] or meta["name"], "einheit": unit, "richtung": direction, "reihe": series,
            "vorher_jahre": before_years, "nachher_jahre": after_years, "perioden": periods, "aussage": statement,
        })
    return out


SMALL_BASE = 100        # pooled denominator below this is flagged as a small base
SAME_DEVELOPMENT = 0.5  # difference of changes (in the indicator's unit) described as "about the same"


def _f(v):
    return None if v is None or pd.isna(v) else float(v)


def _span(years: list[int]) -> str:
    if not years:
        return "–"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _effect_statement(name, unit, direction, y0, before, after, periods, fmt) -> str:
    if not after:
        return (f"{name}: Für die Jahre nach dem Startjahr {y0} liegen noch keine Werte vor. "
                "Über eine Entwicklung lässt sich noch nichts sagen.")
    if not before:
        return f"{name}: Für die Jahre vor dem Startjahr {y0} liegen keine Werte vor; ein Vorher-Nachher ist nicht möglich."
    parts = []
    for grp, p in periods.items():
        if p["veraenderung"] is None:
            parts.append(f"{grp}: nicht berechenbar (Werte fehlen oder sind geschützt)")
            continue
        parts.append(f"{grp} von {fmt.value(p['vorher'], unit)} ({_span(before)}) auf {fmt.value(p['nachher'], unit)} "
                     f"({_span(after)}), {fmt.change(p['veraenderung'], unit)}")
    text = f"{name}: " + "; ".join(parts)
    text = text if text.endswith(".") else text + "."
    t, r = periods.get("Ziel-Sozialräume"), periods.get("übrige Stadt")
    if t and r and t["veraenderung"] is not None and r["veraenderung"] is not None and direction in ("higher", "lower"):
        diff = t["veraenderung"] - r["veraenderung"]
        better = diff < 0 if direction == "higher" else diff > 0
        se = _se_of_difference(unit, t, r)
        if abs(diff) < SAME_DEVELOPMENT:
            text += (" Die Ziel-Sozialräume haben sich etwa wie die übrige Stadt entwickelt "
                     f"(Unterschied unter {fmt.number(SAME_DEVELOPMENT)}).")
        else:
            amount = fmt.change(abs(diff), unit).lstrip("+")
            text += (f" Die Ziel-Sozialräume haben sich um {amount} "
                     f"{'günstiger' if better else 'ungünstiger'} entwickelt als die übrige Stadt "
                     "(gemessen an der Richtung des Indikators).")
            if se is not None and abs(diff) < 2 * se:
                text += (" Der Unterschied liegt innerhalb der Zufallsschwankung, die bei diesen Fallzahlen zu erwarten ist "
                         f"(grobe Abschätzung: ±{fmt.change(2 * se, unit).lstrip('+')}).")
            elif se is not None:
                text += (" Er ist größer als die bei diesen Fallzahlen zu erwartende Zufallsschwankung (grobe Abschätzung: "
                         f"±{fmt.change(2 * se, unit).lstrip('+')}) – ein Hinweis, aber kein Beleg für eine Wirkung.")
            text += " Das ist eine Beschreibung, kein Wirkungsnachweis."
    return text


def _se_of_difference(unit, t: dict, r: dict) -> float | None:
    """Rough standard error of (change in target) - (change in rest) for a rate with pooled bases; None for counts."""
    f = {"%": 100.0}.get((unit or "").strip(), 1000.0 if "1.000" in (unit or "") else None)
    if f is None:
        return None
    var = 0.0
    for p in (t, r):
        for k in ("vorher", "nachher"):
            v, n = p[k], p[f"basis_{k}"]
            if v is None or not n:
                return None
            q = min(max(v / f, 0.0), 1.0)
            var += q * (1 - q) / n * f * f
    return var ** 0.5


# --------------------------------------------------------------------------------------------
# Demo


DEMO_FILES = ("empfehlungen.csv", "empfehlungen_aenderungen.csv")
DEMO_REFERENCE_DATE = date(2026, 11, 1)   # the demo's history ends before this day (tests use it as "today")
DEMO_SNAPSHOTS = (("Bericht JHA März 2025", date(2025, 3, 12)), ("Bericht JHA September 2026", date(2026, 9, 16)))
_DEMO_ONLY = ("Datum", "Benutzer")


def load_demo(con, demo_dir=None) -> dict:
    """Load the example recommendations (Beispiel) through the import, replaying their history with fixed dates.

    ``empfehlungen.csv`` holds the catalogue as decided (in the import format plus the demo-only columns
    "Datum" and "Benutzer"); ``empfehlungen_aenderungen.csv`` holds later updates, one per row, each carrying
    only the fields it changes. Existing recommendations, history and Berichtsstände are replaced.
    """
    from pathlib import Path

    from quartier.actions import excel as catalogue_io

    base = Path(demo_dir) if demo_dir else Path(__file__).resolve().parents[2] / "data" / "demo"
    with db.transaction(con) as cur:
        for table in ("empfehlung", "empfehlung_sozialraum", "empfehlung_indikator", "empfehlung_verlauf", "berichtsstand"):
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        db.audit(cur, "demo", "empfehlungen_demo_leeren", None, None)
    n_changes = 0
    for fname in DEMO_FILES:
        sheet = catalogue_io.read_sheet(base / fname)
        idx = {h: i for i, h in enumerate(sheet.header)}
        keep = [i for i, h in enumerate(sheet.header) if h not in _DEMO_ONLY]
        groups: list[tuple[str, str, list]] = []
        for rownum, values in sheet.rows:
            if not any(str(v).strip() for v in values):
                continue
            when, who = values[idx["Datum"]], values[idx["Benutzer"]]
            if fname == DEMO_FILES[0]:
                cols = keep          # the catalogue: every column
            else:                    # an update: only the non-empty cells (plus Nummer)
                cols = [i for i in keep if str(values[i]).strip() or sheet.header[i] == "Nummer"]
            groups.append((when, who, [(rownum, [values[i] for i in cols], [sheet.header[i] for i in cols])]))
        # merge consecutive catalogue rows with the same date and user into one import
        merged: list[tuple[str, str, list]] = []
        for g in groups:
            if fname == DEMO_FILES[0] and merged and merged[-1][:2] == g[:2]:
                merged[-1][2].extend(g[2])
            else:
                merged.append(g)
        for when, who, rows in merged:
            header = rows[0][2]
            part = catalogue_io.Sheet(sheet.name, header, [(r, v) for r, v, _ in rows])
            res = catalogue_io.import_sheet(con, access.Actor(who, access.EDITOR), part, fname,
                                            now=datetime.combine(date.fromisoformat(when), time(9, 0)))
            if res.errors:
                raise CatalogueError("Demo-Empfehlungen fehlerhaft: " + "; ".join(e["message"] for e in res.errors))
            n_changes += res.new + res.changed
    admin = access.Actor("jugendhilfeplanung", access.EDITOR)
    for name, day in DEMO_SNAPSHOTS:
        create_snapshot(con, admin, name, day, now=datetime.combine(day, time(18, 0)))
    n = con.cursor().execute("SELECT count(*) FROM empfehlung").fetchone()[0]
    return {"empfehlungen": int(n), "aenderungen": n_changes, "berichtsstaende": len(DEMO_SNAPSHOTS)}
