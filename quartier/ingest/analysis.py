"""What the importer found in one file: :class:`Finding`, :class:`FileAnalysis` and the finding emitter.

Shared by the steps extract -> validate -> compare (see :mod:`quartier.ingest.pipeline`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quartier.ingest import values as V
from quartier.ingest.detect import SheetPlan
from quartier.ingest.match import Matcher

ERROR, WARNING, INFO = "fehler", "warnung", "info"
MAX_PER_RULE = 200

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"]

# Rules as people read them (page, command line text, Prüfbericht); the ids stay in the JSON output.
RULE_LABELS = {
    "zaehler_groesser_nenner": "Zähler größer als Nenner",
    "negative_anzahl": "Negative Anzahl",
    "unplausibel": "Wert außerhalb des plausiblen Bereichs",
    "widerspruch_zaehler_nenner": "Wert passt nicht zu Zähler und Nenner",
    "keine_zahl": "Keine Zahl",
    "jahr": "Jahr fehlt oder ungültig",
    "doppelt": "Doppelte Angabe",
    "unbekannt_sozialraum": "Unbekannter Sozialraum",
    "unbekannt_indikator": "Unbekannter Indikator",
    "aenderung": "Ändert einen gelieferten Wert",
    "sprung_vorjahr": "Großer Sprung zum Vorjahr",
    "sozialraeume_fehlen": "Sozialräume fehlen",
    "summe_abweichend": "Summe weicht ab",
    "summenzeile": "Summenzeile übersprungen",
    "anmerkung": "Zeile ohne Werte",
    "ausgeschlossen": "Zeilen ausgeschlossen",
    "ausgeblendet": "Blatt nicht gelesen",
    "keine_tabelle": "Keine Tabelle erkannt",
    "keine_daten": "Keine Werte",
    "zuordnung": "Spaltenzuordnung unvollständig",
    "spalte_doppelt": "Spalte doppelt zugeordnet",
    "spalte_nicht_zugeordnet": "Spalte nicht zugeordnet",
    "spalte_ohne_kennzahl": "Spalten ohne Kennzahl des Katalogs",
    "formel_ohne_wert": "Formel ohne berechneten Wert",
    "frueher_zurueckgezogen": "Früher zurückgezogene Datei",
    "nicht_im_plan": "Blatt nicht im Plan",
    "ohne_wert": "Kein Wert („–“ oder „x“)",
    "wert_berechnet": "Wert berechnet",
    "abgelehnt": "Abgelehnt",
    "duplikat": "Bereits importiert",
    # the file itself (quartier.uploads.FileRejected.kind)
    "unlesbar": "Datei nicht lesbar",
    "leer": "Datei leer",
    "zu_gross": "Datei zu groß",
    "dateityp": "Dateityp passt nicht",
    "beschaedigt": "Datei beschädigt",
    "kennwort": "Datei mit Kennwort geschützt",
    "zip_bombe": "Datei entpackt zu groß",
    "keine_datei": "Keine Datei",
    "xlsx": "Excel-Datei nicht lesbar",
}


def rule_label(rule: str) -> str:
    """The German name of a rule ("zaehler_groesser_nenner" -> "Zähler größer als Nenner"); never the bare id."""
    if rule in RULE_LABELS:
        return RULE_LABELS[rule]
    text = rule.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass
class Finding:
    level: str
    rule: str
    message: str
    sheet: str = ""
    cell: str = ""
    column: str = ""
    value: str = ""

    def to_json(self) -> dict[str, str]:
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
    duplicate: dict[str, Any] | None = None
    accepted: dict[tuple[str, str], str] = field(default_factory=dict)          # (art, text) -> id, for this file
    remember: set[tuple[str, str]] = field(default_factory=set)   # accepted AND confirmed for all later files: alias on commit
    user_plans: bool = False                              # mapping set by the user: remember it
    suggestions: list[dict[str, Any]] = field(default_factory=list)  # [{art, text, ziel_id, ziel}]
    headers: dict[str, dict[int, str]] = field(default_factory=dict, repr=False)  # sheet -> {column index: header text}
    state: tuple[Any, ...] | None = field(default=None, repr=False)     # deliveries when compared (commit reuses the diff)
    row_counts: dict[str, int] | None = field(default=None, repr=False)
    matcher: Matcher | None = field(default=None, repr=False)
    gebietsstand: int | None = None   # delivered on the areas of this (earlier) Gebietsstand; None: the current one
    codes: ValueCodes | None = field(default=None, repr=False)   # numbers of the ids in ``values``, for the comparison

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.level == INFO]

    def counts(self) -> dict[str, int]:
        if self.row_counts is not None:
            return dict(self.row_counts)
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
            "Wert": f.value, "Regel": rule_label(f.rule), "Meldung": f.message} for f in self.findings],
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

    def report(self, status: str | None = None, lieferung_id: int | None = None) -> dict[str, Any]:
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


@dataclass
class ValueCodes:
    """The indicator and area ids of ``FileAnalysis.values`` as small numbers (``ind_ids[ind]`` is the indicator of each
    row), set by the validation so that the comparison need not factorise the id strings again. Valid only for the
    very frame they were made for (``frame``): the comparison checks that."""

    frame: pd.DataFrame
    ind: np.ndarray
    ind_ids: np.ndarray
    sr: np.ndarray


class Emitter:
    """Turns masks over the records into findings with sheet, cell, column and value (capped per rule)."""

    def __init__(self, fa: FileAnalysis, recs: dict[str, np.ndarray]):
        self.fa = fa
        self.recs = recs
        self.headers = fa.headers

    def header(self, sheet: str, c: int) -> str:
        return self.headers.get(sheet, {}).get(int(c), "") if c >= 0 else ""

    def row(self, i: int) -> dict[str, Any]:
        return {k: v[i] for k, v in self.recs.items()}

    def emit(self, mask: np.ndarray, level: str, rule: str, col_field: str, raw_field: str | None,
             message: Callable[[dict[str, Any], int], str]) -> int:
        idx = np.flatnonzero(mask)
        shown = idx[:MAX_PER_RULE]
        # the shown records taken out field by field at once, as Python values (not 200 x 20 numpy scalars)
        fields = {k: v[shown].tolist() for k, v in self.recs.items()} if len(shown) else {}
        for j, i in enumerate(shown.tolist()):
            r = {k: col[j] for k, col in fields.items()}
            c = int(r[col_field]) if col_field else -1
            cell = V.cell_address(int(r["row0"]), c) if c >= 0 else f"Zeile {int(r['row0']) + 1}"
            raw = V.cell_text(r[raw_field]) if raw_field else ""
            self.fa.findings.append(Finding(level, rule, message(r, i), r["sheet"], cell, self.header(r["sheet"], c), raw))
        if len(idx) > MAX_PER_RULE:
            self.fa.findings.append(Finding(level, rule, f"… und {len(idx) - MAX_PER_RULE} weitere Fälle dieser Art "
                                            "(nicht einzeln aufgeführt; bitte die Ursache oben beheben)."))
        return len(idx)


def fmt_number(x: Any) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    from quartier import format as fmt

    return fmt.integer(x) if float(x).is_integer() else f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".").rstrip("0").rstrip(",")

