"""The project installs as a package: pins in pyproject equal requirements.txt, the wheel carries the schema and
the ``quartier`` command."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-r"))}


def test_pyproject_pins_equal_the_requirement_files():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(meta["dependencies"]) == _pins(ROOT / "requirements.txt")
    assert set(meta["optional-dependencies"]["dev"]) == _pins(ROOT / "requirements-dev.txt")
    assert meta["scripts"]["quartier"] == "quartier.cli:main"


def test_unused_pins_are_gone_and_direct_imports_pinned():
    runtime = {p.split("==")[0].lower() for p in _pins(ROOT / "requirements.txt")}
    assert "xlrd" not in runtime and "odfpy" not in runtime
    assert "fonttools" in runtime


def test_wheel_has_schema_and_command(tmp_path):
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    wheel = next(tmp_path.glob("quartier-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "quartier/schema/001_core.sql" in names
    assert "quartier/values/protection.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "quartier = quartier.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
