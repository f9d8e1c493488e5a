"""Browser tests: a real Streamlit server on the demo database, Debian's Chromium via Playwright, axe-core."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
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


@pytest.fixture(scope="session")
def server(tmp_path_factory, demo_db):
    """Start ``streamlit run app.py`` on a copy of the demo database; yield its base URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium fehlt unter {CHROMIUM}: `make test` installiert Debians chromium.")
    db_file = tmp_path_factory.mktemp("e2e") / "server.duckdb"
    shutil.copy(demo_db, db_file)
    port = _free_port()
    env = dict(os.environ, QUARTIER_DB=str(db_file), QUARTIER_E2E="1")
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("Streamlit-Server startet nicht")
    yield {"url": url, "db": db_file, "proc": proc}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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


def wait_for_app(pg, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the page script."""
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    pg.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout,
    )
    pg.wait_for_timeout(300)


DEMO_LOGINS = {"admin": "demo-administration", "bearbeitung": "demo-bearbeitung", "betrachtung": "demo-betrachtung"}


def login(pg, server, user: str = "admin", password: str | None = None, path: str = "") -> None:
    """Open ``path`` and log in through the login form (demo accounts by default)."""
    pg.goto(f"{server['url']}/{path}")
    wait_for_app(pg)
    if pg.get_by_text("Bitte zuerst anmelden").count():
        # first run after a server start: Streamlit's old multipage mode ran the page directly
        pg.goto(f"{server['url']}/")
        wait_for_app(pg)
        pg.goto(f"{server['url']}/{path}")
        wait_for_app(pg)
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

    A login lives in the browser session: every ``goto`` starts a new session, so it logs in again.
    """
    pg.goto(f"{server['url']}/{path}")
    wait_for_app(pg)
    if user and (pg.get_by_label("Benutzername").count() or pg.get_by_text("Bitte zuerst anmelden").count()):
        login(pg, server, user, path=path)


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
