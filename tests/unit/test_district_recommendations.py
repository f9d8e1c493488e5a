"""One definition of "the recommendations of a Stadtbezirk": its areas' plus the city-wide ones."""

from __future__ import annotations

from datetime import date

import pandas as pd

from quartier import db
from quartier.access import ADMIN, Actor
from quartier.actions import store
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary

STAFF = Actor("planung", ADMIN, raw_data=True)


def test_of_district_is_areas_plus_citywide(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        df = store.listing(con, actor=STAFF)
        areas = set(report_scope.bezirk_scope(con, "haspe").area_ids)
        mine = store.of_district(df, "haspe")
        expected = df[(df["ebene"] == "stadtweit") | df["sozialraeume"].map(lambda s: bool(areas & set(s)))]
        assert set(mine["id"]) == set(expected["id"]) and len(mine) > 0
        assert (mine["ebene"] == "stadtweit").any() and (mine["ebene"] != "stadtweit").any()
        # Mein Bezirk and the PDF use the same definition
        recs, _ = report_summary.recommendations(con, report_scope.bezirk_scope(con, "haspe"), actor=STAFF)
        assert set(recs["id"]) == set(mine["id"])
        # the roll-up per district counts the same
        wide = store.rollup_wide(df, "stadtbezirk", {"haspe": "Haspe"})
        assert int(wide.loc[wide["stadtbezirk"] == "Haspe", "gesamt"].iloc[0]) == len(mine)
    finally:
        con.close()


def test_days_overdue():
    df = pd.DataFrame({"ende_geplant": [date(2026, 1, 1), date(2026, 1, 1), None],
                       "ueberfaellig": [True, False, False]})
    d = store.days_overdue(df, date(2026, 1, 31))
    assert d.iloc[0] == 30 and pd.isna(d.iloc[1]) and pd.isna(d.iloc[2])
