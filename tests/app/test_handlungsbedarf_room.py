"""Issue 16 on the Handlungsbedarf page: readable contributions chart, matrix in the table's order with the
cells that need attention emphasised, links to the Steckbrief, and no ranking of an incomplete year."""

from __future__ import annotations

import pandas as pd

from quartier import access, db
from quartier.need import charts as hc
from quartier.need import compute, explain
from quartier.ui.session import ACTOR_KEY
from tests.app.test_handlungsbedarf import PAGE, STAFF, _core
from tests.coverage_files import PARTIAL_YEAR


def test_contributions_chart_one_labelled_bar_per_indicator(app_db):
    res, table = _core(app_db)
    con = db.connect(app_db)
    try:
        from quartier.values import indicators

        cat = indicators.catalogue(con)
    finally:
        con.close()
    sid = table["id"].iloc[0]
    cf = explain.contributions_frame(res, sid, cat)
    spec = hc.contributions_chart(cf, "t")
    n = int(cf["Beitrag"].notna().sum())
    assert n == len(res.indicator_ids) >= 5
    y = spec["layer"][0]["encoding"]["y"]
    x = spec["layer"][0]["encoding"]["x"]
    # every indicator its own labelled bar, in the order of the contribution; no label hidden, few ticks
    assert y["sort"] == list(cf.sort_values("Beitrag", ascending=False, kind="stable")["Indikator"])
    assert y["axis"]["labelOverlap"] is False and y["axis"]["labelLimit"] >= 260
    assert x["axis"]["tickCount"] <= 6
    # the plot height grows with the bars; Streamlit fits only the width
    assert spec["height"] == hc.contributions_height(n) >= 30 * n
    assert spec["autosize"]["type"] == "fit-x"


def test_matrix_in_table_order_with_attention(app_db):
    res, _ = _core(app_db)
    counts = explain.status_dynamics_counts(res)
    matrix = explain.status_dynamics_matrix(res)
    m = res.method
    spec = hc.matrix_chart(counts, list(m.classes), list(m.dynamics_classes))
    enc = spec["encoding"]
    assert enc["x"]["sort"] == [c for c in matrix.columns if c in m.dynamics_classes]   # same column order
    assert enc["y"]["sort"] == list(matrix["Status"])                                  # same row order
    assert spec["layer"][0]["encoding"]["color"]["field"] == "Aufmerksamkeit"
    top, worst = m.classes[-1], m.dynamics_classes[-1]
    cell = counts[(counts["Status"] == top) & (counts["Dynamik"] == worst)].iloc[0]
    assert cell["Aufmerksamkeit"] == explain.URGENT
    calm = counts[(counts["Status"] == m.classes[0]) & (counts["Dynamik"] == m.dynamics_classes[0])].iloc[0]
    assert calm["Aufmerksamkeit"] == explain.CALM
    css = hc.matrix_table_styles(matrix, list(m.classes), list(m.dynamics_classes))
    for r in range(len(matrix)):
        for col in m.dynamics_classes:
            text, style = str(matrix.loc[r, col]), css.loc[r, col]
            level = explain.attention(list(m.classes).index(matrix.loc[r, "Status"]), list(m.dynamics_classes).index(col),
                                      len(m.classes), len(m.dynamics_classes))
            assert bool(style) == (level != explain.CALM and not text.startswith("0"))
    assert (css["Status"] == "").all()


def test_page_links_and_matrix_styles(run_page):
    at = run_page(PAGE, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    ranking = next(d for d in at.dataframe if "Indexwert" in d.value.columns)
    assert all(v.startswith("/sozialraeume?sr=") and "&ansicht=steckbrief#" in v for v in ranking.value["Sozialraum"])
    assert '"type_config": {"type": "link"' in ranking.proto.columns or "link" in ranking.proto.columns
    assert any("dringend" in c.value for c in at.caption)


def test_link_opens_the_steckbrief(run_page):
    at = run_page("views/sozialraeume.py", query={"sr": "M04", "ansicht": "steckbrief"})
    assert not at.exception
    assert at.radio(key="sr_ansicht").value == "Steckbrief"
    assert any(s.value.startswith("Steckbrief ") and "(M04)" in s.value for s in at.subheader)


def test_incomplete_year_is_not_ranked(run_page, partial_app_db):
    con = db.connect(partial_app_db)
    try:
        from quartier.demo import hagen
        from quartier.need import method as index_method

        ids = index_method.get_method(con, hagen.DEMO_METHOD_NAME).indicator_ids
        gaps = compute.incomplete_years(con, ids, compute.years_available(con, ids))
    finally:
        con.close()
    assert PARTIAL_YEAR in gaps and PARTIAL_YEAR - 1 not in gaps
    at = run_page(PAGE, session=STAFF)
    assert not at.exception, [e.value for e in at.exception]
    # the page starts with the latest complete year and says why
    assert at.selectbox(key="hb_jahr").value == PARTIAL_YEAR - 1
    assert any(f"{PARTIAL_YEAR} ist unvollständig" in c.value and "5 von 23" in c.value for c in at.caption)
    assert at.dataframe, "the complete year is ranked"
    # choosing the incomplete year: a clear warning and no ranking
    at.selectbox(key="hb_jahr").set_value(PARTIAL_YEAR).run()
    assert not at.exception
    assert any(f"{PARTIAL_YEAR} ist unvollständig" in w.value and "nicht berechnet" in w.value for w in at.warning)
    assert not at.dataframe and not at.tabs


def test_viewer_sees_the_same_year_rule(run_page, partial_app_db):
    viewer = {ACTOR_KEY: access.Actor("gast", access.VIEWER, raw_data=False)}
    at = run_page(PAGE, session=viewer)
    assert not at.exception
    assert at.selectbox(key="hb_jahr").value == PARTIAL_YEAR - 1
    assert isinstance(pd.DataFrame(at.dataframe[0].value), pd.DataFrame)
