"""Handlungsbedarf index: a transparent, reproducible ranking of need per Sozialraum.

Methods
-------
``zscore`` (status index as in Berlin's Monitoring Soziale Stadtentwicklung / Hamburg's Sozialmonitoring):
rate per indicator (numerator/denominator where delivered, else the delivered value), oriented so that a
higher value always means more need, z-standardised over the Sozialräume that take part (mean and
population standard deviation), weighted mean (the weight of a missing or suppressed value is spread
proportionally over the area's other indicators), the result standardised again. Classes by ``cutoffs``.

``points``: per indicator quintile points 1–5 (or rank points scaled to 1–5, ``points_scheme: "rank"``),
weighted mean with the same weight rule. Classes by ``cutoffs`` on the 1–5 scale.

Dynamics: the same procedure on the change of every indicator between two years (in the indicator's
unit, e.g. percentage points), classes by ``dynamics_cutoffs``.

Rules: areas below ``min_population`` (population indicator in the index year) take no part ("zu klein");
areas missing more than ``max_missing_share`` of the indicators get no class ("nicht bewertbar"); areas
that take no part are left out of every mean and standard deviation. A value exactly on a cut-off
belongs to the class nearer to 0 (z-scale) – for cut-offs ≥ 0 the lower class, for cut-offs < 0 the upper.

Contributions: ``(w_i · z_i − mean over rated areas of w_i · z_i) / SD(sum)``, where ``w_i`` is the
area's effective (re-spread) weight share. With complete data the mean term is exactly 0, so a
contribution is weight × z / final SD; in every case the contributions add up to the index value.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quartier import access, db
from quartier.errors import QuartierError
from quartier.values import indicators

KINDS = ("zscore", "points")
POINTS_SCHEMES = ("quintile", "rank")
DIRECTIONS = ("higher", "lower")
METHOD_KEYS = (
    "name", "version", "kind", "indicators", "population_indicator", "min_population", "max_missing_share",
    "cutoffs", "classes", "dynamics_years", "dynamics_cutoffs", "dynamics_classes",
)
OPTIONAL_KEYS = ("points_scheme",)
DEFAULTS = {
    "version": None,
    "kind": "zscore",
    "population_indicator": "ew_gesamt",
    "min_population": 300,
    "max_missing_share": 0.25,
    "cutoffs": [-1.0, 1.0, 1.5],
    "classes": ["niedrig", "mittel", "hoch", "sehr hoch"],
    "dynamics_years": 2,
    "dynamics_cutoffs": [-1.0, 1.0],
    "dynamics_classes": ["Verbesserung", "stabil", "Verschlechterung"],
}
POINTS_DEFAULT_CUTOFFS = [2.0, 3.5, 4.25]
ROUND = 6

FLAG_TOO_SMALL = "zu klein"
FLAG_NO_POPULATION = "keine Einwohnerzahl"
FLAG_NOT_RATED = "nicht bewertbar"
FLAG_MISSING = "fehlt"
FLAG_SUPPRESSED = "gesperrt"
FLAG_SINGLE = "Klasse hängt an einem Indikator"
FLAG_NO_DYNAMICS = "Dynamik nicht bewertbar"

DEMO_METHOD_NAME = "Handlungsbedarf Kinder und Jugendliche"
DEMO_INDICATORS = [  # Jobcenter, Gesundheitsamt, Schulverwaltung, Jugendamt
    ("sgb2_u18", 2.0), ("seu_sprache", 1.0), ("seu_vorsorge", 1.0), ("uebergang_gym", 1.0),
    ("ohne_abschluss", 1.0), ("hze_quote", 1.0), ("kita_u3", 1.0),
]

LIMITS_TEXT = (
    "Der Index ordnet die Sozialräume relativ zueinander: Ein hoher Wert heißt „stärker belastet als die "
    "meisten anderen Sozialräume dieser Stadt bei den gewählten Indikatoren“, nicht „schlecht“ in einem "
    "absoluten Sinn. Er hängt von der Auswahl und Gewichtung der Indikatoren ab (siehe Robustheit), misst "
    "keine Ursachen und keine Wirkung von Maßnahmen, und kleine Unterschiede im Rang sind oft Zufall. "
    "Sozialräume unter der Mindestgröße und solche mit zu vielen fehlenden Werten erhalten bewusst keine "
    "Klasse. Er ist ein Ausgangspunkt für das Fachgespräch mit den Beteiligten vor Ort, kein Ersatz dafür."
)


class MethodError(QuartierError, ValueError):
    """An invalid method (German message naming the problem)."""


# --------------------------------------------------------------------------------------------
# Methods: validation, defaults, storage


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _check_cutoffs(obj: dict, ckey: str, lkey: str) -> tuple[list[float], list[str]]:
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
    return [float(c) for c in cut], [c.strip() for c in labels]


def validate_method(obj, catalogue: pd.DataFrame | None = None) -> dict:
    """Check a method object and return it normalised (defaults filled, keys in the documented order).

    ``catalogue`` (the indikator table) lets the check name unknown indicators and indicators without a
    direction. Raises :class:`MethodError` with a German message.
    """
    if not isinstance(obj, dict):
        raise MethodError("Die Methode muss ein JSON-Objekt sein ({\"name\": …, \"indicators\": […], …}).")
    unknown = [k for k in obj if k not in METHOD_KEYS and k not in OPTIONAL_KEYS]
    if unknown:
        raise MethodError(
            f"Unbekannte Angabe(n) {', '.join(map(repr, unknown))}. Erlaubt sind: {', '.join(METHOD_KEYS + OPTIONAL_KEYS)}."
        )
    m = {k: obj.get(k, DEFAULTS.get(k)) for k in METHOD_KEYS}
    if not isinstance(m["name"], str) or not m["name"].strip():
        raise MethodError("„name“ fehlt: Jede Methode braucht einen Namen.")
    m["name"] = m["name"].strip()
    if m["version"] is not None and (not isinstance(m["version"], int) or isinstance(m["version"], bool) or m["version"] < 1):
        raise MethodError("„version“ muss eine ganze Zahl ab 1 sein (oder fehlen).")
    if m["kind"] not in KINDS:
        raise MethodError(f"„kind“ muss „zscore“ oder „points“ sein, nicht {m['kind']!r}.")
    if m["kind"] == "points":
        scheme = obj.get("points_scheme", "quintile")
        if scheme not in POINTS_SCHEMES:
            raise MethodError(f"„points_scheme“ muss „quintile“ oder „rank“ sein, nicht {scheme!r}.")
        if "cutoffs" not in obj:
            m["cutoffs"] = list(POINTS_DEFAULT_CUTOFFS)
    elif "points_scheme" in obj:
        raise MethodError("„points_scheme“ gilt nur für „kind“: „points“.")
    cat = None
    if catalogue is not None:
        cat = catalogue.set_index("id") if "id" in catalogue.columns else catalogue
    inds = m["indicators"]
    if not isinstance(inds, list) or not inds:
        raise MethodError("„indicators“ fehlt oder ist leer: mindestens ein Indikator mit Gewicht ist nötig.")
    out_inds, seen = [], set()
    for n, ind in enumerate(inds, start=1):
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
            if iid not in cat.index:
                raise MethodError(f"Indikator „{iid}“ ist im Indikatorenkatalog nicht bekannt.")
            cat_dir = cat.loc[iid, "richtung"]
            cat_dir = None if cat_dir is None or (isinstance(cat_dir, float) and math.isnan(cat_dir)) else cat_dir
            if cat_dir is None:
                raise MethodError(
                    f"Indikator „{iid}“ hat im Katalog keine Richtung (z. B. eine Anzahl wie die Einwohnerzahl) "
                    "und kann nicht in den Index aufgenommen werden."
                )
            if direction is None:
                direction = cat_dir
        if direction not in DIRECTIONS:
            raise MethodError(
                f"Indikator „{iid}“: „direction“ muss „higher“ (höherer Wert = mehr Bedarf) oder „lower“ sein, "
                f"nicht {direction!r}."
            )
        out_inds.append({"id": iid, "weight": float(weight), "direction": direction})
    m["indicators"] = out_inds
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
    m["min_population"] = float(m["min_population"]) if not float(m["min_population"]).is_integer() else int(m["min_population"])
    m["max_missing_share"] = float(msh)
    m["cutoffs"], m["classes"] = _check_cutoffs(m, "cutoffs", "classes")
    m["dynamics_cutoffs"], m["dynamics_classes"] = _check_cutoffs(m, "dynamics_cutoffs", "dynamics_classes")
    dy = m["dynamics_years"]
    if isinstance(dy, int) and not isinstance(dy, bool):
        if dy < 1:
            raise MethodError("„dynamics_years“ muss ≥ 1 sein (Jahre vor dem Indexjahr) oder [Anfangsjahr, Endjahr].")
    elif isinstance(dy, list) and len(dy) == 2 and all(isinstance(y, int) and not isinstance(y, bool) for y in dy):
        if dy[0] >= dy[1]:
            raise MethodError(f"„dynamics_years“ {dy}: das Anfangsjahr muss vor dem Endjahr liegen.")
    else:
        raise MethodError(
            "„dynamics_years“ muss eine ganze Zahl (Jahre vor dem Indexjahr, Standard 2) oder [Anfangsjahr, Endjahr] sein."
        )
    if m["kind"] == "points":
        m["points_scheme"] = obj.get("points_scheme", "quintile")
    return m


def dynamics_span(method: dict, year: int) -> tuple[int, int]:
    dy = method["dynamics_years"]
    if isinstance(dy, list):
        return int(dy[0]), int(dy[1])
    return int(year) - int(dy), int(year)


def _core_json(method: dict) -> str:
    return json.dumps({k: v for k, v in method.items() if k != "version"}, sort_keys=True, ensure_ascii=False)


def save_method(con, method: dict, actor) -> dict:
    """Save ``method`` as a new version of its name (or return the latest version if unchanged)."""
    access.require(actor, access.EDITOR, "eine Index-Methode speichern")
    m = validate_method(method, indicators.catalogue(con))
    with db.transaction(con) as cur:
        return _save_method_cur(cur, m, actor.name)


def _save_method_cur(cur, m: dict, user: str) -> dict:
    latest = cur.execute(
        "SELECT version, methode FROM index_methode WHERE name = ? ORDER BY version DESC LIMIT 1", [m["name"]]
    ).fetchone()
    if latest and _core_json(json.loads(latest[1])) == _core_json(m):
        return {**m, "version": int(latest[0])}
    version = (int(latest[0]) + 1) if latest else 1
    saved = {**m, "version": version}
    cur.execute(
        "INSERT INTO index_methode (name, version, methode, erstellt_von) VALUES (?, ?, ?, ?)",
        [m["name"], version, json.dumps(saved, ensure_ascii=False), user],
    )
    db.audit(cur, user, "index_methode_speichern", f"{m['name']} v{version}", json.dumps(saved, ensure_ascii=False))
    return saved


def check_version(con, method: dict) -> tuple[dict, str | None]:
    """A method whose ``version`` does not match the saved version of that name (content differs, or
    no such version) is treated as unsaved: returns (method with version None, German note)."""
    if method.get("version") is None:
        return method, None
    row = con.cursor().execute("SELECT methode FROM index_methode WHERE name = ? AND version = ?",
                               [method["name"], int(method["version"])]).fetchone()
    if row and _core_json(json.loads(row[0])) == _core_json(method):
        return method, None
    why = "weicht vom Inhalt der gespeicherten Version ab" if row else "ist nicht gespeichert"
    return ({**method, "version": None},
            f"Methode „{method['name']}“ Version {method['version']} {why}: sie wird als ungespeicherte Methode gerechnet.")


def methods(con) -> pd.DataFrame:
    """Saved methods, the latest version of each name: name, version, erstellt_von, erstellt_am, methode (dict)."""
    df = db.query_df(
        con,
        "SELECT name, version, erstellt_von, erstellt_am, methode FROM index_methode"
        " QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name",
    )
    df["methode"] = df["methode"].map(json.loads)
    return df


def method_versions(con, name: str) -> pd.DataFrame:
    return db.query_df(
        con, "SELECT version, erstellt_von, erstellt_am FROM index_methode WHERE name = ? ORDER BY version", [name]
    )


def get_method(con, name: str, version: int | None = None) -> dict:
    sql = "SELECT methode FROM index_methode WHERE name = ?"
    params: list = [name]
    if version is not None:
        sql += " AND version = ?"
        params.append(int(version))
    row = con.cursor().execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
    if not row:
        known = ", ".join(methods(con)["name"]) or "keine"
        what = f"„{name}“" + (f" in Version {version}" if version is not None else "")
        raise MethodError(f"Methode {what} ist nicht gespeichert. Gespeicherte Methoden: {known}.")
    return json.loads(row[0])


def demo_method() -> dict:
    return {
        "name": DEMO_METHOD_NAME, "version": None, "kind": "zscore",
        "indicators": [{"id": i, "weight": w} for i, w in DEMO_INDICATORS],
    }


def ensure_demo_method(con) -> dict:
    """Save the demo city's method (Jobcenter, Gesundheitsamt, Schulverwaltung, Jugendamt indicators)."""
    from quartier.demo.hagen import DEMO_USER

    return save_method(con, demo_method(), access.Actor(DEMO_USER, access.ADMIN, raw_data=True))


