"""Benchmarks: ``python -m bench`` runs every ``bench/bench_*.py`` and writes ``bench/RESULTS.md``.

Contract for a benchmark module ``bench/bench_<area>.py``:

- ``run() -> dict`` (optionally ``run(quick: bool)``); ``QUARTIER_BENCH_QUICK=1`` is set for ``--quick``.
  Keys carry their unit (``import_100k_s``, ``payload_kb``, ``peak_rss_mb``). Values may be
  a number (one sample per call), a list of numbers (samples, e.g. repeated timings), a dict
  ``{"median": .., "min": .., "max": .., "n": ..}``, or text/bool (shown as information).
- Optional module attributes:
  ``REPEAT`` (how often the runner calls ``run()``; default 3, 1 with ``--quick``; set 1 when
  ``run()`` repeats internally and returns lists),
  ``BUDGETS = {"key": limit}`` (median must be <= limit; ``(">=", limit)`` for lower bounds),
  ``BASELINES = {"key": "baseline_key"}`` (the runner reports median(key)/median(baseline_key)).
  ``run()`` may also return ``"budgets"`` / ``"baselines"`` dicts of the same shape, and booleans
  whose key ends in ``_ok`` count as pass/fail.
"""
