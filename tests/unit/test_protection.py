"""Small-number protection: primary and secondary suppression on hand-made tables, recovery attacks
via district and city totals, the public export and the values a viewer gets from the core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quartier import db
from quartier.access import ADMIN, EDITOR, SYSTEM, VIEWER, Actor
from quartier.cli.base import main
from quartier.tables import read_table
from quartier.values import indicators, protection

VIEWER_ACTOR = Actor("rat", VIEWER)


def make_table(con, districts: dict[str, list[tuple]], unit: str = "%", iid: str = "x", year: int = 2024) -> None:
    """districts: {bezirk_id: [(sozialraum_id, zaehler, nenner[, gesperrt_an_der_quelle]), ...]}"""
    f = indicators.rate_factor(unit)
    with db.transaction(con) as cur:
        if not cur.execute("SELECT count(*) FROM lieferung").fetchone()[0]:
            cur.execute("INSERT INTO lieferung (id, dateiname, sha256, importiert_von) VALUES (1, 't.xlsx', 'x', 'test')")
        if not cur.execute("SELECT count(*) FROM indikator WHERE id = ?", [iid]).fetchone()[0]:
            cur.execute("INSERT INTO indikator (id, name, einheit) VALUES (?, ?, ?)", [iid, iid, unit])
        for nr, (bid, areas) in enumerate(districts.items(), start=1):
            cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [bid, nr, bid.upper()])
            for a in areas:
                sid, num, den = a[:3]
                src = a[3] if len(a) > 3 else False
                cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry) VALUES (?, ?, ?, '{}') ON CONFLICT DO NOTHING",
                            [sid, sid.upper(), bid])
                if unit == "Anzahl":
                    wert, z, n = (None if src else float(num)), None, None
                else:
                    wert = None if src else round(num / den * f, 1)
                    z, n = (None if src else float(num)), float(den)
                cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt)"
                            " VALUES (1, ?, ?, ?, ?, ?, ?, ?)", [iid, sid, year, wert, z, n, bool(src)])


def hidden_areas(t: pd.DataFrame) -> set[str]:
    return set(t.loc[(t["ebene"] == "Sozialraum") & t["gesperrt"], "sozialraum_id"])


def row(t: pd.DataFrame, level: str, key: str | None = None) -> pd.Series:
    if level == "Stadt":
        return t[t["ebene"] == "Stadt"].iloc[0]
    col = "stadtbezirk_id" if level == "Stadtbezirk" else "sozialraum_id"
    return t[(t["ebene"] == level) & (t[col] == key)].iloc[0]


def attack(t: pd.DataFrame, bound: int = 40) -> dict[str, set[int]]:
    """An attacker's view: every non-negative integer assignment of the hidden numerators (each at most
    its denominator) that agrees with every published total. Returns the feasible values per hidden area."""
    areas = t[t["ebene"] == "Sozialraum"].reset_index(drop=True)
    hid = areas.index[areas["gesperrt"]].tolist()
    ranges = [np.arange(0, int(min(bound, areas.loc[i, "nenner"] if pd.notna(areas.loc[i, "nenner"]) else bound)) + 1) for i in hid]
    grid = np.array(np.meshgrid(*ranges, indexing="ij")).reshape(len(hid), -1).T  # every combination
    base = areas["zaehler"].fillna(0).to_numpy(dtype=float)
    ok = np.ones(len(grid), dtype=bool)
    for r in t[(t["ebene"] != "Sozialraum") & ~t["gesperrt"] & t["zaehler"].notna()].to_dict("records"):
        member = np.ones(len(areas), dtype=bool) if r["ebene"] == "Stadt" else (areas["stadtbezirk_id"] == r["stadtbezirk_id"]).to_numpy()
        known = base[member & ~areas["gesperrt"].to_numpy()].sum()
        cols = [k for k, i in enumerate(hid) if member[i]]
        ok &= (known + grid[:, cols].sum(axis=1)) == r["zaehler"]
    return {areas.loc[i, "sozialraum_id"]: set(grid[ok, k].tolist()) for k, i in enumerate(hid)}


# --------------------------------------------------------------------------------------------- primary


def test_primary_small_count_small_denominator_zero_and_source(empty_con):
    make_table(empty_con, {
        "b1": [("a1", 2, 40), ("a2", 0, 40), ("a3", 12, 40), ("a4", 5, 8), ("a5", 9, 30, True), ("a6", 20, 40)],
    })
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    hidden = hidden_areas(t)
    assert {"a1", "a4", "a5"} <= hidden          # 2 cases, denominator 8, suppressed at source
    assert "a2" not in hidden                     # 0 is shown (as the Bundesagentur does)
    assert row(t, "Sozialraum", "a2")["wert"] == 0
    for sid in hidden:
        r = row(t, "Sozialraum", sid)
        assert pd.isna(r["wert"]) and pd.isna(r["zaehler"]) and r["sperrgrund"] == "geschützt"
    # The district total includes an area suppressed at source: not computable, so empty.
    assert pd.isna(row(t, "Stadtbezirk", "b1")["wert"])


def test_thresholds_come_from_settings(empty_con):
    make_table(empty_con, {"b1": [("a1", 4, 40), ("a2", 30, 40), ("a3", 25, 40)], "b2": [("c1", 12, 15), ("c2", 20, 40)]})
    assert hidden_areas(protection.protected_table(empty_con, actor=VIEWER_ACTOR)) == set()
    with db.transaction(empty_con) as cur:
        db.set_setting(cur, "min_fallzahl", "5")
        db.set_setting(cur, "min_nenner", "20")
    hidden = hidden_areas(protection.protected_table(empty_con, actor=VIEWER_ACTOR))
    assert {"a1", "c1"} <= hidden


# ------------------------------------------------------------------------------------------- secondary


def test_single_suppressed_area_gets_a_partner_and_total_does_not_reveal_it(empty_con):
    make_table(empty_con, {
        "b1": [("a1", 2, 30), ("a2", 10, 30), ("a3", 5, 30), ("a4", 20, 30)],
        "b2": [("c1", 7, 30), ("c2", 8, 30)],
    })
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    assert hidden_areas(t) == {"a1", "a3"}        # a3 is the next-smallest area of the same district
    b1 = row(t, "Stadtbezirk", "b1")
    assert not b1["gesperrt"] and b1["zaehler"] == 37 and b1["nenner"] == 120
    # Recovery attack: district total minus the visible areas gives only the sum of the hidden ones.
    visible_sum = t[(t["ebene"] == "Sozialraum") & (t["stadtbezirk_id"] == "b1") & ~t["gesperrt"]]["zaehler"].sum()
    assert b1["zaehler"] - visible_sum == 7      # = a1 + a3, which does not single out a1
    feasible = attack(t)
    assert len(feasible["a1"]) > 1 and 2 in feasible["a1"]


def test_partner_is_next_smallest_positive_not_a_zero(empty_con):
    make_table(empty_con, {"b1": [("a1", 1, 30), ("a2", 0, 30), ("a3", 9, 30), ("a4", 14, 30)], "b2": [("c1", 7, 30)]})
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    assert hidden_areas(t) >= {"a1", "a3"} and "a2" not in hidden_areas(t)
    assert len(attack(t)["a1"]) > 1


def test_hidden_sum_must_not_itself_be_small(empty_con):
    # a1 (1) and a2 (1) are both primary: together 2, still a small number -> a third area is hidden.
    make_table(empty_con, {"b1": [("a1", 1, 30), ("a2", 1, 30), ("a3", 6, 30), ("a4", 9, 30)], "b2": [("c1", 7, 30)]})
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    assert hidden_areas(t) == {"a1", "a2", "a3"}
    feasible = attack(t)
    assert all(len(v) > 1 for v in feasible.values())


def test_recovery_via_city_total_is_blocked(empty_con):
    # b1 has one area only: its district total equals the suppressed value, so the district total is
    # suppressed as well; then city total minus the other districts would reveal it.
    make_table(empty_con, {
        "b1": [("a1", 2, 30)],
        "b2": [("c1", 10, 30), ("c2", 12, 30)],
        "b3": [("d1", 5, 30), ("d2", 6, 30)],
    })
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    assert "a1" in hidden_areas(t) and row(t, "Stadtbezirk", "b1")["gesperrt"]
    # City total minus the visible district totals must not give a single hidden value.
    city = row(t, "Stadt")
    if not city["gesperrt"]:
        visible_districts = t[(t["ebene"] == "Stadtbezirk") & ~t["gesperrt"]]["zaehler"].sum()
        hidden_districts = t[(t["ebene"] == "Stadtbezirk") & t["gesperrt"]]
        assert len(hidden_districts) >= 2, (city["zaehler"], visible_districts)
    feasible = attack(t)
    assert len(feasible["a1"]) > 1


def test_city_total_minus_all_visible_areas_reveals_no_single_value_on_demo(con):
    """The attack on a whole real table: every (indicator, year) of the demo."""
    t = protection.protected_table(con, actor=VIEWER_ACTOR)
    min_cases, _ = protection.settings(con)
    assert t["gesperrt"].any()
    groups: dict[tuple, list[dict]] = {}  # plain rows per (indicator, year): the same checks without a pandas filter each
    for row in t.to_dict("records"):
        groups.setdefault((row["indikator_id"], row["jahr"]), []).append(row)
    for g in groups.values():
        areas = [a for a in g if a["ebene"] == "Sozialraum"]
        for level, members_of in (
            ("Stadtbezirk", lambda r, a=areas: [x for x in a if x["stadtbezirk_id"] == r["stadtbezirk_id"]]),
            ("Stadt", lambda r, a=areas: a),
        ):
            for r in (x for x in g if x["ebene"] == level):
                if r["gesperrt"] or pd.isna(r["zaehler"]):
                    continue
                m = members_of(r)
                hid = [x for x in m if x["gesperrt"]]
                if len(hid) == 0:
                    continue
                residual = r["zaehler"] - sum(x["zaehler"] for x in m if not x["gesperrt"] and not pd.isna(x["zaehler"]))
                if r["ebene"] == "Stadt":
                    # what is hidden in districts with visible totals is already accounted for there
                    hidden_d = [x for x in g if x["ebene"] == "Stadtbezirk" and x["gesperrt"]]
                    assert len(hidden_d) != 1
                    continue
                assert len(hid) >= 2, (r, hid)
                assert residual >= min_cases


def test_viewer_values_from_core_match_the_protected_table(con):
    v = indicators.current_values(con, ["ohne_abschluss"], None, actor=VIEWER_ACTOR)
    t = protection.protected_table(con, ["ohne_abschluss"], None, actor=VIEWER_ACTOR)
    areas = t[t["ebene"] == "Sozialraum"].set_index(["sozialraum_id", "jahr"])
    got = v.set_index(["sozialraum_id", "jahr"])
    assert got["gesperrt"].sum() == areas["gesperrt"].sum() > 0
    assert (got["gesperrt"] == areas.loc[got.index, "gesperrt"]).all()
    assert got.loc[got["gesperrt"], "wert"].isna().all() and got.loc[got["gesperrt"], "zaehler"].isna().all()
    # Secondary suppression is active: some protected values are not small themselves.
    raw = indicators.current_values(con, ["ohne_abschluss"], None, actor=SYSTEM).set_index(["sozialraum_id", "jahr"])
    assert (raw.loc[got.index[got["gesperrt"]], "zaehler"] >= 3).any()
    assert (raw.loc[got.index[got["gesperrt"]], "zaehler"] < 3).any()


def test_staff_see_raw_values_and_reasons(empty_con):
    make_table(empty_con, {"b1": [("a1", 2, 30), ("a2", 10, 30), ("a3", 5, 30)], "b2": [("c1", 7, 30)]})
    for actor in (Actor("e", EDITOR), Actor("a", ADMIN), Actor("r", VIEWER, raw_data=True)):
        t = protection.protected_table(empty_con, actor=actor)
        assert not t["gesperrt"].any()
        assert row(t, "Sozialraum", "a1")["zaehler"] == 2
        assert row(t, "Sozialraum", "a1")["sperrgrund"] == protection.REASON_CASES
        assert row(t, "Sozialraum", "a3")["sperrgrund"] == protection.REASON_SECONDARY
    # Viewers cannot tell primary from secondary suppression.
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    assert set(t.loc[t["gesperrt"], "sperrgrund"]) == {"geschützt"}


def test_count_indicator(empty_con):
    make_table(empty_con, {"b1": [("a1", 2, None), ("a2", 50, None), ("a3", 40, None)], "b2": [("c1", 70, None)]}, unit="Anzahl")
    t = protection.protected_table(empty_con, actor=VIEWER_ACTOR)
    assert hidden_areas(t) == {"a1", "a3"}
    assert row(t, "Stadtbezirk", "b1")["wert"] == 92 and row(t, "Stadt")["wert"] == 162


def test_matrix_check_matches_brute_force_on_random_tables():
    """The linear recoverability test against an exhaustive attacker on small random tables."""
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(60):
        sizes = rng.integers(1, 4, size=rng.integers(1, 4))
        if sizes.sum() > 6:
            continue
        district_of = [f"b{j}" for j, n in enumerate(sizes) for _ in range(n)]
        num = rng.choice([0, 1, 2, 3, 5, 8], size=len(district_of)).astype(float)
        den = np.full(len(num), 12.0)
        t = protection.protect_table_cells(num, den, district_of, [False] * len(num), 3, 10)
        hidden = set(t.hidden)
        # brute force over the hidden areas (numpy grid of all combinations)
        h_areas = [i for i in range(t.S) if i in hidden]
        if not h_areas:
            continue
        checked += 1
        grid = np.array(np.meshgrid(*[np.arange(13)] * len(h_areas), indexing="ij")).reshape(len(h_areas), -1).T
        guess = np.tile(num, (len(grid), 1))
        guess[:, h_areas] = grid
        ok = np.ones(len(grid), dtype=bool)
        for a, kids in t.children.items():
            if a in hidden:
                continue
            leaves = [k for k in kids if k < t.S] + [c for k in kids if k >= t.S for c in t.children[k]]
            ok &= guess[:, leaves].sum(axis=1) == t.num[a]
        feasible = {i: set(grid[ok, k].tolist()) for k, i in enumerate(h_areas)}
        for i in h_areas:
            if t.reason[i] == protection.REASON_CASES:
                assert len(feasible[i]) > 1, (num, district_of, t.reason)
    assert checked >= 10


# --------------------------------------------------------------------------------------------- export


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_public_export_cli(demo_copy, tmp_path, suffix):
    out = tmp_path / f"oeffentlich{suffix}"
    assert main(["export", "values", "--public", "--db", str(demo_copy), "--out", str(out)]) == 0
    df = read_table(out)
    assert list(df.columns[:7]) == ["ebene", "indikator_id", "stadtbezirk_id", "stadtbezirk", "sozialraum_id", "sozialraum", "jahr"]
    assert set(df["ebene"]) == {"Sozialraum", "Stadtbezirk", "Stadt"}
    assert (df["ebene"] == "Stadt").sum() == 15 * 11 and (df["ebene"] == "Stadtbezirk").sum() == 5 * 15 * 11
    locked = df[df["gesperrt"] == "1"]
    assert len(locked) > 0
    assert (locked["wert"] == "").all() and (locked["zaehler"] == "").all()
    assert (locked["sperrgrund"] == "geschützt").all()
    # the same cells the viewer sees in the app
    c = db.connect(demo_copy)
    try:
        t = protection.protected_table(c, actor=VIEWER_ACTOR)
    finally:
        c.close()
    assert len(locked) == int(t["gesperrt"].sum())
    # No raw small numerator leaks into the public file.
    areas = df[(df["ebene"] == "Sozialraum") & (df["zaehler"] != "")]
    assert (areas["zaehler"].astype(float).pipe(lambda s: (s == 0) | (s >= 3))).all()


def test_raw_export_still_unprotected(demo_copy, tmp_path):
    out = tmp_path / "roh.csv"
    assert main(["export", "values", "--db", str(demo_copy), "--out", str(out)]) == 0
    df = read_table(out)
    assert "ebene" not in df.columns
    z = df.loc[df["zaehler"] != "", "zaehler"].astype(float)
    assert ((z > 0) & (z < 3)).any()


def test_aggregate_over_protected_values_is_unknown_not_too_low(con):
    """Summing the visible numerators over all denominators would understate the rate: NaN instead."""
    v = indicators.current_values(con, ["ohne_abschluss"], [2025], actor=VIEWER_ACTOR)
    assert v["gesperrt"].any()
    city = indicators.aggregate(v, "%", ["jahr"])
    assert city["wert"].isna().all()
    raw = indicators.current_values(con, ["ohne_abschluss"], [2025], actor=SYSTEM)
    ok = indicators.aggregate(raw, "%", ["jahr"])
    assert ok["wert"].iloc[0] == pytest.approx(ok["zaehler"].iloc[0] / ok["nenner"].iloc[0] * 100)
    # the protected table gives viewers the true city value (it is not derivable to a single area)
    t = protection.protected_table(con, ["ohne_abschluss"], [2025], actor=VIEWER_ACTOR)
    assert row(t, "Stadt")["wert"] == pytest.approx(round(ok["wert"].iloc[0], 2))
