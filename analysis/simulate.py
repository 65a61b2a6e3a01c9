"""The after-intermediate design, validated before anyone spends GPU time: simulate results files in the project's
schema from a planted truth, run the analysis on them, and measure coverage, false-positive rate and power.

Run:
    python correlate.py --power                    # the power table (seeds x languages x effect size)
    python correlate.py --power --lang-sd 1.0 --misspecification   # + the misspecification panel (scenarios.py)
    python -m analysis.simulate --write sim.csv    # one simulated study as a results file (then: correlate.py sim.csv)

The truth (Design): languages and syntactic distances as in XTREME (the parallel target tasks' languages, URIEL+
distances from analysis/distances.py); per target task an English score (85) and a baseline drop of
`drop_per_0.1` points per +0.1 distance plus a per-(task, language) scatter (sd 2 points); per intermediate task a
mean effect (`mean_effect` points) plus the planted slope (`planted[task]` points per +0.1 distance, centred at the
mean distance) plus a language deviation (sd `lang_sd`, shared by the language's tasks); every run (baseline or
intermediate, every seed) adds seed noise (sd `seed_sd`: 0.8 points by default, an assumption: set it from the seed
spread of your own runs, `correlate.py --power --seed-sd`). The simulated rows go through the same
seed_effects -> after_intermediate_models path as real runs (analysis/scores.py, analysis/models.py).

Measured (validate; bench/bench_simulate.py, figures in bench/RESULTS.md): over many simulated studies, how often the
95% interval covers the planted slope (close to 95%), how often the language-level permutation p < 0.05 when nothing
is planted (at most 5% plus Monte Carlo error), and
the probability of detection (p < 0.05) for each cell of the power grid (power_table). The power grid's default test
is means_test -- the language effects' slope on distance with the same language-level permutation p, about 60 times
cheaper than the mixed model and in agreement with it on the same studies (bench/bench_simulate.py); `method="mixed"`
runs the full model (`correlate.py --power --power-method mixed --power-reps 40`: about 8 minutes on 2 cores).

Scope: this Design is the project's own assumptions (one language deviation shared by every task, homoscedastic
seed noise, balanced cells, one mean effect): the power table sizes a study under them, `--lang-sd` first of all
(it dominates power). Whether the after-intermediate test the report runs holds when runs misbehave -- pair-specific
means, run-level slopes, heteroscedastic and heavy-tailed noise, diverged runs, missing cells, a size confounder --
is analysis/scenarios.py's panel (`--misspecification`), on the primary test of analysis/after.py.
"""
from __future__ import annotations

import argparse
import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.design import primary_tasks
from analysis.models import after_intermediate_models
from analysis.scores import analysed_metric, seed_effects
from data.results import COLUMNS
from data.tasks import TASKS


@dataclass
class Design:
    distances: dict  # language -> distance from English (non-English languages)
    tasks: dict  # target task -> tuple of its non-English languages
    planted: dict = field(default_factory=lambda: {"mnli": 1.0})  # intermediate task -> points per +0.1 distance
    n_seeds: int = 3  # seeds per run, baseline and intermediate alike
    seed_sd: float = 0.8  # points: sd of one score across fine-tuning seeds
    lang_sd: float = 0.5  # points: sd of a language's own deviation in the intermediate-task effect
    mean_effect: float = 1.0  # points: the intermediate-task effect at the mean distance
    drop_per_0_1: float = 3.0  # points: the baseline drop per +0.1 distance (XLM-R Large on XNLI: about 3)
    model: str = "sim-xlmr"


def xtreme_design(dist: pd.DataFrame, distance: str = "syntactic", **kw) -> Design:
    """The primary pool of analysis/design.py with their registry languages that have a distance."""
    d = dist.set_index("lang")[distance].dropna().to_dict()
    tasks = {t: tuple(lang for lang in TASKS[t].langs if lang != "en" and lang in d)
             for t in primary_tasks()}
    langs = sorted({lang for ls in tasks.values() for lang in ls})
    return Design(distances={lang: d[lang] for lang in langs}, tasks=tasks, **kw)


def subset(design: Design, n_langs: int, rng) -> Design:
    """The design on n_langs languages drawn at random (each task keeps those it has)."""
    langs = sorted(design.distances)
    chosen = set(rng.choice(langs, size=min(n_langs, len(langs)), replace=False))
    tasks = {t: tuple(lang for lang in ls if lang in chosen) for t, ls in design.tasks.items()}
    return replace(design, distances={lang: design.distances[lang] for lang in sorted(chosen)},
                   tasks={t: ls for t, ls in tasks.items() if ls})


