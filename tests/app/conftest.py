"""AppTest helpers: run the real app.py on a demo database and switch to a page."""

from __future__ import annotations

import functools
import hashlib
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from quartier.access import ADMIN, Actor
from quartier.ui.pages import PAGES
from quartier.ui.session import ACTOR_KEY

APP = Path(__file__).resolve().parents[2] / "app.py"
TEST_ADMIN = Actor("test-admin", ADMIN, raw_data=True)  # logged in for every page unless a test says otherwise


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_on_import_page(path: Path, actor: Actor) -> AppTest:
    """The Daten-Import page as ``actor`` (on the database ``QUARTIER_DB`` names) after dropping ``path`` on it."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state[ACTOR_KEY] = actor
    at.run()
    at.switch_page("views/daten_import.py")
    at.run()
    at.file_uploader[0].set_value((path.name, path.read_bytes(), XLSX))
    at.run()
    assert not at.exception, at.exception
    return at


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


@pytest.fixture
def partial_app_db(app_db, partial_demo_db):
    """The pages' database after the partial delivery (tests/coverage_files.py), copied from the one import
    per test run; equal copies also share the page caches."""
    shutil.copy(partial_demo_db, app_db)
    return app_db


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


@pytest.fixture(autouse=True, scope="session")
def _stamps_name_the_content():
    """Page caches are keyed by the data stamp (the newest audit entry): unique for the one database a server
    uses, but not across the many databases a test worker opens (two copies that were written differently can
    reach the same audit id). In the tests the stamp therefore names the database content: when a database shows
    an audit id for the first time, the bytes of its file are hashed, and equal contents get equal stamps. So the
    tests on untouched copies of one fixture database share the page caches (each page is computed once per
    worker), a test that writes gets new stamps, and no cache is ever emptied between tests.

    Stamps still only grow along one database's writes (new content, higher number), as the product's do."""
    from quartier import db
    from quartier.ui import common

    original = common._query_stamp  # noqa: SLF001 - the one seam between the audit log and the page caches
    seen: dict[tuple[str, int], int] = {}  # (database file, audit id) -> stamp
    numbers: dict[str, int] = {}  # content -> stamp

    def stamp_of_content() -> int:
        path = str(db.db_path())
        key = (path, original())
        if key not in seen:
            content = _content_key(path)
            seen[key] = numbers.setdefault(content, len(numbers) + 1)
        return seen[key]

    common._query_stamp = stamp_of_content  # noqa: SLF001
    yield
    common._query_stamp = original  # noqa: SLF001


@pytest.fixture
def run_page(app_db):
    """Return a function that runs app.py, switches to ``page_file`` and returns the AppTest."""

    def _run(page_file: str, query: dict | None = None, session: dict | None = None, actor=TEST_ADMIN) -> AppTest:
        """``actor``: who is logged in (default an administrator; ``None`` = nobody, the login page shows)."""
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
