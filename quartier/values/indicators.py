"""Indicator catalogue, current values, references (city, district) and small-number protection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from quartier import db, settings, units
from quartier import format as fmt
from quartier.access import SYSTEM, Actor
from quartier.errors import QuartierError
from quartier.names import normalize
from quartier.tables import TableError, read_table, write_table
from quartier.values import protection, query

# File column -> table column.
CATALOGUE_COLUMNS = {
    "id": "id",
    "name": "name",
    "kurzname": "kurzname",
    "einheit": "einheit",
    "lieferant": "lieferant",
    "richtung": "richtung",
    "definition": "definition",
    "zaehler": "zaehler_def",
    "nenner": "nenner_def",
    "min": "min_wert",
    "max": "max_wert",
    "handlungsfeld": "handlungsfeld",
    "aliase": "aliase",
    "leitindikator": "leitindikator",
    "schwelle": "schwelle",
    "dezimalstellen": "dezimalstellen",
}
HEADLINE_COUNT = 6
_YES = {"ja", "j", "1", "x", "true", "wahr", "yes"}
DIRECTION_WORDS = {
    "higher": "higher", "hoeher": "higher", "höher": "higher", "hoch": "higher", "+": "higher",
    "lower": "lower", "niedriger": "lower", "niedrig": "lower", "-": "lower",
    "": None, "keine": None, "none": None,
}
DIRECTION_LABEL = {"higher": "höherer Wert = mehr Bedarf", "lower": "niedrigerer Wert = mehr Bedarf", None: "ohne Richtung"}
MIN_CASES_DEFAULT = settings.spec(settings.MIN_CASES).default


class CatalogueError(QuartierError):
    pass


class CatalogueFileError(CatalogueError):
    """The catalogue file cannot be read at all (command line: exit code 2)."""


def load_catalogue(con, path: str | Path, user: str = "system") -> dict:
    """Insert or update indicators from a catalogue file; return counts. Raises CatalogueError."""
    try:
        df = read_table(path)
    except TableError as exc:
        raise CatalogueFileError(str(exc)) from exc
    cols = {normalize(c): c for c in df.columns}
    missing = [c for c in ("id", "name") if c not in cols]
    if missing:
        raise CatalogueError(
            f"{path}: Spalte(n) {', '.join(missing)} fehlen. Erwartet: {', '.join(CATALOGUE_COLUMNS)}."
        )
    rows = []
    errors = []
    for i, rec in enumerate(df.to_dict("records"), start=2):
        def get(k, rec=rec):
            return str(rec.get(cols.get(k, ""), "") or "").strip()

        iid = get("id")
        if not iid:
            continue
        direction_raw = get("richtung").lower()
        if direction_raw not in DIRECTION_WORDS:
            errors.append(f"Zeile {i}: Richtung {direction_raw!r} unbekannt (erlaubt: höher, niedriger oder leer).")
            continue
        row = {"id": iid, "name": get("name")}
        for key in ("kurzname", "einheit", "lieferant", "definition", "zaehler", "nenner", "handlungsfeld"):
            row[CATALOGUE_COLUMNS[key]] = get(key) or None
        row["richtung"] = DIRECTION_WORDS[direction_raw]
        for key in ("min", "max", "schwelle"):
            txt = get(key).replace(",", ".")
            try:
                row[CATALOGUE_COLUMNS[key]] = float(txt) if txt else None
            except ValueError:
                errors.append(f"Zeile {i}: {key} {txt!r} ist keine Zahl.")
        row["dezimalstellen"] = _places(get("dezimalstellen"), i, errors)
        row["aliase"] = [a.strip() for a in get("aliase").split("|") if a.strip()]
        flag = get("leitindikator").lower()
        row["leitindikator"] = (flag in _YES) if flag else None
        row["sortierung"] = i
        rows.append(row)
    if errors:
        raise CatalogueError(f"{path}: " + " ".join(errors))
    new = updated = 0
    with db.transaction(con) as cur:
        existing = {r[0] for r in cur.execute("SELECT id FROM indikator").fetchall()}
        for r in rows:
            vals = [r["name"], r["kurzname"], r["einheit"], r["lieferant"], r["richtung"], r["definition"],
                    r["zaehler_def"], r["nenner_def"], r["min_wert"], r["max_wert"], r["handlungsfeld"], r["sortierung"],
                    r["leitindikator"], r["schwelle"], r["dezimalstellen"]]
            if r["id"] in existing:
                cur.execute(
                    "UPDATE indikator SET name=?, kurzname=?, einheit=?, lieferant=?, richtung=?, definition=?,"
                    " zaehler_def=?, nenner_def=?, min_wert=?, max_wert=?, handlungsfeld=?, sortierung=?, leitindikator=?,"
                    " schwelle=?, dezimalstellen=? WHERE id=?",
                    vals + [r["id"]],
                )
                updated += 1
            else:
                cur.execute(
                    "INSERT INTO indikator (name, kurzname, einheit, lieferant, richtung, definition, zaehler_def,"
                    " nenner_def, min_wert, max_wert, handlungsfeld, sortierung, leitindikator, schwelle, dezimalstellen,"
                    " id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    vals + [r["id"]],
                )
                new += 1
            cur.execute("DELETE FROM alias WHERE art='indikator' AND ziel_id=?", [r["id"]])
            for a in [r["name"], r["kurzname"] or ""] + r["aliase"]:
                if a:
                    cur.execute(
                        "INSERT INTO alias (art, alias_norm, ziel_id, alias) VALUES ('indikator', ?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
                        [normalize(a), r["id"], a],
                    )
        db.audit(cur, user, "indikatoren_laden", str(path), json.dumps({"neu": new, "aktualisiert": updated}))
    return {"new": new, "updated": updated}


def _places(text: str, line: int, errors: list[str]) -> int | None:
    """The catalogue field ``dezimalstellen``: empty = by unit (None), else a whole number 0..MAX_DECIMALS."""
    if not text:
        return None
    try:
        n = float(text.replace(",", "."))
        ok = n == int(n) and 0 <= n <= fmt.MAX_DECIMALS
    except (ValueError, OverflowError):  # not a number, "inf", "nan"
        ok = False
    if not ok:
        errors.append(f"Zeile {line}: dezimalstellen {text!r} ist keine ganze Zahl von 0 bis {fmt.MAX_DECIMALS}.")
        return None
    return int(n)


def catalogue(con) -> pd.DataFrame:
    return db.query_df(con, "SELECT * FROM indikator ORDER BY sortierung NULLS LAST, id")


def catalogue_file_frame(con) -> pd.DataFrame:
    """The catalogue in the file format that :func:`load_catalogue` reads."""
    ind = catalogue(con)
    aliases = db.query_df(
        con, "SELECT ziel_id, alias FROM alias WHERE art='indikator' ORDER BY alias"
    )
    out = pd.DataFrame({
        "id": ind["id"],
        "name": ind["name"],
        "kurzname": ind["kurzname"],
        "einheit": ind["einheit"],
        "lieferant": ind["lieferant"],
        "richtung": ind["richtung"].map({"higher": "höher", "lower": "niedriger"}).fillna(""),
        "definition": ind["definition"],
        "zaehler": ind["zaehler_def"],
        "nenner": ind["nenner_def"],
        "min": ind["min_wert"],
        "max": ind["max_wert"],
        "handlungsfeld": ind["handlungsfeld"],
        "leitindikator": ind["leitindikator"].map(lambda v: "ja" if not pd.isna(v) and bool(v) else ""),
        "schwelle": ind["schwelle"],
        "dezimalstellen": ind["dezimalstellen"].astype("Int64"),
    })
    def alias_list(row):
        own = {row["name"], row["kurzname"]}
        return "|".join(a for a in aliases.loc[aliases["ziel_id"] == row["id"], "alias"] if a not in own)
    out["aliase"] = [alias_list(r) for r in out.to_dict("records")] if len(out) else []
    return out


def decimals(cat: pd.DataFrame) -> dict[str, int]:
    """Indicator id -> the decimals it is shown with (catalogue ``dezimalstellen``, else by unit: counts 0, rates 1)."""
    frame = cat.reset_index() if "id" not in cat.columns else cat
    places = frame["dezimalstellen"] if "dezimalstellen" in frame.columns else [None] * len(frame)
    return {str(i): fmt.decimals_for(u, p) for i, u, p in zip(frame["id"], frame["einheit"], places)}


def headline_ids(con, n: int = HEADLINE_COUNT, cat: pd.DataFrame | None = None) -> list[str]:
    """The headline indicators: those flagged ``leitindikator`` in catalogue order; without flags the first ``n``.
    ``cat``: the :func:`catalogue` already read (by a caller that needs it anyway), else read here."""
    cat = catalogue(con) if cat is None else cat
    flagged = cat[cat["leitindikator"].map(lambda v: not pd.isna(v) and bool(v))]
    return list((flagged if len(flagged) else cat.head(n))["id"])


def default_indicator(con, cat: pd.DataFrame | None = None) -> str | None:
    """The indicator a map or ranking starts with: the first headline rate with a direction, else any with a direction.

    Never an id written in code; the saved index method, where there is one, is the caller's first choice.
    ``cat``: the :func:`catalogue` already read, else read here.
    """
    frame = catalogue(con) if cat is None else cat
    cat = frame.set_index("id")
    if cat.empty:
        return None
    heads = [i for i in headline_ids(con, cat=frame) if i in cat.index]
    directed = [i for i in cat.index if pd.notna(cat.loc[i, "richtung"])]
    for pool in ([i for i in heads if i in directed and not units.is_count(cat.loc[i, "einheit"])],
                 [i for i in heads if i in directed], directed, heads, list(cat.index)):
        if pool:
            return str(pool[0])
    return None


# Words a total population count may be named with ("Einwohnerinnen und Einwohner", "Einwohnerzahl",
# "Wohnbevölkerung insgesamt"); any other word (an age, a group, "Anteil") makes it a part of the population.
_POP_FILLERS = {"und", "insgesamt", "gesamt", "mit", "hauptwohnsitz", "anzahl", "der", "die", "zahl", "personen", "am",
                "stand", "gemeldete"}


def _words(text: object) -> list[str]:
    s = str(text or "").lower()
    for k, v in {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}.items():
        s = s.replace(k, v)
    return [w for w in (normalize(t) for t in s.replace("-", " ").split()) if w]


def _is_total_population(name: object) -> bool:
    words = _words(name)
    pop = [w for w in words if w.startswith("einwohner") or w.endswith("bevoelkerung")]
    return bool(pop) and all(w in pop or w in _POP_FILLERS or w.isdigit() for w in words)


def _is_under_18(name: object) -> bool:
    words = _words(name)
    pairs = list(zip(words, words[1:]))
    return "u18" in words or ("unter", "18") in pairs or any(w.startswith("minderjaehrig") for w in words)


def population_ids(cat: pd.DataFrame) -> tuple[str | None, str | None]:
    """The catalogue's population counts ``(total, under 18)``, found by unit and name, never by an id in code.

    total: a count ("Anzahl") named only with population words ("Einwohnerinnen und Einwohner", "Einwohnerzahl",
    "Bevölkerung insgesamt"); under 18: a count named "… unter 18 …", "u18" or "Minderjährige". The first such
    indicator in catalogue order each; ``None`` when the catalogue has none (then there is no population rule).
    """
    cat = cat.reset_index() if "id" not in cat.columns else cat
    counts = cat[cat["einheit"].map(units.is_count)] if len(cat) else cat
    total = next((str(r["id"]) for _, r in counts.iterrows() if _is_total_population(r["name"])), None)
    u18 = next((str(r["id"]) for _, r in counts.iterrows() if _is_under_18(r["name"])), None)
    return total, u18


def export_catalogue(con, path: str | Path, sep: str = ";") -> Path:
    return write_table(catalogue_file_frame(con), path, sep=sep, sheet="Indikatoren")


def areas(con) -> pd.DataFrame:
    """Sozialräume with their Stadtbezirk (without geometry)."""
    return db.query_df(
        con,
        "SELECT s.id, s.name, s.bezirk_id, b.name AS bezirk, b.nr AS bezirk_nr, s.centroid_lon, s.centroid_lat,"
        " s.flaeche_km2 FROM sozialraum s LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id ORDER BY b.nr, s.id",
    )


def bezirke(con) -> pd.DataFrame:
    return db.query_df(con, "SELECT id, nr, name FROM stadtbezirk ORDER BY nr, name")


def current_values(con, indicator_ids: list[str] | None = None, years: list[int] | None = None, *,
                   actor: Actor) -> pd.DataFrame:
    """Current values (newest active Lieferung) with area and Lieferung information, as ``actor`` may see them.

    For an actor without the right to raw values, small-number protection is applied
    (:mod:`quartier.values.protection`); ``access.SYSTEM`` reads the raw values (imports, CLI, computations).
    """
    raw = query.current_raw(con, indicator_ids, years, actor=SYSTEM)
    return raw if actor.can_see_raw else protection.protect(con, raw)


def years(con) -> list[int]:
    return query.years(con)  # on today's areas (values of earlier Gebietsstände re-allocated)


rate_factor = units.rate_factor  # kept under its old name: many callers read it from here


def aggregate(values: pd.DataFrame, unit: str | None, by: list[str]) -> pd.DataFrame:
    """Reference values from summed numerators and denominators (never means of rates).

    Rows where any contributing area lacks numerator/denominator make the aggregate NaN, except for
    count indicators (no denominator anywhere), which are summed (NaN when a count is missing). A
    protected (suppressed) value has no numerator: an aggregate over it is NaN, never a rate from the
    visible numerators over all denominators (which would be too low); use
    ``protection.protected_table`` for the district and city values a viewer may see.
    """
    f = rate_factor(unit)
    df = values.copy()
    has_den = df["nenner"].notna().any()
    # vectorised sums (sum(min_count=1): all-NaN groups stay NaN), no Python call per group
    if not has_den:
        grp = df.groupby(by, dropna=False)
        g = pd.DataFrame({"wert": grp["wert"].sum(min_count=1), "n": grp.size()})
        g.loc[grp["wert"].count() < g["n"], "wert"] = np.nan  # a missing or protected count: total unknown
        g["zaehler"] = np.nan
        g["nenner"] = np.nan
        return g.reset_index()
    df["_fehlend"] = (df["nenner"].isna() | df["zaehler"].isna()).astype(int)
    grp = df.groupby(by, dropna=False)
    g = pd.DataFrame({
        "zaehler": grp["zaehler"].sum(min_count=1),
        "nenner": grp["nenner"].sum(min_count=1),
        "fehlend": grp["_fehlend"].sum(),
        "n": grp.size(),
    })
    g["wert"] = np.where((g["fehlend"] == 0) & (g["nenner"] > 0), g["zaehler"] / g["nenner"] * f, np.nan)
    return g.drop(columns="fehlend").reset_index()


def min_cases(con) -> int:
    return settings.read_int(con, settings.MIN_CASES)
