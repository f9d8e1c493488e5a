"""Handlungsbedarf index: a hand-computed example, the rules, reproduction, the command line."""

import json
import math
import statistics

import numpy as np
import pytest
from openpyxl import load_workbook

from quartier import access, db
from quartier.access import SYSTEM
from quartier.demo import hagen
from quartier.need import compute, explain, scoring, store
from quartier.need import method as index_method

EDITOR = access.Actor("planerin", access.EDITOR)
VIEWER = access.Actor("gast", access.VIEWER)
SQUARE = '{"type":"Polygon","coordinates":[[[7.4,51.3],[7.5,51.3],[7.5,51.4],[7.4,51.3]]]}'

# The hand example: 5 areas x 3 indicators.
#   A "%"        higher, weight 1, numerator/denominator 1..5 / 100      -> rates 1, 2, 3, 4, 5
#   B "%"        lower,  weight 1, value only                            -> 10, 30, 20, 50, 40
#   C "je 1.000" higher, weight 2, numerator 0,0,0,0,10 / 1000           -> 0, 0, 0, 0, 10
AREAS = ["R1", "R2", "R3", "R4", "R5"]
A_NUM = [1, 2, 3, 4, 5]
B_VAL = [10, 30, 20, 50, 40]
C_NUM = [0, 0, 0, 0, 10]
SQ2 = math.sqrt(2)


def method(**kw):
    m = {
        "name": "Test", "kind": "zscore",
        "indicators": [{"id": "a", "weight": 1, "direction": "higher"}, {"id": "b", "weight": 1, "direction": "lower"},
                       {"id": "c", "weight": 2, "direction": "higher"}],
        "population_indicator": "ew", "min_population": 300, "max_missing_share": 0.25,
        "cutoffs": [-1.0, 1.0, 1.5], "classes": ["niedrig", "mittel", "hoch", "sehr hoch"],
        "dynamics_years": 1, "dynamics_cutoffs": [-1.0, 1.0], "dynamics_classes": ["Verbesserung", "stabil", "Verschlechterung"],
    }
    m.update(kw)
    return m


def _lieferung(cur, name="test.xlsx"):
    return cur.execute(
        "INSERT INTO lieferung (dateiname, sha256, lieferant, berichtsjahr, importiert_von) VALUES (?, 'x', 'Test', 2024, 'test')"
        " RETURNING id", [name]).fetchone()[0]


