"""Issue "Protected means protected", item 1: a viewer's index figures are derived from what the viewer may see.

The attack: for one indicator, a contribution to the index is a straight line in the indicator's rate. A
viewer who fits that line through the visible cells (whose rates follow from the visible numerator and
denominator) and rounds the predicted numerator of a hidden cell with its (published) denominator gets the
hidden value exactly. For every viewer output the attack must recover nothing.
"""

import io
import json

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from quartier import db, units
from quartier.access import PUBLIC, SYSTEM, VIEWER, Actor
from quartier.demo import hagen
from quartier.need import compute, explain, export
from quartier.need import method as index_method
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary
from quartier.values import indicators, protection

YEAR = 2025
VIEWER_ACTOR = Actor("betrachtung", VIEWER)
# the cells the demo protects in 2025 (all in one indicator; E01 only as secondary suppression)
DEMO_HIDDEN_AREAS = {"N03", "N02", "E02", "N04", "N05", "N06", "E01"}


@pytest.fixture
def demo(con):
    m = index_method.get_method(con, hagen.DEMO_METHOD_NAME)
    return con, m


def _hidden(con, m) -> set[tuple[str, str]]:
    t = protection.protected_table(con, m.indicator_ids, [YEAR], actor=PUBLIC)
    t = t[(t["ebene"] == protection.LEVEL_AREA) & t["gesperrt"].astype(bool)]
    return set(zip(t["sozialraum_id"], t["indikator_id"]))


def _public_cells(con, m) -> dict[tuple[str, str], tuple[float, float]]:
    """(area, indicator) -> (rate a viewer computes from the visible numerator/denominator, denominator)."""
    v = indicators.current_values(con, m.indicator_ids, [YEAR], actor=VIEWER_ACTOR).reset_index(drop=True)
    unit = dict(zip(indicators.catalogue(con)["id"], indicators.catalogue(con)["einheit"]))
    r = compute.rates(v, unit)
    return {(a, i): (rate, float(n) if pd.notna(n) else np.nan)
            for a, i, rate, n in zip(v["sozialraum_id"], v["indikator_id"], r, v["nenner"])}


def _truth(con, m) -> dict[tuple[str, str], float]:
    raw = compute.compute(con, m, YEAR, actor=SYSTEM)
    ids = list(raw.areas["id"])
    return {(a, i): float(raw.rates[ids.index(a), raw.indicator_ids.index(i)]) for a in ids for i in raw.indicator_ids}


def _recovered(contrib: dict[tuple[str, str], float | None], public, truth, hidden, factor) -> list:
    """Line-fit attack per indicator on ``contrib`` ((area, indicator) -> contribution); the hidden cells
    whose rate the attack recovers exactly."""
    hits = []
    for iid in {i for _, i in hidden}:
        xs, ys = [], []
        for (a, i), (rate, _) in public.items():
            c = contrib.get((a, i))
            if i == iid and (a, i) not in hidden and not np.isnan(rate) and c is not None and not np.isnan(c):
                xs.append(rate)
                ys.append(c)
        assert len(xs) >= 3
        a_, b_ = np.polyfit(xs, ys, 1)
        for cell in sorted(c for c in hidden if c[1] == iid):
            c = contrib.get(cell)
            if c is None or np.isnan(c) or a_ == 0:
                continue
            if _hit((c - b_) / a_, cell, public, truth, factor):
                hits.append(cell)
    return hits


def _hit(pred: float, cell, public, truth, factor) -> bool:
    """Whether a predicted rate gives the hidden value away: equal to the raw rate within 1e-6, or – since
    the viewer knows the denominator – a numerator within 0.01 of the true whole numerator (rounding it
    then gives the exact value, as 1/58 for N03). A guess of a small whole number is no hit: it must come
    out of the fit, not out of rounding."""
    if abs(pred - truth[cell]) < 1e-6:
        return True
    den, f = public[cell][1], factor[cell[1]]
    return bool(not np.isnan(den) and den > 0 and abs(pred * den / f - truth[cell] * den / f) < 0.01)


def _setup(con, m):
    hidden = _hidden(con, m)
    assert {a for a, _ in hidden} == DEMO_HIDDEN_AREAS
    cat = indicators.catalogue(con)
    factor = {i: units.rate_factor(u) for i, u in zip(cat["id"], cat["einheit"])}
    return hidden, _public_cells(con, m), _truth(con, m), factor


def test_the_attack_works_on_raw_contributions(demo):
    """The premise: on the staff (raw) result the line fit gives every hidden value."""
    con, m = demo
    hidden, public, truth, factor = _setup(con, m)
    js = compute.compute(con, m, YEAR, actor=SYSTEM).to_json()
    contrib = {(r["id"], i): c for r in js["sozialraeume"] for i, c in r["contributions"].items()}
    assert sorted(_recovered(contrib, public, truth, hidden, factor)) == sorted(hidden)


