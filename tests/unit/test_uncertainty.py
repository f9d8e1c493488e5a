"""Issue 18 §1: intervals (known answers from statsmodels and textbook tables), the two-proportion test,
the export columns ki_unten/ki_oben and the Steckbrief's tested changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from quartier import db
from quartier.access import PUBLIC, SYSTEM
from quartier.cli import main
from quartier.values import series
from quartier.values import uncertainty as u


@pytest.mark.parametrize(("k", "n"), [(81, 263), (0, 20), (38, 38), (3, 12), (500, 10_000)])
def test_wilson_matches_statsmodels(k, n):
    lo, hi = u.wilson([k], [n])
    ref = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lo[0] == pytest.approx(ref[0], abs=1e-12) and hi[0] == pytest.approx(ref[1], abs=1e-12)


def test_wilson_textbook_and_rate_scaling():
    # Newcombe (1998), example 81/263: 0.2553 to 0.3662
    lo, hi = u.interval([30.8], [81], [263], "%")
    assert round(lo[0], 2) == 25.53 and round(hi[0], 2) == 36.62
    lo, hi = u.interval([30.8], [81], [263], "je 1.000")
    assert round(lo[0], 1) == 255.3 and round(hi[0], 1) == 366.2
    # no interval: protected (no numerator), zero denominator, numerator above denominator
    lo, _ = u.interval([np.nan, 1.0, 120.0], [np.nan, 1, 12], [50, 0, 10], "%")
    assert np.isnan(lo).all()


def test_poisson_exact_textbook():
    # Garwood intervals (e.g. Ulm 1990 table): 0 -> (0, 3.689), 1 -> (0.0253, 5.572), 10 -> (4.795, 18.390)
    lo, hi = u.interval([0, 1, 10, 2.5], [np.nan] * 4, [np.nan] * 4, "Anzahl")
    assert np.round(lo[:3], 3).tolist() == [0.0, 0.025, 4.795]
    assert np.round(hi[:3], 3).tolist() == [3.689, 5.572, 18.390]
    assert np.isnan(lo[3])  # not a whole count


def test_two_proportion_test_matches_statsmodels():
    z, p = u.two_proportion_test([30, 120], [200, 400], [45, 80], [210, 410])
    for i, (k1, n1, k2, n2) in enumerate([(30, 200, 45, 210), (120, 400, 80, 410)]):
        zr, pr = proportions_ztest([k1, k2], [n1, n2])
        assert z[i] == pytest.approx(zr) and p[i] == pytest.approx(pr)
    assert u.auffaellig(p).tolist() == [False, True]
    assert "z-Test" in u.TEST_METHOD


def test_text_german():
    assert u.text(12.4, 9.8, 15.5, "%") == "12,4 % (9,8–15,5)"
    assert u.text(12.4, np.nan, np.nan, "%") == "12,4 %"
    assert u.small_base_text(38, "Kinder") == "kleine Basis: 38 Kinder"


def test_export_values_has_interval_columns(demo_copy, tmp_path, capsys):
    out = tmp_path / "werte.csv"
    assert main(["export", "values", "--db", str(demo_copy), "--out", str(out)]) == 0
    df = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert list(df.columns[:9]) == ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt",
                                    "lieferung_id", "lieferung"]
    assert list(df.columns[-2:]) == ["ki_unten", "ki_oben"]  # appended: the other columns keep their place
    rate = df[df["nenner"].notna() & df["zaehler"].notna()].iloc[0]
    lo, hi = proportion_confint(rate["zaehler"], rate["nenner"], method="wilson")
    assert float(rate["ki_unten"]) == pytest.approx(lo * 100, abs=1e-3)
    assert float(rate["ki_oben"]) == pytest.approx(hi * 100, abs=1e-3)
    assert df.loc[df["zaehler"].isna() & df["nenner"].notna(), "ki_unten"].isna().all()


def test_public_export_intervals_only_where_visible(demo_copy, tmp_path, capsys):
    out = tmp_path / "oeffentlich.csv"
    assert main(["export", "values", "--public", "--db", str(demo_copy), "--out", str(out)]) == 0
    df = pd.read_csv(out, sep=";", encoding="utf-8-sig")
    assert list(df.columns[-2:]) == ["ki_unten", "ki_oben"]
    prot = df[df["gesperrt"] == 1]
    assert len(prot) > 0 and prot["ki_unten"].isna().all() and prot["ki_oben"].isna().all()
    vis = df[(df["gesperrt"] == 0) & df["zaehler"].notna() & df["nenner"].notna()]
    assert vis["ki_unten"].notna().all()


def test_profile_arrows_only_when_auffaellig(demo_copy):
    con = db.connect(demo_copy)
    prof, data = series.profile(con, "M04", actor=PUBLIC)
    assert set(u.PROFILE_EXTRA) <= set(prof.columns)
    v = data.values
    for r in prof.to_dict("records"):
        if r["status"] != series.STATUS_OK or pd.isna(r["zaehler"]):
            continue
        old = v[(v["indikator_id"] == r["indikator_id"]) & (v["jahr"] == r["jahr"] - 1)].iloc[0]
        if pd.isna(old["zaehler"]):
            continue
        _, p = proportions_ztest([r["zaehler"], old["zaehler"]], [r["nenner"], old["nenner"]])
        assert r["auffaellig_1"] is bool(p < 0.05)
    # staff and viewers: a protected value has no interval
    staff, _ = series.profile(con, "M04", actor=SYSTEM)
    assert staff["ki_unten"].notna().sum() >= prof["ki_unten"].notna().sum()
    con.close()


def test_small_base_flag():
    prof = pd.DataFrame({"indikator_id": ["a", "b"], "jahr": [2025, 2025], "wert": [10.0, 10.0], "zaehler": [4, 40],
                         "nenner": [40, 400], "einheit": ["%", "%"]})
    out = u.annotate_profile(prof, prof.iloc[0:0], limit=100, nenner_def={"a": "Kinder"})
    assert out["kleine_basis"].tolist() == ["kleine Basis: 40 Kinder", None]
    assert out["auffaellig_1"].tolist() == [None, None]
