"""The synthetic city: deterministic, complete, valid geometry, plausible values."""

from __future__ import annotations

import json
import shutil

import pytest
import shapely
from shapely.geometry import shape

from quartier import access, db
from quartier.access import SYSTEM
from quartier.demo import synth
from quartier.values import indicators
from tests.password_hashes import use_cheap_hashes

ADMIN = access.Actor("test", access.ADMIN, raw_data=True)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    """The demo accounts' hashes with cheap Argon2id parameters (tests/unit/test_auth.py checks the product's)."""
    use_cheap_hashes(monkeypatch)


@pytest.fixture
def build(_empty_db):
    """``build(path, n, k, y, seed)`` -> (connection, result): synth into a copy of the migrated empty database
    (tests/conftest.py), the same database as a new file after its migrations, without running them per build
    (the command-line test builds into a new file)."""
    opened = []

    def _build(path, n=60, k=18, y=4, seed=3):
        shutil.copy(_empty_db, path)
        con = db.connect(path)
        opened.append(con)
        return con, synth.build(con, n, k, y, seed, actor=ADMIN)

    yield _build
    for con in opened:
        con.close()


def _dump(con):
    c = con.cursor()
    return (
        c.execute("SELECT id, name, bezirk_id, geometry FROM sozialraum ORDER BY id").fetchall(),
        c.execute("SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt FROM messwert"
                  " ORDER BY ALL").fetchall(),
        c.execute("SELECT geometry FROM achse").fetchall(),
    )


def test_same_seed_same_city_other_seed_other_city(tmp_path, build):
    a, _ = build(tmp_path / "a.duckdb")
    b, _ = build(tmp_path / "b.duckdb")
    c, _ = build(tmp_path / "c.duckdb", seed=4)
    assert _dump(a) == _dump(b)
    assert _dump(a)[1] != _dump(c)[1]
    assert _dump(a)[0] != _dump(c)[0]


def test_counts_and_catalogue(tmp_path, build):
    con, res = build(tmp_path / "s.duckdb", n=60, k=18, y=4)
    cur = con.cursor()
    assert res["werte"] == 60 * 18 * 4
    assert cur.execute("SELECT count(*) FROM sozialraum").fetchone()[0] == 60
    assert cur.execute("SELECT count(*) FROM messwert_aktuell").fetchone()[0] == 60 * 18 * 4
    assert indicators.years(con) == [2022, 2023, 2024, 2025]
    cat = indicators.catalogue(con)
    assert len(cat) == 18
    # The demo catalogue comes first, so pages looking for population or SGB II find them.
    assert {"ew_gesamt", "sgb2_u18"} <= set(cat["id"])
    assert set(cat["einheit"]) == {"%", "Anzahl", "je 1.000"}
    assert set(cat["richtung"].dropna()) == {"higher", "lower"}
    # One Lieferung per Lieferant, and every value belongs to the Lieferung of its indicator's Lieferant.
    lief = cur.execute("SELECT lieferant, count(*) FROM lieferung GROUP BY ALL").fetchall()
    assert all(n == 1 for _, n in lief) and len(lief) == cat["lieferant"].nunique()
    wrong = cur.execute("SELECT count(*) FROM messwert m JOIN lieferung l ON l.id = m.lieferung_id"
                        " JOIN indikator i ON i.id = m.indikator_id WHERE l.lieferant <> i.lieferant").fetchone()[0]
    assert wrong == 0
    # Every Sozialraum has a Stadtbezirk that exists; names are unique.
    orphans = cur.execute("SELECT count(*) FROM sozialraum s LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id"
                          " WHERE b.id IS NULL").fetchone()[0]
    assert orphans == 0
    assert cur.execute("SELECT count(DISTINCT name) FROM sozialraum").fetchone()[0] == 60
    assert cur.execute("SELECT count(*) FROM stadtbezirk").fetchone()[0] >= 3
    assert cur.execute("SELECT count(*) FROM audit_log WHERE aktion = 'synth_aufbauen'").fetchone()[0] == 1
    assert db.get_setting(con, "demo") == "1"  # invented data carry the "Beispieldaten" notice


