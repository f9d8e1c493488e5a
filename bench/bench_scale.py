"""Scale: page script times, 20 concurrent browser sessions, server memory and map payload at three sizes.

Sizes: the demo city (23 Sozialräume x 15 indicators x 11 years) and synthetic cities of 1,000 and
10,000 Sozialräume x 60 indicators x 20 years (``python -m quartier synth``; ``--quick``: demo and
1,000 only, fewer repetitions). Synthetic databases are cached under ``$QUARTIER_BENCH_CACHE``
(default ``/tmp/quartier_bench``) and copied before every use, so runs never change them.
``QUARTIER_BENCH_SIZES=demo,1000,10000`` picks sizes. The load clients log in with 21 own accounts of the
role Betrachtung (bv01 ... bv21, created in the copy of the database), as the members of a Bezirksvertretung
would; ``QUARTIER_BENCH_USER``/``_PASSWORD`` make them all use one given account instead. ``QUARTIER_BENCH_PARTS=pages,ws,browser``
picks parts (default all): ``ws`` alone re-measures the concurrent sessions with websocket clients only.

(a) every registered page (``quartier.ui.pages.PAGES``) through ``AppTest`` in a fresh process per
    size: first (cold) run and the median of the repeated runs after it (warm caches, as a server
    that is already running); (b) ``streamlit run app.py`` on a free loopback port: three waves of
    20 websocket clients (the Streamlit protocol, logging in through the form in the same second)
    opening the start page and then the map page (p50/p95 per wave: the server's answer times and its
    CPU per session), then 20 browser contexts of one Chromium doing the same, timed until the script
    has finished without an exception (they share the 2 cores with the server, so their times are mostly
    the tabs' rendering), then one session that visits every page once (``tour_*_first_s``: first visit
    after an import, cold caches); (c) peak RSS (VmHWM) of the AppTest
    process and of the server after these sessions (``server_*_peak_rss_mb``), and again after the tour and
    one more wave (``server_*_full_use_peak_rss_mb``: every page's caches filled); (d) bytes of the pydeck
    spec the map page sends.

Run alone: ``python -m bench.bench_scale [--quick]``; one size of (a): ``python -m bench.bench_scale
pages DB.duckdb``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = os.environ.get("QUARTIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
CACHE = Path(os.environ.get("QUARTIER_BENCH_CACHE", "/tmp/quartier_bench"))
SIZES_FULL = [("demo", None), ("1000", (1000, 60, 20)), ("10000", (10000, 60, 20))]
SIZES_QUICK = [("demo", None), ("1000", (1000, 60, 20))]
SESSIONS = 20
REPEAT = 1  # run() repeats internally and returns lists of samples
BUDGETS = {
    "pages_demo_max_median_ms": 300,
    "pages_10000_max_median_ms": 1500,
    # The p95 budget is checked on the websocket clients: they measure the server. The 20 Chromium tabs
    # (sessions_*) run on the same 2 cores as the server, so their times are mostly the tabs' own rendering
    # (in a meeting every participant brings a device); for them only "no errors" is a budget.
    "sessions_demo_errors": 0,
    "ws_demo_p95_s": 3.0,
    "ws_demo_errors": 0,
    "server_10000_peak_rss_mb": 1024,
}


def _parts() -> set[str]:
    """``QUARTIER_BENCH_PARTS``: pages (AppTest), ws (websocket clients), browser (Chromium), multi (the
    websocket waves against two instances, demo city only); default all."""
    raw = os.environ.get("QUARTIER_BENCH_PARTS", "")
    return {x.strip() for x in raw.split(",") if x.strip()} or {"pages", "ws", "browser", "multi"}


def _quick() -> bool:
    return os.environ.get("QUARTIER_BENCH_QUICK") == "1"


def _log(msg: str) -> None:
    print(f"[bench_scale] {msg}", file=sys.stderr, flush=True)


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """Peak resident set size (VmHWM) of a process in MiB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def percentile(xs: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


# ------------------------------------------------------------------------------------------------
# Databases


def _build_db(label: str, size) -> tuple[Path, float | None]:
    """A cached database for ``label``; returns (path, build seconds or None when cached)."""
    from quartier import access, db

    CACHE.mkdir(parents=True, exist_ok=True)
    if size is None:
        path = CACHE / "demo.duckdb"
    else:
        n, k, y = size
        path = CACHE / f"synth_{n}_{k}_{y}_s1.duckdb"
    if path.exists():
        return path, None
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = db.connect(tmp)
    try:
        if size is None:
            from quartier.demo import hagen as demo

            with tempfile.TemporaryDirectory() as out:
                demo.build(con, force=True, out_dir=Path(out))
        else:
            from quartier.demo import synth

            synth.build(con, *size, seed=1, actor=access.cli_actor("bench"), force=True)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    secs = time.perf_counter() - t0
    tmp.rename(path)
    return path, secs


def _copy(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    return dst


# ------------------------------------------------------------------------------------------------
# (a) Page script run times with AppTest (one process per size)


def pages_worker(db_path: str, repeats: int) -> dict:
    """In this process: every page once cold, then ``repeats`` warm runs; peak RSS at the end."""
    os.environ["QUARTIER_DB"] = db_path
    from streamlit.testing.v1 import AppTest

    from quartier.access import ADMIN, Actor
    from quartier.ui.pages import PAGES
    from quartier.ui.session import ACTOR_KEY

    out = {"pages": {}, "rss_start_mb": vm_hwm_mb()}
    at = AppTest.from_file(str(APP), default_timeout=float(os.environ.get("QUARTIER_BENCH_PAGE_TIMEOUT", "600")))
    at.session_state[ACTOR_KEY] = Actor("bench", ADMIN, raw_data=True)
    t0 = time.perf_counter()
    at.run()
    first_ms = (time.perf_counter() - t0) * 1000  # the default page (PAGES[0]) with cold caches
    for i, spec in enumerate(PAGES):
        rec = {"title": spec.title, "file": spec.file}
        try:
            at.switch_page(spec.file)
            t0 = time.perf_counter()
            at.run()
            rec["cold_ms"] = first_ms if i == 0 else (time.perf_counter() - t0) * 1000
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - t0) * 1000)
            rec["warm_ms"] = times
            rec["exceptions"] = [e.message[:300] for e in at.exception]
            rec["titles"] = [t.value for t in at.title][:1]
            decks = [len(el.proto.json.encode("utf-8")) for el in at.get("deck_gl_json_chart")
                     if getattr(el, "proto", None) is not None]
            if decks:
                rec["deck_bytes"] = sum(decks)
        except Exception as exc:  # noqa: BLE001 - report per page, keep going
            rec["error"] = f"{type(exc).__name__}: {exc}"[:500]
        out["pages"][spec.url_path] = rec
        _log(f"  {spec.url_path}: kalt {rec.get('cold_ms', float('nan')):.0f} ms, warm "
             f"{', '.join(f'{x:.0f}' for x in rec.get('warm_ms', []))} ms {rec.get('error') or ''}")
    out["peak_rss_mb"] = vm_hwm_mb()
    return out