# --------------------------------------------------------------------------------------------
# Data


def load_values(con, indicator_ids: list[str], years: list[int], lieferung_ids: list[int] | None = None) -> pd.DataFrame:
    """Values of ``indicator_ids`` in ``years``: the current ones, or – for reproduction – the newest among
    exactly the Lieferungen ``lieferung_ids`` (whatever their status today)."""
    params = [list(indicator_ids), [int(y) for y in years]]
    if lieferung_ids is None:
        src = "messwert_aktuell"
    else:
        src = (
            "(SELECT * FROM messwert WHERE lieferung_id IN (SELECT unnest(?))"
            " QUALIFY row_number() OVER (PARTITION BY indikator_id, sozialraum_id, jahr ORDER BY lieferung_id DESC) = 1)"
        )
        params.insert(0, [int(i) for i in lieferung_ids])
    return db.query_df(
        con,
        f"SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id FROM {src} v"  # noqa: S608 - fixed text
        " WHERE indikator_id IN (SELECT unnest(?)) AND jahr IN (SELECT unnest(?))",
        params,
    )


def rates(values: pd.DataFrame, units: dict[str, str | None]) -> pd.Series:
    """Rate per row: numerator/denominator × unit factor where both are delivered, else the value;
    NaN where suppressed at source."""
    codes, uniques = pd.factorize(values["indikator_id"])
    factor = np.array([indicators.rate_factor(units.get(u)) for u in uniques] + [1.0])[codes]
    num = values["zaehler"].to_numpy(dtype=float, na_value=np.nan)
    den = values["nenner"].to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, num / np.where(ok, den, 1.0) * factor, values["wert"].to_numpy(dtype=float, na_value=np.nan))
    r = np.where(values["gesperrt"].fillna(False).to_numpy(dtype=bool), np.nan, r)
    return pd.Series(r, index=values.index, dtype=float)


