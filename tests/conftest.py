"""Shared fixtures: a real demo DuckDB file built once per test worker, copies for writing tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_GEODATA = ROOT.parent / "shared" / "geodata"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A demo database (read it, do not write: use ``demo_copy`` for that)."""
    from quartier import db
    from quartier.demo import hagen as demo

    base = tmp_path_factory.mktemp("demo")
    path = base / "demo.duckdb"
    con = db.connect(path)
    demo.build(con, out_dir=base / "lieferungen")
    con.close()
    return path


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
    from tests import city2

    base = tmp_path_factory.mktemp("city2")
    return city2.build(base / "musterstadt.duckdb", base / "dateien")


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


@pytest.fixture
def empty_con(tmp_path):
    from quartier import db

    c = db.connect(tmp_path / "empty.duckdb")
    yield c
    c.close()


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
