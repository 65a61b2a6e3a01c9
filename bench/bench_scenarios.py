"""Benchmark of the after-intermediate analysis' validity: the misspecification panel (analysis/scenarios.py), the
power table by language sd, and whether the old pooled mixed model's "did not converge" flag predicts bad inference.

Run: nice python bench/bench_scenarios.py [--reps 400] [--n-resamples 199] [--flag-studies 100] [--out FILE.json]

Prints (and writes as JSON with --out) one row per scenario: the primary test's false-positive rate (both
intermediate tasks at slope 0), the 95% interval's coverage, power at -1 point of drop per +0.1 distance (far
languages gain 1 point more per 0.1) and coverage there; each with its Monte Carlo SE over studies. Then the power
table (means test of analysis/simulate.py, 3 seeds x 10 languages, +1 per 0.1) for lang_sd 0.5 / 1.0 / 1.5, and the
convergence-flag check: the old after-intermediate mixed model (analysis/models.py after_intermediate_models, as
analysis/simulate.py still runs it) on heavy-tailed studies, coverage among flagged and unflagged fits.
"""
import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analysis import scenarios as S  # noqa: E402
from analysis import simulate as sim  # noqa: E402
from analysis.distances import english_distances  # noqa: E402


def flag_check(design, n_studies: int, seed: int = 0) -> dict:
    """Coverage of the old mixed model's interval among fits flagged 'did not converge' and the rest, on studies with
    t(3) seed noise (the old simulator's Design; the flag's whole life was there)."""
    import warnings

    rng = np.random.default_rng(seed)
    flagged, clean = [], []
    for i in range(n_studies):
        frame = sim.simulate_results(design, rng)
        noise = rng.standard_t(3, len(frame)) / math.sqrt(3) * design.seed_sd  # heavy tails on top
        frame = frame.assign(value=(frame["value"].astype(float) + noise).clip(0, 100))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sim.analyse(frame, design, 99, seed=[seed, i])
        for _, r in res.iterrows():
            ok = r["ci_low_per_0.1"] <= design.planted[r["intermediate_task"]] <= r["ci_high_per_0.1"]
            (clean if bool(r["converged"]) else flagged).append(ok)
    return {"studies": n_studies, "flagged": len(flagged), "coverage_flagged": float(np.mean(flagged)) if flagged
            else math.nan, "coverage_clean": float(np.mean(clean)) if clean else math.nan}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=400, help="simulated studies per panel cell (default 400)")
    p.add_argument("--n-resamples", type=int, default=199)
    p.add_argument("--power-reps", type=int, default=400)
    p.add_argument("--flag-studies", type=int, default=100)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    dist = english_distances(S.pool_languages())
    world = S.real_world(dist)
    out = {}
    t0 = time.perf_counter()
    parts = []
    for k, (name, kw) in enumerate(S.SCENARIOS.items()):  # one scenario at a time: progress shows as it goes
        parts.append(S.panel(world, args.reps, n_resamples=args.n_resamples, seed=k, scenarios={name: kw}))
        r = parts[-1].iloc[0]
        print(f"{name}: FPR {r['fpr']:.3f} ({r['fpr_se']:.3f}), rule {r['fpr_rule']:.3f}, coverage "
              f"{r['coverage']:.3f} ({r['coverage_se']:.3f}), power {r['power']:.3f} ({r['power_se']:.3f}), rule "
              f"{r['power_rule']:.3f} [{time.perf_counter() - t0:.0f} s]", flush=True)
    table = pd.concat(parts, ignore_index=True)
    out["panel"] = table.to_dict("records")
    out["panel_seconds"] = time.perf_counter() - t0
    print(S.format_panel(table, world))
    print(f"panel: {time.perf_counter() - t0:.0f} s\n", flush=True)
    t0 = time.perf_counter()
    design = sim.xtreme_design(dist)
    rows = []
    for lang_sd in (0.5, 1.0, 1.5):
        t = sim.power_table(replace(design, lang_sd=lang_sd), seeds=(3,), n_langs=(10,), effects=(0.0, 1.0),
                            reps=args.power_reps, seed=1)
        rows += [{"lang_sd": lang_sd, **r} for r in t.to_dict("records")]
        print(f"lang_sd {lang_sd}: " + "; ".join(f"effect {r['effect_per_0.1']:g}: {r['p_detect']:.3f} "
                                                 f"({r['mc_se']:.3f})" for r in t.to_dict("records")), flush=True)
    out["power_by_lang_sd"] = rows
    print(f"power table: {time.perf_counter() - t0:.0f} s\n", flush=True)
    if args.flag_studies:
        t0 = time.perf_counter()
        old = sim.xtreme_design(dist, planted={"mnli": 1.0, "squad_v2": 0.0})
        out["convergence_flag"] = flag_check(old, args.flag_studies)
        print(f"old mixed model, did-not-converge flag: {out['convergence_flag']} "
              f"({time.perf_counter() - t0:.0f} s)")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
