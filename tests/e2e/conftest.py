"""Browser tests: a real Streamlit server on the demo database, Debian's Chromium via Playwright, axe-core."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("QUARTIER_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(tmp_path_factory, db_file: Path):
    """Start ``streamlit run server.py`` (app.py with the session-cookie routes) on ``db_file``; yield
    ``{"url", "db", "proc"}``; stop it afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium fehlt unter {CHROMIUM}: `make test` installiert Debians chromium.")
    port = _free_port()
    env = dict(os.environ, QUARTIER_DB=str(db_file), QUARTIER_E2E="1")
    log_path = tmp_path_factory.mktemp("log") / "streamlit.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
    )
    listening = threading.Event()

    def copy_log() -> None:
        """Copy the server's output to the log; Streamlit prints its URL once it accepts connections."""
        with open(log_path, "w", encoding="utf-8") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if "URL:" in line:
                    listening.set()
        listening.set()  # the process ended

    threading.Thread(target=copy_log, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    listening.wait(timeout=60)
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
            healthy = r.status == 200
    except OSError:
        healthy = False
    if not healthy:
        proc.kill()
        pytest.fail(f"Streamlit-Server startet nicht (Log: {log_path})")
    yield {"url": url, "db": db_file, "proc": proc}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory, demo_db):
    """Start ``streamlit run server.py`` on a copy of the demo database; yield its base URL."""
    db_file = tmp_path_factory.mktemp("e2e") / "server.duckdb"
    shutil.copy(demo_db, db_file)
    yield from _start_server(tmp_path_factory, db_file)


@pytest.fixture(scope="session")
def city2_server(tmp_path_factory, city2_db):
    """A server on a copy of the second city (tests/city2.py: Musterstadt, no demo accounts: log in with
    ``city2.ADMIN_USER``/``city2.ADMIN_PASSWORD``)."""
    db_file = tmp_path_factory.mktemp("e2e-city2") / "server.duckdb"
    shutil.copy(city2_db, db_file)
    yield from _start_server(tmp_path_factory, db_file)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    pg = ctx.new_page()
    yield pg
    ctx.close()


# Streamlit has finished the script run and drawn its result: the run state is "notRunning" (before the first
# run it is "initial"), the connection is up, no element of the previous run is still marked stale, and no
# widget still shows the placeholder it has while its code loads (the login form's fields, for instance).
APP_IDLE_JS = """() => {
  const a = document.querySelector('[data-testid="stApp"]');
  return !!a && a.getAttribute('data-test-script-state') === 'notRunning'
    && a.getAttribute('data-test-connection-state') === 'CONNECTED'
    && !document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')
    && !document.querySelector('[data-testid="stElementContainer"] > [data-testid="stSkeleton"],'
                               + ' [data-testid="stSkeletonElement"], [data-testid="stAppSkeleton"]');
}"""


def wait_for_app(pg, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the page script and removed what the run did not redraw.

    After a click or key press the rerun starts a moment later: wait for what the rerun shows (a text, a
    heading, the URL) first, then call this.
    """
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    pg.wait_for_function(APP_IDLE_JS, timeout=timeout)


DEMO_LOGINS = {"admin": "demo-administration", "bearbeitung": "demo-bearbeitung", "betrachtung": "demo-betrachtung"}


SESSION_COOKIE = "quartier_sitzung"


def forget_login(pg) -> None:
    """Drop the browser's session cookie: the next page load asks for the password again."""
    pg.context.clear_cookies(name=SESSION_COOKIE)


def login(pg, server, user: str = "admin", password: str | None = None, path: str = "") -> None:
    """Open ``path`` and log in through the login form (demo accounts by default; a stored login is dropped)."""
    forget_login(pg)
    pg.goto(f"{server['url']}/{path}")
    wait_for_app(pg)
    pg.get_by_label("Benutzername").wait_for(timeout=30_000)
    submit_login(pg, user, password)


def submit_login(pg, user: str = "admin", password: str | None = None) -> None:
    """Fill in and send the login form shown on the current page; wait until logged in or refused."""
    secret = DEMO_LOGINS.get(user, "") if password is None else password
    # logged in (the login form's heading is gone; the sidebar may be hidden, as in presentation mode)
    # or refused (error message)
    done_js = ("() => !!document.querySelector('[data-testid=\"stAlertContentError\"]')"
               " || ![...document.querySelectorAll('h1')].some(h => h.innerText.trim() === 'Anmeldung')")
    for attempt in range(3):
        # On a loaded machine the form can be re-rendered while Playwright types; then the submit carries
        # empty fields and nothing happens. Check the typed values, and submit again if no answer comes.
        name_field = pg.get_by_label("Benutzername")
        pass_field = pg.get_by_label("Passwort", exact=True)
        name_field.fill(user)
        pass_field.fill(secret)
        expect(name_field).to_have_value(user)
        expect(pass_field).to_have_value(secret)
        pg.get_by_role("button", name="Anmelden").click()
        try:
            pg.wait_for_function(done_js, timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            wait_for_app(pg)
    wait_for_app(pg)


def open_page(pg, server, path: str = "", user: str | None = "admin") -> None:
    """Open a page; if the login form shows, log in (as ``user``, default the demo administrator).

    Every call starts a new browser session without the stored login (the session cookie is dropped), so it
    logs in again.
    """
    forget_login(pg)
    pg.goto(f"{server['url']}/{path}")
    wait_for_app(pg)
    if user:  # a new browser session: the login form shows at every address
        pg.get_by_label("Benutzername").wait_for(timeout=30_000)
        submit_login(pg, user)


def assert_no_exception(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0, pg.locator('[data-testid="stException"]').first.inner_text()


def axe_violations(pg, impacts=("serious", "critical")) -> list[dict]:
    """Inject axe-core and return the serious/critical violations (WCAG 2.1 A/AA rules)."""
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"] if v["impact"] in impacts
    ]


def screenshot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(out), full_page=True)
    return out
