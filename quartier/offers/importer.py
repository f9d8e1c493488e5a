"""Import of offers from Excel/CSV (through :mod:`quartier.uploads`) or GeoJSON points.

Preview first (new / changed / unchanged / closed), per-cell German errors, then all or nothing with
history, audit and a backup before writing. The file is the complete list of offers: an offer stored
before and missing from the file is marked closed (``status = 'geschlossen'``, kept in the history).
The same file again changes nothing.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from pyproj import Transformer

from quartier import access, db, settings, uploads
from quartier.access import Actor
from quartier.admin import backup
from quartier.areas import geometry as geo
from quartier.ingest.match import Matcher
from quartier.names import normalize
from quartier.offers import catalogue
from quartier.offers.store import OfferError, city_geometry, to_metric_xy

FIELDS = ["id", "name", "kategorie", "traeger", "adresse", "plaetze", "zielgruppe", "beginn", "ende",
          "lon", "lat", "sozialraum_id"]
COMPARED = [f for f in FIELDS if f != "id"]
LABELS = {"id": "Id", "name": "Name", "kategorie": "Kategorie", "traeger": "Träger", "adresse": "Adresse",
          "plaetze": "Plätze", "zielgruppe": "Zielgruppe", "beginn": "Beginn", "ende": "Ende", "lat": "Breitengrad",
          "lon": "Längengrad", "rechtswert": "Rechtswert", "hochwert": "Hochwert", "sozialraum": "Sozialraum"}
HEADERS = {
    "id": ("id", "nr", "nummer", "angebotid", "angebotsnr", "kennung"),
    "name": ("name", "bezeichnung", "einrichtung", "angebot", "angebotsname", "einrichtungsname"),
    "kategorie": ("kategorie", "art", "typ", "angebotsart", "einrichtungsart"),
    "traeger": ("traeger", "traegerin", "traegerschaft"),
    "adresse": ("adresse", "anschrift", "strasse", "strassehausnummer"),
    "plaetze": ("plaetze", "platzzahl", "kapazitaet", "anzahlplaetze", "plaetzeanzahl"),
    "zielgruppe": ("zielgruppe", "zielgruppen", "altersgruppe"),
    "beginn": ("beginn", "start", "seit", "eroeffnung", "eroeffnet", "von"),
    "ende": ("ende", "bis", "schliessung", "geschlossen"),
    "lat": ("breitengrad", "breite", "lat", "latitude", "geobreite"),
    "lon": ("laengengrad", "laenge", "lon", "lng", "longitude", "geolaenge"),
    "rechtswert": ("rechtswert", "ostwert", "easting", "utmx", "xkoordinate", "x"),
    "hochwert": ("hochwert", "nordwert", "northing", "utmy", "ykoordinate", "y"),
    "sozialraum": ("sozialraum", "sozialraumid", "sozialraumnr", "gebiet", "planungsraum"),
}
_BY_HEADER = {h: k for k, names in HEADERS.items() for h in names}


@dataclass
class SourceRow:
    sheet: str
    line: int                      # 1-based row in the sheet (GeoJSON: feature number)
    values: dict[str, Any]         # field -> raw value
    cols: dict[str, int]           # field -> 0-based column (absent for GeoJSON)


@dataclass
class OfferImport:
    """The preview of one file: checked records, the difference to the stored offers, errors and warnings."""

    file: str
    sha256: str
    records: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    new_categories: list[str] = field(default_factory=list)

    def report(self, status: str) -> dict:
        return {"file": self.file, "status": status,
                "rows": {"new": len(self.new), "changed": len(self.changed), "unchanged": len(self.unchanged),
                         "closed": len(self.closed)},
                "errors": list(self.errors), "warnings": list(self.warnings)}


def _issue(row: SourceRow | None, fld: str, value: Any, rule: str, message: str) -> dict:
    cell = ""
    if row is not None and fld in row.cols:
        cell = f"{get_column_letter(row.cols[fld] + 1)}{row.line}"
    elif row is not None:
        cell = f"Objekt {row.line}" if not row.cols else f"Zeile {row.line}"
    return {"sheet": row.sheet if row else "", "cell": cell, "column": LABELS.get(fld, fld),
            "value": "" if value is None else str(value), "rule": rule, "message": message}


# ------------------------------------------------------------------------------------------------
# Reading


def read_source(data: bytes, filename: str) -> list[SourceRow]:
    """Rows of an Excel/CSV file (header row found tolerantly) or the features of a GeoJSON file."""
    if filename.lower().endswith((".geojson", ".json")):
        if len(data) > uploads.MAX_UPLOAD_BYTES:
            raise uploads.FileRejected("Die GeoJSON-Datei überschreitet das Upload-Limit. Bitte aufteilen.", "zu_gross")
        return _geojson_rows(data, filename)
    book = uploads.read_book(data, filename)
    for sheet in book.sheets:
        head_at, cols = _find_header(sheet.rows)
        if head_at is None:
            continue
        out = []
        for r, raw in enumerate(sheet.rows[head_at + 1:], start=head_at + 2):
            vals = {k: _clean(raw[c]) if c < len(raw) else None for k, c in cols.items()}
            if any(v is not None for v in vals.values()):
                out.append(SourceRow(sheet.name, r, vals, cols))
        return out
    raise OfferError("In der Datei wurde keine Kopfzeile mit den Spalten „Name“ und „Kategorie“ gefunden. "
                     "Bitte die Vorlage verwenden (`angebote template --out Vorlage.xlsx`).")


def _clean(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _find_header(rows: list[list[Any]]) -> tuple[int | None, dict[str, int]]:
    for i, row in enumerate(rows[:15]):
        cols: dict[str, int] = {}
        for c, h in enumerate(row):
            key = _BY_HEADER.get(normalize(h))
            if key and key not in cols:
                cols[key] = c
        if "name" in cols and "kategorie" in cols:
            return i, cols
    return None, {}


def _geojson_rows(data: bytes, filename: str) -> list[SourceRow]:
    try:
        doc = json.loads(uploads.decode_text(data))
    except json.JSONDecodeError as exc:
        raise OfferError(f"{filename}: keine gültige GeoJSON-Datei ({exc}).") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise OfferError(f"{filename}: kein GeoJSON (FeatureCollection mit Punkten erwartet).")
    crs = geo.detect_crs(doc, filename)
    tr = None if crs == "EPSG:4326" else Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out = []
    for n, f in enumerate(doc.get("features") or [], start=1):
        props = {_BY_HEADER.get(normalize(k)): _clean(v) for k, v in (f.get("properties") or {}).items()}
        vals = {k: v for k, v in props.items() if k}
        g = f.get("geometry") or {}
        if g.get("type") == "Point" and len(g.get("coordinates") or []) >= 2:
            x, y = (float(c) for c in g["coordinates"][:2])
            vals["lon"], vals["lat"] = tr.transform(x, y) if tr else (x, y)
        out.append(SourceRow("GeoJSON", n, vals, {}))
    return out


# ------------------------------------------------------------------------------------------------
# Checking


def _number(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).replace(" ", "").replace("\u00a0", "")
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    return float(s)


def _date(v: Any) -> date | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and 1900 <= float(v) <= 2200 and float(v).is_integer():
        return date(int(v), 1, 1)
    s = str(v).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S", "%m/%Y", "%m.%Y"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    if s.isdigit() and len(s) == 4:
        return date(int(s), 1, 1)
    raise ValueError(s)


def stable_id(rec: dict) -> str:
    """An id for a row without one: from name, category and address (the same row keeps its id)."""
    key = "|".join(normalize(rec.get(k)) for k in ("name", "kategorie", "adresse"))
    return "A-" + hashlib.sha1(key.encode()).hexdigest()[:10]


class _Checker:
    def __init__(self, con: db.Con, accept_categories: list[str]):
        self.cats = {normalize(n): n for n in catalogue.categories(con)["name"]}
        self.accept = {normalize(c): c.strip() for c in accept_categories}
        self.matcher = Matcher(con)
        self.city = city_geometry(con)
        self.zone = settings.read_int(con, "angebote_utm_zone")
        self.utm = Transformer.from_crs(f"EPSG:258{self.zone}", "EPSG:4326", always_xy=True)

    def check(self, row: SourceRow, rep: OfferImport) -> dict | None:
        v, errs = row.values, len(rep.errors)
        rec: dict[str, Any] = {k: None for k in FIELDS}
        for k in ("name", "traeger", "adresse", "zielgruppe"):
            rec[k] = None if v.get(k) is None else str(v[k]).strip()
        if not rec["name"]:
            rep.errors.append(_issue(row, "name", None, "pflichtfeld", "Der Name des Angebots fehlt."))
        rec["kategorie"] = self._category(row, rep)
        self._places(row, rec, rep)
        for k in ("beginn", "ende"):
            try:
                rec[k] = _date(v.get(k))
            except ValueError:
                rep.errors.append(_issue(row, k, v.get(k), "datum",
                                         f"„{v.get(k)}“ ist kein Datum. Bitte TT.MM.JJJJ, JJJJ-MM-TT oder ein Jahr angeben."))
        if rec["beginn"] and rec["ende"] and rec["ende"] < rec["beginn"]:
            rep.errors.append(_issue(row, "ende", v.get("ende"), "datum", "Das Ende liegt vor dem Beginn."))
        self._location(row, rec, rep)
        if len(rep.errors) > errs:
            return None
        rec["id"] = str(v["id"]).strip() if v.get("id") is not None else stable_id(rec)
        if isinstance(v.get("id"), float) and float(v["id"]).is_integer():
            rec["id"] = str(int(v["id"]))
        return rec

    def _category(self, row: SourceRow, rep: OfferImport) -> str | None:
        raw = row.values.get("kategorie")
        if raw is None:
            rep.errors.append(_issue(row, "kategorie", None, "pflichtfeld", "Die Kategorie fehlt."))
            return None
        k = normalize(raw)
        if k in self.cats:
            return self.cats[k]
        if k in self.accept:
            if self.accept[k] not in rep.new_categories:
                rep.new_categories.append(self.accept[k])
            return self.accept[k]
        near = difflib.get_close_matches(k, list(self.cats), n=1, cutoff=0.6)
        hint = f" Meinten Sie „{self.cats[near[0]]}“?" if near else ""
        rep.errors.append(_issue(row, "kategorie", raw, "kategorie",
                                 f"Unbekannte Kategorie „{raw}“.{hint} Eine neue Kategorie bitte ausdrücklich bestätigen "
                                 "(--neue-kategorie NAME) oder im Katalog anlegen."))
        return None

    def _places(self, row: SourceRow, rec: dict, rep: OfferImport) -> None:
        raw = row.values.get("plaetze")
        try:
            p = _number(raw)
        except ValueError:
            rep.errors.append(_issue(row, "plaetze", raw, "zahl", f"„{raw}“ ist keine Zahl. Plätze bitte als ganze Zahl angeben."))
            return
        if p is not None and p < 0:
            rep.errors.append(_issue(row, "plaetze", raw, "negativ", "Die Zahl der Plätze darf nicht negativ sein."))
            return
        rec["plaetze"] = p

    def _location(self, row: SourceRow, rec: dict, rep: OfferImport) -> None:
        v = row.values
        lon = lat = None
        try:
            if v.get("lon") is not None or v.get("lat") is not None:
                lon, lat = _number(v.get("lon")), _number(v.get("lat"))
                fld = "lat"
            elif v.get("rechtswert") is not None or v.get("hochwert") is not None:
                e, n = _number(v.get("rechtswert")), _number(v.get("hochwert"))
                fld = "rechtswert"
                if e is not None and n is not None:
                    lon, lat = self.utm.transform(e, n)
        except ValueError:
            rep.errors.append(_issue(row, "lat" if v.get("lat") is not None else "rechtswert", v.get("lat") or v.get("rechtswert"),
                                     "zahl", "Die Koordinate ist keine Zahl."))
            return
        sr_raw = v.get("sozialraum")
        sr = self.matcher.match("sozialraum", sr_raw) if sr_raw is not None else None
        if sr_raw is not None and sr is None:
            near = self.matcher.suggest("sozialraum", sr_raw)
            hint = f" Meinten Sie „{self.matcher.label('sozialraum', near)}“ ({near})?" if near else ""
            rep.errors.append(_issue(row, "sozialraum", sr_raw, "sozialraum", f"Unbekannter Sozialraum „{sr_raw}“.{hint}"))
            return
        if lon is None or lat is None:
            if (v.get("lon") is not None or v.get("lat") is not None or v.get("rechtswert") is not None
                    or v.get("hochwert") is not None):
                rep.errors.append(_issue(row, fld, v.get(fld), "koordinate", "Es ist nur eine der beiden Koordinaten angegeben."))
            elif sr is None:
                msg = ("Zu dieser Adresse fehlen Koordinaten. Adressen werden nicht automatisch verortet (keine Verbindung nach "
                       "außen): bitte Breitengrad/Längengrad oder Rechtswert/Hochwert eintragen, oder wenigstens den Sozialraum."
                       if rec.get("adresse") else "Es fehlt der Ort: bitte Breitengrad/Längengrad, Rechtswert/Hochwert oder den "
                                                  "Sozialraum angeben.")
                rep.errors.append(_issue(row, "adresse" if rec.get("adresse") else "sozialraum", rec.get("adresse"), "ort", msg))
            else:
                rec["sozialraum_id"] = sr
                rep.warnings.append(_issue(row, "sozialraum", sr_raw, "nur_sozialraum",
                                           f"„{rec.get('name')}“ hat nur einen Sozialraum, keine Koordinaten: es zählt in "
                                           f"{self.matcher.label('sozialraum', sr)}, aber nicht in der Erreichbarkeit."))
            return
        x, y = to_metric_xy([lon], [lat])
        inside = self.city.locate(x, y)[0]
        if inside is None:
            rep.errors.append(_issue(row, fld, f"{lat:.6f}, {lon:.6f}" if fld == "lat" else v.get(fld), "ausserhalb",
                                     "Die Koordinaten liegen außerhalb der Stadt. Bitte prüfen (vertauschte Breite/Länge? "
                                     f"Rechtswert/Hochwert in einer anderen UTM-Zone als {self.zone}N?)."))
            return
        if sr is not None and sr != inside:
            rep.warnings.append(_issue(row, "sozialraum", sr_raw, "sozialraum_abweichend",
                                       f"Laut Koordinaten liegt „{rec.get('name')}“ in {self.matcher.label('sozialraum', inside)}, "
                                       f"nicht in {self.matcher.label('sozialraum', sr)}; es zählt dort, wo die Koordinaten liegen."))
        rec["lon"], rec["lat"], rec["sozialraum_id"] = round(float(lon), 7), round(float(lat), 7), inside


# ------------------------------------------------------------------------------------------------
# Preview and commit


def _comparable(rec: dict) -> dict:
    out = {}
    for k in COMPARED:
        val = rec.get(k)
        if val is not None and not isinstance(val, str) and pd.isna(val):
            val = None
        if isinstance(val, (pd.Timestamp, datetime)):
            val = val.date()
        if val is not None and isinstance(val, float) and val != val:
            val = None
        if isinstance(val, date):
            val = val.isoformat()
        if k in ("lon", "lat", "plaetze") and val is not None:
            val = round(float(val), 6)
        out[k] = val
    return out


def analyse(con: db.Con, data: bytes, filename: str, accept_categories: list[str] | None = None) -> OfferImport:
    """Read and check a file and compare it with the stored offers; nothing is written."""
    rep = OfferImport(Path(filename).name, hashlib.sha256(data).hexdigest())
    rows = read_source(data, filename)
    if not rows:
        raise OfferError("Die Datei enthält keine Angebote (nur die Kopfzeile).")
    checker = _Checker(con, accept_categories or [])
    seen: dict[str, SourceRow] = {}
    for row in rows:
        rec = checker.check(row, rep)
        if rec is None:
            continue
        if rec["id"] in seen:
            rep.errors.append(_issue(row, "id", rec["id"], "doppelt",
                                     f"Das Angebot „{rec['id']}“ steht doppelt in der Datei (zuerst in Zeile {seen[rec['id']].line})."))
            continue
        seen[rec["id"]] = row
        rep.records.append(rec)
    stored = {r["id"]: r for r in db.query_df(con, "SELECT * FROM angebot").to_dict("records")}
    for rec in rep.records:
        old = stored.get(rec["id"])
        if old is None:
            rep.new.append(rec["id"])
        elif old["status"] != "aktiv" or _comparable(old) != _comparable(rec):
            rep.changed.append(rec["id"])
        else:
            rep.unchanged.append(rec["id"])
    ids = {r["id"] for r in rep.records}
    rep.closed = sorted(i for i, r in stored.items() if i not in ids and r["status"] == "aktiv")
    if rep.closed:
        rep.warnings.append({"sheet": "", "cell": "", "column": "", "value": "", "rule": "geschlossen",
                             "message": f"{len(rep.closed)} bisher gespeicherte Angebote fehlen in der Datei und werden als "
                                        "geschlossen markiert (sie bleiben im Verlauf)."})
    return rep


def commit(con: db.Con, rep: OfferImport, *, actor: Actor, user_file: str | None = None) -> dict:
    """Write a checked preview: all or nothing, with history, audit and a backup first. Staff only."""
    access.require(actor, access.EDITOR, "Angebote importieren")
    if rep.errors:
        raise OfferError("Die Datei hat Fehler; es wurde nichts übernommen.")
    if not (rep.new or rep.changed or rep.closed or rep.new_categories):
        return rep.report("unchanged")
    backup.before_write(con, reason="angebote-import")
    by_id = {r["id"]: r for r in rep.records}
    with db.transaction(con) as cur:
        stored = {r[0]: r for r in cur.execute("SELECT id FROM angebot").fetchall()}
        for aid in rep.new + rep.changed:
            rec = by_id[aid]
            old = _row_json(cur, aid) if aid in stored else None
            cur.execute("DELETE FROM angebot WHERE id = ?", [aid])
            cur.execute(f"INSERT INTO angebot ({', '.join(FIELDS)}, status, geaendert_von) VALUES "  # noqa: S608
                        f"({', '.join('?' * len(FIELDS))}, 'aktiv', ?)", [rec[k] for k in FIELDS] + [actor.name])
            _history(cur, aid, "geaendert" if old else "neu", old, _comparable(rec), rep.file, actor.name)
        for aid in rep.closed:
            old = _row_json(cur, aid)
            cur.execute("UPDATE angebot SET status = 'geschlossen', geaendert_am = current_timestamp, geaendert_von = ?"
                        " WHERE id = ?", [actor.name, aid])
            _history(cur, aid, "geschlossen", old, None, rep.file, actor.name)
        for name in rep.new_categories:
            n = cur.execute("SELECT count(*) FROM angebot_kategorie").fetchone()[0]
            cur.execute("INSERT INTO angebot_kategorie (name, farbe, symbol, radius_m, sortierung) VALUES (?, ?, ?, 500, ?)"
                        " ON CONFLICT DO NOTHING",
                        [name, catalogue.PALETTE[n % len(catalogue.PALETTE)], catalogue.SYMBOLS[n % len(catalogue.SYMBOLS)], n])
        db.audit(cur, actor.name, "angebote_import", user_file or rep.file,
                 json.dumps({"sha256": rep.sha256, **rep.report("imported")["rows"], "neue_kategorien": rep.new_categories},
                            ensure_ascii=False))
    return rep.report("imported")


def _row_json(cur: db.Con, aid: str) -> dict | None:
    cols = ["id", *COMPARED]
    row = cur.execute(f"SELECT {', '.join(cols)} FROM angebot WHERE id = ?", [aid]).fetchone()  # noqa: S608
    return _comparable(dict(zip(cols, row))) if row else None


def _history(cur: db.Con, aid: str, action: str, before: dict | None, after: dict | None, file: str, user: str) -> None:
    cur.execute("INSERT INTO angebot_verlauf (angebot_id, aktion, vorher, nachher, datei, benutzer) VALUES (?, ?, ?, ?, ?, ?)",
                [aid, action, json.dumps(before, ensure_ascii=False) if before else None,
                 json.dumps(after, ensure_ascii=False) if after else None, file, user])


def read_file(path: str | Path) -> bytes:
    """The bytes of a file given on the command line (regular files, size limit) via the safe reader."""
    return uploads.read_path(path)
