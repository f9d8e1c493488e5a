"""Matching Sozialräume and indicators by id, name, alias; suggestions ("Meinten Sie …?")."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from quartier import db
from quartier.names import normalize as _normalize


@lru_cache(maxsize=65536)
def normalize(text: Any) -> str:
    """quartier.names.normalize, cached: the same names come again in every file and on every rerun."""
    return _normalize(text)

ARTS = ("sozialraum", "indikator")
# titles before a city's name ("Freie und Hansestadt Hamburg", "Hanse- und Universitätsstadt Rostock"): tables say "Hamburg"
_CITY_TITLES = {"freie", "und", "hanse", "hansestadt", "universitaetsstadt", "landeshauptstadt", "stadt", "kreisfreie",
                "bundesstadt", "grosse", "kreisstadt", "wissenschaftsstadt"}


def district_key(name: Any) -> str:
    """A Stadtbezirk's name without "Bezirk"/"Stadtbezirk"/"Bezirksamt" and its number ("Stadtbezirk 1 Altona" ->
    "altona"); a bare number stays as it is ("Bezirk 3" -> "3")."""
    k = normalize(name)
    for prefix in ("stadtbezirksamt", "stadtbezirk", "bezirksamt", "bezirk"):
        if k.startswith(prefix) and k != prefix:
            return k[len(prefix):].lstrip("0123456789") or k[len(prefix):]
    return k


def city_keys(city: str) -> set[str]:
    """The ways a table names the city: its name as set, with "Stadt", and without its titles ("Hamburg, Freie und
    Hansestadt" and "Freie und Hansestadt Hamburg" -> "hamburg")."""
    words = [w for w in re.split(r"[\s-]+", city.split(",")[0]) if w]
    while len(words) > 1 and normalize(words[0]) in _CITY_TITLES:
        words = words[1:]
    base = " ".join(words)
    return {normalize(city), normalize(f"Stadt {city}"), normalize(base), normalize(f"Stadt {base}")} - {""}


_MISS = object()


class Interner:
    """The distinct raw cells naming an area or indicator in one file, numbered as first met; equal as
    ``pd.factorize`` takes them (Python equality; None and NaN are missing: -1). The records carry these numbers from
    the extraction to the validation, which matches each distinct cell once instead of factorising every record."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.values: list[Any] = []
        self._lists: dict[Any, np.ndarray] = {}

    def code(self, v: Any) -> int:
        if v is None or (isinstance(v, float) and v != v):
            return -1
        c = self.index.get(v)
        if c is None:
            c = self.index[v] = len(self.values)
            self.values.append(v)
        return c

    def codes(self, uniq: Any, key: Any = None) -> np.ndarray:
        """The numbers of the uniques of ``pd.factorize`` plus -1 at the end (for its code -1), once per list of
        uniques (every sheet of a yearbook has the same area column); ``key``: :meth:`Matcher.uniques_key`."""
        key = key if key is not None else (tuple(map(type, uniq)), tuple(uniq))
        hit = self._lists.get(key)
        if hit is None:
            hit = self._lists[key] = np.array([self.code(u) for u in uniq] + [-1], dtype=np.int32)
        return hit


class Matcher:
    """Known ids, names and aliases of Sozialräume and indicators, normalised for tolerant matching."""

    def __init__(self, con: db.Con, accepted: dict[tuple[str, str], str] | None = None, gebietsstand: int | None = None):
        """``gebietsstand``: match the areas of this (earlier) Gebietsstand instead of today's."""
        cur = con.cursor()
        self.labels: dict[str, dict[str, str]] = {"sozialraum": {}, "indikator": {}}
        self.keys: dict[str, dict[str, str]] = {"sozialraum": {}, "indikator": {}}
        self.units: dict[str, str | None] = {}
        self.indicators: dict[str, dict[str, Any]] = {}
        # today's areas with their Stadtbezirk in one query (area_district below: always today's areas)
        areas_sql, areas_params = "SELECT id, name, bezirk_id FROM sozialraum ORDER BY id", []
        if gebietsstand is not None:
            areas_sql = "SELECT id, name, NULL FROM sozialraum_version WHERE gebietsstand_id = ? ORDER BY id"
            areas_params = [int(gebietsstand)]
        today: dict[str, str] = {}
        for sid, name, bezirk in cur.execute(areas_sql, areas_params).fetchall():
            today[sid] = bezirk
            self.labels["sozialraum"][sid] = name
            self._add("sozialraum", sid, sid)
            self._add("sozialraum", name, sid)
        # Stadtbezirke and the city: their names are totals, never an area suggestion ("Hamburg" is not "Harburg")
        self.district_names: set[str] = set()
        self.district_ids: dict[str, str] = {}   # normalised Stadtbezirk name -> id (its total is checked against its areas)
        for bid, bname in cur.execute("SELECT id, name FROM stadtbezirk").fetchall():
            for k in {normalize(bname), district_key(bname)} - {""}:   # "Bezirk Altona" is "Altona" in a table
                if k.isdigit():  # "Bezirk 3": a bare 3 in the area column stays a (wrong) area, not a silent total
                    continue
                self.district_names.add(k)
                self.district_ids.setdefault(k, bid)
        self.area_district: dict[str, str] = (
            today if gebietsstand is None else dict(cur.execute("SELECT id, bezirk_id FROM sozialraum").fetchall()))
        self.city_names: set[str] = city_keys(db.get_setting(con, "stadt", "") or "")
        self.descriptions: dict[str, str] = {}
        cols = ["id", "name", "kurzname", "einheit", "lieferant", "min_wert", "max_wert", "definition"]
        for row in cur.execute(f"SELECT {', '.join(cols)} FROM indikator ORDER BY sortierung NULLS LAST, id").fetchall():  # noqa: S608
            rec = dict(zip(cols, row))
            self.indicators[rec["id"]] = rec
            self.labels["indikator"][rec["id"]] = rec["name"]
            self.units[rec["id"]] = rec["einheit"]
            for text in (rec["id"], rec["name"], rec["kurzname"]):
                if text:
                    self._add("indikator", text, rec["id"])
            if rec["definition"]:
                self.descriptions.setdefault(normalize(rec["definition"]), rec["id"])
        for art, alias_norm, ziel in cur.execute("SELECT art, alias_norm, ziel_id FROM alias").fetchall():
            if art in self.keys and ziel in self.labels[art]:
                self.keys[art].setdefault(alias_norm, ziel)
        self.accepted = dict(accepted or {})
        for (art, text), ziel in self.accepted.items():
            self.keys[art][normalize(text)] = ziel
        # keys that a bare number can reach ("0305" is reached by 305? no: by "0305" only; 305 -> "305")
        self._numeric = {art: any(k.isdigit() for k in self.keys[art]) for art in ARTS}
        self._seen: dict[str, dict[Any, str | None]] = {art: {} for art in ARTS}
        # label of a row -> (text, area id, 'stadt'/'bezirk'/None, says "total"): see quartier.ingest.totals.label_info
        self.label_cache: dict[Any, tuple[str, str | None, str | None, bool]] = {}
        self.label_sets: dict[Any, Any] = {}   # the same per list of distinct labels: quartier.ingest.totals.label_flags
        self._factorized: dict[int, tuple[np.ndarray, np.ndarray, Any]] = {}
        self._keys: dict[int, tuple[Any, Any]] = {}
        self.interned: dict[str, Interner] = {art: Interner() for art in ARTS}

    def factorize(self, values: np.ndarray) -> tuple[np.ndarray, Any]:
        """``pd.factorize(values)``, remembered for the same array object while a file is analysed: the area column of
        a sheet is factorised for the total rows, for their sums and (long layout) again for the validation. The
        codes are shared: callers only read them. :meth:`forget` drops the arrays when the analysis is done."""
        hit = self._factorized.get(id(values))
        if hit is not None and hit[0] is values:
            return hit[1], hit[2]
        codes, uniq = pd.factorize(values)
        self._factorized[id(values)] = (values, codes, uniq)
        return codes, uniq

    def uniques_key(self, uniq: Any) -> Any:
        """A key for a list of distinct cells, equal for equal lists (the labels and their types), made once per
        list object of :meth:`factorize` (the area column of a sheet is looked up for its totals and its numbers)."""
        hit = self._keys.get(id(uniq))
        if hit is not None and hit[0] is uniq:
            return hit[1]
        key = (tuple(map(type, uniq)), tuple(uniq))
        self._keys[id(uniq)] = (uniq, key)
        return key

    def forget(self) -> None:
        self._factorized.clear()
        self._keys.clear()
        self.interned = {art: Interner() for art in ARTS}

    def _add(self, art: str, text: str, ziel: str) -> None:
        k = normalize(text)
        if k:
            self.keys[art].setdefault(k, ziel)

    def match(self, art: str, text: Any) -> str | None:
        if text is None:
            return None
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        return self.keys[art].get(normalize(text))

    def numeric_keys(self, art: str) -> bool:
        """Whether a bare number can name something of ``art`` (some known id or name consists of digits)."""
        return self._numeric[art]

    def match_many(self, art: str, values: Any) -> list[str | None]:
        """:meth:`match` for many distinct cell values, remembered for the whole file (the same names come on
        every sheet). Numbers are only looked up when some key consists of digits; booleans never match."""
        seen, numeric = self._seen[art], self._numeric[art]
        out: list[str | None] = []
        for v in values:
            hit: Any
            t = type(v)
            if t is str:
                hit = seen.get(v, _MISS)
                if hit is _MISS:
                    hit = seen[v] = self.match(art, v)
            elif (t is int or t is float) and numeric:
                hit = seen.get((t, v), _MISS)
                if hit is _MISS:
                    hit = seen[(t, v)] = self.match(art, v)
            else:  # None, booleans, dates; numbers when no key is a number
                hit = None
            out.append(hit)
        return out

    def total_kind(self, text: Any) -> str | None:
        """'stadt' or 'bezirk' when the text names the city or a Stadtbezirk ("Bezirk Altona", "Hamburg insgesamt")."""
        k = self._total_key(text)
        if k and k in self.city_names:
            return "stadt"
        if k and k in self.district_names:
            return "bezirk"
        return None

    def district_of(self, text: Any) -> str | None:
        """The id of the Stadtbezirk a total row names ("Bezirk Altona" -> its id), else None."""
        return self.district_ids.get(self._total_key(text))

    def _total_key(self, text: Any) -> str:
        k = district_key(text)
        for suffix in ("insgesamt", "gesamt"):
            if k.endswith(suffix) and k != suffix:
                k = k[: -len(suffix)]
        return k

    def match_description(self, text: Any) -> str | None:
        """An indicator from a long description cell ("Anzahl der Kinder … unter 18 Jahren"): definition or name."""
        k = normalize(text)
        if not k:
            return None
        if k in self.descriptions:
            return self.descriptions[k]
        if k in self.keys["indikator"]:
            return self.keys["indikator"][k]
        hits = difflib.get_close_matches(k, list(self.descriptions), n=1, cutoff=0.9)
        return self.descriptions[hits[0]] if hits else None

    def suggest(self, art: str, text: Any) -> str | None:
        """The closest known id for an unknown name, or None.

        Never for a bare number ("2305" is no typo of id "0305") nor, for areas, for the name of a Stadtbezirk or
        the city ("Hamburg" is a total, not "Harburg").
        """
        k = normalize(text)
        if not k:
            return None
        if isinstance(text, (int, float)) or re.fullmatch(r"\s*[\d.,\s]+\s*", str(text)):
            return None
        if art == "sozialraum" and self.total_kind(text):
            return None
        hits = difflib.get_close_matches(k, list(self.keys[art]), n=1, cutoff=0.72)
        if hits:
            return self.keys[art][hits[0]]
        # a known name contained in the text or the other way round ("Wehringhausen-Ost" -> Wehringhausen)
        best = None
        for key, ziel in self.keys[art].items():
            if len(key) >= 6 and (key in k or k in key) and (best is None or len(key) > best[0]):
                best = (len(key), ziel)
        return best[1] if best else None

    def label(self, art: str, ziel: str) -> str:
        return self.labels[art].get(ziel, ziel)

    def find_in_text(self, art: str, text: str) -> str | None:
        """An indicator (or Sozialraum) whose name appears in a sheet name or title; the longest wins."""
        k = normalize(text)
        if not k:
            return None
        if k in self.keys[art]:
            return self.keys[art][k]
        best = None
        for key, ziel in self.keys[art].items():
            if len(key) >= 6 and key in k and (best is None or len(key) > best[0]):
                best = (len(key), ziel)
        return best[1] if best else None


def remember_alias(cur: db.Con, art: str, text: str, ziel: str) -> None:
    """Store an accepted match so that the same spelling is recognised next time."""
    cur.execute(
        "INSERT INTO alias (art, alias_norm, ziel_id, alias) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [art, normalize(text), ziel, str(text)],
    )
