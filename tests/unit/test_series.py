"""Series, references, changes, ranks, trends, gaps: a small real DuckDB built in tmp_path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from quartier import db
from quartier.access import ADMIN, SYSTEM, VIEWER, Actor
from quartier.actions import store
from quartier.values import series

GEOM = '{"type": "Point", "coordinates": [7.47, 51.36]}'
YEARS = list(range(2018, 2025))
VIEWER_ACTOR = Actor("gast", VIEWER)
ADMIN_ACTOR = Actor("admin", ADMIN, raw_data=True)

# (Sozialraum, Stadtbezirk): district A has a1 and a2, district B has b1 and b2.
AREAS = [("a1", "Aue", "A"), ("a2", "Anger", "A"), ("b1", "Berg", "B"), ("b2", "Bach", "B")]
# quote (%, higher = more need): numerator/denominator per area, the same every year unless changed below.
QUOTE = {"a1": (10, 100), "a2": (90, 300), "b1": (5, 50), "b2": (40, 200)}


def _fill(con) -> object:
    rows = []
    for sr, _name, _b in AREAS:
        z, n = QUOTE[sr]
        for y in YEARS:
            zz = z + (y - 2018) * (2 if sr == "a2" else 1)  # a2 rises by 2 per year, the others by 1
            rows.append(("quote", sr, y, zz / n * 100, zz, n, False))
    # a1 2020 suppressed at source (no value, no numerator); a2 has no row at all for 2021
    rows = [r if not (r[1] == "a1" and r[2] == 2020) else ("quote", "a1", 2020, None, None, 100, True) for r in rows]
    rows = [r for r in rows if not (r[1] == "a2" and r[2] == 2021)]
    # vorsorge (%, lower = more need) only 2024: a1 and b1 tie
    for sr, v in {"a1": 80.0, "a2": 90.0, "b1": 80.0, "b2": 70.0}.items():
        rows.append(("vorsorge", sr, 2024, v, v, 100, False))
    # small numbers in 2024 for the viewer test: b1 has a numerator of 2
    rows = [("quote", "b1", 2024, 2 / 50 * 100, 2, 50, False) if (r[0], r[1], r[2]) == ("quote", "b1", 2024) else r
            for r in rows]
    # population counts
    for sr, (ew, u18) in {"a1": (1000, 200), "a2": (3000, 900), "b1": (500, 50), "b2": (1500, 150)}.items():
        for y in YEARS:
            rows.append(("ew_gesamt", sr, y, ew + (y - 2018) * 10, None, None, False))
            rows.append(("ew_u18", sr, y, u18, None, None, False))
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES ('A', 1, 'Altstadt'), ('B', 2, 'Bergdorf')")
        for sr, name, b in AREAS:
            cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry, flaeche_km2) VALUES (?, ?, ?, ?, 1.0)",
                        [sr, name, b, GEOM])
        for k, (iid, name, unit, richtung) in enumerate([
            ("quote", "Testquote", "%", "higher"), ("vorsorge", "Vorsorge", "%", "lower"),
            ("ew_gesamt", "Einwohner", "Anzahl", None), ("ew_u18", "Unter 18", "Anzahl", None),
        ]):
            cur.execute("INSERT INTO indikator (id, name, kurzname, einheit, richtung, lieferant, sortierung)"
                        " VALUES (?, ?, ?, ?, ?, 'Test', ?)", [iid, name, name, unit, richtung, k])
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, lieferant, berichtsjahr, importiert_von)"
                    " VALUES (1, 'test.xlsx', 'x', 'Test', 2024, 'test')")
        frame = pd.DataFrame(rows, columns=["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"])
        frame["lieferung_id"] = 1
        cur.register("neu", frame)
        cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt)"
                    " SELECT lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt FROM neu")
        db.audit(cur, "test", "testdaten", "messwert", "")
    return con


@pytest.fixture
def small(filled_con):
    return filled_con(_fill)


def _row(df, **kw):
    m = np.ones(len(df), dtype=bool)
    for k, v in kw.items():
        m &= (df[k] == v).to_numpy()
    assert m.sum() == 1, (kw, int(m.sum()))
    return df[m].iloc[0]


def test_references_pool_numerators_and_denominators_not_mean_of_rates(small):
    refs = series.references(small, ["quote"], [2018], actor=SYSTEM)
    city = _row(refs, ebene="Stadt", jahr=2018)
    # pooled: (10 + 90 + 5 + 40) / (100 + 300 + 50 + 200) = 145 / 650
    assert city["wert"] == pytest.approx(145 / 650 * 100)
    mean_of_rates = np.mean([10.0, 30.0, 10.0, 20.0])
    assert abs(city["wert"] - mean_of_rates) > 1
    assert (city["zaehler"], city["nenner"], city["n"]) == (145, 650, 4)
    dist_a = _row(refs, ebene="Stadtbezirk", bezirk_id="A", jahr=2018)
    assert dist_a["wert"] == pytest.approx(100 / 400 * 100)  # mean of rates would be 20 %
    assert dist_a["name"] == "Altstadt"


def test_reference_not_computable_when_a_part_lacks_its_numerator(small):
    refs = series.references(small, ["quote"], [2020], actor=SYSTEM)
    # a1 2020 suppressed at source without numerator: district A and the city cannot be computed
    assert math.isnan(_row(refs, ebene="Stadt", jahr=2020)["wert"])
    assert math.isnan(_row(refs, ebene="Stadtbezirk", bezirk_id="A", jahr=2020)["wert"])
    assert _row(refs, ebene="Stadtbezirk", bezirk_id="B", jahr=2020)["wert"] == pytest.approx((7 + 42) / 250 * 100)


def test_count_references_are_sums(small):
    refs = series.references(small, ["ew_gesamt"], [2018], actor=SYSTEM)
    assert _row(refs, ebene="Stadt", jahr=2018)["wert"] == 6000
    assert _row(refs, ebene="Stadtbezirk", bezirk_id="B", jahr=2018)["wert"] == 2000


def test_series_has_every_year_suppressed_and_missing_distinct(small):
    data = series.load_series(small, ["quote"], ["a1", "a2"], actor=ADMIN_ACTOR)
    v = data.values
    assert sorted(v.loc[v["sozialraum_id"] == "a1", "jahr"]) == YEARS
    sup = _row(v, sozialraum_id="a1", jahr=2020)
    assert sup["status"] == "gesperrt" and sup["gesperrt"] and math.isnan(sup["wert"])
    miss = _row(v, sozialraum_id="a2", jahr=2021)
    assert miss["status"] == "fehlt" and not miss["gesperrt"] and math.isnan(miss["wert"])
    ok = _row(v, sozialraum_id="a2", jahr=2019)
    assert ok["status"] == "wert" and ok["wert"] == pytest.approx(92 / 300 * 100)
    assert ok["lieferung"] == "test.xlsx"


def test_changes_over_one_and_five_years_skip_gaps(small):
    v = series.load_series(small, ["quote"], ["a1", "a2"], actor=SYSTEM).values
    a2_2019 = _row(v, sozialraum_id="a2", jahr=2019)
    assert a2_2019["aenderung_1"] == pytest.approx(2 / 300 * 100)
    a2_2024 = _row(v, sozialraum_id="a2", jahr=2024)
    assert a2_2024["aenderung_5"] == pytest.approx(10 / 300 * 100)  # 2024 against 2019
    assert math.isnan(_row(v, sozialraum_id="a1", jahr=2021)["aenderung_1"])  # 2020 suppressed
    assert math.isnan(_row(v, sozialraum_id="a2", jahr=2022)["aenderung_1"])  # 2021 missing
    assert math.isnan(_row(v, sozialraum_id="a1", jahr=2018)["aenderung_1"])  # no earlier year


def test_ranks_follow_direction_exclude_gaps_and_share_ties(small):
    v = series.load_series(small, ["quote", "vorsorge"], ["a1", "a2", "b1", "b2"], actor=SYSTEM).values
    # quote 2019 (higher = more need): a2 30.7 %, b2 20.5 %, a1 11 %, b1 12 % -> a2 first
    assert _row(v, indikator_id="quote", sozialraum_id="a2", jahr=2019)["rang"] == 1
    assert _row(v, indikator_id="quote", sozialraum_id="b2", jahr=2019)["rang"] == 2
    assert _row(v, indikator_id="quote", sozialraum_id="b1", jahr=2019)["rang"] == 3
    assert _row(v, indikator_id="quote", sozialraum_id="a1", jahr=2019)["n_rang"] == 4
    # 2020: a1 suppressed -> no rank, and only three ranked
    r = _row(v, indikator_id="quote", sozialraum_id="a1", jahr=2020)
    assert math.isnan(r["rang"])
    assert _row(v, indikator_id="quote", sozialraum_id="a2", jahr=2020)["n_rang"] == 3
    # vorsorge (lower = more need): b2 70 first, a1 and b1 tie at 80 -> both 2, a2 is 4
    ranks = {s: _row(v, indikator_id="vorsorge", sozialraum_id=s, jahr=2024)["rang"] for s in ("a1", "a2", "b1", "b2")}
    assert ranks == {"b2": 1, "a1": 2, "b1": 2, "a2": 4}


def test_indicators_without_direction_are_not_ranked(small):
    v = series.load_series(small, ["ew_gesamt"], ["a1"], actor=SYSTEM).values
    assert v["rang"].isna().all()


@pytest.mark.parametrize(("delta", "richtung", "unit", "expected"), [
    (1.2, "higher", "%", ("↑", "steigend", "verschlechtert")),
    (-1.2, "higher", "%", ("↓", "fallend", "verbessert")),
    (1.2, "lower", "%", ("↑", "steigend", "verbessert")),
    (-0.04, "higher", "%", ("→", "unverändert", "unverändert")),
    (25, None, "Anzahl", ("↑", "steigend", None)),
    (float("nan"), "higher", "%", ("", "", None)),
])
def test_trend_meaning_follows_direction(delta, richtung, unit, expected):
    t = series.trend(delta, richtung, unit)
    assert (t.symbol, t.richtung, t.bewertung) == expected


def test_profile_latest_year_rank_changes_and_references(small):
    prof, data = series.profile(small, "a2", actor=ADMIN_ACTOR)
    q = _row(prof, indikator_id="quote")
    assert q["jahr"] == 2024 and q["wert"] == pytest.approx(102 / 300 * 100)
    assert q["rang"] == 1 and q["n_rang"] == 4
    assert q["aenderung_1"] == pytest.approx(2 / 300 * 100)
    assert q["bewertung_1"] == "verschlechtert"
    assert q["aenderung_5"] == pytest.approx(10 / 300 * 100)
    assert q["bewertung_5"] == "verschlechtert" and q["trend_5"] == "↑"
    # district A 2024: (16 + 102) / 400; city: (16 + 102 + 2 + 46) / 650
    assert q["wert_bezirk"] == pytest.approx(118 / 400 * 100)
    assert q["wert_stadt"] == pytest.approx(166 / 650 * 100)
    assert set(prof["indikator_id"]) == {"quote", "vorsorge", "ew_gesamt", "ew_u18"}


def test_population_and_age_structure(small):
    _, data = series.profile(small, "a2", actor=SYSTEM)
    pop = series.population(data, actor=SYSTEM)
    last = pop[pop["jahr"] == 2024].iloc[0]
    assert last["einwohner"] == 3060 and last["unter_18"] == 900 and last["ab_18"] == 2160
    assert last["anteil_u18"] == pytest.approx(900 / 3060 * 100)
    assert last["anteil_u18_stadt"] == pytest.approx(1300 / 6240 * 100)


def test_viewer_sees_small_numbers_suppressed_and_not_recoverable(small):
    raw = series.load_series(small, ["quote"], ["b1", "b2"], actor=ADMIN_ACTOR)
    assert _row(raw.values, sozialraum_id="b1", jahr=2024)["status"] == "wert"
    shown = series.load_series(small, ["quote"], ["a1", "a2", "b1", "b2"], actor=VIEWER_ACTOR)
    b1 = _row(shown.values, sozialraum_id="b1", jahr=2024)
    assert b1["status"] == "gesperrt" and math.isnan(b1["wert"]) and math.isnan(b1["zaehler"])
    assert math.isnan(b1["rang"])
    # b1's numerator must not follow from district B's total and b2's visible value
    dist_b = _row(shown.refs, ebene="Stadtbezirk", bezirk_id="B", jahr=2024)
    b2 = _row(shown.values, sozialraum_id="b2", jahr=2024)
    assert math.isnan(dist_b["zaehler"]) or math.isnan(b2["zaehler"])
    # nor from the city total and the other visible parts
    city = _row(shown.refs, ebene="Stadt", jahr=2024)
    visible = shown.values[(shown.values["jahr"] == 2024) & shown.values["zaehler"].notna()]
    assert math.isnan(city["zaehler"]) or len(visible) <= 2
    # other years are unaffected; every value still names its Lieferung
    assert _row(shown.values, sozialraum_id="b1", jahr=2023)["status"] == "wert"
    assert _row(shown.values, sozialraum_id="b2", jahr=2024)["lieferung"] == "test.xlsx"


def test_comparison_uses_latest_year_and_city_value(small):
    data = series.load_series(small, ["quote", "vorsorge"], ["a1", "b2"], actor=SYSTEM)
    comp = series.comparison(data)
    q = comp[comp["indikator_id"] == "quote"]
    assert set(q["jahr"]) == {2024} and set(q["sozialraum_id"]) == {"a1", "b2"}
    assert q["wert_stadt"].iloc[0] == pytest.approx(166 / 650 * 100)
    older = series.comparison(data, 2019)
    assert set(older.loc[older["indikator_id"] == "quote", "jahr"]) == {2019}


def test_resolve_selection_from_query_parameters(small):
    sel = series.resolve_selection(small, sr="A1, b2,xx", ind="quote,unbekannt")
    assert sel.sozialraeume == ["a1", "b2"] and sel.indikatoren == ["quote"]
    assert sel.unbekannt == ["xx", "unbekannt"]
    by_district = series.resolve_selection(small, bezirk="bergdorf", sr="a1")
    assert by_district.bezirk == "B" and by_district.sozialraeume == ["b1", "b2"]
    assert series.resolve_selection(small, bezirk=["B"]).sozialraeume == ["b1", "b2"]
    fallback = series.resolve_selection(small, default_indicators=["vorsorge"])
    assert fallback.indikatoren == ["vorsorge"] and fallback.sozialraeume == []
    assert series.split_param(["M04,S01", "M04"]) == ["M04", "S01"]


def test_demo_profile_has_recommendations_and_all_indicators(con):
    prof, _ = series.profile(con, "M04", actor=Actor("gast", VIEWER))
    assert len(prof) == 15
    assert prof["status"].isin(["wert", "gesperrt", "fehlt"]).all()
    recs = store.of_sozialraum(con, "M04", actor=Actor("gast", VIEWER))
    assert recs is not None and len(recs) > 0
    assert {"id", "titel", "status"} <= set(recs.columns)


def test_sql_ranks_for_raw_view_match_the_pandas_rule(small):
    ids = ["quote", "vorsorge", "ew_gesamt"]
    meta = series._meta(small, ids)
    areas = ["a1", "a2", "b1", "b2"]
    in_sql = series._chosen_values(small, ids, areas, None, ADMIN_ACTOR, meta)
    in_pandas = series.rank_values(series.all_values(small, ids, actor=SYSTEM), meta["richtung"].to_dict())
    keys = ["indikator_id", "sozialraum_id", "jahr"]
    both = in_sql[keys + ["rang", "n_rang"]].merge(in_pandas[keys + ["rang", "n_rang"]], on=keys, suffixes=("_sql", "_pd"))
    assert len(both) == len(in_pandas) > 50
    for col in ("rang", "n_rang"):
        a, b = both[f"{col}_sql"].to_numpy(dtype=float), both[f"{col}_pd"].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)])


def test_recommendations_empty_catalogue_is_an_empty_list(small):
    recs = store.of_sozialraum(small, "a1", actor=VIEWER_ACTOR)
    assert recs is not None and len(recs) == 0
