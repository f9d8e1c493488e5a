"""Index methods: the frozen :class:`IndexMethod`, its validation, saved methods and the demo method.

The JSON form (``IndexMethod.to_dict``) is what ``index --export-method`` writes, ``--method-file`` /
``--save-method`` read and the table ``index_methode`` stores: keys in the order of ``METHOD_KEYS``,
``points_scheme`` only for ``kind: "points"``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from quartier import access, db
from quartier.access import Actor
from quartier.errors import QuartierError
from quartier.values import indicators

Kind = Literal["zscore", "points"]
PointsScheme = Literal["quintile", "rank"]
Direction = Literal["higher", "lower"]

KINDS = ("zscore", "points")
POINTS_SCHEMES = ("quintile", "rank")
DIRECTIONS = ("higher", "lower")
METHOD_KEYS = (
    "name", "version", "kind", "indicators", "population_indicator", "min_population", "max_missing_share",
    "cutoffs", "classes", "dynamics_years", "dynamics_cutoffs", "dynamics_classes",
)
OPTIONAL_KEYS = ("points_scheme",)
DEFAULTS: dict[str, Any] = {
    "version": None,
    "kind": "zscore",
    "population_indicator": None,  # without the key: the catalogue's population count (indicators.population_ids)
    "min_population": 300,
    "max_missing_share": 0.25,
    "cutoffs": [-1.0, 1.0, 1.5],
    "classes": ["niedrig", "mittel", "hoch", "sehr hoch"],
    "dynamics_years": 2,
    "dynamics_cutoffs": [-1.0, 1.0],
    "dynamics_classes": ["Verbesserung", "stabil", "Verschlechterung"],
}
POINTS_DEFAULT_CUTOFFS = [2.0, 3.5, 4.25]

# The method a report ranks by when several are saved (the name the demo city and the planning guide use).
STANDARD_METHOD_NAME = "Handlungsbedarf Kinder und Jugendliche"


class MethodError(QuartierError, ValueError):
    """An invalid method (German message naming the problem)."""


@dataclass(frozen=True)
class IndexIndicator:
    id: str
    weight: float
    direction: Direction

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "weight": self.weight, "direction": self.direction}


@dataclass(frozen=True)
class IndexMethod:
    """A validated index method. Build it with :meth:`from_dict` (or :func:`validate_method`)."""

    name: str
    indicators: tuple[IndexIndicator, ...]
    version: int | None = None
    kind: Kind = "zscore"
    population_indicator: str | None = None
    min_population: int | float = 300
    max_missing_share: float = 0.25
    cutoffs: tuple[float, ...] = (-1.0, 1.0, 1.5)
    classes: tuple[str, ...] = ("niedrig", "mittel", "hoch", "sehr hoch")
    dynamics_years: int | tuple[int, int] = 2
    dynamics_cutoffs: tuple[float, ...] = (-1.0, 1.0)
    dynamics_classes: tuple[str, ...] = ("Verbesserung", "stabil", "Verschlechterung")
    points_scheme: PointsScheme | None = None  # only for kind "points" (then "quintile" or "rank")

    @classmethod
    def from_dict(cls, obj: Any, catalogue: pd.DataFrame | None = None) -> IndexMethod:
        """Validate the JSON form (defaults filled); raises :class:`MethodError` with a German message."""
        return validate_method(obj, catalogue)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, keys in the documented order (identical to what was read)."""
        out: dict[str, Any] = {
            "name": self.name, "version": self.version, "kind": self.kind,
            "indicators": [i.to_dict() for i in self.indicators],
            "population_indicator": self.population_indicator, "min_population": self.min_population,
            "max_missing_share": self.max_missing_share, "cutoffs": list(self.cutoffs), "classes": list(self.classes),
            "dynamics_years": list(self.dynamics_years) if isinstance(self.dynamics_years, tuple) else self.dynamics_years,
            "dynamics_cutoffs": list(self.dynamics_cutoffs), "dynamics_classes": list(self.dynamics_classes),
        }
        if self.kind == "points":
            out["points_scheme"] = self.points_scheme or "quintile"
        return out

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @property
    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    @property
    def scheme(self) -> PointsScheme:
        return self.points_scheme or "quintile"

    def unsaved(self) -> IndexMethod:
        return dataclasses.replace(self, version=None)

    def with_version(self, version: int | None) -> IndexMethod:
        return dataclasses.replace(self, version=version)


