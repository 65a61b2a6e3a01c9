"""Simulated studies as real STILTs runs behave, analysed by the after-intermediate path (analysis/after.py):
false-positive rate, coverage and power of the primary test under realistic misspecification.

Run:
    python -m analysis.scenarios --reps 400            # the misspecification panel (bench/bench_scenarios.py saves it)
    python correlate.py --power --misspecification     # the same panel after the power table

The world (World) is drawn on the real languages of the pre-registered pool (the parallel target tasks XNLI, PAWS-X,
XQuAD, MLQA: 16 non-English languages) with their URIEL+ syntactic distances (analysis/distances.py, cached) and
XLM-R Large's log pretraining size (analysis/covariates.py); two or more intermediate tasks. One run = (intermediate
task, target task, seed); baselines have their own seeds. Per language L, intermediate task I, target t, run r:

    base(L, t)      = 85 + target offset - drop_per_0.1 x d(L)/0.1 + N(0, 2)              (en: 85 + target offset)
    effect(L, r)    = m(I, t) - slope(I) x (d(L) - mean d)/0.1 - b_r x (d(L) - mean d)/0.1
                      + u(L, I) + v(L, t, I) + size_effect x (s(L) - mean s)
    score           = base + effect (after runs) + noise(L);   English after: base(en) + m(I, t) + noise(en)

so the planted change of the DROP per +0.1 distance with size held fixed is slope(I) (negative: far languages gain
more). Knobs: pair_means (m depends on the (intermediate, target) pair), lang_sd (u: language x intermediate),
cell_sd (v: language x target x intermediate), run_slope_sd (b_r: each run's own transfer quality), seed_sd ->
seed_sd_far (noise sd growing linearly with distance), tails_df (Student t noise, scaled to seed_sd), diverged
(probability that a run collapses: every score of it falls 30-50 points), missing (probability that an (intermediate,
target, language) cell has no scores, rising linearly from 0 at the smallest distance to `missing` at the largest),
size_effect (points per log unit of pretraining size). Each run also writes its English dev score, which the
diverged-run check reads. SCENARIOS lists the panel; `validate` measures one scenario.
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.after import drop_diverged, primary_tests, run_rows
from analysis.design import PRIMARY
from data.results import COLUMNS

INTERS = ("mnli", "squad_v2")
# The pre-registered pool by name (issue 19: a registry flag would let new parallel tasks join it); analysis/design.py
# is to hold it for every module.
POOL = tuple(PRIMARY["pool"])  # the pre-registered pool (analysis/design.py)


def pool_languages() -> list[str]:
    """English and the languages of the pool's tasks (what english_distances needs for the simulations)."""
    from data.tasks import TASKS

    return sorted({lang for t in POOL for lang in TASKS[t].langs} | {"en"})


@dataclass
class World:
    distances: dict  # language -> syntactic distance from English
    sizes: dict  # language -> log pretraining size (XLM-R Large's covariate)
    tasks: dict  # target task -> its non-English languages
    slopes: dict = field(default_factory=lambda: {i: 0.0 for i in INTERS})  # drop change per +0.1, size fixed
    pair_means: dict = field(default_factory=dict)  # (inter, target) -> mean effect (default mean_effect)
    mean_effect: float = 1.0
    n_seeds: int = 3
    seed_sd: float = 0.8
    seed_sd_far: float | None = None
    lang_sd: float = 0.5
    cell_sd: float = 0.0
    run_slope_sd: float = 0.0
    tails_df: float = math.inf
    diverged: float = 0.0
    missing: float = 0.0
    size_effect: float = 0.0
    drop_per_0_1: float = 3.0
    model: str = "XLM-R Large"


def real_world(dist: pd.DataFrame, distance: str = "syntactic", **kw) -> World:
    """The pre-registered pool's tasks with their registry languages that have a distance and a size."""
    from analysis.covariates import log_pretraining_size
    from data.tasks import TASKS

    d = dist.set_index("lang")[distance].dropna().to_dict()
    sizes = {lang: log_pretraining_size("XLM-R Large", lang) for lang in d}
    ok = {lang for lang in d if lang != "en" and np.isfinite(sizes[lang])}
    tasks = {t: tuple(lang for lang in TASKS[t].langs if lang in ok) for t in POOL}
    langs = sorted({lang for ls in tasks.values() for lang in ls})
    return World(distances={lang: d[lang] for lang in langs}, sizes={lang: sizes[lang] for lang in langs},
                 tasks=tasks, **kw)


