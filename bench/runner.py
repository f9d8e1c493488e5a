"""Discover, run and report benchmarks (see :mod:`bench` for the module contract)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"


@dataclass
class Metric:
    key: str
    median: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0
    info: str | None = None          # non-numeric value


@dataclass
class BenchResult:
    name: str
    title: str = ""
    metrics: list[Metric] = field(default_factory=list)
    budgets: dict[str, tuple[str, float]] = field(default_factory=dict)
    baselines: dict[str, str] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    runs: int = 0

    def metric(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)


def discover(only: list[str] | None = None) -> list[str]:
    """Names of the benchmark modules (``bench_import`` ...), optionally filtered by ``--only``."""
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if only:
        wanted = {o if o.startswith("bench_") else f"bench_{o}" for o in only}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"Unbekannte Benchmarks: {', '.join(sorted(unknown))}. Vorhanden: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    return names


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _parse_budget(v) -> tuple[str, float]:
    if isinstance(v, (list, tuple)) and len(v) == 2:
        op, limit = v
        if op not in ("<=", "<", ">=", ">"):
            raise ValueError(f"Budget-Operator {op!r} unbekannt")
        return op, float(limit)
    return "<=", float(v)


def summarise(name: str, samples: list[dict], module_budgets=None, module_baselines=None,
              title: str = "") -> BenchResult:
    """Turn the dicts of repeated ``run()`` calls into metrics (median, min, max over all samples)."""
    res = BenchResult(name=name, title=title, runs=len(samples))
    collected: dict[str, list[float]] = {}
    given: dict[str, Metric] = {}
    order: list[str] = []
    for budget_src in (module_budgets or {}, *(s.get("budgets", {}) for s in samples)):
        for k, v in budget_src.items():
            res.budgets[k] = _parse_budget(v)
    for base_src in (module_baselines or {}, *(s.get("baselines", {}) for s in samples)):
        res.baselines.update(base_src)
    for s in samples:
        for k, v in s.items():
            if k in ("budgets", "baselines"):
                continue
            if k not in order:
                order.append(k)
            if isinstance(v, bool):
                if k.endswith("_ok"):
                    res.flags[k] = res.flags.get(k, True) and v
                given[k] = Metric(k, info="ja" if v else "nein")
            elif _is_number(v):
                collected.setdefault(k, []).append(float(v))
            elif isinstance(v, (list, tuple)) and v and all(_is_number(x) for x in v):
                collected.setdefault(k, []).extend(float(x) for x in v)
            elif isinstance(v, dict) and _is_number(v.get("median")):
                given[k] = Metric(k, float(v["median"]), float(v.get("min", v["median"])),
                                  float(v.get("max", v["median"])), int(v.get("n", 1)))
            else:
                given[k] = Metric(k, info=str(v))
    for k in order:
        if k in collected:
            xs = collected[k]
            res.metrics.append(Metric(k, statistics.median(xs), min(xs), max(xs), len(xs)))
        elif k in given:
            res.metrics.append(given[k])
    return res


def budget_status(res: BenchResult) -> list[tuple[str, str, float, float | None, bool | None]]:
    """(key, op, limit, median, passed) for every budget; passed None when the metric is missing."""
    out = []
    for k, (op, limit) in res.budgets.items():
        m = res.metric(k)
        if m is None or m.median is None:
            out.append((k, op, limit, None, None))
            continue
        v = m.median
        ok = {"<=": v <= limit, "<": v < limit, ">=": v >= limit, ">": v > limit}[op]
        out.append((k, op, limit, v, ok))
    return out


def ratios(res: BenchResult) -> list[tuple[str, str, float | None]]:
    out = []
    for k, base in res.baselines.items():
        a, b = res.metric(k), res.metric(base)
        r = a.median / b.median if a and b and a.median is not None and b.median else None
        out.append((k, base, r))
    return out


# ------------------------------------------------------------------------------------------------
# Formatting


def fmt_num(v: float | None) -> str:
    """Compact German number: 3 significant digits below 100, thousands separators above."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    a = abs(v)
    if a >= 100:
        s = f"{v:,.0f}"
    elif a >= 10:
        s = f"{v:,.1f}"
    elif a >= 1:
        s = f"{v:,.2f}"
    elif a == 0:
        s = "0"
    else:
        s = f"{v:.3g}"
        if "e" in s:
            s = f"{v:.2e}"
    return s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def machine_info() -> dict[str, str]:
    info = {"Datum (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")}
    cpu = "unbekannt"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["CPU"] = cpu
    info["Kerne"] = str(os.cpu_count())
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        info["RAM"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["RAM"] = "unbekannt"
    try:
        info["Last bei Start (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    info["System"] = platform.platform()
    info["Python"] = platform.python_version()
    for mod in ("duckdb", "streamlit", "pandas", "pyarrow", "shapely", "pydeck"):
        try:
            info[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001
            info[mod] = "nicht installiert"
    try:
        info["Commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                        text=True, timeout=10).stdout.strip() or "unbekannt"
    except (OSError, subprocess.SubprocessError):
        info["Commit"] = "unbekannt"
    return info


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(results: list[BenchResult], machine: dict[str, str], command: str, quick: bool) -> str:
    lines = ["# Benchmark-Ergebnisse", "",
             f"Erzeugt mit `{command}`{' (Schnelldurchlauf: kleinere Größen, weniger Wiederholungen)' if quick else ''}. "
             "Median, Minimum und Maximum über n Messungen; Verhältnisse zu Vergleichswerten aus demselben Lauf.", "",
             "## Maschine", "", "| | |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in machine.items()]
    # Summary
    all_b = [(r.name, b) for r in results for b in budget_status(r)]
    flags = [(r.name, k, v) for r in results for k, v in r.flags.items()]
    failed = [f"{n}: {b[0]}" for n, b in all_b if b[4] is False] + [f"{n}: {k}" for n, k, v in flags if not v]
    missing = [f"{n}: {b[0]}" for n, b in all_b if b[4] is None]
    errors = [r.name for r in results if r.error]
    n_pass = sum(1 for _, b in all_b if b[4]) + sum(1 for *_, v in flags if v)
    lines += ["", "## Zusammenfassung", "",
              f"- Benchmarks: {len(results)} ({', '.join(r.name for r in results) or 'keine'})",
              f"- Budgets eingehalten: {n_pass} von {n_pass + len(failed) + len(missing)}"]
    if failed:
        lines.append(f"- **Budget verfehlt:** {'; '.join(failed)}")
    if missing:
        lines.append(f"- Budget ohne Messwert: {'; '.join(missing)}")
    if errors:
        lines.append(f"- **Fehler in:** {', '.join(errors)} (Details unten)")
    for r in results:
        lines += ["", f"## {r.name}" + (f" – {r.title}" if r.title else ""), "",
                  f"{r.runs} Aufruf(e) von `run()`, Dauer {fmt_num(r.seconds)} s."]
        if r.error:
            lines += ["", "**Fehler:**", "", "```", r.error.strip()[-3000:], "```"]
        num = [m for m in r.metrics if m.median is not None]
        info = [m for m in r.metrics if m.median is None]
        budgets = {b[0]: b for b in budget_status(r)}
        if num:
            lines += ["", "| Messgröße | Median | Min | Max | n | Budget | |", "|---|---:|---:|---:|---:|---|---|"]
            for m in num:
                b = budgets.get(m.key)
                btxt = f"{b[1]} {fmt_num(b[2])}" if b else ""
                ok = "" if not b else ("ok" if b[4] else "**verfehlt**")
                lines.append(f"| `{m.key}` | {fmt_num(m.median)} | {fmt_num(m.low)} | {fmt_num(m.high)} | {m.n} | "
                             f"{btxt} | {ok} |")
        rat = ratios(r)
        if rat:
            lines += ["", "| Verhältnis | Faktor |", "|---|---:|"]
            lines += [f"| `{k}` / `{base}` | {fmt_num(v)}{'x' if v is not None else ''} |" for k, base, v in rat]
        if info or r.flags:
            lines += ["", "| Angabe | Wert |", "|---|---|"]
            lines += [f"| `{m.key}` | {_cell(m.info)} |" for m in info]
        missing_b = [b for b in budgets.values() if b[4] is None]
        if missing_b:
            lines += ["", "Budgets ohne Messwert: " + ", ".join(f"`{b[0]}`" for b in missing_b)]
    notes = BENCH_DIR / "NOTES.md"  # the hand-written reading of the numbers (causes, fixes, sizing) stays
    if notes.exists():
        lines += ["", notes.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# Running


def run_module(name: str, quick: bool, repeat: int | None) -> BenchResult:
    """Import ``bench.<name>`` and call its ``run()`` REPEAT times (in this process)."""
    t0 = time.perf_counter()
    samples: list[dict] = []
    title = ""
    mod = None
    try:
        mod = importlib.import_module(f"bench.{name}")
        title = (inspect.getdoc(mod) or "").split("\n", 1)[0]
        n = repeat or getattr(mod, "REPEAT", None) or (1 if quick else 3)
        if quick:
            n = min(n, getattr(mod, "REPEAT_QUICK", 1))
        takes_quick = "quick" in inspect.signature(mod.run).parameters
        for _ in range(n):
            out = mod.run(quick=quick) if takes_quick else mod.run()
            if not isinstance(out, dict):
                raise TypeError(f"{name}.run() gab {type(out).__name__} statt dict zurück")
            samples.append(out)
        res = summarise(name, samples, getattr(mod, "BUDGETS", None), getattr(mod, "BASELINES", None), title)
    except BaseException as exc:  # noqa: BLE001 - report and keep going
        if isinstance(exc, KeyboardInterrupt):
            raise
        res = summarise(name, samples, getattr(mod, "BUDGETS", None), getattr(mod, "BASELINES", None), title)
        res.error = "".join(traceback.format_exception(exc))
    res.seconds = time.perf_counter() - t0
    return res


def _result_to_json(r: BenchResult) -> dict:
    return {"name": r.name, "title": r.title, "runs": r.runs, "seconds": r.seconds, "error": r.error,
            "metrics": [m.__dict__ for m in r.metrics], "budgets": r.budgets, "baselines": r.baselines,
            "flags": r.flags}


def _result_from_json(d: dict) -> BenchResult:
    r = BenchResult(name=d["name"], title=d.get("title", ""), runs=d.get("runs", 0), seconds=d.get("seconds", 0.0),
                    error=d.get("error"), budgets={k: tuple(v) for k, v in d.get("budgets", {}).items()},
                    baselines=d.get("baselines", {}), flags=d.get("flags", {}))
    r.metrics = [Metric(**m) for m in d.get("metrics", [])]
    return r


def run_isolated(name: str, quick: bool, repeat: int | None, timeout: float) -> BenchResult:
    """Run one module in its own Python process (own memory, own Streamlit state, a time limit)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qbench_") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "bench", "--worker", name, "--out", str(out)]
        if quick:
            cmd.append("--quick")
        if repeat:
            cmd += ["--repeat", str(repeat)]
        env = dict(os.environ, QUARTIER_BENCH_QUICK="1" if quick else "0")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired as exc:
            res = BenchResult(name=name, error=f"Zeitlimit von {timeout:.0f} s überschritten.\n"
                                               f"{(exc.stderr or b'')[-2000:]!s}")
            res.seconds = time.perf_counter() - t0
            return res
        if out.exists():
            return _result_from_json(json.loads(out.read_text(encoding="utf-8")))
        res = BenchResult(name=name, error=f"Prozess endete mit Code {proc.returncode}:\n{proc.stderr[-3000:]}")
        res.seconds = time.perf_counter() - t0
        return res


def worker(name: str, out: str, quick: bool, repeat: int | None) -> int:
    res = run_module(name, quick, repeat)
    Path(out).write_text(json.dumps(_result_to_json(res), ensure_ascii=False), encoding="utf-8")
    return 0