def test_cli_public_json_recovers_nothing(demo, demo_copy, capsys):
    from quartier.cli.base import main

    con, m = demo
    hidden, public, truth, factor = _setup(con, m)
    con.close()
    assert main(["index", "--db", str(demo_copy), "--year", str(YEAR), "--public", "--json"]) == 0
    cap = capsys.readouterr()
    js = json.loads(cap.out)
    assert "geschützte Werte zählen als fehlend" in cap.err
    contrib = {(r["id"], i): c for r in js["sozialraeume"] for i, c in r["contributions"].items()}
    assert _recovered(contrib, public, truth, hidden, factor) == []
    assert all(contrib.get(cell) is None for cell in hidden)


def test_cli_public_json_has_the_keys_of_the_staff_json(demo_copy, capsys):
    from quartier.cli.base import main

    def keys(js):
        area = js["sozialraeume"][0]
        return set(js), set(js["method"]), set(area), set(area["contributions"])

    out = {}
    for flag in ([], ["--public"]):
        assert main(["index", "--db", str(demo_copy), "--year", str(YEAR), "--json", *flag]) == 0
        out[bool(flag)] = json.loads(capsys.readouterr().out)
    assert keys(out[True]) == keys(out[False])
    assert [set(r) for r in out[True]["sozialraeume"]] == [set(r) for r in out[False]["sozialraeume"]]
    assert out[True] != out[False]  # the viewer's figures differ (protected cells count as missing)


def test_cli_public_xlsx(demo_copy, tmp_path, capsys):
    from quartier.cli.base import main

    f = tmp_path / "r.xlsx"
    assert main(["index", "--db", str(demo_copy), "--year", str(YEAR), "--public", "--out", str(f)]) == 0
    desc = pd.read_excel(f, sheet_name="Methode")
    assert any("Für Betrachtende ist der Index aus den geschützten Werten" in str(v) for v in desc["Wert"])
    assert main(["index", "--db", str(demo_copy), "--year", str(YEAR), "--public", "--store"]) != 0


def _xlsx_contrib(data: bytes, con, m) -> dict:
    labels = explain.indicator_labels(indicators.catalogue(con), m.indicator_ids)
    ws = load_workbook(io.BytesIO(data))["Rangfolge"]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    out = {}
    for row in rows[1:]:
        rec = dict(zip(head, row))
        for iid in m.indicator_ids:
            v = rec[f"Beitrag {labels[iid]}"]
            out[(rec["sozialraum_id"], iid)] = None if v in (None, "") else float(v)
    return out


def test_viewer_xlsx_export_recovers_nothing(demo):
    con, m = demo
    hidden, public, truth, factor = _setup(con, m)
    res = compute.compute(con, m, YEAR, actor=VIEWER_ACTOR)
    prev = compute.previous_year(con, m, YEAR, actor=VIEWER_ACTOR)
    contrib = _xlsx_contrib(export.export_xlsx(con, res, prev, actor=VIEWER_ACTOR), con, m)
    assert _recovered(contrib, public, truth, hidden, factor) == []
    assert all(contrib[cell] is None for cell in hidden)
    # the staff file still carries the raw-based contributions, and a viewer never gets it
    raw = compute.compute(con, m, YEAR, actor=SYSTEM)
    staff = _xlsx_contrib(export.export_xlsx(con, raw, None, actor=SYSTEM), con, m)
    assert sorted(_recovered(staff, public, truth, hidden, factor)) == sorted(hidden)
    with pytest.raises(Exception, match="geschützten Werten"):
        export.export_xlsx(con, raw, None, actor=VIEWER_ACTOR)


def test_viewer_explanation_recovers_nothing(demo):
    con, m = demo
    hidden, public, truth, factor = _setup(con, m)
    res = compute.compute(con, m, YEAR, actor=VIEWER_ACTOR)
    cat = indicators.catalogue(con)
    cells = explain.protected_cells(con, res, actor=VIEWER_ACTOR)
    assert cells == hidden
    contrib = {}
    for sid in res.areas["id"]:
        cf = explain.contributions_frame(res, sid, cat, cells)
        contrib.update({(sid, i): c for i, c in zip(cf["id"], cf["Beitrag"])})
        for i, g in zip(cf["id"], cf["gesperrt"]):
            assert g == ((sid, i) in hidden)
    assert _recovered(contrib, public, truth, hidden, factor) == []
    assert all(np.isnan(contrib[cell]) for cell in hidden)
    table = explain.ranking_table(res)
    for sid, iid in hidden:
        assert table.loc[table["id"] == sid, f"c_{iid}"].isna().all()
    assert compute.protection_note(res).startswith(
        f"Für Betrachtende ist der Index aus den geschützten Werten berechnet: {len(hidden)} geschützte Werte")
    assert compute.protection_note(compute.compute(con, m, YEAR, actor=SYSTEM)) is None