def _pages(db_src: Path, repeats: int, tmp: Path) -> dict:
    db = _copy(db_src, tmp)
    proc = subprocess.run([sys.executable, "-m", "bench.bench_scale", "pages", str(db), "--repeats", str(repeats)],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"AppTest-Lauf fehlgeschlagen: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------
# (b) Concurrent browser sessions against a real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_path: Path, log_path: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, QUARTIER_DB=str(db_path))
        self.log = open(log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Streamlit-Server beendet (Code {self.proc.returncode})")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Streamlit-Server antwortet nicht auf /_stcore/health")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


_DONE_JS = (
    "(prev) => { const a = document.querySelector('[data-testid=\"stApp\"]');"
    " if (!a || a.getAttribute('data-test-script-state') !== 'notRunning') return false;"
    " if (document.querySelector('[data-testid=\"stException\"]')) return 'exception';"
    " const h = document.querySelector('h1'); const t = h ? h.innerText.trim() : '';"
    " if (document.querySelector('input[type=\"password\"]') || t === 'Anmeldung') return 'login';"
    " return (t && t !== prev) ? 'ok' : false; }"
)


async def _wait_done(pg, timeout_ms: float, prev_title: str = "") -> str:
    """Wait until the script run has finished and a page title other than ``prev_title`` shows.

    Re-checks shortly after, because Streamlit can report ``notRunning`` between two runs (around
    st.rerun, or while the browser is still rendering under load). Sets ``pg._done_at`` to the moment
    the final state was first seen, so the re-check does not count towards the measured time."""
    state = "timeout"
    for _ in range(5):
        handle = await pg.wait_for_function(_DONE_JS, arg=prev_title, timeout=timeout_ms, polling=50)
        state = await handle.json_value()
        seen = time.perf_counter()
        await pg.wait_for_timeout(250)
        if await pg.evaluate(_DONE_JS, prev_title) == state:
            pg._done_at = seen
            return state
    pg._done_at = time.perf_counter()
    return state


async def _title(pg) -> str:
    return await pg.evaluate("() => { const h = document.querySelector('h1'); return h ? h.innerText.trim() : ''; }")


async def _login(pg, timeout_ms: float) -> str:
    """Fill the app's login form (account from :func:`_login_account`) and wait for the first page."""
    account = _login_account()
    if account is None:
        raise RuntimeError("Anmeldeformular erscheint: QUARTIER_BENCH_USER/QUARTIER_BENCH_PASSWORD setzen")
    await pg.get_by_label("Benutzername").fill(account[0])
    await pg.get_by_label("Passwort").fill(account[1])
    await pg.get_by_label("Passwort").press("Enter")
    await pg.wait_for_function("() => { const h = document.querySelector('h1');"
                               " return !!h && h.innerText.trim() !== 'Anmeldung'; }", timeout=timeout_ms)
    state = await _wait_done(pg, timeout_ms, prev_title="Anmeldung")
    if state != "ok":
        raise RuntimeError(f"Anmeldung fehlgeschlagen ({state})")
    return state


async def _session(browser, url: str, paths: list[str], timeout_ms: float) -> dict:
    """One browser context: open the start page (logging in if asked), then go to the other pages by
    the sidebar navigation, as a person does (a new page load would start a new session)."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
    pg = await ctx.new_page()
    rec: dict = {"times": {}, "errors": []}
    try:
        for i, path in enumerate(paths):
            t0 = time.perf_counter()
            if i == 0:
                await pg.goto(f"{url}/{path}", wait_until="domcontentloaded", timeout=timeout_ms)
                state = await _wait_done(pg, timeout_ms)
                if state == "login":
                    # Count loading the form and the run after submitting it (not the re-checks).
                    t_form = pg._done_at - t0
                    t_submit = time.perf_counter()
                    state = await _login(pg, timeout_ms)
                    rec["login"] = True
                    t0 = t_submit - t_form
            else:
                before = await _title(pg)
                await pg.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click(timeout=timeout_ms)
                state = await _wait_done(pg, timeout_ms, prev_title=before)
            rec["times"][path] = pg._done_at - t0
            if state != "ok":
                rec["errors"].append(f"{path or '/'}: {state}")
    except Exception as exc:  # noqa: BLE001 - counted as an error of this session
        rec["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        shots = os.environ.get("QUARTIER_BENCH_SHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            await pg.screenshot(path=str(Path(shots) / f"fehler_{id(rec)}.png"))
    finally:
        await ctx.close()
    return rec


async def _sessions(url: str, paths: list[str], n: int, timeout_ms: float) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # One warm-up visit (first script run compiles pages and fills caches), then n at once.
            await _session(browser, url, paths, timeout_ms)
            return list(await asyncio.gather(*(_session(browser, url, paths, timeout_ms) for _ in range(n))))
        finally:
            await browser.close()


BENCH_PASSWORD = "bench-bezirksvertretung"
_accounts: list[tuple[str, str]] = []  # the viewer accounts of the server under test, dealt round-robin
_next = [0]
_admin_only = [False]


def _prepare_accounts(db_path: Path, n: int) -> None:
    """n own accounts of the role Betrachtung in the database copy (bv01, bv02, ...): as in a meeting, every
    Bezirksvertreter logs in as themselves (each login checks its own Argon2id hash; small-number
    protection applies). ``QUARTIER_BENCH_USER``/``_PASSWORD`` replace them by one given account."""
    from quartier import access, db
    from quartier.admin import auth

    _accounts.clear()
    _next[0] = 0
    if os.environ.get("QUARTIER_BENCH_PASSWORD") or os.environ.get("QUARTIER_BENCH_USER"):
        return
    con = db.connect(db_path)
    try:
        existing = set(auth.users(con)["name"])
        for i in range(1, n + 1):
            name = f"bv{i:02d}"
            if name not in existing:
                auth.add_user(con, access.cli_actor("bench"), name, access.VIEWER, BENCH_PASSWORD)
            _accounts.append((name, BENCH_PASSWORD))
    finally:
        con.close()


def _login_account() -> tuple[str, str] | None:
    """The account the next load client logs in with: the prepared viewer accounts in turn, else
    QUARTIER_BENCH_USER/_PASSWORD, else the demo admin (also for the tour over every page)."""
    if _accounts and not _admin_only[0]:
        account = _accounts[_next[0] % len(_accounts)]
        _next[0] += 1
        return account
    if os.environ.get("QUARTIER_BENCH_PASSWORD"):
        return os.environ.get("QUARTIER_BENCH_USER", "admin"), os.environ["QUARTIER_BENCH_PASSWORD"]
    try:
        from quartier.admin.auth import DEMO_ACCOUNTS
    except ImportError:
        return None
    wanted = os.environ.get("QUARTIER_BENCH_USER", "admin")
    return next(((n, pw) for n, _, pw in DEMO_ACCOUNTS if n == wanted), None)


async def _ws_run(ws, msg, timeout_s: float) -> dict:
    """Send one BackMsg and read ForwardMsgs until a script run finishes (following st.rerun)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out = {"bytes": 0, "exception": None, "status": None, "inputs": {}, "buttons": {}, "titles": []}
    await ws.send(msg.SerializeToString())
    while True:
        data = await asyncio.wait_for(ws.recv(), timeout_s)
        out["bytes"] += len(data)
        fm = ForwardMsg()
        fm.ParseFromString(data)
        kind = fm.WhichOneof("type")
        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            el = fm.delta.new_element
            etype = el.WhichOneof("type")
            if etype == "exception" and out["exception"] is None:
                out["exception"] = el.exception.message[:200]
            elif etype == "text_input":
                out["inputs"][el.text_input.label] = el.text_input.id
            elif etype == "button":
                out["buttons"][el.button.label] = el.button.id
            elif etype == "heading":
                out["titles"].append(el.heading.body)
        elif kind == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
            if status == "FINISHED_EARLY_FOR_RERUN":  # st.rerun(): the next run follows on this connection
                out.update(inputs={}, buttons={}, titles=[], exception=None)
                continue
            out["status"] = status
            return out


async def _ws_session(url: str, paths: list[str], timeout_s: float) -> dict:
    """A headless Streamlit client: one websocket session that runs the given pages one after the other.

    Measures what the server needs (time from the rerun request to ``script_finished``), without the
    browser's rendering, which on a 2-core machine running 20 Chromium tabs dominates the wall time.
    Logs in through the app's login form (widget states, as the browser sends them) if one appears.
    """
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg

    def rerun(path: str, widgets: list | None = None) -> BackMsg:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = path
        for w in widgets or []:
            msg.rerun_script.widget_states.widgets.append(w)
        return msg

    rec: dict = {"times": {}, "errors": [], "bytes": {}}
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], origin=url, max_size=None,
                                      open_timeout=timeout_s) as ws:
            for i, path in enumerate(paths):
                t0 = time.perf_counter()
                r = await _ws_run(ws, rerun(path), timeout_s)
                if i == 0 and "Passwort" in r["inputs"]:
                    from streamlit.proto.WidgetStates_pb2 import WidgetState

                    account = _login_account()
                    if account is None:
                        raise RuntimeError("Anmeldeformular, aber kein Konto (QUARTIER_BENCH_USER/_PASSWORD)")
                    states = []
                    for label, value in (("Benutzername", account[0]), ("Passwort", account[1])):
                        w = WidgetState(id=r["inputs"][label])
                        w.string_value = value
                        states.append(w)
                    states.append(WidgetState(id=r["buttons"]["Anmelden"], trigger_value=True))
                    r = await _ws_run(ws, rerun(path, states), timeout_s)
                    rec["login"] = True
                    if "Passwort" in r["inputs"] or "Anmeldung" in r["titles"] or not r["titles"]:
                        raise RuntimeError("Anmeldung abgelehnt oder Seite nicht gezeigt")
                rec["times"][path] = time.perf_counter() - t0
                rec["bytes"][path] = r["bytes"]
                if r["status"] != "FINISHED_SUCCESSFULLY":
                    rec["errors"].append(f"{path or '/'}: {r['status']}")
                if r["exception"]:
                    rec["errors"].append(f"{path or '/'}: Exception {r['exception']}")
    except Exception as exc:  # noqa: BLE001 - counted as an error of this session
        rec["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
    return rec


async def _ws_sessions(url: str, paths: list[str], n: int, timeout_s: float) -> list[dict]:
    await _ws_session(url, paths, timeout_s)  # warm-up, as for the browsers
    return list(await asyncio.gather(*(_ws_session(url, paths, timeout_s) for _ in range(n))))


async def _ws_sessions_spread(urls: list[str], paths: list[str], n: int, timeout_s: float) -> list[dict]:
    """n sessions at once, dealt round-robin to the instances (as a proxy with sticky sessions would)."""
    for url in urls:
        await _ws_session(url, paths, timeout_s)  # warm-up of every instance
    return list(await asyncio.gather(*(_ws_session(urls[i % len(urls)], paths, timeout_s) for i in range(n))))


def _multi(db_src: Path, paths: list[str], tmp: Path, instances: int = 2, waves_n: int = 3) -> dict:
    """The websocket waves against ``instances`` servers (each on its own copy of the database, as
    read-only instances would be): what one more process per core gives."""
    servers = []
    try:
        for i in range(instances):
            d = tmp / f"multi_{i}"
            d.mkdir(exist_ok=True)
            copy = _copy(db_src, d)
            _prepare_accounts(copy, SESSIONS + 1)
            servers.append(Server(copy, tmp / f"server_multi_{i}.log"))
        for srv in servers:
            srv.wait()
        urls = [srv.url for srv in servers]
        p95s, errors = [], []
        for _ in range(waves_n):
            recs = asyncio.run(_ws_sessions_spread(urls, paths, SESSIONS, 120))
            errors += [e for r in recs for e in r["errors"]]
            per_session = [sum(r["times"].get(p, float("nan")) for p in paths) for r in recs if not r["errors"]]
            p95s.append(percentile(per_session, 95) if per_session else float("nan"))
        peaks = [vm_hwm_mb(srv.proc.pid) or 0.0 for srv in servers]
    finally:
        for srv in servers:
            srv.stop()
    return {"p95": p95s, "errors": errors, "peak_rss_mb": sum(peaks)}


def _cpu_seconds(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _browser(db_src: Path, paths: list[str], tmp: Path, label: str, parts: set[str] | None = None,
             waves_n: int = 3) -> dict:
    parts = parts or {"ws", "browser"}
    db = _copy(db_src, tmp)
    _prepare_accounts(db, SESSIONS + 1)
    server = Server(db, tmp / f"server_{label}.log")
    try:
        server.wait()
        rss_idle = vm_hwm_mb(server.proc.pid)
        waves = []  # repeated waves of 20 websocket sessions: median and spread of their p95
        for _ in range(waves_n if "ws" in parts else 0):
            cpu0, t0 = _cpu_seconds(server.proc.pid), time.perf_counter()
            ws_recs = asyncio.run(_ws_sessions(server.url, paths, SESSIONS, 120))
            waves.append({"recs": ws_recs, "wall_s": time.perf_counter() - t0,
                          "cpu_s": _cpu_seconds(server.proc.pid) - cpu0})
        t0, cpu0 = time.perf_counter(), _cpu_seconds(server.proc.pid)
        recs = asyncio.run(_sessions(server.url, paths, SESSIONS, 120_000)) if "browser" in parts else []
        wall = time.perf_counter() - t0
        browser_cpu = _cpu_seconds(server.proc.pid) - cpu0
        peak = vm_hwm_mb(server.proc.pid)  # the sessions of the issue: start page and map
        # Then one session visits every page (first visit = cold caches after an import) and one more wave
        # of websocket sessions follows: the peak of a server in full use, with every page's caches filled.
        tour, full_peak = None, None
        if "ws" in parts:
            _admin_only[0] = True  # the tour needs the staff pages: the demo administrator
            try:
                tour = asyncio.run(_ws_session(server.url, [""] + [p for p in _all_pages() if p], 900))
            finally:
                _admin_only[0] = False
            asyncio.run(_ws_sessions(server.url, paths, SESSIONS, 120))
            full_peak = vm_hwm_mb(server.proc.pid)
    finally:
        server.stop()
    out = {"tour": tour, "full_peak_rss_mb": full_peak, "wall_s": wall, "server_cpu_s": browser_cpu, "rss_idle_mb": rss_idle, "peak_rss_mb": peak,
           "errors": [e for r in recs for e in r["errors"]], "login": any(r.get("login") for r in recs),
           "ws_wall_s": [w["wall_s"] for w in waves], "ws_server_cpu_s": [w["cpu_s"] for w in waves],
           "ws_errors": [e for w in waves for r in w["recs"] for e in r["errors"]],
           "browser": {}, "ws_waves": [], "ws_bytes": {}, "parts": parts}
    for path in paths:
        out["browser"][path] = [r["times"][path] for r in recs if path in r["times"]]
        out["ws_bytes"][path] = [r["bytes"][path] for w in waves for r in w["recs"] if path in r["bytes"]]
    for w in waves:
        out["ws_waves"].append({path: [r["times"][path] for r in w["recs"] if path in r["times"]] for path in paths})
    return out


# ------------------------------------------------------------------------------------------------


class _Skipped(Exception):
    """A part left out through QUARTIER_BENCH_PARTS."""


def _all_pages() -> list[str]:
    from quartier.ui.pages import PAGES

    return [spec.url_path for spec in PAGES]


def _map_page() -> str | None:
    from quartier.ui.pages import PAGES

    for spec in PAGES:
        if "karte" in spec.url_path.lower() or "karte" in spec.file.lower():
            return spec.url_path
    return None


def run(quick: bool | None = None) -> dict:
    quick = _quick() if quick is None else quick
    sizes = SIZES_QUICK if quick else SIZES_FULL
    only = [x.strip() for x in os.environ.get("QUARTIER_BENCH_SIZES", "").split(",") if x.strip()]
    if only:  # e.g. QUARTIER_BENCH_SIZES=10000: only these sizes (labels demo, 1000, 10000)
        sizes = [sz for sz in SIZES_FULL if sz[0] in only]
    repeats = 3
    parts = _parts()
    map_path = _map_page()
    res: dict = {"sessions_n": SESSIONS, "map_page": map_path or "nicht registriert"}
    with tempfile.TemporaryDirectory(prefix="qscale_") as tmpdir:
        tmp = Path(tmpdir)
        for label, size in sizes:
            _log(f"Datenbank {label} …")
            src, build_s = _build_db(label, size)
            if build_s is not None:
                res[f"build_{label}_s"] = build_s
            res[f"db_{label}_mb"] = src.stat().st_size / 1e6
            _log(f"Seiten {label} (AppTest) …")
            try:
                if "pages" not in parts:
                    raise _Skipped
                pages = _pages(src, repeats, tmp)
                medians, problems = [], []
                for url_path, rec in pages["pages"].items():
                    if "error" in rec or rec.get("exceptions"):
                        problems.append(f"{url_path}: {rec.get('error') or rec['exceptions'][0]}")
                        continue
                    res[f"page_{label}_{url_path}_cold_ms"] = rec["cold_ms"]
                    res[f"page_{label}_{url_path}_ms"] = rec["warm_ms"]
                    medians.append(statistics.median(rec["warm_ms"]))
                    if "deck_bytes" in rec:
                        res[f"map_{label}_{url_path}_deck_kb"] = rec["deck_bytes"] / 1024
                res[f"pages_{label}_max_median_ms"] = max(medians) if medians else float("nan")
                res[f"pages_{label}_failed"] = "; ".join(problems) if problems else "keine"
                res[f"apptest_{label}_peak_rss_mb"] = pages["peak_rss_mb"]
            except _Skipped:
                pass
            except Exception as exc:  # noqa: BLE001
                res[f"pages_{label}_failed"] = f"{type(exc).__name__}: {exc}"[:800]
            if not parts & {"ws", "browser"}:
                pass
            elif shutil.which(CHROMIUM) or Path(CHROMIUM).exists() or "browser" not in parts:
                _log(f"{SESSIONS} Browser-Sitzungen {label} …")
                paths = [""] + ([map_path] if map_path else [])
                try:
                    b = _browser(src, paths, tmp, label, parts, waves_n=1 if quick else 3)
                    groups = ([("sessions", [b["browser"]])] if "browser" in parts else []) + \
                        ([("ws", b["ws_waves"])] if "ws" in parts else [])
                    for prefix, wave_list in groups:  # one value per wave: the runner reports median and spread
                        for path in paths:
                            name = "start" if not path else "karte"
                            for q in (50, 95):
                                vals = [percentile(w[path], q) for w in wave_list if w[path]]
                                if vals:
                                    res[f"{prefix}_{label}_{name}_p{q}_s"] = vals if len(vals) > 1 else vals[0]
                        p95s = []
                        for w in wave_list:
                            n = min(len(w[p]) for p in paths)
                            per_session = [sum(w[p][i] for p in paths) for i in range(n)]
                            p95s.append(percentile(per_session, 95) if per_session else float("nan"))
                        res[f"{prefix}_{label}_p95_s"] = p95s if len(p95s) > 1 else p95s[0]
                    if "browser" in parts:
                        res[f"sessions_{label}_errors"] = len(b["errors"])
                        if b["errors"]:
                            res[f"sessions_{label}_error_list"] = "; ".join(sorted(set(b["errors"])))[:800]
                        res[f"sessions_{label}_wall_s"] = b["wall_s"]
                        # server CPU per browser session (incl. the warm-up session): what the server needs,
                        # against the wall time that the 20 Chromium tabs on the same cores spend rendering
                        res[f"sessions_{label}_server_cpu_per_session_s"] = b["server_cpu_s"] / (SESSIONS + 1)
                    if "ws" in parts:
                        res[f"ws_{label}_errors"] = len(b["ws_errors"])
                        if b["ws_errors"]:
                            res[f"ws_{label}_error_list"] = "; ".join(sorted(set(b["ws_errors"])))[:800]
                        res[f"ws_{label}_wall_s"] = b["ws_wall_s"]
                        res[f"ws_{label}_server_cpu_per_session_s"] = [c / (SESSIONS + 1) for c in b["ws_server_cpu_s"]]
                        tour = b.get("tour") or {}
                        for page, secs in (tour.get("times") or {}).items():
                            if page:
                                res[f"tour_{label}_{page}_first_s"] = secs
                        if tour.get("errors"):
                            res[f"tour_{label}_errors"] = "; ".join(tour["errors"])[:800]
                    for path in paths:
                        if b["ws_bytes"][path]:
                            name = "start" if not path else "karte"
                            res[f"ws_{label}_{name}_kb"] = statistics.median(b["ws_bytes"][path]) / 1024
                    res[f"server_{label}_idle_rss_mb"] = b["rss_idle_mb"]
                    res[f"server_{label}_peak_rss_mb"] = b["peak_rss_mb"]
                    if b.get("full_peak_rss_mb"):
                        res[f"server_{label}_full_use_peak_rss_mb"] = b["full_peak_rss_mb"]
                    if b["login"]:
                        res["sessions_login"] = (f"{len(_accounts)} eigene Konten der Rolle Betrachtung (bv01 …)"
                                                 if _accounts else "ein Konto: " + str((_login_account() or ("?",))[0]))
                except Exception as exc:  # noqa: BLE001
                    res[f"sessions_{label}_failed"] = f"{type(exc).__name__}: {exc}"[:800]
            else:
                res["sessions_failed"] = f"Chromium fehlt unter {CHROMIUM}"
            if "multi" in parts and label == "demo":
                _log(f"{SESSIONS} Websocket-Sitzungen auf 2 Instanzen {label} …")
                try:
                    m = _multi(src, [""] + ([map_path] if map_path else []), tmp, 2, 1 if quick else 3)
                    res[f"ws2_{label}_p95_s"] = m["p95"] if len(m["p95"]) > 1 else m["p95"][0]
                    res[f"ws2_{label}_errors"] = len(m["errors"])
                    res[f"ws2_{label}_servers_peak_rss_mb"] = m["peak_rss_mb"]
                except Exception as exc:  # noqa: BLE001
                    res[f"ws2_{label}_failed"] = f"{type(exc).__name__}: {exc}"[:800]
    return res


def main(argv: list[str]) -> int:
    if argv and argv[0] == "pages":
        repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 5
        print(json.dumps(pages_worker(argv[1], repeats)))
        return 0
    quick = "--quick" in argv
    print(json.dumps(run(quick), indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