def _put(cur, lid, iid, sid, year, wert=None, zaehler=None, nenner=None, gesperrt=False):
    cur.execute("INSERT INTO messwert VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [lid, iid, sid, year, wert, zaehler, nenner, gesperrt])


def _fill_hand(con):
    with db.transaction(con) as cur:
        for sid in AREAS:
            cur.execute("INSERT INTO sozialraum (id, name, geometry) VALUES (?, ?, ?)", [sid, f"Raum {sid[1]}", SQUARE])
        for iid, unit, direction in (("a", "%", "higher"), ("b", "%", "lower"), ("c", "je 1.000", "higher"), ("ew", "Anzahl", None)):
            cur.execute("INSERT INTO indikator (id, name, kurzname, einheit, richtung) VALUES (?, ?, ?, ?, ?)",
                        [iid, f"Indikator {iid}", iid.upper(), unit, direction])
        lid = _lieferung(cur)
        for k, sid in enumerate(AREAS):
            _put(cur, lid, "a", sid, 2024, wert=round(A_NUM[k], 1), zaehler=A_NUM[k], nenner=100)
            _put(cur, lid, "b", sid, 2024, wert=B_VAL[k])
            _put(cur, lid, "c", sid, 2024, zaehler=C_NUM[k], nenner=1000)
            _put(cur, lid, "ew", sid, 2024, wert=1000)
            # 2023: A one point lower everywhere except R5 (unchanged), B and C unchanged
            _put(cur, lid, "a", sid, 2023, zaehler=A_NUM[k] - (0 if sid == "R5" else 1), nenner=100)
            _put(cur, lid, "b", sid, 2023, wert=B_VAL[k])
            _put(cur, lid, "c", sid, 2023, zaehler=C_NUM[k], nenner=1000)
    return con


@pytest.fixture
def hand(filled_con):
    """A real DuckDB file with the hand example for 2024 (and 2023 for the dynamics)."""
    return filled_con(_fill_hand)


def by_id(res):
    return {r["id"]: r for r in res.to_json()["sozialraeume"]}


def test_hand_computed_example(hand):
    res = compute.compute(hand, method(), 2024, actor=SYSTEM)
    # z-scores by hand (population SD):
    # A: mean 3, var (4+1+0+1+4)/5 = 2          -> z = (-2,-1,0,1,2)/sqrt2
    # B oriented -B: mean -30, deviations 20,0,10,-20,-10, var 200 -> z = (2,0,1,-2,-1)/sqrt2
    # C: mean 2, deviations -2,-2,-2,-2,8, var 80/5 = 16 -> z = (-0.5,-0.5,-0.5,-0.5,2)
    za = [-2 / SQ2, -1 / SQ2, 0.0, 1 / SQ2, 2 / SQ2]
    zb = [2 / SQ2, 0.0, 1 / SQ2, -2 / SQ2, -1 / SQ2]
    zc = [-0.5, -0.5, -0.5, -0.5, 2.0]
    np.testing.assert_allclose(res.scores, np.array([za, zb, zc]).T, atol=1e-12)
    # weighted sum with weights 1/4, 1/4, 2/4
    s = [0.25 * za[i] + 0.25 * zb[i] + 0.5 * zc[i] for i in range(5)]
    np.testing.assert_allclose(s, [-0.25, -0.25 - 0.25 / SQ2, -0.25 + 0.25 / SQ2, -0.25 - 0.25 / SQ2, 1.0 + 0.25 / SQ2])
    mean_s = sum(s) / 5
    assert abs(mean_s) < 1e-12
    sd_s = math.sqrt(sum((x - mean_s) ** 2 for x in s) / 5)
    assert sd_s == pytest.approx(0.602817, abs=1e-6)
    expected = [(x - mean_s) / sd_s for x in s]
    np.testing.assert_allclose(expected, [-0.41472, -0.70797, -0.12147, -0.70797, 1.95213], atol=1e-5)
    out = by_id(res)
    for k, sid in enumerate(AREAS):
        assert out[sid]["value"] == pytest.approx(expected[k], abs=1e-6)
    assert [out[s]["class"] for s in AREAS] == ["mittel", "mittel", "mittel", "mittel", "sehr hoch"]
    # rank 1 = most need; R2 and R4 tie
    assert [out[s]["rank"] for s in AREAS] == [3, 4, 2, 4, 1]
    # contributions: weight share x z / final SD, and they add up to the value
    c5 = out["R5"]["contributions"]
    assert c5["c"] == pytest.approx(0.5 * 2.0 / sd_s, abs=1e-6)
    assert c5["a"] == pytest.approx(0.25 * (2 / SQ2) / sd_s, abs=1e-6)
    for sid in AREAS:
        assert sum(out[sid]["contributions"].values()) == pytest.approx(out[sid]["value"], abs=1e-5)
    # the order of the JSON is the ranking
    assert [r["id"] for r in res.to_json()["sozialraeume"]] == ["R5", "R3", "R1", "R2", "R4"]
    assert res.data_state == [1]


def test_dynamics_hand_computed(hand):
    res = compute.compute(hand, method(), 2024, actor=SYSTEM)
    # change 2023 -> 2024: A +1 for R1..R4, 0 for R5; B and C unchanged (SD 0 -> z 0).
    # A changes 1,1,1,1,0: mean 0.8, var (4*0.04+0.64)/5 = 0.16 -> z = 0.5,0.5,0.5,0.5,-2
    # sum = 1/4 * z (B, C contribute 0), standardised again -> the same z values
    out = by_id(res)
    assert [out[s]["dynamics_value"] for s in AREAS] == pytest.approx([0.5, 0.5, 0.5, 0.5, -2.0])
    assert [out[s]["dynamics_class"] for s in AREAS] == ["stabil"] * 4 + ["Verbesserung"]
    assert res.dynamics_years == (2023, 2024)


def test_direction_inversion(hand):
    base = by_id(compute.compute(hand, method(), 2024, actor=SYSTEM))
    flipped = method(indicators=[{"id": "a", "weight": 1, "direction": "lower"}, {"id": "b", "weight": 1, "direction": "higher"},
                                 {"id": "c", "weight": 2, "direction": "lower"}])
    inv = by_id(compute.compute(hand, flipped, 2024, actor=SYSTEM))
    for sid in AREAS:
        assert inv[sid]["value"] == pytest.approx(-base[sid]["value"], abs=1e-9)
    assert inv["R5"]["rank"] == 5 and inv["R2"]["rank"] == 1 and inv["R4"]["rank"] == 1
    # only B flipped: B's z-scores change sign
    only_b = method(indicators=[{"id": "a", "weight": 1, "direction": "higher"}, {"id": "b", "weight": 1, "direction": "higher"},
                                {"id": "c", "weight": 2, "direction": "higher"}])
    res = compute.compute(hand, only_b, 2024, actor=SYSTEM)
    np.testing.assert_allclose(res.scores[:, 1], [-2 / SQ2, 0.0, -1 / SQ2, 2 / SQ2, 1 / SQ2], atol=1e-12)


def test_missing_and_suppressed_values(hand):
    with db.transaction(hand) as cur:
        cur.execute("DELETE FROM messwert WHERE indikator_id = 'c' AND sozialraum_id = 'R3' AND jahr = 2024")
        cur.execute("UPDATE messwert SET gesperrt = TRUE, zaehler = NULL, wert = NULL"
                    " WHERE indikator_id = 'a' AND sozialraum_id = 'R2' AND jahr = 2024")
    # default: at most 25 % missing; 1 of 3 is 33 % -> no class
    out = by_id(compute.compute(hand, method(), 2024, actor=SYSTEM))
    assert out["R3"]["value"] is None and out["R3"]["rank"] is None and out["R3"]["class"] is None
    assert any(f.startswith("nicht bewertbar") for f in out["R3"]["flags"])
    assert "fehlt: c" in out["R3"]["flags"]
    assert "gesperrt: a" in out["R2"]["flags"] and out["R2"]["value"] is None
    # R3 and R2 take no part: the others' z-scores come from R1, R4, R5 only
    a = [1, 4, 5]
    assert compute.compute(hand, method(), 2024, actor=SYSTEM).scores[0, 0] == pytest.approx((1 - sum(a) / 3) / statistics.pstdev(a))

    # allowing a third missing: the weight of the missing indicator is spread over the others
    res = compute.compute(hand, method(max_missing_share=0.34), 2024, actor=SYSTEM)
    out = by_id(res)
    a_vals = [1, 3, 4, 5]                      # R2's A suppressed
    za = {s: (v - statistics.mean(a_vals)) / statistics.pstdev(a_vals) for s, v in zip(["R1", "R3", "R4", "R5"], a_vals)}
    b_or = [-10, -30, -20, -50, -40]
    zb = {s: (v - statistics.mean(b_or)) / statistics.pstdev(b_or) for s, v in zip(AREAS, b_or)}
    c_vals = [0, 0, 0, 10]                     # R3's C missing
    zc = {s: (v - statistics.mean(c_vals)) / statistics.pstdev(c_vals) for s, v in zip(["R1", "R2", "R4", "R5"], c_vals)}
    s = {
        "R1": 0.25 * za["R1"] + 0.25 * zb["R1"] + 0.5 * zc["R1"],
        "R2": (1 * zb["R2"] + 2 * zc["R2"]) / 3,      # A's weight spread over B and C
        "R3": (1 * za["R3"] + 1 * zb["R3"]) / 2,      # C's weight spread over A and B
        "R4": 0.25 * za["R4"] + 0.25 * zb["R4"] + 0.5 * zc["R4"],
        "R5": 0.25 * za["R5"] + 0.25 * zb["R5"] + 0.5 * zc["R5"],
    }
    m, sd = statistics.mean(s.values()), statistics.pstdev(s.values())
    for sid in AREAS:
        assert out[sid]["value"] == pytest.approx((s[sid] - m) / sd, abs=1e-6)
        assert sum(v for v in out[sid]["contributions"].values() if v is not None) == pytest.approx(out[sid]["value"], abs=1e-5)
    assert out["R2"]["contributions"]["a"] is None and out["R3"]["contributions"]["c"] is None
    assert "gesperrt: a" in out["R2"]["flags"] and "fehlt: c" in out["R3"]["flags"]


def test_minimum_population(hand):
    with db.transaction(hand) as cur:
        cur.execute("UPDATE messwert SET wert = 250 WHERE indikator_id = 'ew' AND sozialraum_id = 'R5'")
    out = by_id(compute.compute(hand, method(), 2024, actor=SYSTEM))
    assert out["R5"]["value"] is None and out["R5"]["rank"] is None
    assert out["R5"]["flags"][0].startswith("zu klein")
    # a lower minimum (configurable) lets R5 take part again
    assert by_id(compute.compute(hand, method(min_population=200), 2024, actor=SYSTEM))["R5"]["rank"] == 1
    # R5 takes no part: the others come out exactly as if R5 did not exist
    with db.transaction(hand) as cur:
        cur.execute("DELETE FROM messwert WHERE sozialraum_id = 'R5'")
        cur.execute("DELETE FROM sozialraum WHERE id = 'R5'")
    without = by_id(compute.compute(hand, method(), 2024, actor=SYSTEM))
    for sid in AREAS[:4]:
        assert out[sid]["value"] == without[sid]["value"] and out[sid]["rank"] == without[sid]["rank"]


def test_rescaling_an_indicator_changes_nothing(hand):
    before = compute.compute(hand, method(), 2024, actor=SYSTEM).to_json()
    with db.transaction(hand) as cur:   # A from percent to per mille: every rate x 10
        cur.execute("UPDATE indikator SET einheit = 'je 1.000' WHERE id = 'a'")
    after = compute.compute(hand, method(), 2024, actor=SYSTEM)
    assert after.rates[0, 0] == pytest.approx(10.0)
    assert after.to_json() == before


def test_classes_on_the_cutoffs():
    got = scoring.classify(np.array([-1.0000001, -1.0, 1.0, 1.0000001, 1.5, 1.5000001, np.nan]), [-1.0, 1.0, 1.5])
    assert got.tolist() == [0, 1, 1, 2, 2, 3, -1]


def test_points_method_hand_computed(hand):
    res = compute.compute(hand, method(kind="points", cutoffs=[2.0, 3.5, 4.25]), 2024, actor=SYSTEM)
    # quintile points: A 1..5; B (lower) 5,3,4,1,2; C ties 0,0,0,0 -> mean rank 2.5 -> 3 points, 10 -> 5
    # weighted mean 1/4, 1/4, 1/2: R1 0.25+1.25+1.5 = 3.0, R2 0.5+0.75+1.5 = 2.75, R3 0.75+1+1.5 = 3.25,
    # R4 1+0.25+1.5 = 2.75, R5 1.25+0.5+2.5 = 4.25
    out = by_id(res)
    assert [out[s]["value"] for s in AREAS] == pytest.approx([3.0, 2.75, 3.25, 2.75, 4.25])
    assert out["R5"]["class"] == "hoch"      # exactly on the cut-off 4.25 -> the lower class
    assert out["R1"]["class"] == "mittel" and out["R5"]["rank"] == 1
    assert res.method.points_scheme == "quintile" and res.method.to_dict()["points_scheme"] == "quintile"


def test_robustness_hand_computed(hand):
    res = compute.compute(hand, method(), 2024, actor=SYSTEM)
    t = explain.ranking_table(res).set_index("id")
    # Without C the sums are (0,-1,1,-1,1)/(2 sqrt2), standardised (0,-1.118,1.118,-1.118,1.118): R2, R3, R4, R5
    # change class. Without A: R4 -> -1.27 (niedrig). Without B nothing changes. R1 keeps its class.
    assert t.loc["R1", "class_depends_on"] == []
    assert t.loc["R2", "class_depends_on"] == ["c"]
    assert t.loc["R3", "class_depends_on"] == ["c"]
    assert t.loc["R4", "class_depends_on"] == ["a", "c"]
    assert t.loc["R5", "class_depends_on"] == ["c"]
    assert any(f.startswith("Klasse hängt an einem Indikator") for f in by_id(res)["R5"]["flags"])
    # R1: rank 3; without A rank 2; without B rank 5 (B lifts R1 the most)
    assert (t.loc["R1", "rank_loo_min"], t.loc["R1", "rank_loo_max"]) == (2, 5)
    assert (t.loc["R5", "rank_loo_min"], t.loc["R5", "rank_loo_max"]) == (1, 1)
    assert t.loc["R5", "rank_weights_min"] == 1 == t.loc["R5", "rank_weights_max"]


def test_method_validation_messages(hand):
    cat = db.query_df(hand, "SELECT * FROM indikator")
    with pytest.raises(index_method.MethodError, match="keine Richtung"):
        index_method.validate_method(method(indicators=[{"id": "ew", "weight": 1}]), cat)
    with pytest.raises(index_method.MethodError, match="nicht bekannt"):
        index_method.validate_method(method(indicators=[{"id": "zzz", "weight": 1}]), cat)
    with pytest.raises(index_method.MethodError, match="einen Namen mehr"):
        index_method.validate_method(method(classes=["a", "b"]), cat)
    with pytest.raises(index_method.MethodError, match="aufsteigend"):
        index_method.validate_method(method(cutoffs=[1.0, -1.0, 1.5]), cat)
    with pytest.raises(index_method.MethodError, match="Gewicht"):
        index_method.validate_method(method(indicators=[{"id": "a", "weight": -1}]), cat)
    with pytest.raises(index_method.MethodError, match="Unbekannte Angabe"):
        index_method.validate_method({**method(), "gewichte": 1}, cat)
    with pytest.raises(index_method.MethodError, match="0.25"):
        index_method.validate_method(method(max_missing_share=25), cat)
    # the direction comes from the catalogue when the file leaves it out
    m = index_method.validate_method(method(indicators=[{"id": "b", "weight": 1}]), cat)
    assert m.to_dict()["indicators"] == [{"id": "b", "weight": 1.0, "direction": "lower"}]
    assert list(m.to_dict()) == list(index_method.METHOD_KEYS)
    assert index_method.IndexMethod.from_dict(m.to_dict()) == m


def test_saving_methods_needs_a_role_and_is_audited(hand):
    with pytest.raises(access.PermissionDenied):
        index_method.save_method(hand, method(), VIEWER)
    m1 = index_method.save_method(hand, method(), EDITOR)
    assert m1.version == 1
    assert index_method.save_method(hand, method(), EDITOR).version == 1  # unchanged: no new version
    m2 = index_method.save_method(hand, method(min_population=500), EDITOR)
    assert m2.version == 2 and index_method.get_method(hand, "Test").min_population == 500
    assert index_method.get_method(hand, "Test", 1).min_population == 300
    n = hand.execute("SELECT count(*) FROM audit_log WHERE aktion = 'index_methode_speichern' AND benutzer = 'planerin'").fetchone()[0]
    assert n == 2


def test_stored_result_is_reproduced_after_a_later_delivery(con):
    m = index_method.get_method(con, hagen.DEMO_METHOD_NAME)
    res = compute.compute(con, m, 2025, actor=SYSTEM)
    rid = store.store_result(con, res, EDITOR, "Vorlage JHA")
    stored = store.stored_result(con, rid, actor=SYSTEM)
    assert stored == res.to_json() and stored["method"]["version"] == m.version
    # a later Jobcenter delivery changes SGB II for 2025 in two areas drastically
    with db.transaction(con) as cur:
        lid = _lieferung(cur, "jobcenter_korrektur_2025.xlsx")
        _put(cur, lid, "sgb2_u18", "E02", 2025, wert=80.0, zaehler=800, nenner=1000)
        _put(cur, lid, "sgb2_u18", "M04", 2025, wert=1.0, zaehler=10, nenner=1000)
    now = compute.compute(con, m, 2025, actor=SYSTEM).to_json()
    assert lid in now["data_state"] and lid not in stored["data_state"]
    assert now["sozialraeume"] != stored["sozialraeume"]
    again = store.reproduce(con, rid, actor=SYSTEM).to_json()
    assert again == stored
    assert json.dumps(again, ensure_ascii=False) == json.dumps(stored, ensure_ascii=False)
    # withdrawing the correction changes nothing for the stored result; deleting a used Lieferung is named
    with db.transaction(con) as cur:
        cur.execute("UPDATE lieferung SET status = 'zurueckgezogen' WHERE id = ?", [lid])
    assert store.reproduce(con, rid, actor=SYSTEM).to_json() == stored
    used = stored["data_state"][0]
    with db.transaction(con) as cur:
        cur.execute("DELETE FROM messwert WHERE lieferung_id = ?", [used])
        cur.execute("DELETE FROM lieferung WHERE id = ?", [used])
    with pytest.raises(index_method.MethodError, match=f"Lieferung\\(en\\) {used} gibt es"):
        store.reproduce(con, rid, actor=SYSTEM)


def test_demo_ships_a_saved_method(demo_db):
    c = db.connect(demo_db, read_only=True)
    try:
        m = index_method.get_method(c, hagen.DEMO_METHOD_NAME)
        lieferanten = set(c.execute(
            "SELECT DISTINCT lieferant FROM indikator WHERE id IN (SELECT unnest(?))", [m.indicator_ids]
        ).fetchall())
        assert {r[0] for r in lieferanten} == {"Jobcenter", "Gesundheitsamt", "Schulverwaltung", "Jugendamt"}
        res = compute.compute(c, m, 2025, actor=SYSTEM)
        assert (res.klass >= 0).sum() == 23
    finally:
        c.close()


def test_cli_json_equals_the_page_table(cli, demo_copy):
    code, out, _ = cli("index", "--db", str(demo_copy), "--year", "2025", "--json")
    assert code == 0
    js = json.loads(out)
    assert set(js) == {"method", "year", "data_state", "sozialraeume"}
    assert set(js["method"]) == set(index_method.METHOD_KEYS)
    assert set(js["sozialraeume"][0]) == {"id", "name", "value", "class", "rank", "dynamics_value", "dynamics_class",
                                          "contributions", "flags"}
    c = db.connect(demo_copy)
    try:
        m = index_method.get_method(c, hagen.DEMO_METHOD_NAME)
        res = compute.compute(c, m, 2025, actor=SYSTEM)
        table = explain.ranking_table(res, compute.previous_year(c, m, 2025, actor=SYSTEM))
    finally:
        c.close()
    assert list(table["id"]) == [r["id"] for r in js["sozialraeume"]]
    for row, r in zip(table.to_dict("records"), js["sozialraeume"]):
        assert row["value"] == r["value"] and row["class"] == r["class"] and row["rank"] == r["rank"]
        assert row["dynamics_class"] == r["dynamics_class"]
        for iid, v in r["contributions"].items():
            assert row[f"c_{iid}"] == v
    assert js["sozialraeume"][0]["rank"] == 1


def test_cli_method_files(cli, demo_copy, tmp_path):
    f = tmp_path / "methode.json"
    code, _, _ = cli("index", "--db", str(demo_copy), "--export-method", hagen.DEMO_METHOD_NAME, "--out", str(f))
    assert code == 0
    m = json.loads(f.read_text(encoding="utf-8"))
    assert m["name"] == hagen.DEMO_METHOD_NAME and m["version"] == 1
    # a changed weight saved from the file becomes version 2 and gives another ranking
    m["indicators"][0]["weight"] = 5
    f.write_text(json.dumps(m), encoding="utf-8")
    code, _, err = cli("index", "--db", str(demo_copy), "--save-method", str(f), "--user", "planer")
    assert code == 0 and "Version 2" in err
    code, out, _ = cli("index", "--db", str(demo_copy), "--year", "2024", "--method-file", str(f), "--json")
    assert code == 0 and json.loads(out)["method"]["indicators"][0]["weight"] == 5.0
    # a file claiming version 1 with other content is not passed off as version 1
    m["version"] = 1
    f.write_text(json.dumps(m), encoding="utf-8")
    code, out, err = cli("index", "--db", str(demo_copy), "--year", "2024", "--method-file", str(f), "--json")
    assert code == 0 and json.loads(out)["method"]["version"] is None and "weicht" in err
    # bad files: exit 2 for unreadable, 1 for rejected, with German messages naming the problem
    bad = tmp_path / "kaputt.json"
    bad.write_text('{"name": "x",', encoding="utf-8")
    code, out, err = cli("index", "--db", str(demo_copy), "--year", "2025", "--method-file", str(bad))
    assert code == 2 and "kein gültiges JSON" in err and "kaputt.json" in err and out == ""
    bad.write_text(json.dumps({"name": "x", "indicators": [{"id": "ew_gesamt", "weight": 1}]}), encoding="utf-8")
    code, _, err = cli("index", "--db", str(demo_copy), "--year", "2025", "--method-file", str(bad))
    assert code == 1 and "ew_gesamt" in err and "keine Richtung" in err
    code, _, err = cli("index", "--db", str(demo_copy), "--year", "2025", "--method-file", str(tmp_path / "fehlt.json"))
    assert code == 2 and "nicht gefunden" in err
    code, _, err = cli("index", "--db", str(demo_copy), "--year", "2031")
    assert code == 2 and "2031" in err


def test_cli_store_reproduce_and_xlsx(cli, demo_copy, tmp_path):
    out_file = tmp_path / "rangfolge.xlsx"
    code, _, err = cli("index", "--db", str(demo_copy), "--year", "2025", "--store", "--title", "JHA",
                           "--out", str(out_file))
    assert code == 0 and "Nr. 1" in err
    wb = load_workbook(out_file)
    assert wb.sheetnames == ["Rangfolge", "Methode"]
    rows = list(wb["Rangfolge"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Rang", "sozialraum_id", "Sozialraum", "Indexwert", "Klasse")
    assert rows[1][0] == 1 and isinstance(rows[1][3], float)
    meth = {r[0]: r[1] for r in wb["Methode"].iter_rows(values_only=True)}
    state = json.loads(cli("index", "--db", str(demo_copy), "--year", "2025", "--json")[1])["data_state"]
    assert len(state) == 5   # Jobcenter, Einwohnerwesen (population), Gesundheitsamt, Schulverwaltung, Jugendamt
    assert meth["Methode"] == hagen.DEMO_METHOD_NAME
    assert meth["Datenstand (Lieferungen)"].startswith(", ".join(map(str, state)))
    code, out, err = cli("index", "--db", str(demo_copy), "--reproduce", "1", "--json")
    assert code == 0 and json.loads(out)["identical"] is True and "identisch" in err


def test_cli_help_is_german(cli):
    r = cli("index", "--help")
    assert r.returncode == 0 and "Indexjahr" in r.stdout and "Aufruf:" in r.stdout


def test_rank_points_and_fixed_dynamics_years(hand):
    res = compute.compute(hand, method(kind="points", points_scheme="rank", cutoffs=[2.0, 3.5, 4.25],
                                     dynamics_years=[2023, 2024]), 2024, actor=SYSTEM)
    # rank points 1 + 4 (r - 1) / (n - 1): A 1..5; B (lower) 5,3,4,1,2; C ties at mean rank 2.5 -> 2.5, 10 -> 5
    # R1: 0.25*1 + 0.25*5 + 0.5*2.5 = 2.75; R5: 0.25*5 + 0.25*2 + 0.5*5 = 4.25
    out = by_id(res)
    assert out["R1"]["value"] == pytest.approx(2.75) and out["R5"]["value"] == pytest.approx(4.25)
    assert res.dynamics_years == (2023, 2024) and res.method.dynamics_years == (2023, 2024) and res.method.to_dict()["dynamics_years"] == [2023, 2024]


def test_weights_from_the_page_make_a_new_unsaved_method(hand):
    m = index_method.save_method(hand, method(), EDITOR)
    dirs = {"a": "higher", "b": "lower", "c": "higher"}
    same = index_method.with_weights(m, {"a": 1, "b": 1, "c": 2}, dirs)
    assert same.version == 1
    changed = index_method.with_weights(m, {"a": 3, "b": 0, "c": 2}, dirs)
    assert changed.version is None and changed.indicator_ids == ["a", "c"]
    assert index_method.save_method(hand, changed, EDITOR).version == 2


def test_map_properties_and_text_alternative(hand):
    from quartier.need import charts as index_charts

    with db.transaction(hand) as cur:
        cur.execute("UPDATE messwert SET wert = 100 WHERE indikator_id = 'ew' AND sozialraum_id = 'R1'")
    res = compute.compute(hand, method(), 2024, actor=SYSTEM)
    props, legend = index_charts.map_properties(res)
    assert props["R1"]["klasse"] == "keine Klasse" and props["R1"]["fill"] == index_charts.NO_CLASS_COLOR
    assert "zu klein" in props["R1"]["hinweis"]
    assert [e["count"] for e in legend] == [int((res.klass == k).sum()) for k in (3, 2, 1, 0)] + [1]
    text = index_charts.map_text(res)
    assert "**keine Klasse** (1): Raum 1" in text and "**sehr hoch**" in text
    spec = index_charts.contributions_chart(explain.contributions_frame(res, "R5", db.query_df(hand, "SELECT * FROM indikator")), "t")
    labels = {r["Indikator"]: r["Beitrag_text"] for r in spec["data"]["values"]}
    assert labels["C"].startswith("+")


def test_method_is_a_frozen_dataclass_with_an_identical_json_form():
    import dataclasses

    obj = method(kind="points", points_scheme="rank", cutoffs=[2.0, 3.5, 4.25], dynamics_years=[2020, 2024])
    m = index_method.validate_method(obj)
    assert m.kind == "points" and m.scheme == "rank" and m.dynamics_years == (2020, 2024)
    assert m.indicators[1] == index_method.IndexIndicator("b", 1.0, "lower")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.name = "anders"
    d = m.to_dict()
    assert list(d) == [*index_method.METHOD_KEYS, "points_scheme"]
    assert d["dynamics_years"] == [2020, 2024] and d["indicators"][2] == {"id": "c", "weight": 2.0, "direction": "higher"}
    assert index_method.IndexMethod.from_dict(d) == m and index_method.validate_method(m) == m
    assert json.loads(m.to_json()) == d
    z = index_method.validate_method(method())
    assert "points_scheme" not in z.to_dict() and z.points_scheme is None



def test_explanation_and_contributions_of_one_area(hand):
    from quartier.values import indicators

    res = compute.compute(hand, method(), 2024, actor=SYSTEM)
    cat = indicators.catalogue(hand)
    out = by_id(res)
    text = explain.explain(res, "R5", cat)
    assert f"Klasse „{out['R5']['class']}“" in text and f"Rang {out['R5']['rank']} von 5" in text
    cf = explain.contributions_frame(res, "R5", cat)
    assert list(cf["id"]) == ["a", "b", "c"] and cf["Beitrag"].sum() == pytest.approx(out["R5"]["value"])
    assert "z-Wert" in cf.columns and not cf["gesperrt"].any()
