"""read -> detect -> map -> parse -> validate -> diff. Nothing here writes to the database.

:func:`analyse` turns one delivered file into a :class:`FileAnalysis`: the values it would write,
the findings (errors block, warnings need a confirmation, infos only inform) and the comparison
with the current values. :mod:`quartier.ingest.store` writes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quartier.indicators import rate_factor
from quartier.ingest import values as V
from quartier.ingest.detect import MEASURES, ROLE_LABELS, SheetPlan, finish_plan, plan_sheet
from quartier.ingest.match import Matcher
from quartier.ingest.read import MAX_UPLOAD_BYTES, FileRejected, RawBook, read_book
from quartier.names import normalize

ERROR, WARNING, INFO = "fehler", "warnung", "info"
MAX_PER_RULE = 200
MIN_YEAR = 1990
CONTRADICTION_TOLERANCE = 0.51   # in the indicator's unit (rounding to whole percent still passes)
JUMP_SPREADS = 4.0               # a jump larger than 4 standard deviations of the usual year-on-year change
_TOTAL_WORDS = ("summe", "gesamt", "insgesamt", "gesamtstadt", "total", "stadtgesamt")

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"]


@dataclass
class Finding:
    level: str
    rule: str
    message: str
    sheet: str = ""
    cell: str = ""
    column: str = ""
    value: str = ""

    def to_json(self) -> dict:
        return {"sheet": self.sheet, "cell": self.cell, "column": self.column, "value": self.value,
                "rule": self.rule, "message": self.message}


@dataclass
class FileAnalysis:
    filename: str
    sha256: str
    size: int
    lieferant: str | None = None
    berichtsjahr: int | None = None
    plans: list[SheetPlan] = field(default_factory=list)
    values: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VALUE_COLUMNS))
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True
    duplicate: dict | None = None
    accepted: dict = field(default_factory=dict)          # (art, text) -> id, to remember on commit
    user_plans: bool = False                              # mapping set by the user: remember it
    suggestions: list[dict] = field(default_factory=list)  # [{art, text, ziel_id, ziel}]
    headers: dict = field(default_factory=dict, repr=False)  # sheet -> {column index: header text}
    matcher: Matcher | None = field(default=None, repr=False)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.level == INFO]

    def counts(self) -> dict:
        v = self.values
        if v.empty or "status" not in v:
            return {"new": 0, "changed": 0, "unchanged": 0, "suppressed": 0}
        st = v["status"].value_counts()
        return {"new": int(st.get("neu", 0)), "changed": int(st.get("geaendert", 0)),
                "unchanged": int(st.get("unveraendert", 0)), "suppressed": int(v["gesperrt"].sum())}

    def findings_frame(self) -> pd.DataFrame:
        labels = {ERROR: "Fehler", WARNING: "Warnung", INFO: "Hinweis"}
        return pd.DataFrame([{
            "Art": labels[f.level], "Datei": self.filename, "Blatt": f.sheet, "Zelle": f.cell, "Spalte": f.column,
            "Wert": f.value, "Regel": f.rule, "Meldung": f.message} for f in self.findings],
            columns=["Art", "Datei", "Blatt", "Zelle", "Spalte", "Wert", "Regel", "Meldung"])

    def changes(self) -> pd.DataFrame:
        v = self.values
        if v.empty or "status" not in v:
            return v
        return v[v["status"] == "geaendert"]

    def coverage(self) -> pd.DataFrame:
        """Indicator x year: number of Sozialräume delivered."""
        v = self.values
        if v.empty:
            return pd.DataFrame()
        return v.pivot_table(index="indikator_id", columns="jahr", values="sozialraum_id", aggfunc="count", fill_value=0)

    def report(self, status: str | None = None, lieferung_id: int | None = None) -> dict:
        """The JSON object of the command line (and the stored report)."""
        if status is None:
            status = "duplicate" if self.duplicate else ("rejected" if (self.errors or not self.readable) else "ok")
        return {
            "file": self.filename, "status": status, "lieferung_id": lieferung_id,
            "rows": self.counts(),
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
            "infos": [f.message for f in self.infos],
            "lieferant": self.lieferant, "berichtsjahr": self.berichtsjahr, "sha256": self.sha256,
            "sheets": [{"sheet": p.sheet, "layout": p.layout, "header_row": p.header_row + 1,
                        "indikator_id": p.indikator_id, "jahr": p.jahr} for p in self.plans],
            **({"duplicate_of": self.duplicate} if self.duplicate else {}),
        }


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def known_lieferanten(con) -> list[str]:
    rows = con.cursor().execute(
        "SELECT DISTINCT lieferant FROM indikator WHERE lieferant IS NOT NULL "
        "UNION SELECT DISTINCT lieferant FROM lieferung WHERE lieferant IS NOT NULL").fetchall()
    return sorted(r[0] for r in rows)


def remembered_mapping(con, lieferant: str | None) -> dict[str, dict]:
    if not lieferant:
        return {}
    rows = con.cursor().execute(
        "SELECT kopf_norm, rolle, indikator_id, jahr FROM import_spaltenzuordnung WHERE lieferant = ?", [lieferant]).fetchall()
    return {r[0]: {"rolle": r[1], "indikator_id": r[2], "jahr": r[3]} for r in rows}


def analyse(con, data: bytes, filename: str, *, lieferant: str | None = None, plans: dict[str, SheetPlan] | None = None,
            accepted: dict[tuple[str, str], str] | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
            book: RawBook | None = None) -> FileAnalysis:
    """Analyse one delivered file without writing anything."""
    fa = FileAnalysis(filename=filename, sha256=sha256_of(data), size=len(data), accepted=dict(accepted or {}),
                      user_plans=bool(plans))
    row = con.cursor().execute(
        "SELECT id, importiert_am, importiert_von, dateiname FROM lieferung WHERE sha256 = ? AND status = 'aktiv' "
        "ORDER BY id LIMIT 1", [fa.sha256]).fetchone()
    if row:
        fa.duplicate = {"lieferung_id": row[0], "importiert_am": str(row[1])[:19], "importiert_von": row[2], "dateiname": row[3]}
    try:
        book = book or read_book(data, filename, max_bytes)
    except FileRejected as exc:
        fa.readable = False
        fa.findings.append(Finding(ERROR, exc.kind, str(exc)))
        return fa
    matcher = Matcher(con, fa.accepted)
    if not lieferant:
        fname = normalize(filename)
        lieferant = next((lf for lf in known_lieferanten(con) if normalize(lf) and normalize(lf) in fname), None)
    remembered = remembered_mapping(con, lieferant)
    for msg in book.infos:
        fa.findings.append(Finding(INFO, "ausgeblendet", msg))
    frames = []
    for sheet in book.sheets:
        if plans and sheet.name in plans:
            plan = plans[sheet.name]
            finish_plan(plan, matcher)
        else:
            plan = plan_sheet(sheet.name, sheet.rows, sheet.merged, matcher, remembered)
        if plan is None:
            if any(V.cell_text(v).strip() for r in sheet.rows for v in r):
                fa.findings.append(Finding(INFO, "keine_tabelle", f"Blatt „{sheet.name}“ enthält keine erkennbare Tabelle "
                                           "(keine Spalten wie Sozialraum, Jahr, Kennzahl) und wird nicht gelesen.", sheet.name))
            continue
        fa.plans.append(plan)
        for p in plan.problems:
            fa.findings.append(Finding(ERROR, "zuordnung", p, sheet.name, V.cell_address(plan.header_row, 0)))
        if plan.problems:
            continue
        frame = _extract(plan, sheet.rows, matcher, fa)
        if frame is not None:
            frames.append(frame)
    used = {p.sheet: ({c.col for c in p.columns if c.role != "ignorieren"}, p.first_data_row) for p in fa.plans}
    missing = [(s, c) for s, c in book.missing_formula_values if s in used and _in_table(c, *used[s])]
    for sheet_name, cell in missing[:MAX_PER_RULE]:
        fa.findings.append(Finding(ERROR, "formel_ohne_wert", "Die Zelle enthält eine Formel ohne berechneten Wert. Bitte die "
                                   "Datei in Excel öffnen, neu berechnen lassen (F9), speichern und erneut liefern.", sheet_name, cell))
    if not fa.plans and not fa.errors:
        fa.findings.append(Finding(ERROR, "keine_tabelle", "In der Datei wurde keine Tabelle mit Kennzahlen gefunden. Erwartet "
                                   "werden Spalten wie Sozialraum, Jahr, Kennzahl und Wert (siehe Vorlage)."))
    recs = pd.concat(frames, ignore_index=True) if frames else None
    if recs is None or recs.empty:
        if fa.plans and not fa.errors:
            fa.findings.append(Finding(ERROR, "keine_daten", "Die Tabelle enthält nur Überschriften und keine Werte. "
                                       "Bitte die Datei mit Daten erneut liefern."))
        _finish(fa, con, matcher, lieferant)
        return fa
    fa.matcher = matcher
    _validate(fa, recs, matcher)
    _finish(fa, con, matcher, lieferant)
    return fa


def _in_table(cell: str, cols: set[int], first_row: int) -> bool:
    letters = "".join(ch for ch in cell if ch.isalpha())
    row = int("".join(ch for ch in cell if ch.isdigit()) or 0) - 1
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return row >= first_row and (col - 1) in cols


def _finish(fa: FileAnalysis, con, matcher: Matcher, lieferant: str | None) -> None:
    v = fa.values
    if lieferant is None and not v.empty:
        lf = pd.Series([matcher.indicators.get(i, {}).get("lieferant") for i in v["indikator_id"].unique()]).dropna()
        lieferant = lf.mode().iloc[0] if not lf.empty else None
    fa.lieferant = lieferant
    fa.berichtsjahr = int(v["jahr"].max()) if not v.empty else None


# ------------------------------------------------------------------------------------------------
# extraction: one record per (row, indicator, year) group with its source cells


def _extract(plan: SheetPlan, rows: list[list], matcher: Matcher, fa: FileAnalysis) -> pd.DataFrame | None:
    data = rows[plan.first_data_row:]
    n = len(data)
    if n == 0:
        fa.findings.append(Finding(ERROR, "keine_daten", f"Das Blatt „{plan.sheet}“ enthält nur Überschriften und keine Werte.",
                                   plan.sheet, V.cell_address(plan.header_row, 0)))
        return None
    width = max(len(r) for r in data)
    if any(len(r) != width for r in data):
        data = [list(r) + [None] * (width - len(r)) for r in data]
    columns = list(zip(*data))

    def col(c: int) -> np.ndarray:
        return np.array(columns[c], dtype=object) if c < width else np.full(n, None, dtype=object)

    specs = [c for c in plan.columns if c.role != "ignorieren"]
    first = {}
    for c in specs:
        first.setdefault(c.role, c)
    sr_spec = first.get("sozialraum")
    label_specs = [c for c in specs if c.role in ("sozialraum", "bezeichnung")]
    measure_specs = [c for c in specs if c.role in MEASURES]
    empty = {c.col: V.is_empty(col(c.col)) for c in specs}
    any_value = np.zeros(n, dtype=bool)
    for c in measure_specs:
        any_value |= ~empty[c.col]
    any_text = np.zeros(n, dtype=bool)
    for c in specs:
        any_text |= ~empty[c.col]
    # total rows ("Stadt Hagen gesamt", "Summe") by any label column
    total = np.zeros(n, dtype=bool)
    for c in label_specs:
        arr = col(c.col)
        codes, uniq = pd.factorize(pd.Series(arr, dtype=object))
        flags = np.array([_is_total(V.cell_text(u)) for u in uniq] + [False], dtype=bool)
        total |= flags[codes]
    absolute = np.arange(n) + plan.first_data_row
    if total.any():
        shown = ", ".join(str(r + 1) for r in absolute[total][:8]) + (" …" if total.sum() > 8 else "")
        fa.findings.append(Finding(INFO, "summenzeile", f"Blatt „{plan.sheet}“: {int(total.sum())} Summenzeile(n) "
                                   f"(z. B. „Stadt … gesamt“, „Summe“) übersprungen (Zeile {shown}).", plan.sheet))
    notes = any_text & ~any_value & ~total
    if notes.any():
        shown = ", ".join(str(r + 1) for r in absolute[notes][:8]) + (" …" if notes.sum() > 8 else "")
        fa.findings.append(Finding(INFO, "anmerkung", f"Blatt „{plan.sheet}“: {int(notes.sum())} Zeile(n) ohne Werte "
                                   f"(Anmerkungen, Fußnoten oder leere Sozialräume) nicht gelesen (Zeile {shown}).", plan.sheet))
    keep = any_value & ~total
    if not keep.any():
        fa.findings.append(Finding(ERROR, "keine_daten", f"Das Blatt „{plan.sheet}“ enthält nur Überschriften und keine Werte.",
                                   plan.sheet, V.cell_address(plan.header_row, 0)))
        return None
    idx = np.flatnonzero(keep)
    rows_abs = absolute[idx]

    def take(spec) -> np.ndarray:
        return col(spec.col)[idx] if spec is not None else np.full(len(idx), None, dtype=object)

    sr_raw = take(sr_spec)
    ind_col, year_col = first.get("indikator"), first.get("jahr")
    groups: list[tuple[object, object, dict]] = []  # (indicator, year, {measure: spec})
    if plan.layout == "breit_jahr":
        by: dict = {}
        for c in measure_specs:
            if c.jahr is not None:
                by.setdefault(c.jahr, {}).setdefault(c.role, c)
        groups = [(c_ind, y, ms) for y, ms in by.items() for c_ind in [None]]
    elif plan.layout == "breit_indikator":
        by = {}
        for c in measure_specs:
            if c.indikator_id:
                by.setdefault(c.indikator_id, {}).setdefault(c.role, c)
        groups = [(i, None, ms) for i, ms in by.items()]
    else:
        ms = {}
        for c in measure_specs:
            if c.role in ms:
                fa.findings.append(Finding(WARNING, "spalte_doppelt", f"Mehrere Spalten sind als {ROLE_LABELS[c.role]} "
                                           f"zugeordnet; gelesen wird „{ms[c.role].header}“, „{c.header}“ nicht.", plan.sheet,
                                           V.cell_address(plan.header_row, c.col), c.header))
                continue
            ms[c.role] = c
        groups = [(None, None, ms)]
    blocks = []
    m = len(idx)
    for g_ind, g_year, ms in groups:
        blk = {"sheet": np.full(m, plan.sheet, dtype=object), "row0": rows_abs, "sr_raw": sr_raw,
               "sr_col": np.full(m, sr_spec.col if sr_spec else -1)}
        if g_ind is not None:
            blk["ind_raw"] = np.full(m, g_ind, dtype=object)
            blk["ind_fixed"] = np.ones(m, dtype=bool)
            blk["ind_col"] = np.full(m, -1)
        elif ind_col is not None:
            blk["ind_raw"] = take(ind_col)
            blk["ind_fixed"] = np.zeros(m, dtype=bool)
            blk["ind_col"] = np.full(m, ind_col.col)
        else:
            blk["ind_raw"] = np.full(m, plan.indikator_id, dtype=object)
            blk["ind_fixed"] = np.ones(m, dtype=bool)
            blk["ind_col"] = np.full(m, -1)
        if g_year is not None:
            blk["jahr_raw"] = np.full(m, float(g_year), dtype=object)
            blk["jahr_col"] = np.full(m, -1)
        elif year_col is not None:
            blk["jahr_raw"] = take(year_col)
            blk["jahr_col"] = np.full(m, year_col.col)
        else:
            blk["jahr_raw"] = np.full(m, float(plan.jahr) if plan.jahr else None, dtype=object)
            blk["jahr_col"] = np.full(m, -1)
        for meas in MEASURES:
            spec = ms.get(meas)
            blk[meas + "_raw"] = take(spec)
            blk[meas + "_col"] = np.full(m, spec.col if spec else -1)
        blocks.append(pd.DataFrame(blk))
    out = pd.concat(blocks, ignore_index=True) if len(blocks) > 1 else blocks[0]
    fa.headers[plan.sheet] = {c.col: c.header for c in plan.columns}
    # drop groups where this row has no value at all (e.g. an indicator column left empty for one area)
    has_any = np.zeros(len(out), dtype=bool)
    for meas in MEASURES:
        has_any |= ~V.is_empty(out[meas + "_raw"].to_numpy())
    return out[has_any].reset_index(drop=True)


def _is_total(text: str) -> bool:
    k = normalize(text)
    if not k:
        return False
    return k in _TOTAL_WORDS or k.startswith("summe") or k.endswith("gesamt") or k.endswith("insgesamt") or k.startswith("gesamt")


# ------------------------------------------------------------------------------------------------
# validation


class _Emitter:
    def __init__(self, fa: FileAnalysis, recs: pd.DataFrame):
        self.fa = fa
        self.recs = recs
        self.headers = fa.headers

    def header(self, sheet: str, c: int) -> str:
        return self.headers.get(sheet, {}).get(int(c), "") if c >= 0 else ""

    def emit(self, mask: np.ndarray, level: str, rule: str, col_field: str, raw_field: str | None, message) -> int:
        idx = np.flatnonzero(mask)
        for k, i in enumerate(idx[:MAX_PER_RULE]):
            r = self.recs.iloc[i] if k < MAX_PER_RULE else None
            c = int(r[col_field]) if col_field else -1
            cell = V.cell_address(int(r["row0"]), c) if c >= 0 else f"Zeile {int(r['row0']) + 1}"
            raw = V.cell_text(r[raw_field]) if raw_field else ""
            self.fa.findings.append(Finding(level, rule, message(r, i), r["sheet"], cell, self.header(r["sheet"], c), raw))
        if len(idx) > MAX_PER_RULE:
            self.fa.findings.append(Finding(level, rule, f"… und {len(idx) - MAX_PER_RULE} weitere Fälle dieser Art "
                                            "(vollständig im Fehlerbericht nicht aufgeführt; bitte die Ursache oben beheben)."))
        return len(idx)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    from quartier import format as fmt

    return fmt.integer(x) if float(x).is_integer() else f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".").rstrip("0").rstrip(",")


def _validate(fa: FileAnalysis, recs: pd.DataFrame, matcher: Matcher) -> None:
    em = _Emitter(fa, recs)
    # --- matching (per distinct spelling: one finding with the first cell and the count)
    sr_codes, sr_uniq = pd.factorize(recs["sr_raw"])
    sr_ids = np.array([matcher.match("sozialraum", V.cell_text(u)) for u in sr_uniq] + [None], dtype=object)[sr_codes]
    fixed = recs["ind_fixed"].to_numpy()
    ind_codes, ind_uniq = pd.factorize(recs["ind_raw"])
    ind_match = np.array([matcher.match("indikator", V.cell_text(u)) for u in ind_uniq] + [None], dtype=object)
    ind_ids = np.where(fixed, recs["ind_raw"].to_numpy(), ind_match[ind_codes])
    ind_series = pd.Series(ind_ids, dtype=object)
    for art, ids, raw_col, col_field, label in (("sozialraum", sr_ids, "sr_raw", "sr_col", "Sozialraum"),
                                               ("indikator", ind_ids, "ind_raw", "ind_col", "Indikator")):
        bad = pd.isna(ids)
        if not bad.any():
            continue
        sub = recs[bad]
        texts = sub[raw_col].map(V.cell_text)
        for text, grp in sub.groupby(texts, sort=False):
            r = grp.iloc[0]
            c = int(r[col_field])
            cell = V.cell_address(int(r["row0"]), c) if c >= 0 else ""
            sug = matcher.suggest(art, text) if text else None
            if not text:
                msg = f"{label} fehlt ({len(grp)} Zeile(n)). Bitte ausfüllen."
            elif sug:
                msg = (f"{label} „{text}“ ist unbekannt ({len(grp)} Zeile(n)). Meinten Sie „{matcher.label(art, sug)}“ ({sug})? "
                       "Vorschlag übernehmen oder den Namen in der Datei korrigieren.")
                fa.suggestions.append({"art": art, "text": text, "ziel_id": sug, "ziel": matcher.label(art, sug)})
            else:
                msg = (f"{label} „{text}“ ist unbekannt ({len(grp)} Zeile(n)). Bitte Nummer oder Namen wie in der Vorlage "
                       "verwenden oder den Namen im Katalog als Alias eintragen.")
            fa.findings.append(Finding(ERROR, f"unbekannt_{art}", msg, r["sheet"], cell, em.header(r["sheet"], c), text))
    # --- numbers
    w, w_st = V.parse_numbers(recs["wert_raw"].to_numpy())
    z, z_st = V.parse_numbers(recs["zaehler_raw"].to_numpy())
    d, d_st = V.parse_numbers(recs["nenner_raw"].to_numpy())
    y, y_st = V.parse_numbers(recs["jahr_raw"].to_numpy())
    for st, name in ((w_st, "wert"), (z_st, "zaehler"), (d_st, "nenner")):
        em.emit(st == V.INVALID, ERROR, "keine_zahl", f"{name}_col", f"{name}_raw",
                lambda r, i, name=name: f"„{V.cell_text(r[name + '_raw'])}“ ist keine Zahl. Bitte eine Zahl (z. B. 12,5 oder "
                "1.234) oder ein Zeichen für gesperrte Werte (*, •, .) eintragen.")
    next_year = dt.date.today().year + 1
    bad_year = (y_st != V.OK) | (y != np.round(y)) | (y < MIN_YEAR) | (y > next_year)
    em.emit(bad_year, ERROR, "jahr", "jahr_col", "jahr_raw",
            lambda r, i: f"Jahr „{V.cell_text(r['jahr_raw'])}“ ist ungültig: erlaubt sind {MIN_YEAR} bis {next_year}. "
            "Bitte das Berichtsjahr prüfen.")
    gesperrt = (w_st == V.SUPPRESSED) | (z_st == V.SUPPRESSED) | ((w_st != V.OK) & (d_st == V.SUPPRESSED))
    unit_of = {i: (u or "") for i, u in matcher.units.items()}
    units = ind_series.map(unit_of).fillna("").to_numpy(dtype=object)
    factor = ind_series.map({i: rate_factor(u) for i, u in unit_of.items()}).fillna(1.0).to_numpy(dtype=float)
    is_count = ind_series.map({i: u.strip().lower() == "anzahl" for i, u in unit_of.items()}).fillna(False).to_numpy(dtype=bool)
    # count indicators: a value given only as "Anzahl" is the value
    z_only = is_count & (w_st != V.OK) & (z_st == V.OK)
    w = np.where(z_only, z, w)
    z = np.where(z_only, np.nan, z)
    # a value derived from numerator/denominator when only those were delivered
    derive = ~is_count & (w_st != V.OK) & ~gesperrt & (z_st == V.OK) & (d_st == V.OK) & (d > 0)
    w = np.where(derive, z / np.where(d > 0, d, 1) * factor, w)
    if derive.any():
        fa.findings.append(Finding(INFO, "wert_berechnet", f"{int(derive.sum())} Wert(e) aus Zähler und Nenner berechnet, "
                                   "weil die Wertespalte leer war."))
    # --- plausibility
    em.emit((z_st == V.OK) & (d_st == V.OK) & (z > d), ERROR, "zaehler_groesser_nenner", "zaehler_col", "zaehler_raw",
            lambda r, i: f"Der Zähler {_fmt(z[i])} ist größer als der Nenner {_fmt(d[i])}. Bitte Zähler und Nenner prüfen "
            "(vertauscht?).")
    em.emit((z_st == V.OK) & (z < 0), ERROR, "negative_anzahl", "zaehler_col", "zaehler_raw",
            lambda r, i: f"Negative Anzahl {_fmt(z[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
    em.emit((d_st == V.OK) & (d < 0), ERROR, "negative_anzahl", "nenner_col", "nenner_raw",
            lambda r, i: f"Negative Anzahl {_fmt(d[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
    em.emit(is_count & (w_st == V.OK) & (w < 0), ERROR, "negative_anzahl", "wert_col", "wert_raw",
            lambda r, i: f"Negative Anzahl {_fmt(w[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
    lo = ind_series.map({i: _bound(matcher, i, "min_wert", -np.inf) for i in matcher.indicators}).fillna(-np.inf).to_numpy(dtype=float)
    hi = ind_series.map({i: _bound(matcher, i, "max_wert", np.inf) for i in matcher.indicators}).fillna(np.inf).to_numpy(dtype=float)
    out_of_range = ~np.isnan(w) & ((w < lo) | (w > hi)) & ~(is_count & (w < 0))
    em.emit(out_of_range, ERROR, "unplausibel", "wert_col", "wert_raw",
            lambda r, i: f"Der Wert {_fmt(w[i])} liegt außerhalb des plausiblen Bereichs {_fmt(lo[i])} bis {_fmt(hi[i])} "
            f"({units[i]}) für „{matcher.label('indikator', ind_ids[i])}“. Bitte prüfen (Anteil 0,125 statt 12,5 %?).")
    both = ~is_count & (w_st == V.OK) & (z_st == V.OK) & (d_st == V.OK) & (d > 0)
    calc = np.where(both, z / np.where(d > 0, d, 1) * factor, np.nan)
    contra = both & (np.abs(calc - w) > CONTRADICTION_TOLERANCE)
    em.emit(contra, ERROR, "widerspruch_zaehler_nenner", "wert_col", "wert_raw",
            lambda r, i: f"Der Wert {_fmt(w[i])} passt nicht zu Zähler {_fmt(z[i])} und Nenner {_fmt(d[i])} "
            f"(ergibt {_fmt(round(calc[i], 2))}). Bitte Wert, Zähler und Nenner prüfen.")
    # --- the values as they would be stored
    vals = pd.DataFrame({
        "indikator_id": ind_ids, "sozialraum_id": sr_ids,
        "jahr": np.where(bad_year, -1, np.nan_to_num(y, nan=-1)).astype(np.int64),
        "wert": np.where(gesperrt & (w_st != V.OK), np.nan, w),
        "zaehler": np.where(z_st == V.OK, z, np.nan),
        "nenner": np.where(d_st == V.OK, d, np.nan),
        "gesperrt": gesperrt,
        "sheet": recs["sheet"].to_numpy(), "row0": recs["row0"].to_numpy(), "wert_col": recs["wert_col"].to_numpy(),
    })
    nothing = ~gesperrt & np.isnan(vals["wert"].to_numpy()) & np.isnan(vals["zaehler"].to_numpy()) & np.isnan(vals["nenner"].to_numpy())
    nothing &= ~((w_st == V.INVALID) | (z_st == V.INVALID) | (d_st == V.INVALID))
    if nothing.any():
        fa.findings.append(Finding(INFO, "ohne_wert", f"{int(nothing.sum())} Zelle(n) mit „–“ oder „x“ (nichts vorhanden / "
                                   "nicht sinnvoll): dafür wird kein Wert gespeichert."))
    valid = ~pd.isna(sr_ids) & ~pd.isna(ind_ids) & ~bad_year & ~nothing
    key = vals[valid]
    dup = key.duplicated(["indikator_id", "sozialraum_id", "jahr"], keep=False)
    if dup.any():
        dups = key[dup]
        first_cell = {}
        for r in dups.itertuples():
            k = (r.indikator_id, r.sozialraum_id, r.jahr)
            c = V.cell_address(int(r.row0), int(r.wert_col)) if r.wert_col >= 0 else f"Zeile {int(r.row0) + 1}"
            if k not in first_cell:
                first_cell[k] = (r.sheet, c)
                continue
            if sum(1 for f in fa.findings if f.rule == "doppelt") >= MAX_PER_RULE:
                break
            fs, fc = first_cell[k]
            fa.findings.append(Finding(ERROR, "doppelt", f"Sozialraum {r.sozialraum_id}, Indikator „{matcher.label('indikator', r.indikator_id)}“, "
                                       f"Jahr {r.jahr} kommt doppelt vor (zuerst in Blatt „{fs}“, Zelle {fc}). Bitte eine der Zeilen löschen.",
                                       r.sheet, c, em.header(r.sheet, int(r.wert_col)), _fmt(r.wert)))
    fa.values = key.drop_duplicates(["indikator_id", "sozialraum_id", "jahr"]).reset_index(drop=True)


def _bound(matcher: Matcher, iid, key: str, default: float) -> float:
    rec = matcher.indicators.get(iid) if isinstance(iid, str) else None
    v = rec.get(key) if rec else None
    return default if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


# ------------------------------------------------------------------------------------------------
# comparison with the current values and the warnings that need it


def compare(con, fa: FileAnalysis) -> None:
    """Mark each value new / changed / unchanged against the current values; add the warnings."""
    v = fa.values
    if v.empty:
        return
    cur = con.cursor()
    try:
        cur.register("_imp_vals", v[VALUE_COLUMNS])
        old = cur.execute(
            "SELECT i.indikator_id, i.sozialraum_id, i.jahr, a.wert AS alt_wert, a.zaehler AS alt_zaehler,"
            " a.nenner AS alt_nenner, a.gesperrt AS alt_gesperrt, a.lieferung_id AS alt_lieferung"
            " FROM _imp_vals i LEFT JOIN messwert_aktuell a"
            " ON a.indikator_id = i.indikator_id AND a.sozialraum_id = i.sozialraum_id AND a.jahr = i.jahr").df()
        hist = cur.execute(
            "SELECT indikator_id, sozialraum_id, jahr, wert FROM messwert_aktuell"
            " WHERE indikator_id IN (SELECT DISTINCT indikator_id FROM _imp_vals) AND wert IS NOT NULL").df()
        cur.unregister("_imp_vals")
    finally:
        cur.close()
    v = v.merge(old, on=["indikator_id", "sozialraum_id", "jahr"], how="left")
    exists = v["alt_lieferung"].notna().to_numpy()
    same = (_same(v["wert"], v["alt_wert"]) & _same(v["zaehler"], v["alt_zaehler"]) & _same(v["nenner"], v["alt_nenner"])
            & (v["gesperrt"].to_numpy() == v["alt_gesperrt"].fillna(False).astype(bool).to_numpy()))
    v["status"] = np.where(~exists, "neu", np.where(same, "unveraendert", "geaendert"))
    fa.values = v
    matcher = fa.matcher
    label = (lambda i: matcher.label("indikator", i)) if matcher else str
    em = _Emitter(fa, v)
    changed = (v["status"] == "geaendert").to_numpy()
    em.emit(changed, WARNING, "aenderung", "wert_col", None,
            lambda r, i: f"Ändert einen bereits gelieferten Wert ({label(r['indikator_id'])}, {r['sozialraum_id']}, {r['jahr']}): "
            f"{_fmt(r['alt_wert'])} → {_fmt(r['wert'])} (bisher aus Lieferung #{int(r['alt_lieferung'])}). Bitte bestätigen, "
            "dass die Korrektur gewollt ist.")
    # jumps against the previous year, compared with the usual year-on-year spread of the indicator
    both = pd.concat([hist.assign(neu=False), v[["indikator_id", "sozialraum_id", "jahr", "wert"]].assign(neu=True)])
    both = both.dropna(subset=["wert"]).sort_values("neu").drop_duplicates(["indikator_id", "sozialraum_id", "jahr"], keep="last")
    both = both.sort_values(["indikator_id", "sozialraum_id", "jahr"])
    prev_year = both.groupby(["indikator_id", "sozialraum_id"])["jahr"].shift()
    prev = both.groupby(["indikator_id", "sozialraum_id"])["wert"].shift()
    # counts (Einwohner) change in proportion to their size: compare relative changes there
    count_ids = {i for i, u in (matcher.units.items() if matcher else []) if (u or "").strip().lower() == "anzahl"}
    rel = both["indikator_id"].isin(count_ids).to_numpy()
    delta = (both["wert"] - prev).to_numpy(dtype=float)
    safe_prev = np.where(prev.abs().to_numpy(dtype=float) > 0, prev.abs().to_numpy(dtype=float), np.nan)
    both["diff"] = np.where((both["jahr"] - prev_year).to_numpy() == 1, np.where(rel, delta / safe_prev, delta), np.nan)
    both["prev"] = prev
    both["rel"] = rel
    base = both[~both["neu"]] if both.loc[~both["neu"], "diff"].notna().sum() >= 20 else both
    spread = base.groupby("indikator_id")["diff"].std()
    both["limit"] = both["indikator_id"].map(spread * JUMP_SPREADS)
    jumps = both[both["neu"] & both["diff"].notna() & both["limit"].notna() & (both["diff"].abs() > both["limit"])
                 & (both["limit"] > 0)]
    if not jumps.empty:
        pos = v.reset_index().merge(jumps[["indikator_id", "sozialraum_id", "jahr", "prev", "limit", "rel"]],
                                    on=["indikator_id", "sozialraum_id", "jahr"])
        mask = np.zeros(len(v), dtype=bool)
        mask[pos["index"].to_numpy()] = True
        info = pos.set_index("index")
        em.emit(mask, WARNING, "sprung_vorjahr", "wert_col", None,
                lambda r, i: f"Großer Sprung ggü. dem Vorjahr ({label(r['indikator_id'])}, {r['sozialraum_id']}, {r['jahr']}): "
                f"{_fmt(info.at[i, 'prev'])} → {_fmt(r['wert'])}; üblich sind Änderungen bis etwa ±{_limit_text(info.at[i, 'limit'], info.at[i, 'rel'])}. "
                "Bitte prüfen.")
    # Sozialräume missing for an indicator and year
    areas = [r[0] for r in con.cursor().execute("SELECT id FROM sozialraum ORDER BY id").fetchall()]
    if areas:
        got = v.groupby(["indikator_id", "jahr"])["sozialraum_id"].agg(set)
        for (iid, year), have in got.items():
            missing = [a for a in areas if a not in have]
            if missing:
                shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
                fa.findings.append(Finding(WARNING, "sozialraeume_fehlen", f"Für „{label(iid)}“ {year} fehlen {len(missing)} von "
                                           f"{len(areas)} Sozialräumen: {shown}. Bitte prüfen, ob die Lieferung vollständig ist."))


def _limit_text(limit: float, relative: bool) -> str:
    return f"{limit * 100:.1f} %".replace(".", ",") if relative else _fmt(round(float(limit), 1))


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    return (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-9 * np.maximum(1, np.abs(x)))


def analyse_and_compare(con, data: bytes, filename: str, **kw) -> FileAnalysis:
    fa = analyse(con, data, filename, **kw)
    compare(con, fa)
    return fa


__all__ = ["ERROR", "INFO", "WARNING", "FileAnalysis", "Finding", "analyse", "analyse_and_compare", "compare"]
