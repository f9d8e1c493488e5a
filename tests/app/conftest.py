"""AppTest helpers: run the real app.py on a demo database and switch to a page."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from quartier.access import ADMIN, Actor
from quartier.ui.pages import PAGES
from quartier.ui.session import ACTOR_KEY

APP = Path(__file__).resolve().parents[2] / "app.py"
TEST_ADMIN = Actor("test-admin", ADMIN, raw_data=True)  # logged in for every page unless a test says otherwise


def url_path(page_file: str) -> str:
    """The address ``st.navigation`` gives a page file (its hash names the page, also for the start page)."""
    for spec in PAGES:
        if spec.file == page_file:
            return spec.url_path
    raise ValueError(f"{page_file} is no registered page")


@pytest.fixture
def app_db(demo_copy, monkeypatch):
    monkeypatch.setenv("QUARTIER_DB", str(demo_copy))
    return demo_copy


@pytest.fixture(autouse=True, scope="session")
def _components_scanned_once():
    """Every AppTest scans all installed distributions for Streamlit component manifests (about 0.2 s CPU per
    test); the installed packages do not change during a test run, so the first answer serves all."""
    from streamlit.components.v2 import manifest_scanner

    original = manifest_scanner.scan_component_manifests
    manifest_scanner.scan_component_manifests = functools.lru_cache(maxsize=1)(original)
    yield
    manifest_scanner.scan_component_manifests = original


@pytest.fixture(autouse=True, scope="session")
def _script_end_awaited_not_polled():
    """AppTest waits for a page run by waking every millisecond to look through the run's events; each wake
    takes the interpreter lock from the script thread it is waiting for. Joining the script thread waits for
    the same moment (the runner emits SHUTDOWN before its thread returns) without the wakes. A run that does
    not finish in time still fails with AppTest's own error."""
    from streamlit.testing.v1 import local_script_runner as lsr

    original = lsr.require_widgets_deltas

    def wait_for_script_end(runner, timeout: float = 3) -> None:
        thread = getattr(runner, "_script_thread", None)
        if thread is not None:
            thread.join(timeout)
        if runner.script_stopped():
            return
        original(runner, timeout=0.001)  # not finished: AppTest stops the run and raises its timeout error

    lsr.require_widgets_deltas = wait_for_script_end
    yield
    lsr.require_widgets_deltas = original


def _content_key(db_file: str) -> str:
    """The bytes of a database file (and its WAL): equal for untouched copies of one fixture database."""
    h = hashlib.blake2b(digest_size=16)
    for f in (Path(db_file), Path(db_file + ".wal")):
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()


_CACHES: dict[str, str | None] = {"content": None}  # the database content the page caches were filled from


@pytest.fixture(autouse=True)
def _page_caches_follow_the_content(request):
    """Page caches are keyed by the data stamp (the newest audit entry): unique for the one database a server
    uses, but not across the many databases a test worker opens. Untouched copies of one fixture database have
    the same content, so their tests share the caches (each page computed once per worker, not once per test);
    a database with other content, or one a test wrote to, empties them before the next page run."""
    opened: list[str] = []
    if "run_page" not in request.fixturenames:  # runs AppTest its own way: always from empty caches
        import streamlit as st

        st.cache_data.clear()
        _CACHES["content"] = None
    yield opened
    for db_file in opened:
        if _content_key(db_file) != _CACHES["content"]:
            _CACHES["content"] = None  # written during the test: the next page run starts with empty caches


def _caches_for(db_file: str) -> None:
    import streamlit as st

    key = _content_key(db_file)
    if key != _CACHES["content"]:
        st.cache_data.clear()
        _CACHES["content"] = key


@pytest.fixture
def run_page(app_db, _page_caches_follow_the_content):
    """Return a function that runs app.py, switches to ``page_file`` and returns the AppTest."""

    def _run(page_file: str, query: dict | None = None, session: dict | None = None, actor=TEST_ADMIN) -> AppTest:
        """``actor``: who is logged in (default an administrator; ``None`` = nobody, the login page shows)."""
        db_file = os.environ["QUARTIER_DB"]
        _caches_for(db_file)
        _page_caches_follow_the_content.append(db_file)
        at = AppTest.from_file(str(APP), default_timeout=60)
        if actor is not None:
            at.session_state[ACTOR_KEY] = actor
        for k, v in (session or {}).items():
            at.session_state[k] = v
        for k, v in (query or {}).items():
            at.query_params[k] = v
        if actor is not None:
            # straight to the page, as a link or bookmark opens it: the address names the page
            at._page_hash = calc_hash(url_path(page_file))  # noqa: SLF001 - AppTest has no public "open at"
        at.run()
        return at

    return _run
