"""Shared fixtures: a real demo DuckDB file built once per source state (shared by workers), copies for writing tests."""

from __future__ import annotations

import atexit
import fcntl
import gc
import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest


def pytest_configure(config):
    """Python's cycle collector runs every 700 allocations and, every few of those, walks every object of the
    process: in a test worker that holds pandas, Streamlit, Altair and DuckDB that full walk takes about 0.2 s and
    came every few seconds (5 % of a run). The tests create few reference cycles, so collect less often, and after
    collection move everything imported so far out of the collector's sight (``gc.freeze``)."""
    gc.set_threshold(50_000, 50, 1_000)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        atexit.register(_worker_exit, config)
    else:
        atexit.register(gc.unfreeze)  # let the objects be freed on exit as usual


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _cheap_password_hashes(request, monkeypatch):
    """Cheap Argon2id parameters for every test (tests/password_hashes.py): a product hash costs 0.1 s of CPU and
    64 MiB by design, which a test about logins or accounts does not need. A test about the hash parameters
    themselves is marked ``strong_hashes`` and runs with the product's own."""
    if request.node.get_closest_marker("strong_hashes") is None:
        from tests.password_hashes import use_cheap_hashes

        use_cheap_hashes(monkeypatch)


def _worker_exit(config) -> None:
    """A test worker has reported every result to the controller when it gets here; tearing down its interpreter
    (a heap of a few GB, object by object, and a hundred DuckDB databases) took 1.5-3 s that the controller
    waited for. Leave at once instead, with the worker's own exit status."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(getattr(config, "_quartier_exitstatus", 0)))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    session.config._quartier_exitstatus = int(exitstatus)


ROOT = Path(__file__).resolve().parents[1]
SHARED_GEODATA = ROOT.parent / "shared" / "geodata"


def _source_key() -> str:
    """A fingerprint of everything a fixture database is built from (the package, its schema and data, the
    second city's script, the partial delivery, the build steps in this file): the cached build is reused only
    while none of it changed."""
    h = hashlib.sha256()
    files = [*sorted((ROOT / "quartier").rglob("*")), *sorted((ROOT / "data" / "geo").glob("*")),
             *sorted((ROOT / "data" / "demo").glob("*.csv")), ROOT / "tests" / "city2.py",
             ROOT / "tests" / "coverage_files.py", ROOT / "tests" / "password_hashes.py", Path(__file__)]
    for f in files:
        if f.is_file() and f.suffix not in (".pyc", ".duckdb", ".wal"):
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _built_once(name: str, build: Callable[[Path], Path], tmp_path_factory) -> Path:
    """A fixture database built once per source state and shared by the test workers and later runs
    (``.pytest-db-cache/``, ignored by git); every worker gets its own copy of the file."""
    cache_root = ROOT / ".pytest-db-cache"
    cache = cache_root / f"{name}-{_source_key()}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits for the one build instead of building again
        ready = cache / "ready"
        if not ready.exists():
            built = build(cache)
            ready.write_text(built.name)
            for old in cache_root.glob(f"{name}-*"):  # builds of older sources
                if old != cache:
                    shutil.rmtree(old, ignore_errors=True)
        built_name = ready.read_text()
    target_dir = tmp_path_factory.mktemp(name)
    for item in cache.iterdir():  # the database and the files next to it (delivered workbooks, backups)
        if item.name in (".lock", "ready"):
            continue
        if item.is_dir():
            shutil.copytree(item, target_dir / item.name)
        else:
            shutil.copy(item, target_dir / item.name)
    return target_dir / built_name


def new_database_file(path: Path) -> Path:
    """Create an empty DuckDB file with 16 KiB blocks instead of DuckDB's 256 KiB.

    The fixture databases hold little data but one block per table column: the demo shrinks from ~15 MB to
    ~1 MB, so every per-test copy and every content hash of it gets about ten times cheaper. The block size is
    a storage detail recorded in the file; Quartier opens and migrates such a file like any other."""
    import duckdb

    path = Path(path)
    quoted = str(path).replace("'", "''")
    scratch = duckdb.connect()
    scratch.execute(f"ATTACH '{quoted}' AS neu (BLOCK_SIZE 16384)")
    scratch.execute("DETACH neu")
    scratch.close()
    return path


def _cheaply(build: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """A fixture database's accounts hashed with cheap Argon2id parameters (every login of a test verifies one)."""

    def run(base: Path) -> Path:
        from tests.password_hashes import cheap_hashes

        with cheap_hashes():
            return build(base)

    return run


def _build_demo(base: Path) -> Path:
    """The demo city, built the way a fresh machine builds it: ``python -m quartier demo --json`` (in-process)
    into a new, empty database file; its delivery workbooks go next to the database."""
    import contextlib
    import functools
    import io
    import json

    from quartier.cli import main
    from quartier.demo import hagen

    path = new_database_file(base / "demo.duckdb")
    out = io.StringIO()
    original = hagen.build
    hagen.build = functools.partial(original, out_dir=base / "lieferungen")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["demo", "--db", str(path), "--json"])
    finally:
        hagen.build = original
    res = json.loads(out.getvalue())
    assert code == 0 and res["sozialraeume"] > 0 and res["werte"] > 0 and res["lieferungen"] > 0, res
    return path


