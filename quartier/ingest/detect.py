"""Finding the table in a sheet: header row(s), merged header cells, column roles and the layout.

Layouts:
- ``lang``: one row per Sozialraum, indicator and year (value, optionally numerator/denominator);
- ``breit_jahr``: Sozialräume as rows, years as columns (indicator from the sheet name or title);
- ``breit_indikator``: Sozialräume as rows, indicators as columns (year from a column, the sheet
  name or the title).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from quartier.ingest.match import Matcher
from quartier.ingest.values import cell_text, col_letter
from quartier.names import normalize as _normalize
from quartier.units import is_count

ROLES = ("sozialraum", "bezeichnung", "indikator", "jahr", "wert", "zaehler", "nenner", "gesperrt", "ignorieren")
ROLE_LABELS = {
    "sozialraum": "Sozialraum (Nr. oder Name)",
    "bezeichnung": "Sozialraum-Name (nur Beschriftung)",
    "indikator": "Indikator / Kennzahl",
    "jahr": "Jahr",
    "wert": "Wert",
    "zaehler": "Zähler (Anzahl)",
    "nenner": "Nenner (Basis)",
    "gesperrt": "Sperrvermerk (1/ja = gesperrt)",
    "ignorieren": "ignorieren",
}
LAYOUT_LABELS = {
    "lang": "lang (eine Zeile je Sozialraum, Indikator und Jahr)",
    "breit_jahr": "breit nach Jahr (Jahre als Spalten)",
    "breit_indikator": "breit nach Indikator (Indikatoren als Spalten)",
}
MEASURES = ("wert", "zaehler", "nenner")
HEADER_SCAN_ROWS = 40
_YEAR_RE = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")
_YEAR_ONLY_RE = re.compile(r"(19[89]\d|20\d\d)")

_JAHR = {"jahr", "berichtsjahr", "stichjahr", "year", "erhebungsjahr", "jahrgang", "schuljahr"}
_SR_ID = {"nr", "nummer", "id", "sozialraumnr", "sozialraumnummer", "sozialraumid", "srnr", "sr", "srid", "gebietsnr",
          "gebietsnummer", "schluessel", "sozialraumschluessel", "kennung", "lfdnr"}
_SR_NAME = {"sozialraum", "sozialraumname", "gebiet", "gebietsname", "quartier", "wohnsozialraum", "sozialraumbezeichnung",
            "bezeichnung", "name", "stadtteil", "sozialraeume"}
_SUPP = {"gesperrt", "sperrvermerk", "geheimhaltung", "gesperrtjanein"}
_IND = {"kennzahl", "indikator", "indikatorid", "merkmal", "kennziffer", "indikatorname", "kennzahlname", "kennzahlid"}


@lru_cache(maxsize=65536)
def _normalize_text(text: str) -> str:
    return _normalize(text)


def normalize(text: Any) -> str:
    """:func:`quartier.names.normalize`, remembered for texts (the same headers come again on every sheet)."""
    return _normalize_text(text) if type(text) is str else _normalize(text)


def measure_of(label: str) -> str | None:
    """wert / zaehler / nenner from a (sub-)header text, or None."""
    raw = str(label or "").strip().lower()
    k = normalize(label)
    if not k and "%" in raw:
        return "wert"
    if any(w in k for w in ("nenner", "basis", "bezugsgroesse", "grundgesamtheit", "bezugszahl", "insgesamt")):
        return "nenner"
    if any(k.startswith(w) or w in k for w in ("zaehler", "anzahl", "fallzahl", "faelle", "absolut")):
        return "zaehler"
    if "%" in raw or any(k.startswith(w) for w in ("wert", "quote", "anteil", "prozent", "je1000", "rate", "dichte")):
        return "wert"
    return None


def year_of(v: Any) -> int | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and float(v).is_integer() and 1980 <= v <= 2100:
        return int(v)
    if isinstance(v, str):
        t = v.strip()
        if _YEAR_ONLY_RE.fullmatch(t):
            return int(t)
    return None


_DEADLINE_RE = re.compile(r"\b(?:bis|ab|seit)\s+(?:(?:ende|anfang)\s+)?$", re.IGNORECASE)


def year_in_text(text: str) -> int | None:
    """The last year in a text; not a lone deadline ("Bindungsauslauf bis 2023" is no data year; "2013 bis 2016" is 2016)."""
    t = str(text or "")
    hits = list(_YEAR_RE.finditer(t))
    if len(hits) == 1 and _DEADLINE_RE.search(t[:hits[0].start()]):
        return None
    return int(hits[-1].group(1)) if hits else None


def key_role(label: Any) -> str | None:
    k = normalize(label)
    if not k:
        return None
    if k in _JAHR:
        return "jahr"
    if k in _SR_ID:
        return "sozialraum"
    if k in _SR_NAME:
        return "bezeichnung"
    if k in _SUPP:
        return "gesperrt"
    if k in _IND:
        return "indikator"
    return None


SOURCE_LABELS = {"spaltenkopf": "Spaltenkopf", "gruppenkopf": "Gruppenkopf", "blattname": "Blattname", "titel": "Titel",
                 "name": "Name", "beschreibung": "Beschreibung", "inhalt": "Inhalt (Gebietsnamen)", "gemerkt": "gemerkte Zuordnung",
                 "plan": "Zuordnung (Plan)"}


@dataclass
class ColumnSpec:
    col: int
    header: str
    role: str = "ignorieren"
    indikator_id: str | None = None
    jahr: int | None = None
    indikator_quelle: str | None = None   # where the indicator came from (SOURCE_LABELS)
    jahr_quelle: str | None = None        # where the year came from (own header wins over group, sheet, title)
    rolle_quelle: str | None = None

    @property
    def letter(self) -> str:
        return col_letter(self.col)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SheetPlan:
    sheet: str
    header_row: int            # 0-based index of the (top) header row
    header_rows: int           # 1, or 2 with a sub-header (Anzahl | Basis | %)
    layout: str
    columns: list[ColumnSpec]
    indikator_id: str | None = None   # for breit_jahr and single-indicator long sheets
    jahr: int | None = None           # for breit_indikator without a year column
    title: str = ""
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # blocking problems of the plan itself
    data_row: int | None = None       # 0-based first data row when not right below the header
    area_col: int | None = None       # the area column (found by its content)
    exclude_rows: list[int] = field(default_factory=list)   # 0-based rows not read (e.g. totals)
    jahr_quelle: str | None = None
    indikator_quelle: str | None = None

    @property
    def first_data_row(self) -> int:
        return self.data_row if self.data_row is not None else self.header_row + self.header_rows

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["columns"] = [c.to_dict() for c in self.columns]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SheetPlan:
        d = dict(d)
        d["columns"] = [ColumnSpec(**c) for c in d["columns"]]
        return cls(**d)


def _nonempty(row: list[Any]) -> list[tuple[int, Any]]:
    return [(c, v) for c, v in enumerate(row) if cell_text(v).strip()]


def _label_score(v: Any, matcher: Matcher) -> int:
    if year_of(v) is not None:
        return 1
    if not isinstance(v, str):
        return 0
    if key_role(v) or measure_of(v):
        return 1
    if matcher.match("indikator", v):
        return 1
    return 0


def find_header(rows: list[list[Any]], matcher: Matcher) -> tuple[int, int] | None:
    """(header row index, 1 or 2 header rows) or None when no table is recognisable."""
    limit = min(len(rows), HEADER_SCAN_ROWS)
    for r in range(limit):
        cells = _nonempty(rows[r])
        if len(cells) < 2:
            continue
        texts = [v for _, v in cells if isinstance(v, str)]
        score = sum(_label_score(v, matcher) for _, v in cells)
        has_key = any(key_role(v) in ("sozialraum", "bezeichnung") for v in texts)
        if score >= 2 and (has_key or score >= 3) and score * 2 >= len(cells):
            sub = 1
            if r + 1 < len(rows):
                nxt = _nonempty(rows[r + 1])
                if nxt and all(isinstance(v, str) for _, v in nxt) and sum(1 for _, v in nxt if measure_of(v)) >= max(1, len(nxt) // 2) \
                        and not any(key_role(v) for _, v in nxt):
                    sub = 2
            return r, sub
    return None


def header_labels(rows: list[list[Any]], header_row: int, header_rows: int,
                  merged: list[tuple[int, int, int, int]]) -> list[tuple[str, str, Any]]:
    """(top, sub) label per column; merged top cells are spread over the columns they span."""
    width = max((len(r) for r in rows[header_row:header_row + header_rows]), default=0)
    top = [cell_text(v).strip() for v in rows[header_row]] + [""] * width
    top = top[:width]
    top_raw = list(rows[header_row]) + [None] * width
    sub = [""] * width
    if header_rows == 2:
        sub = ([cell_text(v).strip() for v in rows[header_row + 1]] + [""] * width)[:width]
    for r0, c0, r1, c1 in merged:
        if r0 <= header_row <= r1 and c0 < width:
            for c in range(c0 + 1, min(c1, width - 1) + 1):
                if not top[c]:
                    top[c] = top[c0]
                    top_raw[c] = top_raw[c0]
    if header_rows == 2:  # merged cells not marked as such: carry the group label right while sub-labels go on
        for c in range(1, width):
            if not top[c] and sub[c] and top[c - 1] and sub[c - 1] and measure_of(sub[c]):
                top[c] = top[c - 1]
                top_raw[c] = top_raw[c - 1]
    return [(top[c], sub[c], top_raw[c]) for c in range(width)]


def plan_sheet(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher,
               remembered: dict[str, dict[str, Any]] | None = None) -> SheetPlan | None:
    """Detect the table of one sheet by its header words; None when no header is recognisable.

    The first attempt is by content (``quartier.ingest.headers.plan_from_block``); this is the fallback.
    """
    found = find_header(rows, matcher)
    if found is None:
        return None
    hr, nsub = found
    title = " ".join(cell_text(v) for r in rows[:hr] for v in r if cell_text(v).strip())
    labels = header_labels(rows, hr, nsub, merged)
    cols: list[ColumnSpec] = []
    for c, (top, sub, top_raw) in enumerate(labels):
        header = f"{top} | {sub}" if top and sub else (top or sub)
        if not header:
            continue
        spec = ColumnSpec(c, header)
        role = key_role(top) if top else None
        y = year_of(top_raw) if top else None
        ind = matcher.match("indikator", top) if top and not role and y is None else None
        if role:
            spec.role = role
        elif y is not None:
            spec.jahr = y
            spec.role = measure_of(sub) or "wert"
        elif ind:
            spec.indikator_id = ind
            m = measure_of(sub) or "wert"
            if m == "zaehler" and is_count(matcher.units.get(ind)):
                m = "wert"
            spec.role = m
        elif m_top := measure_of(top):
            spec.role = m_top
        if remembered and (rem := remembered.get(remember_key(c, header)) or remembered.get(moved_key(header))):
            spec.role, spec.indikator_id, spec.jahr = rem["rolle"], rem.get("indikator_id"), rem.get("jahr")
        cols.append(spec)
    # With a Sozialraum number column the name column is a label only; without, the name is the key.
    roles = [c.role for c in cols]
    if "sozialraum" not in roles and "bezeichnung" in roles:
        next(c for c in cols if c.role == "bezeichnung").role = "sozialraum"
    plan = SheetPlan(name, hr, nsub, "lang", cols, title=title)
    finish_plan(plan, matcher)
    return plan


def remember_key(col: int, header: str) -> str:
    """What stays the same next year: the column position and its header without years ("(Dez 2017)")."""
    return f"{col_letter(col)}:{normalize(strip_years(header))}"


def moved_key(header: str) -> str:
    """The key of a remembered column found by its header alone, wherever it stands now (see remembered_mapping)."""
    return "*:" + normalize(strip_years(header))


def sheet_key(sheet: str) -> str:
    """The key of a remembered sheet layout: the sheet name without years ("Tabelle 2017" and "Tabelle 2018" alike)."""
    return "@blatt:" + normalize(strip_years(sheet))


def strip_years(text: str) -> str:
    """A header without dates and years: "Einwohner (Dez 2017)" -> "Einwohner"."""
    return _strip_years(str(text))


_DATE_RE = re.compile(r"\(?\b(\d{1,2}\.\d{1,2}\.|(jan|feb|mär|mar|apr|mai|jun|jul|aug|sep|okt|nov|dez)[a-zä]*\.?\s*)?"
                      r"(19[89]\d|20\d\d)\b\)?", re.IGNORECASE)
_SPACES_RE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def _strip_years(text: str) -> str:
    return _SPACES_RE.sub(" ", _DATE_RE.sub(" ", text)).strip(" ,;:-")


def finish_plan(plan: SheetPlan, matcher: Matcher) -> None:
    """Derive the layout and the sheet-level indicator/year from the column roles; note problems."""
    cols = plan.columns
    plan.problems = []
    by_year = [c for c in cols if c.jahr is not None and c.role in MEASURES]
    by_ind = [c for c in cols if c.indikator_id and c.role in MEASURES]
    roles = {c.role for c in cols}
    if by_ind:
        plan.layout = "breit_indikator"
    elif by_year:
        plan.layout = "breit_jahr"
    else:
        plan.layout = "lang"
    if "sozialraum" not in roles:
        plan.problems.append("Keine Spalte mit dem Sozialraum gefunden. Bitte eine Spalte als „Sozialraum“ zuordnen.")
    if plan.layout in ("lang", "breit_jahr") and "indikator" not in roles and not (plan.layout == "lang" and by_ind):
        if not plan.indikator_id:
            plan.indikator_id = matcher.find_in_text("indikator", plan.sheet) or matcher.find_in_text("indikator", plan.title)
            if plan.indikator_id:
                plan.indikator_quelle = "blattname" if matcher.find_in_text("indikator", plan.sheet) else "titel"
        if not plan.indikator_id:
            plan.problems.append(
                "Der Indikator ist weder als Spalte noch im Blattnamen oder Titel erkennbar. Bitte eine Spalte "
                "„Kennzahl“ ergänzen oder den Indikator für das Blatt wählen.")
    undated = plan.layout == "lang" or any(c.jahr is None for c in by_ind)
    if plan.layout in ("lang", "breit_indikator") and "jahr" not in roles and undated:
        if not plan.jahr:
            plan.jahr = year_in_text(plan.sheet) or year_in_text(plan.title)
            plan.jahr_quelle = "blattname" if year_in_text(plan.sheet) else ("titel" if plan.jahr else None)
        if not plan.jahr:
            plan.problems.append(
                "Das Jahr ist weder als Spalte noch im Blattnamen oder Titel erkennbar. Bitte eine Spalte „Jahr“ "
                "ergänzen oder das Jahr im Blattnamen angeben.")
    if plan.layout == "lang" and not (roles & set(MEASURES)):
        plan.problems.append("Keine Wertespalte gefunden (Wert, Quote, Anzahl, Zähler, Nenner). Bitte Spalten zuordnen.")