PAIR_MEANS = {("mnli", "xnli"): 3.0, ("mnli", "pawsx"): 2.0, ("mnli", "xquad"): 0.0, ("mnli", "mlqa"): -0.5,
              ("squad_v2", "xnli"): -0.5, ("squad_v2", "pawsx"): 0.0, ("squad_v2", "xquad"): 3.0,
              ("squad_v2", "mlqa"): 2.5}  # as in Phang et al.: MNLI helps XNLI, SQuAD the QA tasks
SCENARIOS = {
    "the project's own assumptions": {},
    "languages gain differently per intermediate task (sd 0.7; cell 0.5)": {"lang_sd": 0.7, "cell_sd": 0.5},
    "mean effect depends on the (intermediate, target) pair": {"pair_means": PAIR_MEANS},
    "each run has its own slope (sd 0.5 per 0.1)": {"run_slope_sd": 0.5},
    "seed noise grows with distance (sd 0.4 -> 2.4)": {"seed_sd": 0.4, "seed_sd_far": 2.4},
    "heavy tails (t3) + 3% diverged runs": {"tails_df": 3.0, "diverged": 0.03},
    "missing cells rising with distance (to 40%)": {"missing": 0.4},
    "a size effect (-0.8 per log unit)": {"size_effect": -0.8},
    "all of the above together": {"lang_sd": 0.7, "cell_sd": 0.5, "pair_means": PAIR_MEANS, "run_slope_sd": 0.5,
                                  "seed_sd": 0.4, "seed_sd_far": 2.4, "tails_df": 3.0, "diverged": 0.03,
                                  "missing": 0.4, "size_effect": -0.8},
}


def _noise(world: World, sd, rng, size=None):
    z = rng.standard_normal(size) if not np.isfinite(world.tails_df) else (
        rng.standard_t(world.tails_df, size) / math.sqrt(world.tails_df / (world.tails_df - 2)))
    return sd * z


def simulate_study(world: World, rng) -> pd.DataFrame:
    """One study as a results file (data/results.py columns): baselines and every intermediate task's runs."""
    from analysis.scores import analysed_metric

    langs = sorted(world.distances)
    d = np.array([world.distances[lang] for lang in langs])
    s = np.array([world.sizes[lang] for lang in langs])
    dc, sc = (d - d.mean()) / 0.1, s - s.mean()
    far = 0.0 if d.max() == d.min() else 1.0
    rel = (d - d.min()) / (d.max() - d.min()) if far else np.zeros_like(d)
    sd = world.seed_sd + ((world.seed_sd_far or world.seed_sd) - world.seed_sd) * rel
    u = {i: rng.normal(0, world.lang_sd, len(langs)) for i in world.slopes}
    cols = {c: [] for c in COLUMNS}
    collapsed = []

    def add(inter, task, seed, split, ls, values):
        n = len(ls)
        for c, v in (("model", world.model), ("intermediate_task", inter), ("target_task", task),
                     ("seed", str(seed)), ("split", split), ("metric", analysed_metric(task)),
                     ("source", f"sim/{inter}/{task}/s{seed}")):
            cols[c] += [v] * n
        cols["lang"] += list(ls)
        cols["value"] += list(np.clip(values, 0, 100))

    for j, (task, task_langs) in enumerate(world.tasks.items()):
        idx = np.array([langs.index(lang) for lang in task_langs])
        en = 85.0 - 3.0 * j
        base = en - world.drop_per_0_1 * d[idx] / 0.1 + rng.normal(0, 2.0, len(idx))
        for inter in (None, *world.slopes):
            if inter is None:
                mean, keep, shift = 0.0, np.ones(len(idx), bool), np.zeros(len(idx))
            else:
                mean = world.pair_means.get((inter, task), world.mean_effect)
                keep = rng.random(len(idx)) >= world.missing * rel[idx]
                shift = (mean - world.slopes[inter] * dc[idx] + u[inter][idx]
                         + rng.normal(0, world.cell_sd, len(idx)) + world.size_effect * sc[idx])
            for seed in range(1, world.n_seeds + 1):
                run_shift = shift.copy()
                if inter is not None and world.run_slope_sd:
                    run_shift -= rng.normal(0, world.run_slope_sd) * dc[idx]
                collapse = rng.uniform(30, 50) if rng.random() < world.diverged else 0.0
                name = inter or "none"
                if collapse:
                    collapsed.append((name, task, str(seed)))
                en_run = en + mean - collapse
                add(name, task, seed, "test", ["en"], [en_run + _noise(world, world.seed_sd, rng)])
                add(name, task, seed, "dev", ["en"], [en_run + _noise(world, world.seed_sd, rng)])
                v = base + run_shift - collapse + _noise(world, sd[idx], rng, len(idx))
                add(name, task, seed, "test", np.asarray(task_langs)[keep], v[keep])
    frame = pd.DataFrame(cols, columns=list(COLUMNS))
    frame.attrs["diverged"] = collapsed  # the runs planted as diverged: (intermediate task, target task, seed)
    return frame


