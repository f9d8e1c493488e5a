"""What a viewer sees on the pages: no numerator below the minimum case count, protected cells marked;
staff see the raw values on the same page."""

from __future__ import annotations

import pandas as pd

from quartier.access import VIEWER, Actor

SEL = {"sel_indikator": "ohne_abschluss", "sel_jahr": 2025}


def _map_table(at) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if {"sozialraum_id", "zaehler", "gesperrt"} <= set(d.value.columns)]
    assert frames, "Kartentabelle fehlt"
    return frames[0]


def test_map_table_for_viewer_and_staff(run_page):
    viewer = run_page("views/karte.py", session=SEL, actor=Actor("bv", VIEWER))
    assert not viewer.exception
    t = _map_table(viewer)
    z = pd.to_numeric(t["zaehler"], errors="coerce")
    assert not ((z > 0) & (z < 3)).any()                     # no small numerator reaches the viewer
    locked = t["gesperrt"].astype(str).str.strip().isin(["ja", "•", "True", "1"])
    assert locked.sum() >= 2                                 # primary plus secondary suppression
    assert z[locked].isna().all() and pd.to_numeric(t.loc[locked, "wert"], errors="coerce").isna().all()

    staff = run_page("views/karte.py", session=SEL)            # administrator (raw values)
    zs = pd.to_numeric(_map_table(staff)["zaehler"], errors="coerce")
    assert ((zs > 0) & (zs < 3)).any()


def test_recommendation_indicator_table_gives_viewers_the_city_value(run_page):
    """HE-06 is linked to ohne_abschluss (many protected areas): the city value is still shown (from the
    protected table), protected areas show •, no small numerator appears."""
    from quartier.ui.session import ACTOR_KEY

    at = run_page("views/empfehlungen.py", session={ACTOR_KEY: Actor("gast", VIEWER)}, actor=Actor("gast", VIEWER))
    at.selectbox(key="emp_id").select("HE-06").run()
    assert not at.exception
    tables = [d.value for d in at.dataframe if "Gesamtstadt" in d.value.columns]
    assert tables, "Kennzahlentabelle fehlt"
    city = pd.concat(tables)["Gesamtstadt"]
    assert city.str.contains(r"\d", regex=True).all()  # a number in every year, never empty or •
