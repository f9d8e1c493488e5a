"""Shared widgets: indicator and year choice kept in session state across pages."""

from __future__ import annotations

import streamlit as st

from quartier.ui.common import data_stamp, get_con
from quartier.values import indicators

INDICATOR_KEY = "sel_indikator"
YEAR_KEY = "sel_jahr"


@st.cache_data(show_spinner=False)
def _catalogue(stamp: int):
    return indicators.catalogue(get_con())


@st.cache_data(show_spinner=False)
def _years(stamp: int, indicator_id: str | None):
    cur = get_con().cursor()
    if indicator_id:
        rows = cur.execute("SELECT DISTINCT jahr FROM messwert_aktuell WHERE indikator_id = ? ORDER BY jahr", [indicator_id])
    else:
        rows = cur.execute("SELECT DISTINCT jahr FROM messwert_aktuell ORDER BY jahr")
    return [r[0] for r in rows.fetchall()]


def catalogue():
    return _catalogue(data_stamp())


def indicator_select(container=None, *, need_direction: bool = False, label: str = "Indikator") -> str | None:
    """Select box for one indicator; the choice is shared between pages (session state)."""
    c = container or st.sidebar
    cat = catalogue()
    if need_direction:
        cat = cat[cat["richtung"].notna()]
    if cat.empty:
        c.warning("Noch keine Indikatoren geladen.")
        return None
    ids = list(cat["id"])
    names = dict(zip(cat["id"], cat["name"]))
    if st.session_state.get(INDICATOR_KEY) not in ids:
        default = indicators.default_indicator(get_con())
        st.session_state[INDICATOR_KEY] = default if default in ids else ids[0]
    return c.selectbox(label, ids, format_func=lambda i: names.get(i, i), key=INDICATOR_KEY)


def year_select(indicator_id: str | None, container=None, label: str = "Jahr") -> int | None:
    c = container or st.sidebar
    years = _years(data_stamp(), indicator_id)
    if not years:
        c.warning("Für diesen Indikator liegen keine Werte vor.")
        return None
    if st.session_state.get(YEAR_KEY) not in years:
        st.session_state[YEAR_KEY] = years[-1]
    return c.selectbox(label, years, key=YEAR_KEY)
