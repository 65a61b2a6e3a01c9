"""Benchmark of analysis/simulate.py's validation: coverage and false-positive rate of the after-intermediate mixed
model (the old pooled model `correlate.py --power --power-method mixed` runs) over many simulated studies, and how
often the power grid's cheap test (means_test) takes the same decision as that model on the same studies.

Run: nice python bench/bench_simulate.py [--studies 200] [--n-resamples 199] [--agreement-studies 100] [--out FILE.json]

These were tests (tests/test_analysis_simulate.py, 2026-12-05: 60 and 200 studies a side, about 12 minutes of the
suite); they are measurements, so they live here and their figures in bench/RESULTS.md. The tests keep the small
checks (the same seed gives the same numbers, a planted large effect is detected, a handful of studies run the full
path).

The design: 10 XNLI languages (7 of them in XQuAD) at evenly spread syntactic distances 0.35-0.7, 2 seeds, one
intermediate task (mnli) with the planted slope per +0.1 distance -- the tests' small_design. Printed per check: the
rate, its Monte Carlo SE over studies, the nominal level, and whether it is within 3 SE of it (coverage) or below
nominal + 3 SE (false-positive rate). Agreement: per planted effect (0 and 1.5 per +0.1), the share of studies where
the mixed model (199 permutations) and means_test (999) both reject or both do not, and their two rejection rates.
"""
import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analysis import simulate as sim
from data.tasks import TASKS


def small_design(**kw) -> sim.Design:
    """10 XNLI languages (7 of them in XQuAD) at evenly spread distances, 2 seeds (the tests' design)."""
    langs = [lang for lang in TASKS["xnli"].langs if lang != "en"][:10]
    dist = dict(zip(langs, np.linspace(0.35, 0.7, len(langs))))
    tasks = {"xnli": tuple(langs), "xquad": tuple(lang for lang in TASKS["xquad"].langs if lang in dist)}
    return sim.Design(distances=dist, tasks=tasks, **{"n_seeds": 2, **kw})


def mc_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1 / n) / n)


def agreement(design: sim.Design, effect: float, n_studies: int) -> dict:
    """Decisions (p < 0.05) of the mixed model and of means_test on the same simulated studies."""
    rng = np.random.default_rng(int(effect * 10))
    decisions = []
    for i in range(n_studies):
        study = replace(design, planted={"mnli": effect})
        frame = sim.simulate_results(study, rng)
        p_mixed = sim.analyse(frame, study, 199, seed=i)["p_perm"].iloc[0]
        p_means = sim.means_test(frame, study, n_resamples=999, rng=np.random.default_rng(i))["p_perm"]
        decisions.append((p_mixed < 0.05, p_means < 0.05))
    d = np.array(decisions)
    return {"effect_per_0.1": effect, "studies": n_studies, "same_decision": float((d[:, 0] == d[:, 1]).mean()),
            "reject_mixed": float(d[:, 0].mean()), "reject_means": float(d[:, 1].mean())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--studies", type=int, default=200, help="simulated studies per side (planted, null)")
    p.add_argument("--n-resamples", type=int, default=199)
    p.add_argument("--agreement-studies", type=int, default=100, help="studies per effect for the agreement check")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    n = args.studies
    out = {"studies": n, "n_resamples": args.n_resamples}
    t0 = time.perf_counter()
    for name, slope, seed in (("planted", 1.0, 10), ("null", 0.0, 11)):
        r = sim.validate(small_design(planted={"mnli": slope}), n_studies=n, n_resamples=args.n_resamples, seed=seed)
        cov, rej = r["coverage"], r["rejection_rate"]
        line = (f"{name} (slope {slope:g} per 0.1): coverage {cov:.3f} ({mc_se(cov, n):.3f}) vs 0.95, within 3 SE: "
                f"{abs(cov - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / n)}; p < 0.05 in {rej:.3f} ({mc_se(rej, n):.3f})")
        if slope == 0:
            line += f" vs 0.05, below 0.05 + 3 SE: {rej <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / n)}"
        print(line + f"; not converged {r['not_converged']} [{time.perf_counter() - t0:.0f} s]", flush=True)
        out[name] = r
    if args.agreement_studies:
        out["agreement"] = []
        for eff in (0.0, 1.5):
            a = agreement(small_design(), eff, args.agreement_studies)
            out["agreement"].append(a)
            print(f"means_test vs mixed model, effect {eff:g} per 0.1, {a['studies']} studies: same decision in "
                  f"{a['same_decision']:.3f}; p < 0.05: mixed {a['reject_mixed']:.3f}, means {a['reject_means']:.3f} "
                  f"[{time.perf_counter() - t0:.0f} s]", flush=True)
    out["seconds"] = time.perf_counter() - t0
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
