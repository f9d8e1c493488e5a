"""In the browser: an editor's HTML in "Federführung" and Markdown in a "Begründung" stay text (issue 20, item 4).

A server of its own on a demo copy in which HE-01 carries the attack (the shared server's database must stay as it is).
The DOM of /wirkungsblick?id=HE-01 and of the recommendation's history must hold no link to the attacker's site, no
external image and no overlay element from the stored text.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request

import pytest

from quartier import db
from quartier.access import EDITOR, Actor
from quartier.actions import store
from tests.e2e.conftest import ROOT, _free_port, assert_no_exception, open_page, wait_for_app

EVIL_HTML = ('<div id="evil-overlay" style="position:fixed;inset:0;background:#fff;z-index:99999">Sitzung abgelaufen: '
             '<a href="https://evil.example/login">hier neu anmelden</a><img src="https://evil.example/p.png"></div>')
EVIL_MD = "Abgestimmt: [hier neu anmelden](https://evil.example/login) ![x](https://evil.example/p.png)"
DOM_CHECK = """() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => h.includes('evil.example')),
  images: [...document.querySelectorAll('img[src]')].map(i => i.src).filter(s => !s.startsWith(location.origin) && !s.startsWith('data:')),
  overlay: !!document.getElementById('evil-overlay'),
})"""


@pytest.fixture(scope="module")
def poisoned_server(tmp_path_factory, demo_db):
    path = tmp_path_factory.mktemp("inj") / "server.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    store.update(con, Actor("m.schneider", EDITOR), "HE-01", {"federfuehrung": EVIL_HTML}, justification=EVIL_MD)
    con.close()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=dict(os.environ, QUARTIER_DB=str(path), QUARTIER_E2E="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # the health endpoint answers once the server listens (no fixed sleep: each try blocks)
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("Streamlit-Server startet nicht")
            try:
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
    yield {"url": url}
    proc.terminate()
    proc.wait(timeout=10)


def test_wirkungsblick_dom_has_no_link_image_or_overlay_from_user_text(poisoned_server, page):
    external = []
    page.on("request", lambda req: external.append(req.url) if "evil.example" in req.url else None)
    open_page(page, poisoned_server, "wirkungsblick?id=HE-01", user="betrachtung")
    page.get_by_text("Sitzung abgelaufen").first.wait_for(timeout=60_000)  # the stored text is shown, as text
    wait_for_app(page)
    assert_no_exception(page)
    found = page.evaluate(DOM_CHECK)
    assert found == {"links": [], "images": [], "overlay": False}, found
    assert external == []


def test_history_dom_has_no_link_or_image_from_the_begruendung(poisoned_server, page):
    external = []
    page.on("request", lambda req: external.append(req.url) if "evil.example" in req.url else None)
    open_page(page, poisoned_server, "empfehlungen?id=HE-01", user="bearbeitung")
    page.get_by_role("tab", name="Verlauf").click()
    page.get_by_text("Abgestimmt:").first.wait_for(timeout=60_000)  # the Begründung, shown as text
    wait_for_app(page)
    assert_no_exception(page)
    found = page.evaluate(DOM_CHECK)
    assert found == {"links": [], "images": [], "overlay": False}, found
    assert external == []
