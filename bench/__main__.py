"""``python -m bench [--quick] [--only NAME ...]``: run all benchmarks and write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench import runner


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description="Führt alle bench/bench_*.py aus und schreibt "
                                "bench/RESULTS.md (Maschine, Datum, Median und Spannweite, Budgets).")
    p.add_argument("--quick", action="store_true", help="kleinere Größen, eine Wiederholung je Modul")
    p.add_argument("--only", action="append", metavar="NAME", help="nur diesen Benchmark (mehrfach möglich), z. B. scale")
    p.add_argument("--repeat", type=int, metavar="N", help="Aufrufe von run() je Modul (überschreibt REPEAT)")
    p.add_argument("--timeout", type=float, default=3600, metavar="S", help="Zeitlimit je Modul in Sekunden")
    p.add_argument("--out", metavar="DATEI", help="Zieldatei (Standard bench/RESULTS.md)")
    p.add_argument("--worker", metavar="NAME", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return runner.worker(args.worker, args.out, args.quick, args.repeat)
    names = runner.discover(args.only)
    if not names:
        print("Keine Benchmarks gefunden (bench/bench_*.py).", file=sys.stderr)
        return 2
    machine = runner.machine_info()
    results = []
    for name in names:
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        res = runner.run_isolated(name, args.quick, args.repeat, args.timeout)
        status = "FEHLER" if res.error else "ok"
        print(f"[bench] {name}: {status} in {res.seconds:.1f} s", file=sys.stderr, flush=True)
        results.append(res)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    out = Path(args.out) if args.out else runner.RESULTS
    out.write_text(runner.render(results, machine, command.strip(), args.quick), encoding="utf-8")
    print(f"[bench] geschrieben: {out}", file=sys.stderr)
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
