"""Shared Streamlit helpers: connection, per-run lookups, data stamp for caches, settings, demo notice.

The page heading with the page guard is ``quartier.ui.guard.page_header``.
"""

from __future__ import annotations

import threading
from types import MappingProxyType

import streamlit as st

from quartier import db

DEMO_NOTICE = (
    "**Beispieldaten** – alle Zahlen und Gebiete dieser Demo sind erfunden bzw. angenähert und "
    "keine amtlichen Angaben der Stadt {stadt}."
)


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    return db.connect(path)


# Per script run: app.py calls begin_run() first and end_run() last. In between, the connection, the
# data stamp and the settings are looked up once instead of on every call (a page asks for them ten to
# twenty times; each lookup is a DuckDB query or a cache hash). A commit in this process (db.generation)
# makes the next data_stamp() ask again, so a page that writes and then reads sees its own write.
_run = threading.local()


def begin_run() -> None:
    _run.memo = {}


def end_run() -> None:
    _run.memo = None


def _memo() -> dict | None:
    return getattr(_run, "memo", None)


def per_run(key, compute):
    """``compute()`` once per script run (every call outside a run of app.py computes afresh)."""
    memo = _memo()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def get_con():
    """The process-wide DuckDB connection (use ``con.cursor()`` or quartier functions per query)."""
    return per_run("con", lambda: _connection(str(db.db_path())))


def _query_stamp() -> int:
    row = get_con().cursor().execute(
        "SELECT coalesce(max(id), 0) FROM audit_log"
        " WHERE aktion NOT IN ('anmeldung', 'anmeldung_fehlgeschlagen', 'abmeldung', 'sitzung_beenden')"
    ).fetchone()
    return int(row[0])


def data_stamp() -> int:
    """Changes with every write (every write is audited): use it as a cache key.

    Logins, logouts and ended sessions are audited too but change no data: they must not empty every
    cache (nor let failed attempts do so), so they do not count.
    """
    memo = _memo()
    if memo is None:
        return _query_stamp()
    gen = db.generation()
    if memo.get("stamp_gen") != gen:
        memo["stamp"], memo["stamp_gen"] = _query_stamp(), gen
    return memo["stamp"]


@st.cache_resource(show_spinner=False, max_entries=4)
def _settings(path: str, stamp: int) -> MappingProxyType:
    # Every settings write is audited, so the data stamp changes with it. Read-only: shared by sessions.
    cur = get_con().cursor()
    return MappingProxyType(dict(cur.execute("SELECT schluessel, wert FROM einstellung").fetchall()))


def setting(key: str, default: str | None = None) -> str | None:
    stamp = data_stamp()
    values = per_run(("einstellungen", stamp), lambda: _settings(str(db.db_path()), stamp))
    value = values.get(key)
    return default if value is None else value


def is_demo() -> bool:
    return setting("demo", "0") == "1"


def city_name() -> str:
    return setting("stadt", "Stadt") or "Stadt"


def view_of(actor):
    """The part of an Actor that shared, cached results depend on: the role and the right to raw values,
    not the person. Twenty Bezirksvertreter logged in as themselves then share one cached view instead of
    computing it twenty times. (Nothing cached may depend on the name.)"""
    from quartier.access import Actor

    if not isinstance(actor, Actor):
        return actor
    return Actor("ansicht", actor.role, raw_data=actor.raw_data)


def arrow(df):
    """A table converted once (inside a cache) for ``st.dataframe``: a pandas frame is converted again on
    every run."""
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def attribution() -> None:
    text = setting("attribution")
    if text:
        st.caption(f"Quellen: {text}")
