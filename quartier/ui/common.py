"""Shared Streamlit helpers: connection, data stamp for caches, page header, demo notice."""

from __future__ import annotations

import streamlit as st

from quartier import db

DEMO_NOTICE = (
    "**Beispieldaten** – alle Zahlen und Gebiete dieser Demo sind erfunden bzw. angenähert und "
    "keine amtlichen Angaben der Stadt Hagen."
)


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    return db.connect(path)


def get_con():
    """The process-wide DuckDB connection (use ``con.cursor()`` or quartier functions per query)."""
    return _connection(str(db.db_path()))


def data_stamp() -> int:
    """Changes with every write (every write is audited): use it as a cache key.

    Logins are audited too but change no data: they must not empty every cache (nor let failed
    attempts do so), so they do not count.
    """
    row = get_con().cursor().execute(
        "SELECT coalesce(max(id), 0) FROM audit_log WHERE aktion NOT IN ('anmeldung', 'anmeldung_fehlgeschlagen')"
    ).fetchone()
    return int(row[0])


def setting(key: str, default: str | None = None) -> str | None:
    return db.get_setting(get_con(), key, default)


def is_demo() -> bool:
    return setting("demo", "0") == "1"


def city_name() -> str:
    return setting("stadt", "Stadt") or "Stadt"


def page_header(title: str, intro: str | None = None) -> None:
    """Page heading, optional intro and the demo-data notice on every view.

    Also the page-level access check: without a login, or below the page's ``min_role``, the page stops here.
    """
    import sys

    from quartier.ui.session import guard_page

    guard_page(sys._getframe(1).f_code.co_filename)
    st.title(title)
    if is_demo():
        st.info(DEMO_NOTICE, icon=":material/info:")
    if intro:
        st.markdown(intro)


def attribution() -> None:
    text = setting("attribution")
    if text:
        st.caption(f"Quellen: {text}")