def analyse(frame: pd.DataFrame, world: World, n_resamples: int = 199, seed=0, keep_diverged: bool = False):
    """(primary_tests table, diverged runs): the after-intermediate path correlate.py takes on a results file
    (drop_diverged -> run_rows -> primary_tests; tests/test_analysis_after.py checks they agree)."""
    df = frame.assign(value=frame["value"].astype(float))
    df, bad = drop_diverged(df, keep_diverged)
    dist = pd.DataFrame({"lang": list(world.distances), "syntactic": list(world.distances.values())})
    rows = run_rows(df.assign(rank=0), list(world.tasks))
    return primary_tests(rows, dist, "syntactic", n_resamples=n_resamples, seed=seed), bad


def mc_se(p: float, n: int) -> float:
    """Monte Carlo SE of a rate over n studies, at least that of 1/n (a 0 or 1 does not read as exact)."""
    return math.sqrt(max(p * (1 - p), 1 / n) / n) if n else math.nan


def validate(world: World, n_studies: int, n_resamples: int = 199, seed: int = 0) -> dict:
    """Over n_studies simulated studies: the rejection rate of the primary test (p < 0.05), the decision rule's rate
    (p < 0.05 and the interval excludes 0: what the first screen calls a finding) and the coverage of the 95% interval for the planted size-adjusted slope, both over every intermediate task's test; with MC SEs
    over studies (a study's two tests are not independent: the SE uses the number of studies)."""
    rng = np.random.default_rng(seed)
    rejected, decided, covered, named, planted, found, single, single_found = [], [], [], 0, 0, 0, 0, 0
    for i in range(n_studies):
        frame = simulate_study(world, rng)
        res, bad = analyse(frame, world, n_resamples, seed=[seed, i])
        planted_runs = set(frame.attrs["diverged"])
        named += len(bad)
        planted += len(planted_runs)
        hits = planted_runs & set(zip(bad["intermediate_task"], bad["target_task"], bad["seed"].astype(str)))
        found += len(hits)
        per_cell = pd.Series([r[:2] for r in planted_runs], dtype=object).value_counts()
        alone = {r for r in planted_runs if per_cell[r[:2]] == 1}  # the only collapse of its cell: detectable
        single += len(alone)
        single_found += len(alone & hits)
        for r in res.itertuples():
            truth = world.slopes[r.intermediate_task]
            lo, hi = res.loc[r.Index, "ci_low_per_0.1"], res.loc[r.Index, "ci_high_per_0.1"]
            rejected.append(bool(r.p < 0.05))
            decided.append(bool(r.p < 0.05 and (lo > 0 or hi < 0)))
            covered.append(bool(lo <= truth <= hi))
    rej, dec, cov = float(np.mean(rejected)), float(np.mean(decided)), float(np.mean(covered))
    return {"studies": n_studies, "tests": len(rejected), "rejection_rate": rej, "rejection_se": mc_se(rej, n_studies),
            "decision_rate": dec, "decision_se": mc_se(dec, n_studies),
            "coverage": cov, "coverage_se": mc_se(cov, n_studies), "diverged_planted": planted,
            "diverged_named": named, "diverged_found": found, "diverged_alone": single,
            "diverged_alone_found": single_found}


