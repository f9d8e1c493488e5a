"""Validation of the extracted records: matching names, parsing numbers, plausibility, duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from quartier.ingest import values as V
from quartier.ingest.analysis import ERROR, INFO, MAX_PER_RULE, Emitter, FileAnalysis, Finding, ValueCodes, fmt_number
from quartier.ingest.match import Matcher
from quartier.values.indicators import rate_factor

MIN_YEAR = 1990
CONTRADICTION_TOLERANCE = 0.51   # in the indicator's unit (rounding to whole percent still passes)

Recs = dict[str, np.ndarray]


@dataclass
class _Codes:
    """Raw names factorised once: codes per row, ids per unique (+ None for missing), uniques, ids per row."""

    codes: np.ndarray
    ids_u: np.ndarray
    uniq: list[Any]
    ids: np.ndarray

    @cached_property
    def safe_codes(self) -> np.ndarray:
        """Codes with missing cells pointing at the extra last entry of ``ids_u`` (computed once: read five times)."""
        return np.where(self.codes < 0, len(self.uniq), self.codes)

    @property
    def matched(self) -> np.ndarray:
        """Per row: the name was matched (``~pd.isna(ids)``, decided once per distinct name)."""
        out: np.ndarray = np.array([i is not None for i in self.ids_u], dtype=bool)[self.safe_codes]
        return out


@dataclass
class _Numbers:
    """Parsed value, numerator, denominator (value + status arrays), year and suppression flags."""

    w: np.ndarray
    w_st: np.ndarray
    z: np.ndarray
    z_st: np.ndarray
    d: np.ndarray
    d_st: np.ndarray
    y: np.ndarray
    bad_year: np.ndarray
    gesperrt: np.ndarray


@dataclass
class _Attrs:
    """Attributes of the matched indicator: unit, rate factor and plausible bounds per distinct spelling (``codes``
    per record points into them; spread over the records only where a test needs them, so that they do not stay in
    memory), the count flag per record."""

    codes: np.ndarray
    units: list[str]
    factor_u: np.ndarray
    lo_u: np.ndarray
    hi_u: np.ndarray
    is_count: np.ndarray

    @property
    def factor(self) -> np.ndarray:
        out: np.ndarray = self.factor_u[self.codes]
        return out


def _match_codes(matcher: Matcher, art: str, codes: np.ndarray) -> _Codes:
    """Match each distinct raw name once: the records carry its number (see :class:`~quartier.ingest.match.Interner`),
    not the cell (100,000 records of a yearbook name 300 areas)."""
    uniq = matcher.interned[art].values
    ids_u = np.array([matcher.match(art, V.cell_text(u)) for u in uniq] + [None], dtype=object)
    return _Codes(codes, ids_u, list(uniq), ids_u[codes])


def validate(fa: FileAnalysis, recs: Recs, matcher: Matcher) -> None:
    """Match, parse and check the records; ``fa.values`` and ``fa.codes`` are the result. Takes the raw cells and
    their kinds out of ``recs`` once they are read (the caller has no further use for them)."""
    em = Emitter(fa, recs)
    # --- matching (per distinct spelling: one finding with the first cell and the count)
    sr = _match_codes(matcher, "sozialraum", recs["sr_code"])
    ind = _match_codes(matcher, "indikator", recs["ind_code"])
    _unknown(em, matcher, "sozialraum", sr, "sr_col", "Sozialraum")
    _unknown(em, matcher, "indikator", ind, "ind_col", "Indikator")
    num = _parse(em, recs)
    attrs = _indicator_attrs(matcher, ind)
    _count_and_derive(fa, num, attrs)
    _plausibility(em, matcher, num, attrs, ind.ids)
    for k in [k for k in recs if k.endswith(("_raw", "_kind"))]:
        del recs[k]   # the cells are read: their memory is there again for the value frame (fewer page faults)
    _store(fa, em, recs, matcher, num, sr, ind)


def _unknown(em: Emitter, matcher: Matcher, art: str, m: _Codes, col_field: str, label: str) -> None:
    """One error per distinct unknown name, in file order, for the first MAX_PER_RULE names; the rest counted.

    Issue 20 (item 7): a file with 500,000 distinct unknown names ran a fuzzy suggestion and a full scan of the
    rows for every one of them (hours); now each name's first row comes from one np.unique pass and only the
    listed names get a suggestion.
    """
    fa = em.fa
    bad = np.array([m.ids_u[k] is None for k in range(len(m.uniq) + 1)], dtype=bool)
    safe = m.safe_codes
    counts = np.bincount(safe, minlength=len(m.uniq) + 1)
    if not (bad & (counts > 0)).any():  # every name in the records known and no cell empty (the last entry)
        return
    codes, first = np.unique(safe, return_index=True)
    keep = bad[codes]
    codes, first = codes[keep], first[keep]
    order = np.argsort(first, kind="stable")
    for k, i in zip(codes[order][:MAX_PER_RULE], first[order][:MAX_PER_RULE]):
        k, i = int(k), int(i)
        r = em.row(i)
        text = V.cell_text(m.uniq[k]) if k < len(m.uniq) else ""
        c = int(r[col_field])
        cell = V.cell_address(int(r["row0"]), c) if c >= 0 else ""
        sug = matcher.suggest(art, text) if text else None
        if not text:
            msg = f"{label} fehlt ({counts[k]} Zeile(n)). Bitte ausfüllen."
        elif sug:
            msg = (f"{label} „{text}“ ist unbekannt ({counts[k]} Zeile(n)). Meinten Sie „{matcher.label(art, sug)}“ ({sug})? "
                   "Vorschlag übernehmen oder den Namen in der Datei korrigieren.")
            fa.suggestions.append({"art": art, "text": text, "ziel_id": sug, "ziel": matcher.label(art, sug)})
        else:
            msg = (f"{label} „{text}“ ist unbekannt ({counts[k]} Zeile(n)). Bitte Nummer oder Namen wie in der Vorlage "
                   "verwenden oder den Namen im Katalog als Alias eintragen.")
        fa.findings.append(Finding(ERROR, f"unbekannt_{art}", msg, r["sheet"], cell, em.header(r["sheet"], c), text))
    if len(codes) > MAX_PER_RULE:
        rest = codes[order][MAX_PER_RULE:]
        fa.findings.append(Finding(ERROR, f"unbekannt_{art}", f"… und {len(rest)} weitere unbekannte Angaben für {label} "
                                   f"({int(counts[rest].sum())} Zeile(n); nicht einzeln aufgeführt, bitte die Ursache oben beheben)."))


def _parse(em: Emitter, recs: Recs) -> _Numbers:
    w, w_st = V.parse_numbers(recs["wert_raw"], recs["wert_kind"])
    z, z_st = V.parse_numbers(recs["zaehler_raw"], recs["zaehler_kind"])
    d, d_st = V.parse_numbers(recs["nenner_raw"], recs["nenner_kind"])
    y, y_st = V.parse_numbers(recs["jahr_raw"], recs.get("jahr_kind"))
    for st, name in ((w_st, "wert"), (z_st, "zaehler"), (d_st, "nenner")):
        em.emit(st == V.INVALID, ERROR, "keine_zahl", f"{name}_col", f"{name}_raw",
                _not_a_number(name))
    next_year = dt.date.today().year + 1
    with np.errstate(invalid="ignore"):
        bad_year = (y_st != V.OK) | (y != np.round(y)) | (y < MIN_YEAR) | (y > next_year)
    em.emit(bad_year, ERROR, "jahr", "jahr_col", "jahr_raw",
            lambda r, i: f"Jahr „{V.cell_text(r['jahr_raw'])}“ ist ungültig: erlaubt sind {MIN_YEAR} bis {next_year}. "
            "Bitte das Berichtsjahr prüfen.")
    gesperrt = (w_st == V.SUPPRESSED) | (z_st == V.SUPPRESSED) | ((w_st != V.OK) & (d_st == V.SUPPRESSED))
    gesperrt = gesperrt | recs["gesperrt_flag"]  # a Sperrvermerk column (1/ja/x/*), e.g. from `export values`
    return _Numbers(w, w_st, z, z_st, d, d_st, y, bad_year, gesperrt)


def _not_a_number(name: str) -> Callable[[dict[str, Any], int], str]:
    def message(r: dict[str, Any], i: int) -> str:
        return (f"„{V.cell_text(r[name + '_raw'])}“ ist keine Zahl. Bitte eine Zahl (z. B. 12,5 oder "
                "1.234) oder ein Zeichen für gesperrte Werte (*, •, .) eintragen.")
    return message


def _indicator_attrs(matcher: Matcher, ind: _Codes) -> _Attrs:
    """Per-indicator attributes looked up once per distinct spelling, then spread by code."""
    codes = ind.safe_codes
    unit_u = [(matcher.units.get(i) or "") if isinstance(i, str) else "" for i in ind.ids_u]
    return _Attrs(
        codes=codes, units=unit_u, factor_u=np.array([rate_factor(u) for u in unit_u], dtype=float),
        lo_u=np.array([_bound(matcher, i, "min_wert", -np.inf) for i in ind.ids_u], dtype=float),
        hi_u=np.array([_bound(matcher, i, "max_wert", np.inf) for i in ind.ids_u], dtype=float),
        is_count=np.array([u.strip().lower() == "anzahl" for u in unit_u], dtype=bool)[codes])


def _count_and_derive(fa: FileAnalysis, n: _Numbers, a: _Attrs) -> None:
    # count indicators: a value given only as "Anzahl" is the value
    z_only = a.is_count & (n.w_st != V.OK) & (n.z_st == V.OK)
    if z_only.any():
        n.w = np.where(z_only, n.z, n.w)
        n.z = np.where(z_only, np.nan, n.z)
        n.w_st = np.where(z_only, V.OK, n.w_st)
        n.z_st = np.where(z_only, V.EMPTY, n.z_st)
    with np.errstate(invalid="ignore", divide="ignore"):
        # a value derived from numerator/denominator when only those were delivered
        derive = ~a.is_count & (n.w_st != V.OK) & ~n.gesperrt & (n.z_st == V.OK) & (n.d_st == V.OK) & (n.d > 0)
        if derive.any():
            n.w = np.where(derive, n.z / np.where(n.d > 0, n.d, 1) * a.factor, n.w)
            fa.findings.append(Finding(INFO, "wert_berechnet", f"{int(derive.sum())} Wert(e) aus Zähler und Nenner berechnet, "
                                       "weil die Wertespalte leer war."))


def _plausibility(em: Emitter, matcher: Matcher, n: _Numbers, a: _Attrs, ind_ids: np.ndarray) -> None:
    w, z, d, is_count, code = n.w, n.z, n.d, a.is_count, a.codes
    lo_u, hi_u = a.lo_u, a.hi_u
    with np.errstate(invalid="ignore", divide="ignore"):
        z_ok, d_ok, w_ok = n.z_st == V.OK, n.d_st == V.OK, n.w_st == V.OK
        signed = (lo_u < 0)[code]   # a balance (Wanderungssaldo): the catalogue allows negative values
        # one message per cause: a numerator above its denominator also makes the value implausible and
        # contradictory; those follow-up messages are left out for the same row
        z_gt_d = z_ok & d_ok & (z > d)
        em.emit(z_gt_d, ERROR, "zaehler_groesser_nenner", "zaehler_col", "zaehler_raw",
                lambda r, i: f"Der Zähler {fmt_number(z[i])} ist größer als der Nenner {fmt_number(d[i])}. "
                "Bitte Zähler und Nenner prüfen (vertauscht?).")
        em.emit(z_ok & (z < 0) & ~signed, ERROR, "negative_anzahl", "zaehler_col", "zaehler_raw",
                lambda r, i: f"Negative Anzahl {fmt_number(z[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
        em.emit(d_ok & (d < 0), ERROR, "negative_anzahl", "nenner_col", "nenner_raw",
                lambda r, i: f"Negative Anzahl {fmt_number(d[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
        em.emit(is_count & w_ok & (w < 0) & ~signed, ERROR, "negative_anzahl", "wert_col", "wert_raw",
                lambda r, i: f"Negative Anzahl {fmt_number(w[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
        out_of_range = ~np.isnan(w) & ((w < lo_u[code]) | (w > hi_u[code])) & ~(is_count & (w < 0) & ~signed) & ~z_gt_d
        em.emit(out_of_range, ERROR, "unplausibel", "wert_col", "wert_raw",
                lambda r, i: f"Der Wert {fmt_number(w[i])} liegt außerhalb des plausiblen Bereichs {fmt_number(lo_u[code[i]])} "
                f"bis {fmt_number(hi_u[code[i]])} ({a.units[code[i]]}) für „{matcher.label('indikator', ind_ids[i])}“. Bitte prüfen "
                "(Anteil 0,125 statt 12,5 %?).")
        both = ~is_count & w_ok & z_ok & d_ok & (d > 0)
        calc = np.where(both, z / np.where(d > 0, d, 1) * a.factor, np.nan)
        contra = both & (np.abs(calc - w) > CONTRADICTION_TOLERANCE) & ~z_gt_d
    em.emit(contra, ERROR, "widerspruch_zaehler_nenner", "wert_col", "wert_raw",
            lambda r, i: f"Der Wert {fmt_number(w[i])} passt nicht zu Zähler {fmt_number(z[i])} und Nenner {fmt_number(d[i])} "
            f"(ergibt {fmt_number(round(calc[i], 2))}). Bitte Wert, Zähler und Nenner prüfen.")


def _store(fa: FileAnalysis, em: Emitter, recs: Recs, matcher: Matcher, n: _Numbers, sr: _Codes, ind: _Codes) -> None:
    """The values as they would be stored (``fa.values``), without empty cells and later duplicates."""
    w_ok = n.w_st == V.OK
    hidden = n.gesperrt & ~w_ok
    wert = np.where(hidden, np.nan, n.w) if hidden.any() else n.w
    zaehler, nenner = n.z, n.d   # NaN wherever the status is not OK already (parse_numbers; the count rule empties both)
    invalid = (n.w_st == V.INVALID) | (n.z_st == V.INVALID) | (n.d_st == V.INVALID)
    nothing = ~n.gesperrt & np.isnan(wert) & np.isnan(zaehler) & np.isnan(nenner) & ~invalid
    if nothing.any():
        fa.findings.append(Finding(INFO, "ohne_wert", f"{int(nothing.sum())} Zelle(n) mit „–“ oder „x“ (nichts vorhanden / "
                                   "nicht sinnvoll): dafür wird kein Wert gespeichert."))
    valid = sr.matched & ind.matched & ~n.bad_year & ~nothing
    # a year that is not bad is a whole finite number
    year_i = (np.where(n.bad_year, 0.0, n.y) if n.bad_year.any() else n.y).astype(np.int64)
    ind_ids_u, ind_num = _id_numbers(ind.ids_u)
    sr_num = _id_numbers(sr.ids_u)[1][sr.safe_codes]
    ind_num = ind_num[ind.safe_codes]
    _duplicates(em, matcher, valid, year_i, wert, sr, ind, (ind_num, sr_num))
    keep: Any = slice(None) if valid.all() else np.flatnonzero(valid)  # every record kept: no copy per column
    # copy=False: the columns are new arrays already (a copy into blocks of one dtype costs 5 ms on the yearbook)
    fa.values = pd.DataFrame({
        "indikator_id": pd.Series(ind.ids[keep], dtype=object), "sozialraum_id": pd.Series(sr.ids[keep], dtype=object),
        "jahr": year_i[keep],
        "wert": np.ascontiguousarray(wert[keep]), "zaehler": np.ascontiguousarray(zaehler[keep]),
        "nenner": np.ascontiguousarray(nenner[keep]), "gesperrt": n.gesperrt[keep],
        "sheet": pd.Series(np.ascontiguousarray(recs["sheet"][keep]), dtype=object), "row0": recs["row0"][keep].astype(np.int64),
        "wert_col": recs["wert_col"][keep].astype(np.int64)}, copy=False)
    fa.codes = ValueCodes(fa.values, ind_num[keep], ind_ids_u, sr_num[keep])


def _duplicates(em: Emitter, matcher: Matcher, valid: np.ndarray, year_i: np.ndarray, wert: np.ndarray,
                sr: _Codes, ind: _Codes, nums: tuple[np.ndarray, np.ndarray]) -> None:
    """Report every later (indicator, Sozialraum, year) duplicate and drop it from ``valid`` (integer keys:
    ``nums`` are the indicator and area numbers of :func:`_id_numbers` per record)."""
    ind_num, sr_num = nums
    every = bool(valid.all())   # then no copies of the keys for the check below
    vidx = None if every else np.flatnonzero(valid)
    if not (_may_repeat(ind_num, sr_num, year_i) if every else _may_repeat(ind_num[vidx], sr_num[vidx], year_i[vidx])):
        return
    if vidx is None:
        vidx = np.arange(len(valid))
    key = (ind_num.astype(np.int64) * (len(sr.ids_u) + 1) + sr_num) * 4000 + year_i
    order = vidx[np.argsort(key[vidx], kind="stable")]
    ks = key[order]
    dup_later = order[1:][ks[1:] == ks[:-1]] if len(order) > 1 else np.zeros(0, dtype=np.int64)
    if not len(dup_later):
        return
    first_of: dict[int, int] = {}
    for a, b in zip(order[:-1][ks[1:] == ks[:-1]], dup_later):
        first_of.setdefault(int(b), first_of.get(int(a), int(a)))
    for n_found, i in enumerate(sorted(first_of)):
        if n_found >= MAX_PER_RULE:
            break
        r, f0 = em.row(i), em.row(first_of[i])
        c = int(r["wert_col"])
        cell = V.cell_address(int(r["row0"]), c) if c >= 0 else f"Zeile {int(r['row0']) + 1}"
        c0 = int(f0["wert_col"])
        cell0 = V.cell_address(int(f0["row0"]), c0) if c0 >= 0 else f"Zeile {int(f0['row0']) + 1}"
        em.fa.findings.append(Finding(ERROR, "doppelt", f"Sozialraum {sr.ids[i]}, Indikator „{matcher.label('indikator', ind.ids[i])}“, "
                                      f"Jahr {year_i[i]} kommt doppelt vor (zuerst in Blatt „{f0['sheet']}“, Zelle {cell0}). "
                                      f"{_looks_like_total(wert, first_of[i], i, f0, r)}Bitte eine der Zeilen löschen oder ausschließen.",
                                      r["sheet"], cell, em.header(r["sheet"], c), fmt_number(wert[i])))
    valid[dup_later] = False


def _may_repeat(ind_num: np.ndarray, sr_num: np.ndarray, year: np.ndarray) -> bool:
    """False when no (indicator, Sozialraum, year) occurs twice, found by counting keys in a compact range (no sort);
    True when some key repeats, or the range is too large to count in (then the sort decides)."""
    if len(year) < 2:
        return False
    y0 = int(year.min())
    span = int(year.max()) - y0 + 1
    n_sr = int(sr_num.max()) + 1
    size = (int(ind_num.max()) + 1) * n_sr * span
    if size > 4 * len(year) + 4096:
        return True
    seen = np.zeros(size, dtype=bool)   # a flag per key, not a count: an eighth of the memory of np.bincount
    seen[(ind_num * n_sr + sr_num) * span + (year - y0)] = True
    return int(np.count_nonzero(seen)) < len(year)


def _looks_like_total(wert: np.ndarray, a: int, b: int, ra: dict[str, Any], rb: dict[str, Any]) -> str:
    """Which of two rows with the same area looks like a total: the one with the clearly larger value, else the later."""
    va, vb = wert[a], wert[b]
    if np.isfinite(va) and np.isfinite(vb) and va != vb and max(va, vb) >= 1.5 * max(min(va, vb), 1e-9):
        row = ra if va > vb else rb
        why = "größerer Wert"
    else:
        row, why = rb, "steht weiter unten"
    return f"Zeile {int(row['row0']) + 1} sieht wie eine Summenzeile aus ({why}). "


def _id_numbers(ids_u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct ids, a small integer per entry of ``ids_u`` numbering them: None -> -1)."""
    num: dict[Any, int] = {}
    out = np.array([num.setdefault(i, len(num)) if i is not None else -1 for i in ids_u], dtype=np.int32)
    return np.array(list(num), dtype=object), out


def _bound(matcher: Matcher, iid: Any, key: str, default: float) -> float:
    rec = matcher.indicators.get(iid) if isinstance(iid, str) else None
    v = rec.get(key) if rec else None
    return default if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