# --------------------------------------------------------------------------------------------
# Validation


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _check_cutoffs(obj: dict[str, Any], ckey: str, lkey: str) -> tuple[tuple[float, ...], tuple[str, ...]]:
    cut, labels = obj[ckey], obj[lkey]
    if not isinstance(cut, list) or not cut or not all(_is_number(c) for c in cut):
        raise MethodError(f"„{ckey}“ muss eine Liste von Zahlen sein, z. B. [-1.0, 1.0, 1.5].")
    if any(b <= a for a, b in zip(cut, cut[1:])):
        raise MethodError(f"„{ckey}“ muss aufsteigend sortiert sein (ohne doppelte Werte): {cut}.")
    if not isinstance(labels, list) or not all(isinstance(c, str) and c.strip() for c in labels):
        raise MethodError(f"„{lkey}“ muss eine Liste von Klassennamen (Text) sein.")
    if len(labels) != len(cut) + 1:
        raise MethodError(
            f"„{lkey}“ braucht genau einen Namen mehr als „{ckey}“ Grenzen hat "
            f"({len(cut)} Grenzen → {len(cut) + 1} Klassen, angegeben: {len(labels)})."
        )
    if len(set(labels)) != len(labels):
        raise MethodError(f"„{lkey}“ enthält doppelte Klassennamen.")
    return tuple(float(c) for c in cut), tuple(c.strip() for c in labels)


def _catalogue_direction(cat: pd.DataFrame, iid: str) -> str:
    if iid not in cat.index:
        raise MethodError(f"Indikator „{iid}“ ist im Indikatorenkatalog nicht bekannt.")
    cat_dir = cat.loc[iid, "richtung"]
    cat_dir = None if cat_dir is None or (isinstance(cat_dir, float) and math.isnan(cat_dir)) else cat_dir
    if cat_dir is None:
        raise MethodError(
            f"Indikator „{iid}“ hat im Katalog keine Richtung (z. B. eine Anzahl wie die Einwohnerzahl) "
            "und kann nicht in den Index aufgenommen werden."
        )
    return str(cat_dir)


def _check_indicator(n: int, ind: Any, seen: set[str], cat: pd.DataFrame | None) -> IndexIndicator:
    if isinstance(ind, str):
        ind = {"id": ind}
    if not isinstance(ind, dict) or not isinstance(ind.get("id"), str) or not ind["id"].strip():
        raise MethodError(f"Indikator Nr. {n}: Jeder Eintrag braucht eine „id“ (Text).")
    iid = ind["id"].strip()
    bad = [k for k in ind if k not in ("id", "weight", "direction")]
    if bad:
        raise MethodError(f"Indikator „{iid}“: unbekannte Angabe(n) {', '.join(map(repr, bad))} (erlaubt: id, weight, direction).")
    if iid in seen:
        raise MethodError(f"Indikator „{iid}“ ist doppelt angegeben.")
    seen.add(iid)
    weight = ind.get("weight", 1.0)
    if not _is_number(weight) or weight <= 0:
        raise MethodError(
            f"Indikator „{iid}“: Gewicht {weight!r} ist ungültig – erlaubt sind Zahlen größer als 0 "
            "(einen Indikator ohne Gewicht bitte ganz weglassen)."
        )
    direction = ind.get("direction")
    if cat is not None:
        cat_dir = _catalogue_direction(cat, iid)
        if direction is None:
            direction = cat_dir
    if direction not in DIRECTIONS:
        raise MethodError(
            f"Indikator „{iid}“: „direction“ muss „higher“ (höherer Wert = mehr Bedarf) oder „lower“ sein, "
            f"nicht {direction!r}."
        )
    return IndexIndicator(iid, float(weight), direction)


def _check_indicators(inds: Any, cat: pd.DataFrame | None) -> tuple[IndexIndicator, ...]:
    if not isinstance(inds, list) or not inds:
        raise MethodError("„indicators“ fehlt oder ist leer: mindestens ein Indikator mit Gewicht ist nötig.")
    seen: set[str] = set()
    return tuple(_check_indicator(n, ind, seen, cat) for n, ind in enumerate(inds, start=1))


def _check_head(obj: dict[str, Any], m: dict[str, Any]) -> PointsScheme | None:
    """Name, version, kind and points scheme; fills the points cut-offs by default."""
    if not isinstance(m["name"], str) or not m["name"].strip():
        raise MethodError("„name“ fehlt: Jede Methode braucht einen Namen.")
    v = m["version"]
    if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
        raise MethodError("„version“ muss eine ganze Zahl ab 1 sein (oder fehlen).")
    if m["kind"] not in KINDS:
        raise MethodError(f"„kind“ muss „zscore“ oder „points“ sein, nicht {m['kind']!r}.")
    if m["kind"] != "points":
        if "points_scheme" in obj:
            raise MethodError("„points_scheme“ gilt nur für „kind“: „points“.")
        return None
    scheme = obj.get("points_scheme", "quintile")
    if scheme not in POINTS_SCHEMES:
        raise MethodError(f"„points_scheme“ muss „quintile“ oder „rank“ sein, nicht {scheme!r}.")
    if "cutoffs" not in obj:
        m["cutoffs"] = list(POINTS_DEFAULT_CUTOFFS)
    return scheme  # type: ignore[no-any-return]


