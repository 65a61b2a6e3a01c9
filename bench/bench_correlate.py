"""Benchmark: the default correlate.py run (published results, every task x predictor x dependent variable, 9,999
permutations per test, the pooled mixed models with their language-level permutation tests, the figures), with a
cold distance cache.

Run: python bench/bench_correlate.py [--repeats 1] [--n-resamples 9999]

Prints wall and CPU seconds (median over repeats, each with a fresh cache and output folder), the seconds per phase
and the number of tests. Target (issues 6 and 15): under 60 s on 2 cores. Other processes on the machine inflate wall
time; CPU time is the steadier figure.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import correlate  # noqa: E402
from analysis.run import run  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--n-resamples", type=int, default=9999)
    args = p.parse_args()
    paths = sorted(correlate.PUBLISHED_DIR.glob("*.csv"))
    walls, cpus, phases = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t, c = time.perf_counter(), time.process_time()
            ctx = run(paths, Path(tmp) / "out", n_resamples=args.n_resamples, cache_dir=Path(tmp) / "cache")
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            phases.append(ctx["timings"])
    corr, mixed = ctx["corr"], ctx["mixed"]
    wall = statistics.median(walls)
    print(f"correlate default run, {args.n_resamples} permutations per test, cold distance cache, {args.repeats} "
          "repeats")
    print(f"  wall  median {wall:.1f} s  (runs: {', '.join(f'{w:.1f}' for w in walls)})  target < 60 s")
    print(f"  cpu   median {statistics.median(cpus):.1f} s")
    print("  phases (median s): " + ", ".join(f"{k} {statistics.median(ph[k] for ph in phases):.1f}"
                                              for k in phases[0]))
    print(f"  tests: {len(corr)} (experiment x predictor x dv), {int(corr['spearman_rho'].notna().sum())} with a "
          f"coefficient, each: r/rho/tau one-sample permutation p, Fisher/Bonett-Wright CI, Theil-Sen, partial rho "
          f"and size-adjusted slope with Freedman-Lane p; pooled mixed models: {1 + len(mixed)} (each two REML fits "
          f"and a language-level permutation test); {len(ctx['plots'])} figures")


if __name__ == "__main__":
    main()
