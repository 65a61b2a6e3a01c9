"""Benchmark: the default correlate.py run (published results, all tasks x distances x dependent variables,
9,999 permutations and bootstrap resamples), with a cold distance cache.

Run: python bench/bench_correlate.py [--repeats 3] [--n-resamples 9999]

Prints wall and CPU seconds (median over repeats, each with a fresh cache and output folder), the seconds per
phase, the number of tests, and a reference measured in the same run: one plain
scipy.stats.permutation_test + scipy.stats.bootstrap of scipy.stats.spearmanr (not vectorized) on n = 14, times the
number of tests, i.e. what a straightforward per-test loop would cost. Target (issue 6): under 60 s on 2 cores.
Other processes on the machine inflate wall time; CPU time is the steadier figure.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import correlate  # noqa: E402


def reference_seconds(n_resamples: int) -> float:
    """One test done the plain way: scipy's Spearman, not vectorized, p-value and BCa CI (Spearman only)."""
    rng = np.random.default_rng(0)
    x, y = rng.random(14), rng.random(14)
    f = lambda a, b: stats.spearmanr(a, b).statistic  # noqa: E731
    t = time.perf_counter()
    stats.permutation_test((x, y), f, permutation_type="pairings", vectorized=False, n_resamples=n_resamples,
                           rng=rng)
    stats.bootstrap((x, y), f, paired=True, vectorized=False, n_resamples=n_resamples, method="BCa", rng=rng)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n-resamples", type=int, default=9999)
    args = p.parse_args()
    paths = sorted(correlate.PUBLISHED_DIR.glob("*.csv"))
    walls, cpus, phases = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t, c = time.perf_counter(), time.process_time()
            ctx = correlate.run(paths, Path(tmp) / "out", n_resamples=args.n_resamples, cache_dir=Path(tmp) / "cache")
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            phases.append(ctx["timings"])
    corr = ctx["corr"]
    n_tests, n_coef = len(corr), int(corr["spearman_rho"].notna().sum())
    n_full = int((corr["spearman_rho"].notna() & (corr["dv"] != "rel_drop")).sum())
    ref = reference_seconds(args.n_resamples)
    wall = statistics.median(walls)
    print(f"correlate default run, {args.n_resamples} resamples, cold distance cache, {args.repeats} repeats")
    print(f"  wall  median {wall:.1f} s  (runs: {', '.join(f'{w:.1f}' for w in walls)})  target < 60 s")
    print(f"  cpu   median {statistics.median(cpus):.1f} s")
    print("  phases (median s): " + ", ".join(f"{k} {statistics.median(ph[k] for ph in phases):.1f}"
                                              for k in phases[0]))
    print(f"  tests: {n_tests} (experiment x distance x dv), {n_coef} with a coefficient, {n_full} resampled "
          f"(rel_drop reuses abs_drop's), each: Pearson/Spearman/Kendall permutation p + BCa CI, partial rho, OLS")
    print(f"  reference: plain scipy Spearman p + BCa CI, one test {ref:.2f} s; x {n_full} resampled tests = "
          f"{ref * n_full:.0f} s (Spearman alone) -> this run: {ref * n_full / wall:.1f}x less wall time, with "
          f"three statistics and the plots")


if __name__ == "__main__":
    main()