def wide(values: pd.DataFrame, rate: pd.Series, area_ids: list[str], indicator_ids: list[str], year: int):
    """(rates n×K, suppressed n×K) for one year; NaN where nothing was delivered."""
    return wide_years(values, rate, area_ids, indicator_ids, [year])[year]


def wide_years(values: pd.DataFrame, rate: pd.Series, area_ids: list[str], indicator_ids: list[str],
               years: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{year: (rates n×K, suppressed n×K)}; the row positions are looked up once for all years."""
    n, k = len(area_ids), len(indicator_ids)
    ai = pd.Index(area_ids).get_indexer(values["sozialraum_id"])
    ki = pd.Index(indicator_ids).get_indexer(values["indikator_id"])
    jahr = values["jahr"].to_numpy()
    r = rate.to_numpy()
    sup = values["gesperrt"].fillna(False).to_numpy(dtype=bool)
    ok = (ai >= 0) & (ki >= 0)
    out = {}
    for y in years:
        X = np.full((n, k), np.nan)
        S = np.zeros((n, k), dtype=bool)
        sel = ok & (jahr == y)
        X[ai[sel], ki[sel]] = r[sel]
        S[ai[sel], ki[sel]] = sup[sel]
        out[int(y)] = (X, S)
    return out


# --------------------------------------------------------------------------------------------
# Computation on arrays


def _col_stats(Xo: np.ndarray, P: np.ndarray):
    cnt = P.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(P, Xo, 0.0).sum(axis=0) / cnt
        var = np.where(P, (Xo - mean) ** 2, 0.0).sum(axis=0) / cnt
    return mean, np.sqrt(var)


def indicator_scores(X: np.ndarray, signs: np.ndarray, rated: np.ndarray, kind: str, scheme: str = "quintile") -> np.ndarray:
    """Per-indicator scores (z-scores, or points 1–5) over the rated areas; NaN where missing or not rated."""
    Xo = X * signs
    P = rated[:, None] & ~np.isnan(Xo)
    if kind == "zscore":
        mean, sd = _col_stats(Xo, P)
        with np.errstate(invalid="ignore", divide="ignore"):
            Z = np.where(sd > 0, (Xo - mean) / sd, 0.0)
        return np.where(P, Z, np.nan)
    # points: rank the oriented values within each indicator among the rated areas
    df = pd.DataFrame(np.where(P, Xo, np.nan))
    cnt = P.sum(axis=0)
    if scheme == "rank":
        r = df.rank(method="average").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            pts = np.where(cnt > 1, 1 + 4 * (r - 1) / (cnt - 1), 3.0)
    else:
        pct = df.rank(method="average", pct=True).to_numpy()
        pts = np.clip(np.ceil(pct * 5 - 1e-9), 1, 5)
    return np.where(P, pts, np.nan)


def classify(values: np.ndarray, cutoffs: list[float]) -> np.ndarray:
    """Class index 0..len(cutoffs); -1 where NaN. On a cut-off: the class nearer to 0."""
    v = np.asarray(values, dtype=float)
    idx = np.zeros(v.shape, dtype=int)
    for c in cutoffs:
        idx += (v > c) if c >= 0 else (v >= c)
    return np.where(np.isnan(v), -1, idx)


def _finalise(S: np.ndarray, rated: np.ndarray, kind: str):
    """Final transform of the weighted sum(s) over the rated areas: standardise (zscore) or keep (points).

    Returns (values, mean, sd); values are NaN outside the rated areas."""
    P = rated.reshape(-1, *([1] * (S.ndim - 1))) & ~np.isnan(S)
    if kind != "zscore":
        return np.where(P, S, np.nan), None, None
    cnt = P.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(P, S, 0.0).sum(axis=0) / cnt
        sd = np.sqrt(np.where(P, (S - mean) ** 2, 0.0).sum(axis=0) / cnt)
        V = np.where(sd > 0, (S - mean) / sd, 0.0)
    return np.where(P, V, np.nan), mean, sd


def composite(Z: np.ndarray, weights: np.ndarray, rated: np.ndarray, kind: str):
    """Weighted mean of the scores (the weight of a missing value is spread proportionally over the
    area's other indicators), final transform, and contributions that add up to the value.

    zscore: contribution = share × (z − mean of the sums) / SD of the sums, where share is the area's
    effective weight share; with complete data the mean is 0, so it is weight × z / final SD.
    points: contribution = share × points. Missing values have no contribution (NaN).
    Returns (value, contributions n×K)."""
    A = ~np.isnan(Z)
    WA = A * weights
    den = WA.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = WA / den[:, None]
    part = np.where(A, share * np.nan_to_num(Z), 0.0)
    S = np.where(den > 0, part.sum(axis=1), np.nan)
    ok = rated & ~np.isnan(S)
    V, mean, sd = _finalise(S, ok, kind)
    if kind == "zscore":
        if not (sd is not None and sd > 0):
            contrib = np.where(A, 0.0, np.nan)
        else:
            contrib = np.where(A, share * (np.nan_to_num(Z) - mean) / sd, np.nan)
    else:
        contrib = np.where(A, part, np.nan)
    return V, np.where(ok[:, None], contrib, np.nan)


def _min_ranks(V: np.ndarray) -> np.ndarray:
    """Competition ranks per column (1 = highest value, ties share the best rank), NaN stays NaN."""
    V2 = V if V.ndim == 2 else V[:, None]
    nan = np.isnan(V2)
    key = np.ascontiguousarray(np.where(nan, np.inf, -V2).T)   # rows = columns of V; NaN sorts last
    order = np.argsort(key, axis=1, kind="stable")
    sv = np.take_along_axis(key, order, axis=1)
    new_run = np.ones(sv.shape, dtype=bool)
    new_run[:, 1:] = sv[:, 1:] != sv[:, :-1]
    pos = np.arange(1, sv.shape[1] + 1, dtype=float)
    first = np.maximum.accumulate(np.where(new_run, pos, 0.0), axis=1)
    ranks = np.empty_like(first)
    np.put_along_axis(ranks, order, first, axis=1)
    ranks = ranks.T
    ranks[nan] = np.nan
    return ranks if V.ndim == 2 else ranks[:, 0]


def robustness(Z: np.ndarray, weights: np.ndarray, rated: np.ndarray, kind: str, cutoffs: list[float]) -> dict:
    """Rank ranges when one indicator at a time is left out and when each weight varies by ±50 %;
    for each area the indicators whose omission alone changes its class."""
    A = ~np.isnan(Z)
    WZ = np.where(A, Z * weights, 0.0)
    WA = A * weights
    num, den = WZ.sum(axis=1), WA.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        S0 = np.where(den > 0, num / den, np.nan)
        loo_den = den[:, None] - WA
        S_loo = np.where(loo_den > 1e-12, (num[:, None] - WZ) / loo_den, np.nan)
        S_lo = (num[:, None] - 0.5 * WZ) / (den[:, None] - 0.5 * WA)
        S_hi = (num[:, None] + 0.5 * WZ) / (den[:, None] + 0.5 * WA)
    k = Z.shape[1]
    S = np.concatenate([S0[:, None], S_loo, S_lo, S_hi], axis=1)
    ok = rated & ~np.isnan(S0)
    V, _, _ = _finalise(S, ok, kind)
    R = _min_ranks(V)
    base_rank = R[:, 0]
    loo = R[:, 1:1 + k] if k > 1 else np.full((len(R), 0), np.nan)
    wv = R[:, 1 + k:]
    with np.errstate(invalid="ignore"):
        loo_all = np.concatenate([base_rank[:, None], loo], axis=1)
        wv_all = np.concatenate([base_rank[:, None], wv], axis=1)
        c0 = classify(V[:, 0], cutoffs)
        c_loo = classify(V[:, 1:1 + k], cutoffs)
    changes = (c_loo != c0[:, None]) & (c_loo >= 0) & ok[:, None] & (k > 1)
    return {
        "rank": base_rank,
        "loo_min": np.nanmin(np.where(np.isnan(loo_all), np.inf, loo_all), axis=1),
        "loo_max": np.nanmax(np.where(np.isnan(loo_all), -np.inf, loo_all), axis=1),
        "weight_min": np.nanmin(np.where(np.isnan(wv_all), np.inf, wv_all), axis=1),
        "weight_max": np.nanmax(np.where(np.isnan(wv_all), -np.inf, wv_all), axis=1),
        "class_changes": changes,
    }


@dataclass
class IndexResult:
    method: dict
    year: int
    data_state: list[int]
    areas: pd.DataFrame            # id, name (in computation order)
    indicator_ids: list[str]
    value: np.ndarray
    klass: np.ndarray             # class index, -1 none
    rank: np.ndarray
    dyn_value: np.ndarray
    dyn_klass: np.ndarray
    contributions: np.ndarray     # n×K
    scores: np.ndarray            # z-scores or points n×K
    rates: np.ndarray             # raw rates n×K (index year)
    changes: np.ndarray           # indicator changes n×K (dynamics years)
    flags: list[list[str]]
    robust: dict | None = None
    dynamics_years: tuple[int, int] | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The object ``python -m quartier index --json`` prints (and a stored result holds)."""
        m = self.method
        order = np.lexsort((np.arange(len(self.areas)), np.where(np.isnan(self.rank), np.inf, self.rank)))
        out = []
        for i in order:
            rated = self.klass[i] >= 0
            contrib = {}
            if rated:
                for j, iid in enumerate(self.indicator_ids):
                    c = self.contributions[i, j]
                    contrib[iid] = None if np.isnan(c) else _r(c)
            out.append({
                "id": self.areas["id"].iat[i],
                "name": self.areas["name"].iat[i],
                "value": _r(self.value[i]) if rated else None,
                "class": m["classes"][self.klass[i]] if rated else None,
                "rank": int(self.rank[i]) if rated else None,
                "dynamics_value": _r(self.dyn_value[i]) if self.dyn_klass[i] >= 0 else None,
                "dynamics_class": m["dynamics_classes"][self.dyn_klass[i]] if self.dyn_klass[i] >= 0 else None,
                "contributions": contrib,
                "flags": list(self.flags[i]),
            })
        return {"method": m, "year": int(self.year), "data_state": list(self.data_state), "sozialraeume": out}


def _r(v) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or (hasattr(v, "dtype") and np.isnan(v)):
        return None
    x = round(float(v), ROUND)
    return 0.0 if x == 0 else x


def evaluate(method: dict, year: int, area_ids: list[str], area_names: list[str], X: np.ndarray,
             suppressed: np.ndarray, population: np.ndarray | None, X_from: np.ndarray | None = None,
             X_to: np.ndarray | None = None, data_state: list[int] | None = None, with_robustness: bool = True) -> IndexResult:
    """The index on arrays: ``X`` rates n×K in the index year (NaN = missing), ``suppressed`` n×K,
    ``population`` per area (NaN = unknown; None = no minimum-population rule), ``X_from``/``X_to`` the
    rates in the two dynamics years."""
    m = method
    ids = [i["id"] for i in m["indicators"]]
    w = np.array([i["weight"] for i in m["indicators"]], dtype=float)
    signs = np.array([1.0 if i["direction"] == "higher" else -1.0 for i in m["indicators"]])
    n, k = X.shape
    scheme = m.get("points_scheme", "quintile")
    flags: list[list[str]] = [[] for _ in range(n)]
    if population is not None:
        pop_missing = np.isnan(population)
        too_small = ~pop_missing & (population < float(m["min_population"]))
        part = ~pop_missing & ~too_small
    else:
        pop_missing = too_small = np.zeros(n, dtype=bool)
        part = np.ones(n, dtype=bool)
    miss = np.isnan(X)
    miss_share = miss.sum(axis=1) / max(k, 1)
    not_rated = part & (miss_share > m["max_missing_share"] + 1e-12)
    rated = part & ~not_rated
    Z = indicator_scores(X, signs, rated, m["kind"], scheme)
    V, contrib = composite(Z, w, rated, m["kind"])
    rated = rated & ~np.isnan(V)
    klass = np.where(rated, classify(V, m["cutoffs"]), -1)
    rank = _min_ranks(np.where(rated, V, np.nan))
    # dynamics
    dyn_v = np.full(n, np.nan)
    dyn_k = np.full(n, -1)
    D = np.full((n, k), np.nan)
    if X_from is not None and X_to is not None:
        D = X_to - X_from
        dmiss = np.isnan(D).sum(axis=1) / max(k, 1)
        drated = part & (dmiss <= m["max_missing_share"] + 1e-12)
        if drated.any():
            ZD = indicator_scores(D, signs, drated, m["kind"], scheme)
            dyn_v, _ = composite(ZD, w, drated, m["kind"])
            dyn_k = np.where(~np.isnan(dyn_v), classify(dyn_v, m["dynamics_cutoffs"]), -1)
    rob = robustness(Z, w, rated, m["kind"], m["cutoffs"]) if with_robustness else None
    n_miss = miss.sum(axis=1)
    no_dyn = rated & (dyn_k < 0) & (X_from is not None)
    single = rob["class_changes"].any(axis=1) if rob is not None else np.zeros(n, dtype=bool)
    special = too_small | pop_missing | (n_miss > 0) | not_rated | no_dyn | single
    for i in np.flatnonzero(special).tolist():
        f = flags[i]
        if too_small[i]:
            f.append(f"{FLAG_TOO_SMALL}: {_int(population[i])} Einwohner (Mindestzahl {_int(m['min_population'])})")
            continue
        if pop_missing[i]:
            f.append(f"{FLAG_NOT_RATED}: {FLAG_NO_POPULATION} für {year} ({m['population_indicator']})")
            continue
        for j in np.flatnonzero(miss[i]).tolist():
            f.append(f"{FLAG_SUPPRESSED if suppressed[i, j] else FLAG_MISSING}: {ids[j]}")
        if not_rated[i]:
            f.append(f"{FLAG_NOT_RATED}: {int(n_miss[i])} von {k} Indikatoren fehlen (höchstens {_pct(m['max_missing_share'])})")
            continue
        if no_dyn[i]:
            f.append(FLAG_NO_DYNAMICS)
        if single[i]:
            names = ", ".join(ids[j] for j in np.flatnonzero(rob["class_changes"][i]).tolist())
            f.append(f"{FLAG_SINGLE}: {names}")
    span = None
    if X_from is not None:
        span = dynamics_span(m, year)
    return IndexResult(
        method=m, year=int(year), data_state=list(data_state or []),
        areas=pd.DataFrame({"id": list(area_ids), "name": list(area_names)}), indicator_ids=ids,
        value=V, klass=klass, rank=rank, dyn_value=dyn_v, dyn_klass=dyn_k, contributions=contrib, scores=Z,
        rates=X, changes=D, flags=flags, robust=rob, dynamics_years=span,
    )


def _int(v) -> str:
    from quartier.format import integer

    return integer(v)


def _pct(v) -> str:
    from quartier.format import number

    return f"{number(v * 100, 0)} %"


# --------------------------------------------------------------------------------------------
# Computation from the database


def compute(con, method: dict, year: int, lieferung_ids: list[int] | None = None,
            with_robustness: bool = True) -> IndexResult:
    """The index for ``year`` from the current values (or from exactly ``lieferung_ids``)."""
    cat = indicators.catalogue(con)
    m = validate_method(method, cat)
    units = dict(zip(cat["id"], cat["einheit"]))
    ids = [i["id"] for i in m["indicators"]]
    y0, y1 = dynamics_span(m, year)
    years = sorted({int(year), y0, y1})
    pop_id = m["population_indicator"]
    vals = load_values(con, ids + ([pop_id] if pop_id and pop_id not in ids else []), years, lieferung_ids)
    areas = db.query_df(con, "SELECT id, name FROM sozialraum ORDER BY id")
    area_ids = list(areas["id"])
    mats = wide_years(vals, rates(vals, units), area_ids, ids, years)
    X, S = mats[int(year)]
    Xf, Xt = mats[y0][0], mats[y1][0]
    pop = None
    if pop_id:
        pv = vals[(vals["indikator_id"] == pop_id) & (vals["jahr"] == int(year))]
        pop = pd.Series(pv["wert"].astype(float).to_numpy(), index=pv["sozialraum_id"]).reindex(area_ids).to_numpy(dtype=float)
    used = vals[vals["sozialraum_id"].isin(area_ids)]
    used_pop = used["indikator_id"] == pop_id
    used = used[~used_pop | (used["jahr"] == int(year))]
    state = sorted(int(x) for x in used["lieferung_id"].unique())
    return evaluate(m, int(year), area_ids, list(areas["name"]), X, S, pop, Xf, Xt, state, with_robustness)


def years_available(con, method: dict) -> list[int]:
    """Years in which at least one of the method's indicators has values."""
    ids = [i["id"] if isinstance(i, dict) else i for i in method.get("indicators", [])]
    rows = con.cursor().execute(
        "SELECT DISTINCT jahr FROM messwert_aktuell WHERE indikator_id IN (SELECT unnest(?)) ORDER BY jahr", [ids]
    ).fetchall()
    return [int(r[0]) for r in rows]


# --------------------------------------------------------------------------------------------
# Stored results


def store_result(con, result: IndexResult, actor, title: str | None = None) -> int:
    """Store a (published) result with its method version and data state; saves the method if needed."""
    access.require(actor, access.EDITOR, "ein Index-Ergebnis speichern")
    with db.transaction(con) as cur:
        saved = None
        if result.method.get("version"):
            row = cur.execute("SELECT methode FROM index_methode WHERE name = ? AND version = ?",
                              [result.method["name"], result.method["version"]]).fetchone()
            if row and _core_json(json.loads(row[0])) == _core_json(result.method):
                saved = result.method
        if saved is None:
            saved = _save_method_cur(cur, {**result.method, "version": None}, actor.name)
        if result.method.get("version") != saved["version"]:
            result.method = saved
        payload = result.to_json()
        rid = cur.execute(
            "INSERT INTO index_ergebnis (methode_name, methode_version, jahr, datenstand, ergebnis, titel, gespeichert_von)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [saved["name"], saved["version"], result.year, json.dumps(result.data_state),
             json.dumps(payload, ensure_ascii=False), title, actor.name],
        ).fetchone()[0]
        db.audit(cur, actor.name, "index_ergebnis_speichern", f"{saved['name']} v{saved['version']} {result.year}",
                 json.dumps({"id": int(rid), "datenstand": result.data_state, "titel": title}, ensure_ascii=False))
    return int(rid)


def stored_results(con) -> pd.DataFrame:
    return db.query_df(
        con,
        "SELECT id, methode_name, methode_version, jahr, datenstand, titel, gespeichert_von, gespeichert_am"
        " FROM index_ergebnis ORDER BY id DESC",
    )


def stored_result(con, result_id: int) -> dict:
    row = con.cursor().execute("SELECT ergebnis FROM index_ergebnis WHERE id = ?", [int(result_id)]).fetchone()
    if not row:
        raise MethodError(f"Gespeichertes Ergebnis Nr. {result_id} gibt es nicht.")
    return json.loads(row[0])


def reproduce(con, result_id: int) -> IndexResult:
    """Recompute a stored result from exactly the Lieferungen it used, with the stored method version."""
    stored = stored_result(con, result_id)
    have = {r[0] for r in con.cursor().execute(
        "SELECT id FROM lieferung WHERE id IN (SELECT unnest(?))", [[int(i) for i in stored["data_state"]]]).fetchall()}
    gone = [i for i in stored["data_state"] if i not in have]
    if gone:
        raise MethodError(
            f"Ergebnis Nr. {result_id} lässt sich nicht nachrechnen: Lieferung(en) {', '.join(map(str, gone))} gibt es "
            "in dieser Datenbank nicht mehr (z. B. nach `demo --force` oder dem Einrichten einer neuen Stadt)."
        )
    return compute(con, stored["method"], int(stored["year"]), lieferung_ids=stored["data_state"])


# --------------------------------------------------------------------------------------------
# Tables and texts for the page, the command line and the export


def previous_year(con, method: dict, year: int) -> IndexResult | None:
    """The same method one year earlier, when that year has values."""
    if int(year) - 1 not in years_available(con, method):
        return None
    return compute(con, method, int(year) - 1, with_robustness=False)


def ranking_table(result: IndexResult, previous: IndexResult | None = None) -> pd.DataFrame:
    """The ranked table: one row per Sozialraum in the order of the JSON output.

    Columns: id, name, value, class, rank, rank_change (positive = moved up towards rank 1 against the
    previous year), dynamics_value, dynamics_class, one column per indicator contribution (``c_<id>``),
    rank ranges from the robustness analysis, flags (joined with "; ")."""
    # Column-wise construction of what ``result.to_json()`` lists per Sozialraum (same order, same rounding
    # with ``_r``): at 10,000 areas x 60 indicators the per-row dictionaries took seconds.
    m = result.method
    n = len(result.areas)
    order = np.lexsort((np.arange(n), np.where(np.isnan(result.rank), np.inf, result.rank)))
    rated = result.klass[order] >= 0
    dyn_ok = result.dyn_klass[order] >= 0

    def rounded(values, ok) -> list:
        return [(0.0 if (x := round(v, ROUND)) == 0 else x) if (k and v == v) else None
                for v, k in zip(np.asarray(values, dtype=float).tolist(), ok.tolist())]

    ids = result.areas["id"].to_numpy(dtype=object)[order].tolist()
    rank = [int(r) if k else None for r, k in zip(result.rank[order].tolist(), rated.tolist())]
    prev_rank = {}
    if previous is not None:
        prev_rank = {a: (int(r) if k >= 0 else None) for a, r, k in
                     zip(previous.areas["id"].tolist(), previous.rank.tolist(), previous.klass.tolist())}
    prev = [prev_rank.get(a) for a in ids]
    cols: dict = {
        "id": ids, "name": result.areas["name"].to_numpy(dtype=object)[order].tolist(),
        "value": rounded(result.value[order], rated),
        "class": [m["classes"][c] if k else None for c, k in zip(result.klass[order].tolist(), rated.tolist())],
        "rank": rank, "dynamics_value": rounded(result.dyn_value[order], dyn_ok),
        "dynamics_class": [m["dynamics_classes"][c] if k else None
                           for c, k in zip(result.dyn_klass[order].tolist(), dyn_ok.tolist())],
        "rank_previous": prev,
        "rank_change": [(p - r) if (p is not None and r is not None) else None for p, r in zip(prev, rank)],
    }
    for j, iid in enumerate(result.indicator_ids):
        cols[f"c_{iid}"] = rounded(result.contributions[order, j], rated)
    rb = result.robust
    has = rated & (rb is not None)
    for key, src in (("rank_loo_min", "loo_min"), ("rank_loo_max", "loo_max"), ("rank_weights_min", "weight_min"),
                     ("rank_weights_max", "weight_max")):
        vals = np.asarray(rb[src])[order].tolist() if rb is not None else [None] * n
        cols[key] = [int(v) if k else None for v, k in zip(vals, has.tolist())]
    if rb is not None:
        changes = np.asarray(rb["class_changes"])[order]
        cols["class_depends_on"] = [[result.indicator_ids[j] for j in np.flatnonzero(changes[i])] if has[i] else []
                                    for i in range(n)]
    else:
        cols["class_depends_on"] = [[] for _ in range(n)]
    cols["flags"] = ["; ".join(result.flags[i]) for i in order.tolist()]
    if not n:
        return pd.DataFrame()
    df = pd.DataFrame(cols)
    for col in ("rank", "rank_previous", "rank_change", "rank_loo_min", "rank_loo_max", "rank_weights_min", "rank_weights_max"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def indicator_labels(catalogue: pd.DataFrame, ids: list[str]) -> dict[str, str]:
    cat = catalogue.set_index("id")
    return {i: (cat.loc[i, "kurzname"] if i in cat.index and isinstance(cat.loc[i, "kurzname"], str) else i) for i in ids}


def status_dynamics_matrix(result: IndexResult) -> pd.DataFrame:
    """Rows: status classes (most need first); columns: dynamics classes; cells: count and names."""
    m = result.method
    rows = []
    for ci in range(len(m["classes"]) - 1, -1, -1):
        row = {"Status": m["classes"][ci]}
        for di in range(len(m["dynamics_classes"]) - 1, -1, -1):
            sel = (result.klass == ci) & (result.dyn_klass == di)
            names = list(result.areas["name"][sel])
            row[m["dynamics_classes"][di]] = f"{len(names)}" + (f": {', '.join(names)}" if names else "")
        sel = (result.klass == ci) & (result.dyn_klass < 0)
        if sel.any():
            row["Dynamik nicht bewertbar"] = f"{int(sel.sum())}: " + ", ".join(result.areas["name"][sel])
        rows.append(row)
    df = pd.DataFrame(rows)
    if "Dynamik nicht bewertbar" in df:
        df["Dynamik nicht bewertbar"] = df["Dynamik nicht bewertbar"].fillna("0")
    return df


def status_dynamics_counts(result: IndexResult) -> pd.DataFrame:
    """Long form (status, dynamics, count) for a heatmap."""
    m = result.method
    out = []
    for ci, cname in enumerate(m["classes"]):
        for di, dname in enumerate(m["dynamics_classes"]):
            sel = (result.klass == ci) & (result.dyn_klass == di)
            out.append({"Status": cname, "Dynamik": dname, "Anzahl": int(sel.sum()),
                        "Sozialräume": ", ".join(result.areas["name"][sel])})
    return pd.DataFrame(out)


def explain(result: IndexResult, area_id: str, catalogue: pd.DataFrame) -> str:
    """A plain German explanation of one area's value."""
    from quartier.format import number

    i = int(np.flatnonzero(result.areas["id"] == area_id)[0])
    name = result.areas["name"].iat[i]
    m = result.method
    if result.klass[i] < 0:
        why = "; ".join(result.flags[i]) or "keine Werte"
        return f"{name} hat keinen Indexwert ({why})."
    labels = indicator_labels(catalogue, result.indicator_ids)
    n_rated = int((result.klass >= 0).sum())
    c = result.contributions[i]
    order = np.argsort(-np.nan_to_num(c))
    ups = [j for j in order if c[j] > 0.005]
    downs = [j for j in order[::-1] if c[j] < -0.005]
    scale = "Standardabweichungen" if m["kind"] == "zscore" else "Punkte"
    text = (
        f"{name} hat den Indexwert {number(result.value[i], 2)} (Klasse „{m['classes'][result.klass[i]]}“, "
        f"Rang {int(result.rank[i])} von {n_rated}; Rang 1 = höchster Handlungsbedarf)."
    )
    if m["kind"] == "zscore":
        text += " 0 ist der Durchschnitt der bewerteten Sozialräume, der Wert ist in " + scale + " gemessen."
    if ups:
        text += " Den Wert erhöhen vor allem: " + ", ".join(f"{labels[result.indicator_ids[j]]} ({_signed(c[j])})" for j in ups[:3]) + "."
    if downs:
        text += " Den Wert senken: " + ", ".join(f"{labels[result.indicator_ids[j]]} ({_signed(c[j])})" for j in downs[:3]) + "."
    miss = [labels[result.indicator_ids[j]] for j in np.flatnonzero(np.isnan(result.rates[i]))]
    if miss:
        text += f" Ohne Wert (Gewicht auf die übrigen Indikatoren verteilt): {', '.join(miss)}."
    return text


def _signed(v: float) -> str:
    from quartier.format import number

    return ("+" if v > 0 else "−") + number(abs(v), 2)


def protected_cells(con, result: IndexResult, actor) -> set[tuple[str, str]]:
    """(sozialraum_id, indikator_id) whose raw value ``actor`` may not see (small-number protection).

    The index itself is computed from the delivered values for everyone (otherwise the ranking would
    depend on who looks at it); only the raw rates and z-values of these cells are hidden on the page."""
    if actor.can_see_raw:
        return set()
    v = indicators.current_values(con, result.indicator_ids, [result.year], actor=actor)
    v = v[v["gesperrt"].astype(bool)]
    return set(zip(v["sozialraum_id"], v["indikator_id"]))


def contributions_frame(result: IndexResult, area_id: str, catalogue: pd.DataFrame,
                        hidden: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Per indicator for one area: label, rate, direction, score, weight, contribution; ``gesperrt`` marks
    cells in ``hidden`` (their rate and score are left empty)."""
    i = int(np.flatnonzero(result.areas["id"] == area_id)[0])
    labels = indicator_labels(catalogue, result.indicator_ids)
    units = dict(zip(catalogue["id"], catalogue["einheit"]))
    hidden = hidden or set()
    rows = []
    for j, ind in enumerate(result.method["indicators"]):
        secret = (area_id, ind["id"]) in hidden
        rows.append({
            "id": ind["id"], "Indikator": labels[ind["id"]], "Einheit": units.get(ind["id"]),
            "Wert": np.nan if secret else result.rates[i, j],
            "Richtung": "höher = mehr Bedarf" if ind["direction"] == "higher" else "niedriger = mehr Bedarf",
            "Gewicht": ind["weight"],
            "Punktwert" if result.method["kind"] == "points" else "z-Wert": np.nan if secret else result.scores[i, j],
            "Beitrag": result.contributions[i, j], "gesperrt": secret,
        })
    return pd.DataFrame(rows)


def method_description(method: dict, catalogue: pd.DataFrame, year: int | None = None,
                       data_state: list[int] | None = None, con=None) -> pd.DataFrame:
    """The method as a two-column table (Angabe, Wert) for the export and the page."""
    from quartier.format import number

    m = method
    labels = dict(zip(catalogue["id"], catalogue["name"]))
    total = sum(i["weight"] for i in m["indicators"])
    rows = [
        ("Methode", m["name"]), ("Version", str(m.get("version") or "nicht gespeichert")),
        ("Verfahren", "z-Wert-Index (standardisierte gewichtete Summe)" if m["kind"] == "zscore"
         else f"Punkteverfahren ({'Quintile' if m.get('points_scheme', 'quintile') == 'quintile' else 'Rangpunkte'}, 1–5 Punkte)"),
    ]
    if year is not None:
        rows.append(("Indexjahr", str(year)))
    for ind in m["indicators"]:
        rows.append((
            f"Indikator {ind['id']}",
            f"{labels.get(ind['id'], ind['id'])}; Gewicht {number(ind['weight'], 2)} "
            f"({number(ind['weight'] / total * 100, 1)} %); "
            + ("höherer Wert = mehr Bedarf" if ind["direction"] == "higher" else "niedrigerer Wert = mehr Bedarf"),
        ))
    cut = m["cutoffs"]
    rows += [
        ("Mindestgröße", f"{_int(m['min_population'])} Einwohner ({m['population_indicator'] or 'keine Regel'})"),
        ("Höchstens fehlend", f"{_pct(m['max_missing_share'])} der Indikatoren"),
        ("Klassengrenzen", "; ".join(number(c, 2) for c in cut)),
        ("Klassen", " < ".join(m["classes"])),
        ("Dynamik", f"{dynamics_span(m, year)[0]}–{dynamics_span(m, year)[1]}" if year is not None else str(m["dynamics_years"])),
        ("Dynamik-Grenzen", "; ".join(number(c, 2) for c in m["dynamics_cutoffs"])),
        ("Dynamik-Klassen", " < ".join(m["dynamics_classes"])),
    ]
    if data_state is not None:
        files = ""
        if con is not None and data_state:
            lf = db.query_df(con, "SELECT id, dateiname FROM lieferung WHERE id IN (SELECT unnest(?)) ORDER BY id",
                             [list(data_state)])
            files = " – " + "; ".join(f"{r['id']}: {r['dateiname']}" for r in lf.to_dict("records"))
        rows.append(("Datenstand (Lieferungen)", ", ".join(map(str, data_state)) + files))
    rows.append(("Hinweis", LIMITS_TEXT))
    rows.append(("Methode als JSON", json.dumps(m, ensure_ascii=False)))
    return pd.DataFrame(rows, columns=["Angabe", "Wert"])


def export_frame(table: pd.DataFrame, result: IndexResult, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The ranking in German column names (numbers stay numbers) for .xlsx export."""
    labels = indicator_labels(catalogue, result.indicator_ids)
    out = pd.DataFrame({
        "Rang": table["rank"], "sozialraum_id": table["id"], "Sozialraum": table["name"],
        "Indexwert": table["value"], "Klasse": table["class"], "Rang Vorjahr": table["rank_previous"],
        "Rangveränderung": table["rank_change"], "Dynamik": table["dynamics_value"], "Dynamikklasse": table["dynamics_class"],
    })
    for iid in result.indicator_ids:
        out[f"Beitrag {labels[iid]}"] = table[f"c_{iid}"]
    out["Rang ohne je 1 Indikator (min–max)"] = [
        None if pd.isna(a) else f"{a}–{b}" for a, b in zip(table["rank_loo_min"], table["rank_loo_max"])]
    out["Rang bei Gewichten ±50 % (min–max)"] = [
        None if pd.isna(a) else f"{a}–{b}" for a, b in zip(table["rank_weights_min"], table["rank_weights_max"])]
    out["Hinweise"] = table["flags"]
    return out


def export_xlsx(con, result: IndexResult, previous: IndexResult | None = None, path=None) -> bytes:
    """The ranking with the method description as .xlsx (sheets "Rangfolge" and "Methode")."""
    from quartier.tables import to_xlsx_bytes

    cat = indicators.catalogue(con)
    table = ranking_table(result, previous)
    return to_xlsx_bytes({
        "Rangfolge": export_frame(table, result, cat),
        "Methode": method_description(result.method, cat, result.year, result.data_state, con),
    }, path)


def with_weights(method: dict, weights: dict[str, float], directions: dict[str, str], **changes) -> dict:
    """A copy of ``method`` with the indicators/weights of ``weights`` (weight 0 or empty = not used)
    and other settings changed; the version is dropped when anything differs from ``method``."""
    inds = [{"id": i, "weight": float(w), "direction": directions[i]}
            for i, w in weights.items() if w is not None and not (isinstance(w, float) and math.isnan(w)) and w > 0]
    m = {**method, "indicators": inds, **changes}
    if m.get("kind") != "points":
        m.pop("points_scheme", None)
    if _core_json(m) != _core_json(method):
        m["version"] = None
    return m


def display_table(table: pd.DataFrame, result: IndexResult, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The ranking table (:func:`ranking_table`) with German headers and German number texts for the page."""
    from quartier.format import NOTHING, number

    labels = indicator_labels(catalogue, result.indicator_ids)

    def num(v, d=2):
        return NOTHING if v is None or pd.isna(v) else number(v, d)

    def change(v):
        if v is None or pd.isna(v):
            return NOTHING
        return f"▲ +{int(v)}" if v > 0 else (f"▼ −{abs(int(v))}" if v < 0 else "± 0")

    out = pd.DataFrame({
        "Rang": table["rank"],
        "Sozialraum": table["name"] + " (" + table["id"] + ")",
        "Indexwert": [num(v) for v in table["value"]],
        "Klasse": table["class"].fillna(NOTHING),
        "Rang ggü. Vorjahr": [change(v) for v in table["rank_change"]],
        "Dynamik": table["dynamics_class"].fillna(NOTHING),
    })
    for iid in result.indicator_ids:
        out[labels[iid]] = [num(v) for v in table[f"c_{iid}"]]
    out["Hinweise"] = table["flags"]
    return out
