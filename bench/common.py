"""Helpers shared by the benchmark modules."""

from __future__ import annotations

from pathlib import Path


def demo_db(cache: Path, name: str) -> Path:
    """A demo database built once into ``cache`` (``<name>.duckdb``); benchmarks copy it before writing."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name}.duckdb"
    if not path.exists():
        from quartier import db
        from quartier.demo import hagen as demo

        con = db.connect(path)
        demo.build(con, out_dir=cache / f"{name}_lieferungen")
        con.close()
    from quartier import db as db_

    db_.connect(path).close()  # a database cached by an older version: bring it to today's schema (migrations)
    return path