def _build_city2(base: Path) -> Path:
    from tests import city2

    return city2.build(new_database_file(base / "musterstadt.duckdb"), base / "dateien")


def _build_empty(base: Path) -> Path:
    from quartier import db

    path = new_database_file(base / "empty.duckdb")
    db.connect(path).close()  # every migration applied, nothing else
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A demo database (read it, do not write: use ``demo_copy`` for that)."""
    return _built_once("demo", _cheaply(_build_demo), tmp_path_factory)


@pytest.fixture(scope="session")
def partial_demo_db(demo_db, tmp_path_factory) -> Path:
    """The demo after the partial delivery of tests/coverage_files.py (5 of 23 Sozialräume for a new year),
    imported once through the command line; read it, do not write: copy it for that."""

    def build(base: Path) -> Path:
        from tests.coverage_files import import_partial

        path = base / "demo.duckdb"
        shutil.copy(demo_db, path)
        import_partial(path, base)
        (base / "jugendamt_2026.csv").unlink()
        return path

    return _built_once("partial", build, tmp_path_factory)


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> Path:
    """A private copy of the demo database for tests that write."""
    target = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, target)
    return target


@pytest.fixture(scope="session")
def city2_db(tmp_path_factory) -> Path:
    """A second city (tests/city2.py: "Musterstadt", 40 grid areas, own catalogue, no axis, no index method),
    set up through the command line; read it, do not write: use ``city2_copy`` for that."""
    return _built_once("city2", _cheaply(_build_city2), tmp_path_factory)


@pytest.fixture
def city2_copy(city2_db, tmp_path) -> Path:
    target = tmp_path / "musterstadt.duckdb"
    shutil.copy(city2_db, target)
    return target


@pytest.fixture
def con(demo_copy):
    from quartier import db

    c = db.connect(demo_copy)
    yield c
    c.close()


@pytest.fixture(scope="session")
def _empty_db(tmp_path_factory) -> Path:
    """A freshly migrated database without any city (built once per source state, like the demo)."""
    return _built_once("empty", _build_empty, tmp_path_factory)


@pytest.fixture
def empty_con(_empty_db, tmp_path):
    """A connection to a private, freshly migrated database without any city."""
    from quartier import db

    target = tmp_path / "empty.duckdb"
    shutil.copy(_empty_db, target)
    c = db.connect(target)
    yield c
    c.close()


_FILLED: dict[str, Path] = {}  # filler function -> the database it filled (per worker)


@pytest.fixture
def filled_con(_empty_db, tmp_path_factory, tmp_path):
    """``filled_con(fill)`` -> a connection to a private database that ``fill(con)`` filled.

    ``fill`` runs once per worker, on a copy of the migrated empty database; every test then gets its own
    copy of the result, so tests may write to it. Only for fillers whose result depends on nothing but their
    code (no ``tmp_path``, no files next to the database, no randomness)."""
    from quartier import db

    opened = []

    def _filled(fill: Callable[[object], object]) -> object:
        key = f"{fill.__module__}.{fill.__qualname__}"
        source = _FILLED.get(key)
        if source is None:
            source = tmp_path_factory.mktemp("gefuellt") / "q.duckdb"
            shutil.copy(_empty_db, source)
            con = db.connect(source)
            fill(con)
            con.close()
            _FILLED[key] = source
        target = tmp_path / "q.duckdb"
        shutil.copy(source, target)
        con = db.connect(target)
        opened.append(con)
        return con

    yield _filled
    for con in opened:
        con.close()


@pytest.fixture
def no_calamine(monkeypatch):
    """calamine must not even open the workbook: a refusal has to come from the file's XML alone."""
    import python_calamine

    def refuse(*a, **k):
        raise AssertionError("calamine wurde aufgerufen")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", refuse)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "get_sheet_by_name", refuse, raising=False)


@pytest.fixture
def geodata() -> Path:
    if not SHARED_GEODATA.exists():
        pytest.skip("../shared/geodata fehlt")
    return SHARED_GEODATA


class CliResult(NamedTuple):
    """``(exit_code, stdout, stderr)`` of one command; the names match ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run ``python -m quartier ARGS`` in-process: ``cli("index", "--db", path, "--json")`` -> CliResult.

    The test passes ``--db`` itself; without it the command sees an empty database under ``tmp_path``,
    never ``data/quartier.duckdb`` or the caller's ``QUARTIER_DB``.
    """
    from quartier.cli import main

    monkeypatch.setenv("QUARTIER_DB", str(tmp_path / "cli-ohne-db.duckdb"))

    def _run(*args) -> CliResult:
        capsys.readouterr()  # drop output from before this command
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return CliResult(int(code or 0), out.out, out.err)

    return _run
