"""Foundation budgets: ``demo`` under 30 s; from ``streamlit run`` to the first page rendered in Chromium under 5 s.

- ``demo_build_s``: ``python -m quartier demo`` into a fresh file (geometry, catalogue, five deliveries through
  the importer, recommendations, index method, demo accounts).
- ``startup_to_first_page_s``: start ``streamlit run app.py`` on a free loopback port and open it in Debian's
  Chromium (headless) at once; time until the first page (the login form, as for every new visitor) has
  finished rendering. Includes the Python start-up and imports of the server.

Run alone: ``python -m bench.bench_startup``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEAT = 1
BUDGETS = {"demo_build_s": 30.0, "startup_to_first_page_s": 5.0}
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _startup(db: Path, browser) -> float:
    port = _free_port()
    env = dict(os.environ, QUARTIER_DB=str(db))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = browser.new_page()
        while True:  # the browser retries until the server listens, as a user pressing reload would
            try:
                page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                break
            except Exception:  # noqa: BLE001 - connection refused while the server starts
                if time.perf_counter() - t0 > 60:
                    raise
                time.sleep(0.05)
        page.wait_for_function(
            "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
            " return a && a.getAttribute('data-test-script-state') === 'notRunning'"
            " && document.querySelector('h1'); }", timeout=60_000)
        elapsed = time.perf_counter() - t0
        page.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run() -> dict:
    from playwright.sync_api import sync_playwright

    quick = os.environ.get("QUARTIER_BENCH_QUICK") == "1"
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "quartier", "demo", "--db", str(db)], cwd=ROOT, check=True,
                       capture_output=True)
        demo_s = time.perf_counter() - t
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            starts = [_startup(db, browser) for _ in range(2 if quick else 5)]
            browser.close()
    return {"demo_build_s": demo_s, "startup_to_first_page_s": starts}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
