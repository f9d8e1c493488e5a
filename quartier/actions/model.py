"""Handlungsempfehlungen: the status model, the fields and the conversion of field values (no database access).

Rules the rest of the tool relies on:

* Every write function takes an ``actor`` and needs the role "Bearbeitung"; every write is audited.
* Every change of a field is appended to ``empfehlung_verlauf`` (field, old, new, justification, who, when);
  the history is never updated or deleted. A status change without a justification is refused.
* "überfällig" and "ohne Aktualisierung seit N Monaten" are derived for a given day (``today``), never stored.
* The progress (%) is never set from the status: a status "umgesetzt" with 60 % stays 60 % (with a hint).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from quartier import access, settings
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
    "angebote": ("Angebote", "list"),
    "oeffentlich": ("Öffentlich", "bool"),
    "ausgeschieden": ("Ausgeschieden", "bool"),
    "beispiel": ("Beispiel", "bool"),
}
LINK_FIELDS = {"sozialraeume": ("empfehlung_sozialraum", "sozialraum_id"),
               "indikatoren": ("empfehlung_indikator", "indikator_id"),
               "angebote": ("empfehlung_angebot", "angebot_id")}  # offers that carry the recommendation out
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
        return as_date(value).isoformat()
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


def as_date(v) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, pd.Timestamp):
        return v.date()
    return date.fromisoformat(str(v)[:10])


def db_value(key: str, value):
    """A field value as stored in its ``empfehlung`` column (lists as "|"-joined text)."""
    return to_text(key, value) if FIELDS[key][1] == "list" else value


def norm_value(key: str, value):
    """A field value in its Python form (date, int, bool, sorted list, str or None)."""
    return from_text(key, to_text(key, value))


def months_before(d: date, n: int) -> date:
    y, m = d.year, d.month - n
    while m <= 0:
        m += 12
        y -= 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def may_see_internal(actor: access.Actor) -> bool:
    """Staff (role "Bearbeitung" or higher) see internal and retired recommendations; everybody else public ones."""
    return actor.has(access.EDITOR)


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


def new_record(**values) -> dict:
    """A complete record with defaults for a new recommendation."""
    rec = {k: norm_value(k, None) for k in FIELDS}
    rec.update({"ebene": "Sozialraum", "status": "offen", "oeffentlich": True, "ausgeschieden": False, "beispiel": False})
    for k, v in values.items():
        if k in FIELDS:
            rec[k] = norm_value(k, v)
    return rec