def _check_rules(m: dict[str, Any], cat: pd.DataFrame | None) -> tuple[int | float, float]:
    pop = m["population_indicator"]
    if pop is not None and (not isinstance(pop, str) or not pop.strip()):
        raise MethodError("„population_indicator“ muss eine Indikator-Id (Text) oder null sein.")
    if pop is not None and cat is not None and pop not in cat.index:
        raise MethodError(f"Bevölkerungsindikator „{pop}“ ist im Indikatorenkatalog nicht bekannt.")
    if not _is_number(m["min_population"]) or m["min_population"] < 0:
        raise MethodError("„min_population“ muss eine Zahl ≥ 0 sein (Standard 300).")
    msh = m["max_missing_share"]
    if not _is_number(msh) or not 0 <= msh < 1:
        raise MethodError(
            f"„max_missing_share“ muss ein Anteil zwischen 0 und unter 1 sein (z. B. 0.25 für 25 %), nicht {msh!r}."
        )
    mp = float(m["min_population"])
    return (int(m["min_population"]) if mp.is_integer() else mp), float(msh)


def _check_dynamics_years(dy: Any) -> int | tuple[int, int]:
    if isinstance(dy, int) and not isinstance(dy, bool):
        if dy < 1:
            raise MethodError("„dynamics_years“ muss ≥ 1 sein (Jahre vor dem Indexjahr) oder [Anfangsjahr, Endjahr].")
        return dy
    if isinstance(dy, list) and len(dy) == 2 and all(isinstance(y, int) and not isinstance(y, bool) for y in dy):
        if dy[0] >= dy[1]:
            raise MethodError(f"„dynamics_years“ {dy}: das Anfangsjahr muss vor dem Endjahr liegen.")
        return int(dy[0]), int(dy[1])
    raise MethodError(
        "„dynamics_years“ muss eine ganze Zahl (Jahre vor dem Indexjahr, Standard 2) oder [Anfangsjahr, Endjahr] sein."
    )


def validate_method(obj: Any, catalogue: pd.DataFrame | None = None) -> IndexMethod:
    """Check a method (its JSON form, or an :class:`IndexMethod` again) and return it as :class:`IndexMethod`.

    ``catalogue`` (the indikator table) lets the check name unknown indicators and indicators without a
    direction. Raises :class:`MethodError` with a German message.
    """
    if isinstance(obj, IndexMethod):
        obj = obj.to_dict()
    if not isinstance(obj, dict):
        raise MethodError("Die Methode muss ein JSON-Objekt sein ({\"name\": …, \"indicators\": […], …}).")
    unknown = [k for k in obj if k not in METHOD_KEYS and k not in OPTIONAL_KEYS]
    if unknown:
        raise MethodError(
            f"Unbekannte Angabe(n) {', '.join(map(repr, unknown))}. Erlaubt sind: {', '.join(METHOD_KEYS + OPTIONAL_KEYS)}."
        )
    m = {k: obj.get(k, DEFAULTS.get(k)) for k in METHOD_KEYS}
    scheme = _check_head(obj, m)
    cat = None
    if catalogue is not None:
        cat = catalogue.set_index("id") if "id" in catalogue.columns else catalogue
        if "population_indicator" not in obj:  # the minimum-size rule counts the catalogue's population
            m["population_indicator"] = indicators.population_ids(cat)[0]
    inds = _check_indicators(m["indicators"], cat)
    min_pop, max_missing = _check_rules(m, cat)
    cutoffs, classes = _check_cutoffs(m, "cutoffs", "classes")
    dyn_cutoffs, dyn_classes = _check_cutoffs(m, "dynamics_cutoffs", "dynamics_classes")
    return IndexMethod(
        name=m["name"].strip(), indicators=inds, version=m["version"], kind=m["kind"],
        population_indicator=m["population_indicator"], min_population=min_pop, max_missing_share=max_missing,
        cutoffs=cutoffs, classes=classes, dynamics_years=_check_dynamics_years(m["dynamics_years"]),
        dynamics_cutoffs=dyn_cutoffs, dynamics_classes=dyn_classes, points_scheme=scheme,
    )