def simulate_results(design: Design, rng) -> pd.DataFrame:
    """One simulated study: results rows (the data/results.py schema) for the baselines and every intermediate task."""
    langs = sorted(design.distances)
    dbar = float(np.mean([design.distances[lang] for lang in langs]))
    dev = {lang: rng.normal(0, design.lang_sd) for lang in langs}
    rows = []

    def add(inter, task, seed, lang, value):
        rows.append({"model": design.model, "intermediate_task": inter, "target_task": task, "seed": str(seed),
                     "lang": lang, "split": "test", "metric": analysed_metric(task),
                     "value": float(np.clip(value, 0, 100)), "source": f"sim/{inter}/{task}/seed{seed}"})

    for task, task_langs in design.tasks.items():
        true = {"en": 85.0}
        for lang in task_langs:
            drop = design.drop_per_0_1 * design.distances[lang] / 0.1 + rng.normal(0, 2.0)
            true[lang] = 85.0 - drop
        for seed in range(1, design.n_seeds + 1):
            for lang, v in true.items():
                add("none", task, seed, lang, v + rng.normal(0, design.seed_sd))
            for inter, slope in design.planted.items():
                for lang, v in true.items():
                    effect = design.mean_effect + (0.0 if lang == "en" else
                                                   slope * (design.distances[lang] - dbar) / 0.1 + dev[lang])
                    add(inter, task, seed, lang, v + effect + rng.normal(0, design.seed_sd))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def analyse(frame: pd.DataFrame, design: Design, n_resamples: int, seed=0) -> pd.DataFrame:
    """The after-intermediate models on a simulated study (the path real runs take)."""
    dist = pd.DataFrame({"lang": list(design.distances), "syntactic": list(design.distances.values())})
    return after_intermediate_models(seed_effects(frame.assign(value=frame["value"].astype(float))), dist,
                                     "syntactic", n_resamples=n_resamples, seed=seed)


def validate(design: Design, n_studies: int, n_resamples: int = 199, seed: int = 0) -> dict:
    """Coverage of the 95% intervals, rejection rate of p_perm < 0.05, and how many fits were flagged."""
    rng = np.random.default_rng(seed)
    covered, rejected, flagged = [], [], 0
    for i in range(n_studies):
        res = analyse(simulate_results(design, rng), design, n_resamples, seed=[seed, i])
        for _, r in res.iterrows():
            covered.append(r["ci_low_per_0.1"] <= design.planted[r["intermediate_task"]] <= r["ci_high_per_0.1"])
            rejected.append(r["p_perm"] < 0.05)
            flagged += not bool(r["converged"])
    return {"studies": n_studies, "coverage": float(np.mean(covered)), "rejection_rate": float(np.mean(rejected)),
            "not_converged": flagged}


def study_effects(frame: pd.DataFrame, inter: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lang, target, effect) per non-English intermediate-task row of a simulated study: score_after(seed) minus the
    mean over seeds of the baseline score -- seed_effects's definition (analysis/scores.py), in numpy for the power
    grid's thousands of studies (tests/test_analysis_simulate.py checks the two agree)."""
    v = frame["value"].to_numpy(float)
    lang = frame["lang"].to_numpy(str)
    target = (frame["target_task"] + "/" + frame["split"]).to_numpy(str)
    codes, _ = pd.factorize(pd.Series(target) + "|" + pd.Series(lang))
    base = (frame["intermediate_task"] == "none").to_numpy()
    mean = np.bincount(codes[base], v[base], minlength=codes.max() + 1) / np.maximum(
        np.bincount(codes[base], minlength=codes.max() + 1), 1)
    has_base = np.bincount(codes[base], minlength=codes.max() + 1) > 0
    rows = (frame["intermediate_task"] == inter).to_numpy() & (lang != "en") & has_base[codes]
    return lang[rows], target[rows], v[rows] - mean[codes[rows]]


def language_effects(frame: pd.DataFrame, inter: str) -> pd.Series:
    """Per language, the intermediate task's effect with the target tasks' means removed: the language coefficients
    of the additive least-squares fit effect ~ C(language) + C(target task) over every seed row (study_effects)."""
    lang, target, effect = study_effects(frame, inter)
    langs, li = np.unique(lang, return_inverse=True)
    targets, ti = np.unique(target, return_inverse=True)
    X = np.zeros((len(effect), len(langs) + len(targets) - 1))
    X[np.arange(len(effect)), li] = 1.0
    rest = ti > 0
    X[np.flatnonzero(rest), len(langs) + ti[rest] - 1] = 1.0
    beta = np.linalg.lstsq(X, effect, rcond=None)[0]
    return pd.Series(beta[:len(langs)], index=langs)