def test_viewer_report_ranking_recovers_nothing(demo):
    """The report shows the index value only; the value is linear in all rates at once, so the attack is a
    multivariate fit through the areas without hidden cells."""
    con, m = demo
    hidden, public, truth, factor = _setup(con, m)

    def attack(rank: pd.DataFrame) -> list:
        value = dict(zip(rank["sozialraum_id"], rank["wert"]))
        ids = m.indicator_ids
        areas = sorted({a for a, _ in public})
        X = np.array([[public[(a, i)][0] if (a, i) in public else np.nan for i in ids] for a in areas])
        y = np.array([np.nan if value.get(a) is None else float(value[a]) for a in areas])
        full = ~np.isnan(X).any(axis=1) & ~np.isnan(y)
        coef, *_ = np.linalg.lstsq(np.c_[X[full], np.ones(full.sum())], y[full], rcond=None)
        hits = []
        for a, iid in sorted(hidden):
            k = areas.index(a)
            j = ids.index(iid)
            if np.isnan(y[k]) or np.isnan(np.delete(X[k], j)).any():
                continue
            rest = np.delete(X[k], j) @ np.delete(coef[:-1], j) + coef[-1]
            if _hit((y[k] - rest) / coef[j], (a, iid), public, truth, factor):
                hits.append((a, iid))
        return hits

    city = report_scope.city_scope(con)
    staff, _ = report_summary.need_ranking(con, city, YEAR, actor=SYSTEM)
    assert sorted(attack(staff)) == sorted(hidden)  # the premise
    rank, note = report_summary.need_ranking(con, city, YEAR, actor=VIEWER_ACTOR)
    assert attack(rank) == []
    assert "Für Betrachtende ist der Index aus den geschützten Werten berechnet" in note
    viewer_res = compute.compute(con, m, YEAR, with_robustness=False, actor=VIEWER_ACTOR).to_json()
    assert dict(zip(rank["sozialraum_id"], rank["wert"])) == {r["id"]: r["value"] for r in viewer_res["sozialraeume"]}
    # Mein Bezirk and the district PDF use the same summary: the viewer's ranking with the notice
    sm = report_summary.district_summary(con, "haspe", with_table=False, actor=VIEWER_ACTOR)
    assert "Für Betrachtende ist der Index aus den geschützten Werten berechnet" in sm.ranking_note
    latest = compute.compute(con, m, int(sm.ranking["jahr"].iat[0]), with_robustness=False, actor=VIEWER_ACTOR).to_json()
    by_id = {r["id"]: r["value"] for r in latest["sozialraeume"]}
    assert all(by_id[a] == v or (v is None and by_id[a] is None) for a, v in zip(sm.ranking["sozialraum_id"], sm.ranking["wert"]))
    staff = report_summary.district_summary(con, "haspe", with_table=False, actor=SYSTEM)
    assert "Für Betrachtende" not in staff.ranking_note


def test_viewer_index_equals_the_index_without_the_protected_cells(demo):
    """Protected cells count as missing: the viewer's result is the staff result of a database in which
    exactly those cells (index year, dynamics years, population) are suppressed at source."""
    con, m = demo
    ids = m.indicator_ids + [m.population_indicator]
    years = sorted({YEAR, *index_method.dynamics_span(m, YEAR)})
    viewer = compute.compute(con, m, YEAR, actor=VIEWER_ACTOR)
    assert viewer.public and viewer.hidden_cells == _hidden(con, m)
    for j, iid in enumerate(viewer.indicator_ids):
        for i, sid in enumerate(viewer.areas["id"]):
            if (sid, iid) in viewer.hidden_cells:
                assert np.isnan(viewer.contributions[i, j]) and np.isnan(viewer.scores[i, j])
                assert np.isnan(viewer.rates[i, j])
    t = protection.protected_table(con, ids, years, actor=PUBLIC)
    t = t[(t["ebene"] == protection.LEVEL_AREA) & t["gesperrt"].astype(bool)]
    with db.transaction(con) as cur:
        for sid, iid, y in zip(t["sozialraum_id"], t["indikator_id"], t["jahr"]):
            cur.execute("UPDATE messwert SET gesperrt = TRUE, wert = NULL, zaehler = NULL"
                        " WHERE sozialraum_id = ? AND indikator_id = ? AND jahr = ?", [sid, iid, int(y)])
    removed = compute.compute(con, m, YEAR, actor=SYSTEM)
    assert viewer.to_json() == removed.to_json()
    np.testing.assert_array_equal(viewer.robust["loo_min"], removed.robust["loo_min"])
    np.testing.assert_array_equal(viewer.robust["weight_max"], removed.robust["weight_max"])
