"""Is the corridor difference larger than chance? A spatial permutation test, Moran's I and LISA.

Permutation test ("verschobener Korridor")
    Neighbouring areas resemble each other, so shuffling values between areas (the usual permutation test)
    would make almost any band of adjacent areas look special. Instead the values stay where they are and
    the corridor moves: the axis is rotated by a random angle about its centre and moved to a random place
    in the city (a point drawn uniformly from the city's area); the band of the same width then picks its
    Sozialräume by the same rule (at least ``share`` of the area within ``width_m``). The spatial structure of
    the indicator is kept exactly; only the position of the corridor is random. The statistic is the
    difference inside − outside (rates: Σ numerators / Σ denominators × factor; counts: mean per area);
    two-sided p = (1 + #{|T_moved| ≥ |T_observed|}) / (1 + number of placements). Placements with no area
    inside (or none outside) are drawn again. The area shares of the moved bands are computed on sample
    points (about 100 per Sozialraum) and a distance raster around the axis (cell ≤ width/20): an
    approximation of the exact shares the observed corridor uses.

Moran's I and LISA
    Queen contiguity from the area polygons (:mod:`libpysal`), row-standardised; global Moran's I and local
    Moran (:mod:`esda`), both with 999 conditional permutations. Hot spot = high value with high neighbours,
    cold spot = low with low neighbours, each at p < 5 %. Only areas with a usable (not protected) value
    take part.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from quartier import units

PERMUTATIONS = 999
SEED = 20180
POINTS_PER_AREA = 100
METHOD = ("Permutationstest mit verschobenem Korridor: Achse zufällig gedreht und über das Stadtgebiet verschoben, "
          "Werte bleiben an ihrem Ort (räumliche Struktur erhalten); zweiseitig")
LISA_LABELS = {1: "Hot Spot (hoch, Nachbarn hoch)", 2: "niedrig, Nachbarn hoch", 3: "Cold Spot (niedrig, Nachbarn niedrig)",
               4: "hoch, Nachbarn niedrig"}


@dataclass
class SpatialTest:
    method: str
    p_value: float | None
    permutations: int
    observed: float | None
    moran_i: float | None = None
    moran_p: float | None = None
    lisa: pd.DataFrame = field(default_factory=pd.DataFrame)  # sozialraum_id, quadrant, p, cluster
    notes: list[str] = field(default_factory=list)

    def test_json(self) -> dict:
        return {"method": self.method, "p_value": None if self.p_value is None else round(self.p_value, 6),
                "permutations": int(self.permutations)}

    def moran_json(self) -> dict:
        return {"I": None if self.moran_i is None else round(self.moran_i, 6),
                "p_value": None if self.moran_p is None else round(self.moran_p, 6)}


def sample_points(areas_m: list, per_area: int = POINTS_PER_AREA) -> tuple[np.ndarray, np.ndarray]:
    """Grid points inside each polygon (about ``per_area``); (xy array, owner index)."""
    xs, owners = [], []
    for k, g in enumerate(areas_m):
        x0, y0, x1, y1 = g.bounds
        step = max(np.sqrt(max(g.area, 1.0) / per_area), 1.0)
        mx, my = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
        gx, gy = mx.ravel(), my.ravel()
        inside = shapely.contains_xy(g, gx, gy)
        if not inside.any():
            p = g.representative_point()
            gx, gy, inside = np.array([p.x]), np.array([p.y]), np.array([True])
        xs.append(np.column_stack([gx[inside], gy[inside]]))
        owners.append(np.full(int(inside.sum()), k))
    return np.vstack(xs), np.concatenate(owners)


class _DistanceRaster:
    """Distance to the axis on a raster around it (points off the raster are farther than ``reach``)."""

    def __init__(self, axis_m, reach: float):
        self.cell = float(np.clip(reach / 20.0, 5.0, 100.0))
        self.reach = float(reach)
        x0, y0, x1, y1 = axis_m.bounds
        self.x0, self.y0 = x0 - reach - 2 * self.cell, y0 - reach - 2 * self.cell
        nx = int(np.ceil((x1 - x0 + 2 * reach + 4 * self.cell) / self.cell)) + 1
        ny = int(np.ceil((y1 - y0 + 2 * reach + 4 * self.cell) / self.cell)) + 1
        line = shapely.segmentize(axis_m, self.cell / 2)
        pts = shapely.get_coordinates(line)
        mask = np.ones((ny, nx), dtype=bool)
        ix = np.clip(((pts[:, 0] - self.x0) / self.cell).astype(int), 0, nx - 1)
        iy = np.clip(((pts[:, 1] - self.y0) / self.cell).astype(int), 0, ny - 1)
        mask[iy, ix] = False
        self.dist = ndimage.distance_transform_edt(mask) * self.cell
        self.nx, self.ny = nx, ny

    def within(self, xy: np.ndarray, width: float) -> np.ndarray:
        return self.within_xy(xy[:, 0], xy[:, 1], width)

    def within_xy(self, x: np.ndarray, y: np.ndarray, width: float) -> np.ndarray:
        """Points (coordinate arrays of any equal shape) at most ``width`` from the axis."""
        ix = np.floor((x - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((y - self.y0) / self.cell).astype(np.int64)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.zeros(x.shape, dtype=bool)
        out[ok] = self.dist[iy[ok], ix[ok]] <= width
        return out


_BLOCK = 1_000_000  # sample points moved at once (placements x points): bounds the memory of a large city


def _moved_inside(xy: np.ndarray, owner: np.ndarray, n_pts: np.ndarray, raster: _DistanceRaster, c: np.ndarray,
                  theta: np.ndarray, q: np.ndarray, width_m: float, share: float,
                  reach: _Reach | None = None) -> np.ndarray:
    """For each placement (rotation ``theta`` about the axis centre ``c``, sample point ``q`` moved onto it):
    which areas have at least ``share`` of their sample points within ``width_m`` of the axis (placements x
    areas). Several placements at once, with the same arithmetic per point as one at a time.

    With ``reach`` (:class:`_Reach`) the points of an area that cannot be near (:meth:`_Reach.far`) are not
    moved at all; the others get exactly the same arithmetic, so the result is the same."""
    ct = np.array([np.cos(-t) for t in theta])
    st_ = np.array([np.sin(-t) for t in theta])
    n_areas = len(n_pts)
    if reach is None:
        bi = np.repeat(np.arange(len(theta)), len(xy))
        pi = np.tile(np.arange(len(xy)), len(theta))
    else:
        bi, pi = reach.pairs(~reach.far(raster, c, ct, st_, q, width_m))
    dx = xy[pi, 0] - q[bi, 0]
    dy = xy[pi, 1] - q[bi, 1]
    x = (ct[bi] * dx - st_[bi] * dy) + c[0]
    y = (st_[bi] * dx + ct[bi] * dy) + c[1]
    near = raster.within_xy(x, y, width_m)
    counts = np.bincount(owner[pi] + n_areas * bi, weights=near, minlength=n_areas * len(theta))
    return counts.reshape(len(theta), n_areas) / n_pts >= share - 1e-9


class _Reach:
    """Per area the centre of its sample points, their largest distance from it and where they are in the list.

    The raster distance (:class:`_DistanceRaster`, in cells an exact Euclidean distance transform, so it changes by
    at most one cell per cell) of a point is at least that of its area's moved centre minus the radius minus √2
    cells (the two points' cells); off the raster, a centre is at least its distance to the raster's edge plus
    the reach from the axis. An area whose moved centre is farther than that from ``width`` has no point near."""

    def __init__(self, xy: np.ndarray, owner: np.ndarray, n_areas: int):
        n = np.bincount(owner, minlength=n_areas)
        self.centre = np.column_stack([np.bincount(owner, weights=xy[:, k], minlength=n_areas) / np.fmax(n, 1)
                                       for k in (0, 1)])
        d = np.hypot(xy[:, 0] - self.centre[owner, 0], xy[:, 1] - self.centre[owner, 1])
        self.radius = np.zeros(n_areas)
        np.maximum.at(self.radius, owner, d)
        self.order = np.argsort(owner, kind="stable")  # the points area by area
        self.start = np.concatenate([[0], np.cumsum(n)[:-1]])
        self.count = n

    def far(self, raster: _DistanceRaster, c: np.ndarray, ct: np.ndarray, st_: np.ndarray, q: np.ndarray,
            width: float) -> np.ndarray:
        """Placements x areas: no sample point of the area can be within ``width`` of the axis."""
        cx = self.centre[None, :, 0] - q[:, 0, None]
        cy = self.centre[None, :, 1] - q[:, 1, None]
        mx = (ct[:, None] * cx - st_[:, None] * cy) + c[0]
        my = (st_[:, None] * cx + ct[:, None] * cy) + c[1]
        ux, uy = (mx - raster.x0) / raster.cell, (my - raster.y0) / raster.cell
        ix, iy = np.floor(ux).astype(np.int64), np.floor(uy).astype(np.int64)
        on = (ix >= 0) & (ix < raster.nx) & (iy >= 0) & (iy < raster.ny)
        lower = np.empty(mx.shape)
        lower[on] = raster.dist[iy[on], ix[on]] - np.sqrt(2.0) * raster.cell
        off = ~on  # outside: the distance to the raster plus the margin around the axis inside it
        gap = np.hypot(np.fmax(np.fmax(-ux, ux - raster.nx), 0.0), np.fmax(np.fmax(-uy, uy - raster.ny), 0.0))
        lower[off] = gap[off] * raster.cell + raster.reach - 4.0 * raster.cell
        return lower - self.radius[None, :] > width + 1.0  # + 1 m for rounding

    def pairs(self, maybe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(placement, point) index pairs of the areas marked in ``maybe`` (placements x areas)."""
        bi_a, ka = np.nonzero(maybe)
        reps = self.count[ka]
        total = int(reps.sum())
        first = np.repeat(self.start[ka] - (np.cumsum(reps) - reps), reps)  # offset of each pair's run
        return np.repeat(bi_a, reps), self.order[first + np.arange(total)]


def _statistic(inside: np.ndarray, num: np.ndarray, den: np.ndarray | None, factor: float) -> np.ndarray:
    """Inside − outside for each row of the boolean matrix ``inside`` (placements x areas)."""
    ins = inside.astype(float)
    out = 1.0 - ins
    with np.errstate(invalid="ignore", divide="ignore"):
        if den is None:  # counts: mean per area
            return ins @ num / ins.sum(axis=1) - out @ num / out.sum(axis=1)
        return (ins @ num / (ins @ den) - out @ num / (out @ den)) * factor


_PLACEMENTS: OrderedDict[bytes, np.ndarray] = OrderedDict()  # the last few placement sets (read-only arrays)
_PLACEMENTS_LOCK = threading.Lock()


def placements(areas_m: list, axis_m, width_m: float, share: float, permutations: int = PERMUTATIONS,
               seed: int = SEED) -> np.ndarray:
    """The moved and rotated corridors of the test (placements x areas: area inside?), placements with no area
    inside or none outside drawn again. They depend on the areas, the axis, width, share and seed only, not on
    the values: the last few are kept (keyed by the geometry's bytes), so switching the indicator on the
    same areas does not draw them again."""
    h = hashlib.blake2b(digest_size=20)
    for wkb in shapely.to_wkb(np.array([axis_m, *areas_m], dtype=object)):
        h.update(wkb)
    h.update(repr((float(width_m), float(share), int(permutations), int(seed))).encode())
    key = h.digest()
    with _PLACEMENTS_LOCK:
        if key in _PLACEMENTS:
            _PLACEMENTS.move_to_end(key)
            return _PLACEMENTS[key]
    rows = _draw_placements(areas_m, axis_m, width_m, share, permutations, seed)
    rows.flags.writeable = False
    with _PLACEMENTS_LOCK:
        _PLACEMENTS[key] = rows
        while len(_PLACEMENTS) > 8:
            _PLACEMENTS.popitem(last=False)
    return rows


def _draw_placements(areas_m: list, axis_m, width_m: float, share: float, permutations: int, seed: int) -> np.ndarray:
    xy, owner = sample_points(areas_m)
    n_pts = np.bincount(owner, minlength=len(areas_m)).astype(float)
    raster = _DistanceRaster(axis_m, width_m)
    c = np.array(axis_m.centroid.coords[0])
    reach = _Reach(xy, owner, len(areas_m))
    rng = np.random.default_rng(seed)
    rows: list[np.ndarray] = []
    tries = 0
    while len(rows) < permutations and tries < 50 * permutations:
        batch = min(256, 2 * (permutations - len(rows)) + 8)
        tries += batch
        theta = rng.uniform(0, 2 * np.pi, batch)
        q = xy[rng.integers(0, len(xy), batch)]
        block = max(1, _BLOCK // len(xy))
        for a in range(0, batch, block):
            ins = _moved_inside(xy, owner, n_pts, raster, c, theta[a:a + block], q[a:a + block], width_m, share, reach)
            rows.extend(ins[ins.any(axis=1) & ~ins.all(axis=1)][:permutations - len(rows)])
            if len(rows) == permutations:
                break
    return np.array(rows, dtype=bool).reshape(len(rows), len(areas_m))


def permutation_test(areas_m: list, axis_m, width_m: float, share: float, observed_inside: np.ndarray,
                     num: np.ndarray, den: np.ndarray | None, factor: float = 1.0,
                     permutations: int = PERMUTATIONS, seed: int = SEED) -> tuple[float | None, int, float | None]:
    """(p-value, placements used, observed statistic) for usable areas (``num``/``den`` per area, no NaN)."""
    obs = float(_statistic(observed_inside[None, :], num, den, factor)[0])
    if not np.isfinite(obs) or observed_inside.all() or not observed_inside.any():
        return None, 0, None
    rows = placements(areas_m, axis_m, width_m, share, permutations, seed)
    if not len(rows):
        return None, 0, obs
    T = _statistic(rows, num, den, factor)
    T = T[np.isfinite(T)]
    p = (1.0 + float((np.abs(T) >= abs(obs) - 1e-12).sum())) / (1.0 + len(T))
    return p, int(len(T)), obs


def moran(areas_m: list, y: np.ndarray, permutations: int = PERMUTATIONS, seed: int = SEED
          ) -> tuple[float | None, float | None, pd.DataFrame]:
    """Global Moran's I with its permutation p-value and the LISA table (row per area: quadrant, p, cluster)."""
    import esda
    from libpysal import weights

    empty = pd.DataFrame(columns=["pos", "quadrant", "p", "cluster"])
    if len(y) < 4 or np.nanstd(y) == 0:
        return None, None, empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = weights.Queen.from_iterable(list(areas_m))
        w.transform = "r"
        if w.n - len(w.islands) < 3:
            return None, None, empty
        np.random.seed(seed)
        mi = esda.Moran(y, w, permutations=permutations)
        loc = esda.Moran_Local(y, w, permutations=permutations, seed=seed)
    q = np.asarray(loc.q, dtype=int)
    p = np.asarray(loc.p_sim, dtype=float)
    cluster = np.where(p < 0.05, np.vectorize(lambda x: LISA_LABELS.get(int(x), ""))(q), "nicht signifikant")
    isl = set(w.islands)
    cluster = np.array([("ohne Nachbarn" if i in isl else c) for i, c in enumerate(cluster)], dtype=object)
    lisa = pd.DataFrame({"pos": np.arange(len(y)), "quadrant": q, "p": p, "cluster": cluster})
    return float(mi.I), float(mi.p_sim), lisa


def _usable(ids: list[str], frame: pd.DataFrame, unit: str | None) -> tuple[pd.DataFrame, bool, np.ndarray]:
    """(frame in the order of ``ids``, rate indicator?, positions of the areas with a usable value)."""
    f = frame.set_index("sozialraum_id").reindex(ids)
    rate = not units.is_count(unit) and f["nenner"].notna().any()
    usable = (~f["gesperrt"].fillna(False).astype(bool)) & f["wert"].notna()
    if rate:
        usable &= f["zaehler"].notna() & f["nenner"].notna() & (f["nenner"] > 0)
    return f, bool(rate), np.nonzero(usable.to_numpy())[0]


def lisa(areas_m: list, ids: list[str], frame: pd.DataFrame, unit: str | None, permutations: int = PERMUTATIONS,
         seed: int = SEED) -> pd.DataFrame:
    """LISA of every area with a usable value (``sozialraum_id, quadrant, p, cluster``), independent of any
    axis: the same areas, weights and permutations as in :func:`analyse`, so map and table agree."""
    f, _, pos = _usable(ids, frame, unit)
    _, _, out = moran([areas_m[i] for i in pos], f["wert"].to_numpy(dtype=float)[pos], permutations, seed)
    if len(out):
        out.insert(0, "sozialraum_id", [ids[pos[i]] for i in out["pos"]])
        out = out.drop(columns="pos")
    return out


def analyse(areas_m: list, ids: list[str], axis_m, width_m: float, share: float, frame: pd.DataFrame, unit: str | None,
            permutations: int = PERMUTATIONS, seed: int = SEED) -> SpatialTest:
    """Test and Moran/LISA for one corridor result frame (``sozialraum_id, in_corridor, wert, zaehler, nenner,
    gesperrt`` in the order of ``ids``/``areas_m``)."""
    f, rate, pos = _usable(ids, frame, unit)
    geoms = [areas_m[i] for i in pos]
    inside = f["in_corridor"].fillna(False).astype(bool).to_numpy()[pos]
    num = (f["zaehler"] if rate else f["wert"]).to_numpy(dtype=float)[pos]
    den = f["nenner"].to_numpy(dtype=float)[pos] if rate else None
    p, n, obs = permutation_test(geoms, axis_m, width_m, share, inside, num, den, units.rate_factor(unit),
                                 permutations, seed)
    mi, mp, lisa = moran(geoms, f["wert"].to_numpy(dtype=float)[pos], permutations, seed)
    if len(lisa):
        lisa.insert(0, "sozialraum_id", [ids[pos[i]] for i in lisa["pos"]])
        lisa = lisa.drop(columns="pos")
    notes = []
    if len(pos) < len(ids):
        notes.append(f"{len(ids) - len(pos)} Sozialräume ohne verwendbaren Wert (gesperrt oder fehlend) sind nicht im Test.")
    return SpatialTest(METHOD, p, n, obs, mi, mp, lisa, notes)


def sentence(t: SpatialTest, axis: str) -> str:
    """A plain German sentence with the p-value and the limits of the test."""
    from quartier import format as fmt

    if t.p_value is None:
        return "Ein Test ist nicht möglich: im Korridor oder außerhalb liegt kein Sozialraum mit verwendbarem Wert."
    p = "p < 0,001" if t.p_value < 0.001 else f"p = {fmt.number(t.p_value, 3)}"
    verdict = ("Ein so großer Unterschied kommt bei zufällig gelegten Korridoren derselben Breite selten vor"
               if t.p_value < 0.05 else
               "Ein so großer Unterschied kommt auch bei zufällig gelegten Korridoren derselben Breite häufig vor")
    moran_txt = ""
    if t.moran_i is not None:
        mp = "p < 0,001" if (t.moran_p or 1) < 0.001 else f"p = {fmt.number(t.moran_p, 3)}"
        moran_txt = (f" Benachbarte Sozialräume ähneln einander {'deutlich' if (t.moran_p or 1) < 0.05 else 'kaum'} "
                     f"(Moran's I = {fmt.number(t.moran_i, 2)}, {mp}).")
    return (f"{verdict} ({p}; {fmt.integer(t.permutations)} verschobene und gedrehte Lagen der {axis}).{moran_txt} "
            "Grenzen: Der Test sagt nichts über Ursachen – die Achse kann für anderes stehen (Bebauung, Alter der "
            "Viertel); bei wenigen Sozialräumen ist er grob, und gesperrte Werte fehlen darin.")


def for_result(geometry, res, permutations: int = PERMUTATIONS, seed: int = SEED) -> SpatialTest:
    """The test for a :class:`quartier.areas.corridor.CorridorResult` on its :class:`~quartier.areas.corridor.Geometry`."""
    return analyse(geometry.areas_m, geometry.ids, geometry.axes_m[res.axis], res.width_m, res.share, res.areas,
                   res.unit, permutations, seed)