def panel(world: World, reps: int = 400, effect: float = -1.0, n_resamples: int = 199, seed: int = 0,
          scenarios=None) -> pd.DataFrame:
    """Per scenario: FPR (slopes 0) with coverage, and power at `effect` per +0.1 (both intermediate tasks)."""
    rows = []
    for k, (name, kw) in enumerate((scenarios or SCENARIOS).items()):
        w = replace(world, **kw)
        null = validate(replace(w, slopes={i: 0.0 for i in w.slopes}), reps, n_resamples, seed=seed * 1000 + 2 * k)
        alt = validate(replace(w, slopes={i: effect for i in w.slopes}), reps, n_resamples,
                       seed=seed * 1000 + 2 * k + 1)
        rows.append({"scenario": name, "studies": reps, "fpr": null["rejection_rate"], "fpr_se": null["rejection_se"],
                     "fpr_rule": null["decision_rate"], "fpr_rule_se": null["decision_se"],
                     "coverage": null["coverage"], "coverage_se": null["coverage_se"],
                     "power": alt["rejection_rate"], "power_se": alt["rejection_se"],
                     "power_rule": alt["decision_rate"], "power_rule_se": alt["decision_se"],
                     "coverage_alt": alt["coverage"], "coverage_alt_se": alt["coverage_se"]})
    return pd.DataFrame(rows)


def format_panel(table: pd.DataFrame, world: World, effect: float = -1.0) -> str:
    head = (f"Misspecification panel: the after-intermediate primary test (analysis/after.py) on studies simulated "
            f"as real runs behave ({len(world.distances)} languages, {', '.join(world.tasks)}, "
            f"{len(world.slopes)} intermediate tasks, {world.n_seeds} seeds); {int(table['studies'].iloc[0])} "
            f"studies per cell, Monte Carlo SE in parentheses (over studies; each study tests both intermediate "
            f"tasks); power at {effect:+g} point of drop per +0.1 distance. Rule: p < 0.05 and the 95% interval "
            "excludes 0, as the first screen decides.")
    t = pd.DataFrame({"scenario": table["scenario"],
                      "FPR (p < 0.05)": [f"{p:.3f} ({s:.3f})" for p, s in zip(table["fpr"], table["fpr_se"])],
                      "FPR (rule)": [f"{p:.3f} ({s:.3f})" for p, s in zip(table["fpr_rule"], table["fpr_rule_se"])],
                      "coverage (null)": [f"{p:.3f} ({s:.3f})" for p, s in zip(table["coverage"],
                                                                              table["coverage_se"])],
                      "power (p < 0.05)": [f"{p:.3f} ({s:.3f})" for p, s in zip(table["power"], table["power_se"])],
                      "power (rule)": [f"{p:.3f} ({s:.3f})" for p, s in zip(table["power_rule"],
                                                                          table["power_rule_se"])],
                      "coverage (planted)": [f"{p:.3f} ({s:.3f})" for p, s in zip(table["coverage_alt"],
                                                                                 table["coverage_alt_se"])]})
    lines = ["| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in t.itertuples(index=False)]
    return head + "\n\n" + "\n".join(lines)


def main(argv=None) -> None:
    from analysis.distances import english_distances

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=400, help="studies per cell (default 400)")
    p.add_argument("--n-resamples", type=int, default=199, help="permutations per test")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None)
    args = p.parse_args(argv)
    world = real_world(english_distances(pool_languages(), cache_dir=args.cache_dir))
    t0 = time.perf_counter()
    print(format_panel(panel(world, args.reps, n_resamples=args.n_resamples, seed=args.seed), world))
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
