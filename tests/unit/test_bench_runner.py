"""The benchmark runner's statistics and its RESULTS.md table (no timings are asserted)."""

from __future__ import annotations

import pytest

from bench import runner
from bench.bench_scale import percentile


def test_summarise_medians_spread_and_kinds():
    samples = [
        {"import_s": 2.0, "raw_s": 1.0, "runs_ms": [10, 30], "note": "x", "errors_ok": True},
        {"import_s": 4.0, "raw_s": 1.0, "runs_ms": [20], "note": "y", "errors_ok": False},
        {"import_s": 3.0, "raw_s": 2.0, "payload_kb": {"median": 5.0, "min": 4.0, "max": 6.0, "n": 7}},
    ]
    res = runner.summarise("bench_x", samples, {"import_s": 2.5, "raw_s": (">=", 1.5)}, {"import_s": "raw_s"})
    m = res.metric("import_s")
    assert (m.median, m.low, m.high, m.n) == (3.0, 2.0, 4.0, 3)
    r = res.metric("runs_ms")
    assert (r.median, r.low, r.high, r.n) == (20.0, 10.0, 30.0, 3)
    p = res.metric("payload_kb")
    assert (p.median, p.low, p.high, p.n) == (5.0, 4.0, 6.0, 7)
    assert res.metric("note").info == "y"
    assert res.flags == {"errors_ok": False}  # one failing run fails the flag
    status = {k: ok for k, _, _, _, ok in runner.budget_status(res)}
    assert status == {"import_s": False, "raw_s": False}
    assert runner.ratios(res) == [("import_s", "raw_s", 3.0)]


def test_budget_missing_metric_is_reported_not_passed():
    res = runner.summarise("bench_y", [{"a_s": 1.0}], {"b_s": 2.0})
    assert runner.budget_status(res) == [("b_s", "<=", 2.0, None, None)]


@pytest.mark.parametrize(("value", "text"), [
    (None, "–"), (0, "0"), (0.01234, "0,0123"), (1.5, "1,50"), (12.345, "12,3"), (1234.5, "1.234"),
    (float("nan"), "–"),
])
def test_german_number_format(value, text):
    assert runner.fmt_num(value) == text


def test_render_has_machine_tables_budgets_and_errors():
    ok = runner.summarise("bench_ok", [{"page_ms": 120.0}, {"page_ms": 100.0}], {"page_ms": 300})
    bad = runner.summarise("bench_bad", [{"p95_s": 4.2}], {"p95_s": 3.0})
    broken = runner.BenchResult(name="bench_broken", error="Traceback ...\nValueError: kaputt")
    md = runner.render([ok, bad, broken], {"CPU": "Test-CPU", "Kerne": "2"}, "python -m bench", quick=True)
    assert "| CPU | Test-CPU |" in md
    assert "Budgets eingehalten: 1 von 2" in md
    assert "**Budget verfehlt:** bench_bad: p95_s" in md
    assert "**Fehler in:** bench_broken" in md and "ValueError: kaputt" in md
    assert "| `page_ms` | 110 | 100 | 120 | 2 | <= 300 | ok |" in md
    assert "| `p95_s` | 4,20 | 4,20 | 4,20 | 1 | <= 3,00 | **verfehlt** |" in md
    assert "Schnelldurchlauf" in md


def test_failing_module_is_reported_and_others_still_run(monkeypatch, tmp_path):
    import sys
    import types

    good = types.ModuleType("bench.bench_tmp_good")
    good.run = lambda: {"x_s": 1.0}
    bad = types.ModuleType("bench.bench_tmp_bad")

    def boom():
        raise RuntimeError("absichtlich")

    bad.run = boom
    monkeypatch.setitem(sys.modules, "bench.bench_tmp_good", good)
    monkeypatch.setitem(sys.modules, "bench.bench_tmp_bad", bad)
    r_bad = runner.run_module("bench_tmp_bad", quick=True, repeat=None)
    r_good = runner.run_module("bench_tmp_good", quick=False, repeat=2)
    assert r_bad.error and "absichtlich" in r_bad.error
    assert r_good.error is None and r_good.metric("x_s").n == 2


def test_percentile():
    assert percentile([1.0], 95) == 1.0
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([0, 10], 95) == pytest.approx(9.5)
