"""The typed registry of numeric settings: key, German label, range and default, read one way.

Every numeric setting is declared once here. ``read_int`` clamps what is stored to the declared range
(a value edited by hand outside the range, or unreadable, gives the nearest bound or the default), so a
setting is never read "unclamped" in one place and "1..50" in another. Free-text settings (city name,
attribution, flags) are read with ``db.get_setting``.
"""

from __future__ import annotations

from dataclasses import dataclass

from quartier import db


@dataclass(frozen=True)
class IntSetting:
    key: str
    label: str
    minimum: int
    maximum: int
    default: int
    group: str = "allgemein"


_ALL = [
    IntSetting("min_fallzahl", "Mindestfallzahl (Werte darunter werden für Betrachtende gesperrt)", 1, 50, 3, "sicherheit"),
    IntSetting("min_nenner", "Mindestnenner (Quoten auf kleinerer Basis werden gesperrt)", 1, 1000, 10, "sicherheit"),
    IntSetting("login_max_fehlversuche", "Fehlversuche bis zur Sperre", 1, 20, 5, "sicherheit"),
    IntSetting("login_sperre_minuten", "Sperrdauer nach zu vielen Fehlversuchen (Minuten)", 1, 1440, 15, "sicherheit"),
    IntSetting("sitzung_leerlauf_minuten", "Automatische Abmeldung nach Inaktivität (Minuten)", 5, 1440, 480, "sicherheit"),
    IntSetting("backup_anzahl", "Aufbewahrte automatische Sicherungen", 1, 100, 10, "sicherheit"),
    IntSetting("kleine_basis", "Kleine Basis: Quoten mit kleinerem Nenner werden als unsicher gekennzeichnet", 1, 100000,
               100, "allgemein"),
    IntSetting("empfehlung_aktualisierung_monate", "Empfehlung gilt als nicht aktualisiert nach (Monaten)", 1, 60, 6,
               "empfehlungen"),
    IntSetting("angebote_utm_zone", "UTM-Zone für Rechtswert/Hochwert in Angebotslisten (ETRS89)", 32, 33, 32, "angebote"),
    IntSetting("angebote_netz_puffer_m", "Breite beiderseits erreichbarer Wege im Fußwegenetz (Meter)", 5, 500, 50, "angebote"),
]
REGISTRY: dict[str, IntSetting] = {s.key: s for s in _ALL}

MIN_CASES = "min_fallzahl"
MIN_DENOMINATOR = "min_nenner"
SMALL_BASE = "kleine_basis"


def spec(key: str) -> IntSetting:
    return REGISTRY[key]


def clamp(key: str, value: object) -> int:
    """``value`` as an int inside the declared range; the default when it is not a number."""
    s = REGISTRY[key]
    try:
        v = int(str(value).strip())
    except (TypeError, ValueError):
        return s.default
    return min(s.maximum, max(s.minimum, v))


def read_int(con: db.Con, key: str) -> int:
    """The stored value of a registered numeric setting, clamped to its range."""
    s = REGISTRY[key]
    return clamp(key, db.get_setting(con, key, str(s.default)))


def group(name: str) -> list[IntSetting]:
    return [s for s in _ALL if s.group == name]