def means_test(frame: pd.DataFrame, design: Design, inter: str = "mnli", n_resamples: int = 999, rng=None) -> dict:
    """The power path's test: OLS slope of the language effects (language_effects) on distance, with a language-level
    permutation p (distances permuted among languages; all L! orders when L! <= n_resamples). It is the mixed
    model's test with the language as the unit and equal weights: same effective n (languages), same permutation
    scheme; it equals the mixed model's slope on a balanced one-task design (tests/test_analysis_simulate.py), and
    bench/bench_simulate.py measures how often the two take the same decision on the same studies."""
    y = language_effects(frame, inter)
    d = np.array([design.distances[lang] for lang in y.index])
    dc, yc = d - d.mean(), y.to_numpy() - y.to_numpy().mean()
    sxx = float(dc @ dc)
    rng = rng if rng is not None else np.random.default_rng()
    exact = math.factorial(len(d)) <= n_resamples
    perms = (np.array(list(itertools.permutations(range(len(d))))) if exact
             else rng.permuted(np.tile(np.arange(len(d)), (n_resamples, 1)), axis=1))
    observed = abs(float(dc @ yc))
    stats_ = np.abs(dc[perms] @ yc)
    hits = int((stats_ >= observed * (1 - 1e-9)).sum())
    return {"coef_per_0.1": 0.1 * float(dc @ yc) / sxx, "n_langs": len(d),
            "p_perm": hits / len(perms) if exact else (hits + 1) / (len(perms) + 1)}


POWER_METHODS = ("means", "mixed")


def power_table(design: Design, seeds=(1, 3, 5), n_langs=(6, 10, 15), effects=(0.0, 0.5, 1.0, 2.0),
                reps: int = 100, n_resamples: int | None = None, seed: int = 0, method: str = "means") -> pd.DataFrame:
    """P(language-level permutation p < 0.05) per (seeds, languages, planted effect per +0.1 distance).

    method "means" (default, about 5 ms a study): means_test; "mixed" (about 0.3 s a study): the full
    after-intermediate mixed model (analyse), as the report runs it. n_resamples: permutations per study (default
    999 for means, 199 for mixed). mc_se: the Monte Carlo SE of p_detect, sqrt(p (1 - p) / reps),
    at least 1 / reps (so a cell at 0 or 1 does not read as exact).
    """
    if method not in POWER_METHODS:
        raise ValueError(f"unknown power method {method!r}: expected one of {', '.join(POWER_METHODS)}")
    n_resamples = n_resamples or (999 if method == "means" else 199)
    rng = np.random.default_rng(seed)
    rows = []
    for s in seeds:
        for k in n_langs:
            for eff in effects:
                hits = 0
                for i in range(reps):
                    d = subset(replace(design, n_seeds=s, planted={"mnli": eff}), k, rng)
                    frame = simulate_results(d, rng)
                    if method == "means":
                        p = means_test(frame, d, "mnli", n_resamples, np.random.default_rng([seed, s, k, i]))["p_perm"]
                    else:
                        p = analyse(frame, d, n_resamples, seed=[seed, s, k, i])["p_perm"].iloc[0]
                    hits += bool(p < 0.05)
                p = hits / reps
                rows.append({"seeds": s, "languages": min(k, len(design.distances)), "effect_per_0.1": eff,
                             "p_detect": p, "mc_se": math.sqrt(max(p * (1 - p), 1 / reps) / reps)})
    return pd.DataFrame(rows)


def format_power(table: pd.DataFrame, design: Design, reps: int, method: str = "means") -> str:
    """The power table as text: rows (seeds, languages), columns the planted effect, each cell 'p (MC SE)'."""
    cells = table.assign(cell=[f"{p:.2f} ({se:.2f})" for p, se in zip(table["p_detect"], table["mc_se"])])
    wide = cells.pivot(index=["seeds", "languages"], columns="effect_per_0.1", values="cell")
    wide.columns = [f"{c:g} pt/0.1" for c in wide.columns]
    test = ("the language-effects permutation test (means_test; `--power-method mixed` runs the full mixed model)"
            if method == "means" else "the full after-intermediate mixed model's language-level permutation test")
    head = (f"Power of the after-intermediate test (permutation p < 0.05): probability of detection (Monte Carlo SE) "
            f"over {reps} simulated studies per cell, by {test}; target tasks: "
            f"{', '.join(TASKS[t].display_name or t for t in design.tasks)}; seed sd {design.seed_sd} points, language "
            f"sd {design.lang_sd}; one intermediate task. Column 0 is the false-positive rate.")
    return head + "\n" + wide.to_string()


def main(argv=None) -> None:
    from analysis.distances import english_distances

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write", metavar="CSV", help="write one simulated study as a results file")
    p.add_argument("--effect", type=float, default=1.0, help="planted points per +0.1 distance")
    p.add_argument("--cache-dir", default=None)
    args = p.parse_args(argv)
    from analysis.scenarios import pool_languages

    design = xtreme_design(english_distances(pool_languages(), cache_dir=args.cache_dir), planted={"mnli": args.effect})
    frame = simulate_results(design, np.random.default_rng(0))
    if args.write:
        from common.io import atomic_path

        with atomic_path(args.write) as tmp:
            frame.to_csv(tmp, index=False)
        print(f"wrote {len(frame)} rows to {args.write}")


if __name__ == "__main__":
    main()