def test_geometry_valid_tiles_extent_and_axis_crosses(tmp_path, build):
    con, _ = build(tmp_path / "g.duckdb", n=80)
    cur = con.cursor()
    geoms = [shape(json.loads(g)) for (g,) in cur.execute("SELECT geometry FROM sozialraum").fetchall()]
    assert all(g.is_valid and g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty for g in geoms)
    from quartier.areas import geometry as geo

    metric = [geo.to_metric(g) for g in geoms]
    x0, y0, x1, y1 = synth.extent_for(80)
    total = sum(m.area for m in metric)
    assert total == pytest.approx((x1 - x0) * (y1 - y0), rel=0.01)  # the cells tile the extent
    union = shapely.union_all(metric)
    assert union.area == pytest.approx(total, rel=0.01)  # without overlaps
    # Extent scales with the square root of the number of areas: 80 areas ~ 5.7 x 4.2 km.
    assert (x1 - x0) == pytest.approx(20_000 * (80 / 1000) ** 0.5)
    (axis,) = cur.execute("SELECT geometry FROM achse").fetchone()
    line = geo.to_metric(shape(json.loads(axis)))
    assert line.geom_type == "LineString" and line.length > (x1 - x0)
    # Stored areas and centroids agree with the geometry.
    row = cur.execute("SELECT geometry, centroid_lon, centroid_lat, flaeche_km2 FROM sozialraum LIMIT 1").fetchone()
    g = shape(json.loads(row[0]))
    assert g.contains(shapely.Point(row[1], row[2])) or g.distance(shapely.Point(row[1], row[2])) < 1e-3
    assert geo.to_metric(g).area / 1e6 == pytest.approx(row[3], rel=0.01)


def test_values_in_range_with_numerators_and_suppression(tmp_path, build):
    con, res = build(tmp_path / "v.duckdb", n=150, k=15, y=3)
    cur = con.cursor()
    bad_rate = cur.execute(
        "SELECT count(*) FROM messwert m JOIN indikator i ON i.id = m.indikator_id WHERE i.einheit <> 'Anzahl' AND ("
        " m.nenner IS NULL OR m.nenner <= 0 OR (m.zaehler IS NOT NULL AND (m.zaehler < 0 OR m.zaehler > m.nenner))"
        " OR (m.wert IS NOT NULL AND (m.wert < i.min_wert OR m.wert > i.max_wert)))"
    ).fetchone()[0]
    assert bad_rate == 0
    # Values match their numerator/denominator (rounded to one decimal).
    mismatch = cur.execute(
        "SELECT count(*) FROM messwert m JOIN indikator i ON i.id = m.indikator_id WHERE m.zaehler IS NOT NULL"
        " AND abs(m.wert - m.zaehler / m.nenner * CASE WHEN i.einheit = '%' THEN 100 ELSE 1000 END) > 0.05 + 1e-9"
    ).fetchone()[0]
    assert mismatch == 0
    counts = cur.execute("SELECT count(*) FROM messwert m JOIN indikator i ON i.id = m.indikator_id"
                         " WHERE i.einheit = 'Anzahl' AND (m.wert IS NULL OR m.wert < 0 OR m.zaehler IS NOT NULL)"
                         ).fetchone()[0]
    assert counts == 0
    # Small numerators exist (to exercise protection); the Jobcenter's are suppressed at source.
    small = cur.execute("SELECT count(*) FROM messwert WHERE zaehler < 3").fetchone()[0]
    assert small > 0
    gesperrt = cur.execute("SELECT count(*) FROM messwert m JOIN indikator i ON i.id = m.indikator_id"
                           " WHERE m.gesperrt AND i.lieferant = 'Jobcenter' AND m.wert IS NULL AND m.zaehler IS NULL"
                           ).fetchone()[0]
    assert gesperrt == res["gesperrt"] > 0
    v = indicators.current_values(con, ["sgb2_u18"], [2025], actor=SYSTEM)
    assert len(v) == 150 and v["bezirk"].notna().all()


def test_refuses_to_overwrite_and_needs_admin(tmp_path, build):
    con, _ = build(tmp_path / "r.duckdb", n=20, k=3, y=1)
    with pytest.raises(db.DatabaseError, match="--force"):
        synth.build(con, 20, 3, 1, actor=ADMIN)
    with pytest.raises(access.PermissionDenied):
        synth.build(con, 20, 3, 1, actor=access.Actor("gast", access.VIEWER), force=True)
    res = synth.build(con, 25, 4, 2, actor=ADMIN, force=True)
    assert con.cursor().execute("SELECT count(*) FROM messwert").fetchone()[0] == res["werte"] == 25 * 4 * 2


def test_cli_json_and_usage_errors(tmp_path, cli):
    """In-process (``python -m quartier`` as a real process: tests/unit/test_demo_cli.py)."""
    run = ["synth", "--db", str(tmp_path / "cli.duckdb")]
    out = cli(*run, "--areas", "30", "--indicators", "5", "--years", "2", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["sozialraeume"] == 30 and res["werte"] == 300
    bad = cli(*run, "--areas", "2")
    assert bad.returncode == 2 and "--areas" in bad.stderr and "Traceback" not in bad.stderr
    again = cli(*run, "--areas", "30")
    assert again.returncode == 2 and "--force" in again.stderr
