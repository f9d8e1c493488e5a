"""`init` on the real GeoJSON files and on broken ones."""

import json

import pytest

from quartier import db
from quartier.areas import geometry as geo


def test_init_stadtbezirke_with_axis(cli, tmp_path, geodata):
    dbp = tmp_path / "city.duckdb"
    r = cli("init", "--geometry", str(geodata / "hagen_stadtbezirke.geojson"), "--id-field", "Bez_Nr",
                "--name-field", "BEZEICHNUN", "--axis", str(geodata / "b7_hagen_derived_approx.geojson"),
                "--axis-name", "B 7", "--json", "--db", dbp)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["sozialraeume"] == 5 and out["axis"] == "B 7"
    con = db.connect(dbp)
    rows = dict(con.execute("SELECT name, flaeche_km2 FROM sozialraum").fetchall())
    assert rows["Hagen-Mitte"] == pytest.approx(20.49, abs=0.05)  # metric area, not degrees
    assert sum(rows.values()) == pytest.approx(160.35, abs=0.2)
    assert con.execute("SELECT count(*) FROM achse WHERE name = 'B 7'").fetchone()[0] == 1


def test_init_stimmbezirke_with_bezirk_field(cli, tmp_path, geodata):
    dbp = tmp_path / "s.duckdb"
    r = cli("init", "--geometry", str(geodata / "hagen_stimmbezirke_2020.geojson"), "--id-field", "Stimmbezirk",
                "--name-field", "Stimmbezirk", "--bezirk-field", "Wahlbezirk", "--db", dbp)
    assert r.returncode == 0, r.stderr
    con = db.connect(dbp)
    assert con.execute("SELECT count(*) FROM sozialraum").fetchone()[0] == 130
    assert con.execute("SELECT count(*) FROM stadtbezirk").fetchone()[0] == 26


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return p


SQUARE = [[[7.40, 51.35], [7.41, 51.35], [7.41, 51.36], [7.40, 51.36], [7.40, 51.35]]]


def fc(*features, crs=None):
    d = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        d["crs"] = {"type": "name", "properties": {"name": crs}}
    return d


def feat(props, geom):
    return {"type": "Feature", "properties": props, "geometry": geom}


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (fc(feat({"id": "1", "n": "A"}, {"type": "Point", "coordinates": [7.4, 51.3]})), "Point"),
        (fc(feat({"n": "A"}, {"type": "Polygon", "coordinates": SQUARE})), "Id-Feld 'id' fehlt"),
        (fc(feat({"id": "1", "n": "A"}, {"type": "Polygon", "coordinates": SQUARE}),
            feat({"id": "1", "n": "B"}, {"type": "Polygon", "coordinates": SQUARE})), "doppelt"),
        (fc(feat({"id": "1", "n": "A"}, {"type": "Polygon", "coordinates": SQUARE}), crs="urn:ogc:def:crs:EPSG::31467"),
         "31467"),
        ("das ist kein json", "keine gültige GeoJSON"),
        ({"type": "Topology"}, "kein GeoJSON"),
    ],
    ids=["point", "missing-id", "duplicate-id", "other-crs", "not-json", "not-geojson"],
)
def test_init_rejects_bad_input(cli, tmp_path, doc, needle):
    p = _write(tmp_path, "bad.geojson", doc)
    r = cli("init", "--geometry", str(p), "--id-field", "id", "--name-field", "n", "--db", tmp_path / "x.duckdb")
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_utm_input_is_transformed(tmp_path):
    # A 1 km square in EPSG:25832 near Hagen
    x0, y0 = 395000, 5690000
    ring = [[x0, y0], [x0 + 1000, y0], [x0 + 1000, y0 + 1000], [x0, y0 + 1000], [x0, y0]]
    p = _write(tmp_path, "utm.geojson", fc(feat({"id": "a", "n": "A"}, {"type": "Polygon", "coordinates": [ring]}),
                                           crs="urn:ogc:def:crs:EPSG::25832"))
    res = geo.read_areas(p, "id", "n")
    g = res.areas[0].geom
    assert 7.0 < g.bounds[0] < 7.7 and 51.2 < g.bounds[1] < 51.5
    assert geo.area_km2(g) == pytest.approx(1.0, rel=1e-3)


def test_invalid_ring_is_repaired_with_warning(tmp_path):
    bowtie = [[[7.40, 51.35], [7.41, 51.36], [7.41, 51.35], [7.40, 51.36], [7.40, 51.35]]]
    p = _write(tmp_path, "bow.geojson", fc(feat({"id": "a", "n": "A"}, {"type": "Polygon", "coordinates": bowtie})))
    res = geo.read_areas(p, "id", "n")
    assert res.areas[0].geom.is_valid
    assert res.warnings and "repariert" in res.warnings[0]
