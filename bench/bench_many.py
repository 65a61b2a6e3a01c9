"""Benchmark of the many-language pooled model (analysis/many.py pooled_effect): coverage and false-positive rate of
its `unseen x distance` interval and Wald p over studies simulated on the real SIB-200 table (analysis/simulate.py
validate_pooled: the published table's languages -- seen flag, distance, CC-100 size, nearest seen relative,
Glottolog family -- with drops drawn from the model fitted to it, family intercepts, language deviations and binomial
item noise on 204 test sentences).

Run: nice python bench/bench_many.py [--studies 400] [--cache-dir DIR] [--out FILE.json]

Printed per side (null: the interaction set to 0; planted: its fitted value): the rate, its Monte Carlo SE, and
whether it is within 3 SE of nominal (coverage 0.95) or below 0.05 + 3 SE (false-positive rate). The test suite runs
the same path on a few studies (tests/test_analysis_many.py); the figures are in bench/RESULTS.md.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from analysis.many import many_language_table
from analysis.simulate import validate_pooled
from data.results import read_results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--studies", type=int, default=400, help="simulated studies per side (null, planted)")
    p.add_argument("--cache-dir", default=None, help="URIEL+ cache (default: the project's)")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    t0 = time.perf_counter()
    table, _ = many_language_table(read_results([ROOT / "results" / "published" / "sib200_adelani2024_table7.csv"]),
                                   cache_dir=args.cache_dir)
    ok = table[table["dropped"] == ""]
    n = args.studies
    out = {"studies": n, "languages": len(ok)}
    for name, planted, seed in (("null", 0.0, 1), ("planted", None, 2)):
        r = validate_pooled(ok, n, planted=planted, seed=seed)
        cov, rej = r["coverage"], r["rejection_rate"]
        line = (f"{name} (unseen x distance {r['planted_per_0.1']:+.2f} per 0.1, {len(ok)} languages): coverage "
                f"{cov:.3f} ({r['coverage_mc_se']:.3f}) vs 0.95, within 3 SE: "
                f"{abs(cov - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / n)}; p < 0.05 in {rej:.3f} ({r['rejection_mc_se']:.3f})")
        if planted == 0:
            line += f" vs 0.05, below 0.05 + 3 SE: {rej <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / n)}"
        print(line + f" [{time.perf_counter() - t0:.0f} s]", flush=True)
        out[name] = r
    out["seconds"] = time.perf_counter() - t0
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
