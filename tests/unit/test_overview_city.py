"""City values aggregated in SQL equal the pandas aggregation from all areas' values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quartier import access, db
from quartier.access import SYSTEM
from quartier.demo import synth
from quartier.values import indicators, overview


def _pandas_city(con, ids):
    cat = indicators.catalogue(con).set_index("id")
    vals = indicators.current_values(con, ids, actor=SYSTEM)
    return pd.concat([indicators.aggregate(vals[vals["indikator_id"] == i], cat.loc[i, "einheit"], ["jahr"])
                      .assign(indikator_id=i) for i in ids])


def _assert_same(con, ids):
    sql = overview.city_by_year(con, ids)
    ref = _pandas_city(con, ids)
    m = ref.merge(sql, on=["indikator_id", "jahr"], suffixes=("_ref", "_sql"), how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    for col in ("wert", "zaehler", "nenner"):
        a, b = m[f"{col}_ref"].astype(float).to_numpy(), m[f"{col}_sql"].astype(float).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)]), col


def test_city_values_match_pandas_on_demo(con):
    ids = list(indicators.catalogue(con)["id"])
    _assert_same(con, ids)
    head = overview.headline(con, actor=SYSTEM)
    assert len(head) == 6 and head["wert"].notna().all()


def test_city_values_match_with_missing_denominator(tmp_path):
    con = db.connect(tmp_path / "s.duckdb")
    synth.build(con, 30, 6, 3, actor=access.cli_actor("test"))
    # One area without denominator makes the city rate of that year unknown, as in indicators.aggregate.
    with db.transaction(con) as cur:
        cur.execute("UPDATE messwert SET nenner = NULL WHERE indikator_id = 'sgb2_u18' AND jahr = 2024"
                    " AND sozialraum_id = 'S00001'")
        db.audit(cur, "test", "test")
    _assert_same(con, list(indicators.catalogue(con)["id"]))
    city = overview.city_by_year(con, ["sgb2_u18"]).set_index("jahr")
    assert np.isnan(city.loc[2024, "wert"]) and not np.isnan(city.loc[2025, "wert"])
