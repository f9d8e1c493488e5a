"""Shared widgets: indicator, year and Stadtbezirk choice kept in session state across pages."""

from __future__ import annotations

import streamlit as st

from quartier.ui.common import data_stamp, get_con
from quartier.values import indicators

INDICATOR_KEY = "sel_indikator"   # widget keys (Streamlit drops them on pages without the widget) ...
YEAR_KEY = "sel_jahr"
STORE_INDICATOR = "filter:indikator"  # ... the choice itself lives under these keys for the whole session
STORE_YEAR = "filter:jahr"
STORE_BEZIRK = "filter:bezirk"


def persist(store_key: str, widget_key: str, on_change=None) -> dict:
    """Keyword arguments (``key``, ``on_change``) for a widget whose value lives in
    ``st.session_state[store_key]``, a key no widget owns.

    Streamlit removes a widget's key from the session state at the end of every run in which the widget
    is not drawn (another page, or the same page in another mode); code that reads the widget key then
    fails (``KeyError``) or forgets the user's choice. The store key survives: before the widget is
    drawn its value is copied into the widget key, and every change is copied back (before the page
    script runs, so callbacks already see it).
    """
    if store_key in st.session_state:
        st.session_state[widget_key] = st.session_state[store_key]
    elif widget_key in st.session_state:
        st.session_state[store_key] = st.session_state[widget_key]

    def _copy() -> None:
        st.session_state[store_key] = st.session_state[widget_key]
        if on_change is not None:
            on_change()

    return {"key": widget_key, "on_change": _copy}


def shared_bezirk(default=None):
    """The Stadtbezirk chosen last on any page of this session: its id, ``None`` for the whole city
    (chosen explicitly), or ``default`` when none was chosen yet."""
    return st.session_state.get(STORE_BEZIRK, default)


def set_shared_bezirk(bezirk_id: str | None) -> None:
    """Remember a district chosen on a page (or from a link) for the other pages; ``None`` = whole city."""
    st.session_state[STORE_BEZIRK] = bezirk_id


def persist_bezirk(widget_key: str, options, *, whole_city=None, on_change=None) -> dict:
    """Keyword arguments (``key``, ``on_change``) for a Stadtbezirk select box that shares its choice with the
    other pages (:data:`STORE_BEZIRK`, like :func:`persist`). ``whole_city``: the option that means "no district"
    (``""``, ``"__stadt__"``), stored as ``None``. A stored district the box does not offer is left alone."""
    options = list(options)
    if STORE_BEZIRK in st.session_state:
        stored = st.session_state[STORE_BEZIRK]
        value = whole_city if stored is None else stored
        if value in options:
            st.session_state[widget_key] = value
    elif st.session_state.get(widget_key) in options:
        set_shared_bezirk(None if st.session_state[widget_key] == whole_city else st.session_state[widget_key])

    def _copy() -> None:
        v = st.session_state[widget_key]
        set_shared_bezirk(None if v == whole_city else v)
        if on_change is not None:
            on_change()

    return {"key": widget_key, "on_change": _copy}


@st.cache_data(show_spinner=False)
def _catalogue(stamp: int):
    return indicators.catalogue(get_con())


@st.cache_data(show_spinner=False)
def _years(stamp: int, indicator_id: str | None):
    from quartier.values import query

    return query.years(get_con(), [indicator_id] if indicator_id else None)  # on today's areas (Gebietsstände)


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
    if st.session_state.get(STORE_INDICATOR, st.session_state.get(INDICATOR_KEY)) not in ids:
        default = indicators.default_indicator(get_con())
        st.session_state[STORE_INDICATOR] = default if default in ids else ids[0]
    return c.selectbox(label, ids, format_func=lambda i: names.get(i, i), **persist(STORE_INDICATOR, INDICATOR_KEY))


def year_select(indicator_id: str | None, container=None, label: str = "Jahr") -> int | None:
    c = container or st.sidebar
    years = _years(data_stamp(), indicator_id)
    if not years:
        c.warning("Für diesen Indikator liegen keine Werte vor.")
        return None
    if st.session_state.get(STORE_YEAR, st.session_state.get(YEAR_KEY)) not in years:
        st.session_state[STORE_YEAR] = years[-1]
    return c.selectbox(label, years, **persist(STORE_YEAR, YEAR_KEY))
