"""The total rows decided all at once (totals._settle) agree with the row-by-row walk (totals._walk)."""

from __future__ import annotations

import numpy as np

from quartier.ingest import totals as T
from quartier.ingest import values as V
from quartier.ingest.match import Interner


class _Districts:
    """What the walk asks the matcher: the Stadtbezirk a total names and the one each area belongs to."""

    def __init__(self, named: dict[str, str], area_district: dict[str, str]):
        self.named, self.area_district = named, area_district

    def district_of(self, text: str) -> str | None:
        return self.named.get(text)


def _case(rng: np.random.Generator) -> tuple[np.ndarray, list, list, _Districts]:
    n, nk, nlab = int(rng.integers(0, 40)), int(rng.integers(0, 4)), int(rng.integers(1, 8))
    infos, named = [], {}
    for j in range(nlab):
        r = rng.random()
        if r < 0.1:
            infos.append(("", None, None, False))
        elif r < 0.55:  # an area (ids repeat: a name read twice)
            infos.append((f"a{j}", f"S{int(rng.integers(0, 5))}", "stadt" if rng.random() < 0.05 else None, bool(rng.random() < 0.05)))
        elif r < 0.7:   # named as a total (a Stadtbezirk's total checked against its own areas, if known)
            kind = rng.choice(["stadt", "bezirk", None])
            infos.append((f"t{j}", None, kind, bool(rng.random() < 0.5)))
            if kind == "bezirk" and rng.random() < 0.7:
                named[f"t{j}"] = f"B{int(rng.integers(0, 2))}"
        else:           # unknown: a total when its counts are the sum above
            infos.append((f"u{j}", None, None, False))
    codes = rng.integers(-1, nlab, n)
    counts = []
    for k in range(nk):
        st = np.where(rng.random(n) < 0.1, V.SUPPRESSED, V.OK).astype(np.int8)
        counts.append((k + 2, rng.integers(0, 4, n).astype(float), st))
    for i in range(n):  # many unknown rows equal the sum of a few rows above
        if codes[i] >= 0 and infos[codes[i]][1] is None and rng.random() < 0.7:
            lo = max(0, i - int(rng.integers(2, 6)))
            for _c, v, _st in counts:
                v[i] = v[lo:i].sum()
    return codes, infos, counts, _Districts(named, {f"S{s}": f"B{s % 2}" for s in range(4)})


def _flags(infos: list, m: _Districts) -> T.LabelFlags:
    sid_num: dict[str, int] = {}
    bz: dict[str, int] = {}

    def bezirk(b: str | None) -> int:
        return -1 if b is None else bz.setdefault(b, len(bz))

    return T.LabelFlags(
        has_text=np.array([bool(t) for t, *_r in infos] + [False]),
        sid=np.array([sid_num.setdefault(s, len(sid_num)) if s is not None else -1 for _t, s, _k, _w in infos] + [-1]),
        city=np.array([k == "stadt" for _t, _s, k, _w in infos] + [False]),
        district=np.array([k == "bezirk" for _t, _s, k, _w in infos] + [False]),
        word=np.array([w for *_r, w in infos] + [False], dtype=bool),
        area_bezirk=np.array([bezirk(m.area_district.get(s)) if s is not None else -1 for _t, s, _k, _w in infos] + [-1]),
        total_bezirk=np.array([bezirk(m.district_of(t)) if k == "bezirk" else -1 for t, _s, k, _w in infos] + [-1]))


def test_settle_equals_walk() -> None:
    rng = np.random.default_rng(7)
    settled = own_district = 0
    for _ in range(1500):
        codes, infos, counts, m = _case(rng)
        n = len(codes)
        vals = np.array([v for _c, v, _st in counts], dtype=float).reshape(len(counts), n)
        ok = np.array([st == V.OK for _c, _v, st in counts], dtype=bool).reshape(len(counts), n)
        a = T._settle(codes, _flags(infos, m), vals, ok, np.where(ok, vals, 0.0), [c for c, _v, _st in counts])
        if a is None:
            continue
        settled += 1
        b = T._walk(codes, infos, counts, m)  # type: ignore[arg-type]
        assert a.mask.tolist() == b.mask.tolist()
        assert a.reasons == b.reasons
        assert a.mismatches == b.mismatches
        own_district += any(infos[c][0] in m.named for c in codes[a.mask])
    assert settled > 1400 and own_district > 50


def test_interner_numbers_like_factorize() -> None:
    it = Interner()
    assert it.codes(["A", 1, "B"]).tolist() == [0, 1, 2, -1]
    assert it.code(1.0) == 1 and it.code(None) == -1 and it.code(float("nan")) == -1
    assert it.codes(["B", "C"]).tolist() == [2, 3, -1]
    assert it.values == ["A", 1, "B", "C"]