def dynamics_span(method: IndexMethod, year: int) -> tuple[int, int]:
    dy = method.dynamics_years
    if isinstance(dy, tuple):
        return int(dy[0]), int(dy[1])
    return int(year) - int(dy), int(year)


def core_json(method: IndexMethod | Mapping[str, Any]) -> str:
    """The method without its version, as canonical JSON (equal content = equal text)."""
    d = method.to_dict() if isinstance(method, IndexMethod) else dict(method)
    return json.dumps({k: v for k, v in d.items() if k != "version"}, sort_keys=True, ensure_ascii=False)


def with_weights(method: IndexMethod, weights: dict[str, float], directions: dict[str, str], **changes: Any) -> IndexMethod:
    """A copy of ``method`` with the indicators/weights of ``weights`` (weight 0 or empty = not used)
    and other settings changed (JSON keys); the version is dropped when anything differs from ``method``.
    Raises :class:`MethodError` when the result is no valid method."""
    inds = [{"id": i, "weight": float(w), "direction": directions[i]}
            for i, w in weights.items() if w is not None and not (isinstance(w, float) and math.isnan(w)) and w > 0]
    m = {**method.to_dict(), "indicators": inds, **changes}
    if m.get("kind") != "points":
        m.pop("points_scheme", None)
    if core_json(m) != core_json(method):
        m["version"] = None
    return validate_method(m)


# --------------------------------------------------------------------------------------------
# Saved methods


def save_method(con, method: IndexMethod | dict[str, Any], actor: Actor) -> IndexMethod:
    """Save ``method`` as a new version of its name (or return the latest version if unchanged)."""
    access.require(actor, access.EDITOR, "eine Index-Methode speichern")
    m = validate_method(method, indicators.catalogue(con))
    with db.transaction(con) as cur:
        return save_method_cur(cur, m, actor.name)


def save_method_cur(cur, m: IndexMethod, user: str) -> IndexMethod:
    """:func:`save_method` inside an open transaction (no role check: the caller checked)."""
    latest = cur.execute(
        "SELECT version, methode FROM index_methode WHERE name = ? ORDER BY version DESC LIMIT 1", [m.name]
    ).fetchone()
    if latest and core_json(json.loads(latest[1])) == core_json(m):
        return m.with_version(int(latest[0]))
    version = (int(latest[0]) + 1) if latest else 1
    saved = m.with_version(version)
    cur.execute(
        "INSERT INTO index_methode (name, version, methode, erstellt_von) VALUES (?, ?, ?, ?)",
        [m.name, version, saved.to_json(), user],
    )
    db.audit(cur, user, "index_methode_speichern", f"{m.name} v{version}", saved.to_json())
    return saved


def check_version(con, method: IndexMethod) -> tuple[IndexMethod, str | None]:
    """A method whose ``version`` does not match the saved version of that name (content differs, or
    no such version) is treated as unsaved: returns (method with version None, German note)."""
    if method.version is None:
        return method, None
    row = con.cursor().execute("SELECT methode FROM index_methode WHERE name = ? AND version = ?",
                               [method.name, int(method.version)]).fetchone()
    if row and core_json(json.loads(row[0])) == core_json(method):
        return method, None
    why = "weicht vom Inhalt der gespeicherten Version ab" if row else "ist nicht gespeichert"
    return (method.unsaved(),
            f"Methode „{method.name}“ Version {method.version} {why}: sie wird als ungespeicherte Methode gerechnet.")


def _stored(text: str) -> IndexMethod:
    return validate_method(json.loads(text))


def methods(con) -> pd.DataFrame:
    """Saved methods, the latest version of each name: name, version, erstellt_von, erstellt_am, methode (IndexMethod)."""
    df = db.query_df(
        con,
        "SELECT name, version, erstellt_von, erstellt_am, methode FROM index_methode"
        " QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name",
    )
    df["methode"] = df["methode"].map(_stored)
    return df


def method_versions(con, name: str) -> pd.DataFrame:
    return db.query_df(
        con, "SELECT version, erstellt_von, erstellt_am FROM index_methode WHERE name = ? ORDER BY version", [name]
    )


def get_method(con, name: str, version: int | None = None) -> IndexMethod:
    sql = "SELECT methode FROM index_methode WHERE name = ?"
    params: list[Any] = [name]
    if version is not None:
        sql += " AND version = ?"
        params.append(int(version))
    row = con.cursor().execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
    if not row:
        known = ", ".join(methods(con)["name"]) or "keine"
        what = f"„{name}“" + (f" in Version {version}" if version is not None else "")
        raise MethodError(f"Methode {what} ist nicht gespeichert. Gespeicherte Methoden: {known}.")
    return _stored(row[0])

