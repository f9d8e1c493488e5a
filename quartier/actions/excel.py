"""Excel/CSV round trip for the Handlungsempfehlungen: export, and import with preview, validation, all-or-nothing commit.

The file format: one sheet "Empfehlungen" (or the first sheet), header in row 1, one recommendation per row,
columns by their labels (see :data:`COLUMNS`). "Nummer" is required; all other columns are optional, so a
file with only "Nummer", "Status", "Fortschritt %" and "Begründung" is a set of status updates. For an existing
recommendation a column present in the file is the new value (an empty cell clears it); columns not in the
file stay as they are. A status change needs a text in "Begründung" of the same row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from quartier import access, db, uploads
from quartier.actions import model, store
from quartier.errors import QuartierError
from quartier.ingest.values import col_letter
from quartier.names import normalize
from quartier.tables import FORMULA_START, to_xlsx_bytes, write_table

SHEET = "Empfehlungen"
ID_LABEL = "Nummer"
REASON_LABEL = "Begründung"
COLUMNS = [ID_LABEL] + [label for label, _ in model.FIELDS.values()] + [REASON_LABEL]
_LABEL_TO_KEY = {normalize(label): key for key, (label, _) in model.FIELDS.items()}
_LABEL_TO_KEY.update({normalize(k): k for k in model.FIELDS})
_LABEL_TO_KEY.update({normalize(ID_LABEL): "id", "id": "id", "nr": "id", normalize(REASON_LABEL): "begruendung",
                      "fortschritt": "fortschritt", "fortschrittinprozent": "fortschritt", "indikatoren": "indikatoren",
                      "sozialraum": "sozialraeume", "kennzahl": "indikatoren", "beteiligte": "beteiligte",
                      "angebot": "angebote", "angebotsids": "angebote",
                      "mitwirkende": "beteiligte", "mitwirkendeaemter": "beteiligte", "prioritat": "prioritaet"})
_BOOL = {"ja": True, "j": True, "x": True, "wahr": True, "true": True, "1": True,
         "nein": False, "n": False, "falsch": False, "false": False, "0": False}
_BOOL_DEFAULT = {"oeffentlich": True, "ausgeschieden": False, "beispiel": False}
_LEVEL = {"sozialraum": "Sozialraum", "sozialraumbezogen": "Sozialraum", "sozialraeume": "Sozialraum",
          "stadtweit": "stadtweit", "gesamtstadt": "stadtweit", "gesamtstaedtisch": "stadtweit"}


class ImportFileError(QuartierError):
    """The file cannot be read at all (exit code 2)."""


@dataclass
class Sheet:
    name: str
    header: list[str]
    rows: list[tuple[int, list]]  # (1-based row number, cell values)


@dataclass
class ImportResult:
    file: str
    status: str = "dry-run"          # imported | dry-run | rejected
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict:
        return {"file": self.file, "status": self.status,
                "counts": {"new": self.new, "changed": self.changed, "unchanged": self.unchanged},
                "errors": self.errors, "warnings": self.warnings, "preview": self.preview}


# --------------------------------------------------------------------------------------------
# Export


def export_frame(con) -> pd.DataFrame:
    """The whole catalogue (including internal and retired entries) in the import format."""
    df = store.catalogue_frame(con, actor=access.SYSTEM)
    rows = []
    for r in df.sort_values("id").to_dict("records"):
        row = {ID_LABEL: r["id"]}
        for key, (label, kind) in model.FIELDS.items():
            v = r[key]
            if kind == "date":
                row[label] = v if v is not None and not pd.isna(v) else None
            elif kind == "int":
                row[label] = None if v is None or pd.isna(v) else int(v)
            else:
                row[label] = model.to_text(key, v)
        row[REASON_LABEL] = None
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def explanation_frame() -> pd.DataFrame:
    rows = [{"Bereich": "Status", "Wert": s.name, "Erläuterung": s.definition} for s in model.STATUSES]
    rows += [{"Bereich": "abgeleitet", "Wert": k, "Erläuterung": v + " Wird berechnet, nicht eingetragen."}
             for k, v in model.FLAG_DEFINITIONS.items()]
    rows += [
        {"Bereich": "Spalte", "Wert": ID_LABEL, "Erläuterung": "Pflicht. Eindeutige Nummer; neue Nummer = neue Empfehlung."},
        {"Bereich": "Spalte", "Wert": "Sozialräume, Kennzahlen, Zielgruppe, Beteiligte Ämter",
         "Erläuterung": "Mehrere Einträge mit | trennen; Sozialräume als Nummer (z. B. 0101), Kennzahlen als Id (wie im Indikatorenkatalog)."},
        {"Bereich": "Spalte", "Wert": "Angebote",
         "Erläuterung": "Die Angebote, die die Empfehlung umsetzen (entstanden oder erweitert), als Id aus der Angebotsliste; "
                        "mehrere mit | trennen."},
        {"Bereich": "Spalte", "Wert": "Datumsspalten", "Erläuterung": "TT.MM.JJJJ oder als Excel-Datum."},
        {"Bereich": "Spalte", "Wert": "Öffentlich, Ausgeschieden, Beispiel", "Erläuterung": "ja oder nein."},
        {"Bereich": "Spalte", "Wert": REASON_LABEL,
         "Erläuterung": "Pflicht bei jeder Statusänderung und beim Ausscheiden; wird in den Verlauf übernommen."},
        {"Bereich": "Hinweis", "Wert": "Teil-Dateien",
         "Erläuterung": "Fehlende Spalten bleiben unverändert: Nummer, Status, Fortschritt % und Begründung genügen für Statusmeldungen."},
    ]
    return pd.DataFrame(rows, columns=["Bereich", "Wert", "Erläuterung"])


def export_xlsx(con, path: str | Path | None = None) -> bytes:
    """Write the catalogue (sheet "Empfehlungen") plus an explanation sheet; returns the bytes."""
    return to_xlsx_bytes({SHEET: export_frame(con), "Erläuterungen": explanation_frame()}, path)


def export_file(con, path: str | Path, sep: str = ";") -> Path:
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        export_xlsx(con, p)
        return p
    df = export_frame(con)
    for label, kind in model.FIELDS.values():
        if kind == "date":
            df[label] = df[label].map(lambda v: v.isoformat() if v is not None and not pd.isna(v) else None)
    return write_table(df, p, sep=sep, sheet=SHEET)


# --------------------------------------------------------------------------------------------
# Reading


def read_sheet(source, filename: str | None = None) -> Sheet:
    """Read the "Empfehlungen" sheet (or the first) from a path or bytes (.xlsx or .csv).

    Every file goes through :mod:`quartier.uploads` (regular file, size limit, zip bomb, password,
    sheet dimensions); a refusal is an :class:`ImportFileError` naming the file.
    """
    name = filename or (str(source) if isinstance(source, (str, Path)) else "Upload")
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".ods", ".xls"):
        raise ImportFileError(f"{name}: Dateiendung {suffix or '(keine)'} nicht unterstützt: bitte .xlsx oder .csv verwenden.")
    try:
        if isinstance(source, (str, Path)):
            data = uploads.read_path(source)
        else:
            data = bytes(source)
        book = uploads.read_book(data, name, pick=_pick_sheet)
    except uploads.FileRejected as exc:
        if isinstance(source, (str, Path)) and not Path(source).exists():
            raise ImportFileError(f"Datei {source} nicht gefunden.") from exc
        raise ImportFileError(f"{name}: {exc}") from exc
    if not book.sheets or not book.sheets[0].rows:
        raise ImportFileError(f"{name}: Die Tabelle ist leer.")
    table = book.sheets[0].rows
    sheet_name = Path(name).name if book.kind == "csv" else book.sheets[0].name
    header = ["" if h is None else str(h).strip() for h in table[0]]
    rows = [(i, list(r)) for i, r in enumerate(table[1:], start=2)]
    return Sheet(sheet_name, header, rows)


def _pick_sheet(names: list[str]) -> list[str]:
    return [next((n for n in names if normalize(n) == normalize(SHEET)), names[0])] if names else []


# --------------------------------------------------------------------------------------------
# Cell parsing


class _CellError(Exception):
    pass


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    s = str(v).strip()
    if len(s) > 1 and s[0] == "'" and s[1] in FORMULA_START:
        s = s[1:]  # undo the formula neutralisation of our own export
    return s


def _parse_date(v) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and 20000 < float(v) < 80000:
        return date(1899, 12, 30) + timedelta(days=int(v))
    s = _text(v)
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise _CellError(f"„{s}“ ist kein Datum: bitte TT.MM.JJJJ schreiben (z. B. 01.03.2026).")


def _parse_int(v, warnings: list[str]) -> int | None:
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        x = float(v)
        if 0 < x < 1:
            warnings.append(f"{x} als Anteil gelesen: {round(x * 100)} %.")
            x *= 100
    else:
        s = _text(v).replace("%", "").replace(",", ".").strip()
        try:
            x = float(s)
        except ValueError as exc:
            raise _CellError(f"„{_text(v)}“ ist keine Zahl: bitte eine ganze Zahl von 0 bis 100 eintragen.") from exc
    if not 0 <= x <= 100:
        raise _CellError(f"{_text(v)} liegt nicht zwischen 0 und 100.")
    return int(round(x))


class _Lookup:
    def __init__(self, con):
        cur = con.cursor()
        try:
            self.areas = dict(cur.execute("SELECT id, name FROM sozialraum").fetchall())
            self.inds = dict(cur.execute("SELECT id, name FROM indikator").fetchall())
            aliases = cur.execute("SELECT art, alias_norm, ziel_id FROM alias").fetchall()
            self.offers = {normalize(r[0]): r[0] for r in cur.execute("SELECT id FROM angebot").fetchall()}
        finally:
            cur.close()
        self.area_norm = {normalize(k): k for k in self.areas} | {normalize(v): k for k, v in self.areas.items()}
        self.ind_norm = {normalize(k): k for k in self.inds} | {normalize(v): k for k, v in self.inds.items()}
        for art, a, target in aliases:
            (self.area_norm if art == "sozialraum" else self.ind_norm).setdefault(a, target)


def _split(v) -> list[str]:
    return [t.strip() for t in re.split(r"[|;\n]", _text(v)) if t.strip()]


def _parse(key: str, v, lk: _Lookup, warnings: list[str]):
    kind = model.FIELDS[key][1]
    if kind == "date":
        return _parse_date(v)
    if kind == "int":
        return _parse_int(v, warnings)
    if kind == "bool":
        s = normalize(_text(v))
        if s == "":
            return _BOOL_DEFAULT[key]
        if s not in _BOOL:
            raise _CellError(f"„{_text(v)}“: bitte ja oder nein eintragen.")
        return _BOOL[s]
    if kind == "status":
        s = normalize(_text(v))
        if not s:
            raise _CellError("Der Status fehlt: bitte einen Status eintragen (" + ", ".join(model.STATUS_NAMES) + ").")
        match = {normalize(n): n for n in model.STATUS_NAMES}.get(s)
        if not match:
            raise _CellError(f"Status „{_text(v)}“ unbekannt. Erlaubt: {', '.join(model.STATUS_NAMES)}.")
        return match
    if key == "ebene":
        s = normalize(_text(v))
        if not s:
            return "Sozialraum"
        if s not in _LEVEL:
            raise _CellError(f"Ebene „{_text(v)}“ unbekannt. Erlaubt: Sozialraum oder stadtweit.")
        return _LEVEL[s]
    if key == "prioritaet":
        s = normalize(_text(v))
        if not s:
            return None
        if s not in model.PRIORITIES:
            raise _CellError(f"Priorität „{_text(v)}“ unbekannt. Erlaubt: hoch, mittel, niedrig oder leer.")
        return s
    if key == "sozialraeume":
        out, bad = [], []
        for t in _split(v):
            sid = lk.area_norm.get(normalize(t))
            (out.append(sid) if sid else bad.append(t))
        if bad:
            raise _CellError(f"Sozialraum {', '.join(bad)} unbekannt: bitte die Nummer oder den Namen wie in der Gebietsliste verwenden.")
        return sorted(set(out))
    if key == "indikatoren":
        out, bad = [], []
        for t in _split(v):
            iid = lk.ind_norm.get(normalize(t))
            (out.append(iid) if iid else bad.append(t))
        if bad:
            raise _CellError(f"Kennzahl {', '.join(bad)} unbekannt: bitte die Id aus dem Indikatorenkatalog verwenden.")
        return sorted(set(out))
    if key == "angebote":
        out, bad = [], []
        for t in _split(v):
            oid = lk.offers.get(normalize(t))
            (out.append(oid) if oid else bad.append(t))
        if bad:
            raise _CellError(f"Angebot {', '.join(bad)} unbekannt: bitte die Id aus der Angebotsliste verwenden "
                             "(python -m quartier angebote export).")
        return sorted(set(out))
    if key == "zielgruppe":
        groups = {normalize(g): g for g in model.ZIELGRUPPEN}
        out, bad = [], []
        for t in _split(v):
            g = groups.get(normalize(t))
            (out.append(g) if g else bad.append(t))
        if bad:
            raise _CellError(f"Zielgruppe {', '.join(bad)} unbekannt. Erlaubt: {', '.join(model.ZIELGRUPPEN)}.")
        return sorted(set(out))
    if kind == "list":
        return sorted(set(_split(v)))
    return _text(v) or None


# --------------------------------------------------------------------------------------------
# Import


def _err(res: ImportResult, sheet: Sheet, cell: str, column: str, value, rule: str, message: str) -> None:
    res.errors.append({"sheet": sheet.name, "cell": cell, "column": column, "value": _text(value), "rule": rule,
                       "message": f"{sheet.name}!{cell}: {message}"})


def _warn(res: ImportResult, sheet: Sheet, cell: str, message: str) -> None:
    res.warnings.append({"sheet": sheet.name, "cell": cell, "message": f"{sheet.name}!{cell}: {message}"})


@dataclass
class _Row:
    """One data row of a sheet with its column positions (cell addresses for messages)."""
    sheet: Sheet
    cols: dict[str, int]
    rownum: int
    values: list

    def cell_of(self, key: str) -> str:
        return f"{col_letter(self.cols[key])}{self.rownum}" if key in self.cols else f"{col_letter(self.cols['id'])}{self.rownum}"

    def raw(self, key: str):
        i = self.cols.get(key)
        return self.values[i] if i is not None and i < len(self.values) else None


def _header_columns(res: ImportResult, sheet: Sheet) -> dict[str, int]:
    """{field key: column index} from the header row; unknown and doubled columns are reported."""
    cols: dict[str, int] = {}
    for i, h in enumerate(sheet.header):
        if not h:
            continue
        key = _LABEL_TO_KEY.get(normalize(h))
        cell = f"{col_letter(i)}1"
        if key is None:
            _warn(res, sheet, cell, f"Spalte „{h}“ ist unbekannt und wird nicht übernommen.")
        elif key in cols:
            _err(res, sheet, cell, h, h, "spalte_doppelt", f"Spalte „{h}“ kommt doppelt vor: bitte eine davon löschen.")
        else:
            cols[key] = i
    return cols


def _parse_row(res: ImportResult, row: _Row, lk) -> tuple[dict, int]:
    """(parsed field values, number of errors) of one row."""
    parsed, row_errors = {}, 0
    for key in model.FIELDS:
        if key not in row.cols:
            continue
        w: list[str] = []
        try:
            parsed[key] = _parse(key, row.raw(key), lk, w)
        except _CellError as exc:
            _err(res, row.sheet, row.cell_of(key), model.FIELDS[key][0], row.raw(key), "format", str(exc))
            row_errors += 1
        for m in w:
            _warn(res, row.sheet, row.cell_of(key), m)
    return parsed, row_errors


def _merge_row(res: ImportResult, row: _Row, rid: str, old: dict | None, parsed: dict, reason: str | None,
               row_errors: int) -> tuple[dict, int]:
    """(the record after the row, number of errors): required fields, justifications, date order."""
    sheet, cols, cell_of, raw = row.sheet, row.cols, row.cell_of, row.raw
    if old is None:
        merged = model.new_record(**parsed)
        for key in model.REQUIRED:
            if not merged.get(key) and not (key in parsed and row_errors):
                _err(res, sheet, cell_of(key), model.FIELDS[key][0], raw(key), "pflicht",
                     f"Neue Empfehlung {rid}: {model.FIELDS[key][0]} fehlt" +
                     ("" if key in cols else f" (Spalte „{model.FIELDS[key][0]}“ anlegen)") + ".")
                row_errors += 1
    else:
        merged = dict(old)
        merged.update(parsed)
        for key in model.REQUIRED:
            if key in parsed and not parsed[key]:
                _err(res, sheet, cell_of(key), model.FIELDS[key][0], "", "pflicht",
                     f"{model.FIELDS[key][0]} von {rid} darf nicht leer sein.")
                row_errors += 1
        if "status" in parsed and parsed["status"] != old["status"] and not reason:
            _err(res, sheet, cell_of("status"), "Status", raw("status"), "begruendung_fehlt",
                 f"Statusänderung von {rid} („{old['status']}“ → „{parsed['status']}“) ohne Begründung: bitte in "
                 + (f"Zelle {cell_of('begruendung')}" if "begruendung" in cols else f"einer Spalte „{REASON_LABEL}“")
                 + " begründen, warum sich der Status ändert.")
            row_errors += 1
        if merged.get("ausgeschieden") and not old["ausgeschieden"] and not reason:
            _err(res, sheet, cell_of("ausgeschieden"), "Ausgeschieden", raw("ausgeschieden"), "begruendung_fehlt",
                 f"{rid} soll ausscheiden: bitte in der Spalte „{REASON_LABEL}“ begründen.")
            row_errors += 1
    if row_errors:
        return merged, row_errors
    for a, b in (("beginn_geplant", "ende_geplant"), ("beginn_ist", "ende_ist")):
        if merged.get(a) and merged.get(b) and merged[b] < merged[a]:
            _err(res, sheet, cell_of(b), model.FIELDS[b][0], raw(b), "datum_reihenfolge",
                 f"{model.FIELDS[b][0]} ({merged[b]:%d.%m.%Y}) liegt vor {model.FIELDS[a][0]} ({merged[a]:%d.%m.%Y}).")
            row_errors += 1
    return merged, row_errors


def _plan_row(res: ImportResult, row: _Row, rid: str, old: dict | None, parsed: dict, merged: dict,
              reason: str | None, ops: list[dict]) -> None:
    """Count the row as new, changed or unchanged and add its operation to ``ops``."""
    for h in model.hints(merged):
        _warn(res, row.sheet, row.cell_of("id"), f"{rid}: {h}")
    if old is None:
        res.new += 1
        res.preview.append({"id": rid, "titel": merged["titel"], "art": "neu", "zeile": row.rownum, "aenderungen": []})
        ops.append({"op": "new", "id": rid, "rec": merged, "reason": reason})
        return
    diff = [(k, model.to_text(k, old.get(k)), model.to_text(k, v)) for k, v in parsed.items()
            if model.to_text(k, old.get(k)) != model.to_text(k, v)]
    if diff:
        res.changed += 1
        res.preview.append({"id": rid, "titel": merged["titel"], "art": "geändert", "zeile": row.rownum,
                            "aenderungen": [{"feld": k, "label": model.FIELDS[k][0], "alt": a, "neu": b}
                                            for k, a, b in diff]})
        ops.append({"op": "update", "id": rid, "old": old, "changes": {k: parsed[k] for k, _, _ in diff},
                    "reason": reason})
    else:
        res.unchanged += 1


def analyse(con, sheet: Sheet, filename: str) -> tuple[ImportResult, list[dict]]:
    """Validate and diff a sheet against the catalogue. Returns the result and the planned operations."""
    res = ImportResult(file=filename)
    cols = _header_columns(res, sheet)
    if "id" not in cols:
        _err(res, sheet, "A1", ID_LABEL, sheet.header[0] if sheet.header else "", "spalte_fehlt",
             f"Die Spalte „{ID_LABEL}“ fehlt: bitte in Zeile 1 eine Spalte „{ID_LABEL}“ mit der Nummer jeder Empfehlung anlegen.")
        res.status = "rejected"
        return res, []
    lk = _Lookup(con)
    known = (set(lk.areas), set(lk.inds))
    cur = con.cursor()
    try:
        existing = store.records(cur)
    finally:
        cur.close()
    seen: dict[str, str] = {}
    ops: list[dict] = []
    for rownum, values in sheet.rows:
        row = _Row(sheet, cols, rownum, values)
        if all(_text(v) == "" for v in values):
            continue
        rid = _text(row.raw("id"))
        if not rid:
            _err(res, sheet, row.cell_of("id"), ID_LABEL, "", "pflicht", "Die Nummer fehlt: bitte eine Nummer eintragen "
                 "oder die Zeile löschen.")
            continue
        if rid in seen:
            _err(res, sheet, row.cell_of("id"), ID_LABEL, rid, "doppelt",
                 f"Die Nummer {rid} kommt schon in {seen[rid]} vor: jede Empfehlung nur einmal aufführen.")
            continue
        seen[rid] = row.cell_of("id")
        parsed, row_errors = _parse_row(res, row, lk)
        reason = _text(row.raw("begruendung")) or None
        old = existing.get(rid)
        merged, row_errors = _merge_row(res, row, rid, old, parsed, reason, row_errors)
        if row_errors:
            continue
        errs = store.validate(con, merged, known)
        for msg in errs:
            _err(res, sheet, row.cell_of("id"), ID_LABEL, rid, "pruefung", f"{rid}: {msg}")
        if errs:
            continue
        _plan_row(res, row, rid, old, parsed, merged, reason, ops)
    if res.errors:
        res.status = "rejected"
    return res, ops


def import_sheet(con, actor, sheet: Sheet, filename: str, dry_run: bool = False, now: datetime | None = None) -> ImportResult:
    """Preview (``dry_run``) or commit a sheet: all rows or none."""
    res, ops = analyse(con, sheet, filename)
    if res.errors or dry_run:
        res.status = "rejected" if res.errors else "dry-run"
        return res
    access.require(actor, access.EDITOR, "Handlungsempfehlungen importieren")
    when = (now or datetime.now()).replace(microsecond=0)
    note = f"Import aus {Path(filename).name}"
    with db.transaction(con) as cur:
        for op in ops:
            if op["op"] == "new":
                store.insert_record(cur, op["id"], op["rec"], op["reason"] or note, actor.name, when)
            else:
                store.apply_changes(cur, op["id"], op["old"], op["changes"], op["reason"] or note, actor.name, when)
        db.audit(cur, actor.name, "empfehlungen_import", Path(filename).name,
                 json.dumps({"neu": res.new, "geaendert": res.changed, "unveraendert": res.unchanged}))
    res.status = "imported"
    return res


def import_file(con, actor, source, filename: str | None = None, dry_run: bool = False,
                now: datetime | None = None) -> ImportResult:
    """Read and import a file (path or bytes). Raises :class:`ImportFileError` when it cannot be read."""
    name = filename or str(source)
    sheet = read_sheet(source, name)
    return import_sheet(con, actor, sheet, name, dry_run=dry_run, now=now)
