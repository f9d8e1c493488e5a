"""Mein Bezirk's map tooltip shows each value with its 95 % interval (Issue 18), from the values the person may see."""

from __future__ import annotations

import numpy as np

from quartier import db
from quartier import format as fmt
from quartier.access import PUBLIC, SYSTEM
from quartier.reports import scope as report_scope
from quartier.reports import svgmap
from quartier.reports.scope import AREA, protected_values, rank_indicator
from quartier.values import indicators, uncertainty


def test_map_data_carries_value_with_interval(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        sc = report_scope.bezirk_scope(con, "haspe")
        md = svgmap.map_data(con, sc, actor=SYSTEM)
        iid = rank_indicator(con)
        unit = indicators.catalogue(con).set_index("id").loc[iid, "einheit"]
        v = protected_values(con, [iid], actor=SYSTEM)
        v = v[(v["ebene"] == AREA) & (v["jahr"] == v["jahr"].max())].set_index("sozialraum_id")
        row = md.areas[md.areas["id"].isin(sc.area_ids)].iloc[0]
        r = v.loc[row["id"]]
        lo, hi = uncertainty.interval([r["wert"]], [r["zaehler"]], [r["nenner"]], unit)
        assert np.isfinite(lo[0]) and np.isfinite(hi[0])
        dec = fmt.decimals_for(unit, indicators.catalogue(con).set_index("id").loc[iid].get("dezimalstellen"))
        assert row["wert_ki_text"] == uncertainty.text(r["wert"], lo[0], hi[0], unit, dec)
        assert row["wert_ki_text"].startswith(row["wert_text"]) and "–" in row["wert_ki_text"]
    finally:
        con.close()


def test_viewer_gets_no_interval_for_a_protected_value(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        sc = report_scope.city_scope(con)
        iid = rank_indicator(con)
        v = protected_values(con, [iid], actor=PUBLIC).copy()
        # one area protected as the protection does it: no value, no numerator/denominator, the mark set
        hit = (v["ebene"] == AREA) & (v["sozialraum_id"] == sc.area_ids[0])
        v.loc[hit, ["wert", "zaehler", "nenner"]] = np.nan
        v.loc[hit, "gesperrt"] = True
        md = svgmap.map_data(con, sc, values=v, actor=PUBLIC)
        r = md.areas.set_index("id").loc[sc.area_ids[0]]
        assert r["wert_ki_text"] == r["wert_text"] and "(" not in r["wert_ki_text"]  # no interval around it
        assert md.areas["wert_ki_text"].str.contains("(", regex=False).sum() > 0  # the others have theirs
    finally:
        con.close()
