"""Shared fixtures: a real demo DuckDB file built once per test worker, copies for writing tests."""

from __future__ import annotations

import shutil
from pathlib import Path

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
