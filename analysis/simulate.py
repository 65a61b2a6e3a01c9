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
    # target task -> test items per language: each run's score is then measured on that many items (binomial
    # item noise, drawn per run), on top of seed_sd (which is then the model's own seed variation). Empty: none
    # (the XTREME default, whose seed_sd of 0.8 was set as the whole run-to-run spread on test sets of 1,190-5,010
    # items).
    items: dict = field(default_factory=dict)


def xtreme_design(dist: pd.DataFrame, distance: str = "syntactic", **kw) -> Design:
    """The primary pool of analysis/design.py with their registry languages that have a distance."""
    d = dist.set_index("lang")[distance].dropna().to_dict()
    tasks = {t: tuple(lang for lang in TASKS[t].langs if lang != "en" and lang in d)
             for t in primary_tasks()}
    langs = sorted({lang for ls in tasks.values() for lang in ls})
    return Design(distances={lang: d[lang] for lang in langs}, tasks=tasks, **kw)


# Test items per language (XTREME, Hu et al. 2020, Table 1: XNLI 5,010, PAWS-X 2,000, XQuAD 1,190, MLQA 4,517 to
# 11,590 -- its smallest here; SIB-200, Adelani et al. 2024: 204 test sentences). Binomial noise on a proportion
# overstates the noise of a score whose items differ in difficulty (sum q_i (1 - q_i) / n^2 <= p (1 - p) / n) and
# of F1 (per-item values in [0, 1]): a conservative power figure.
TEST_ITEMS = {"xnli": 5010, "pawsx": 2000, "xquad": 1190, "mlqa": 4517, "sib200": 204}


def many_language_design(dist: pd.DataFrame, distance: str = "syntactic", task: str = "sib200", **kw) -> Design:
    """The after-intermediate design over a many-language task (SIB-200 by default): its languages with a
    distance, item noise on its TEST_ITEMS test items."""
    d = dist.set_index("lang")[distance].dropna().to_dict()
    langs = sorted(lang for lang in TASKS[task].langs if lang != "en" and lang in d)
    kw.setdefault("items", {task: TEST_ITEMS[task]})
    return Design(distances={lang: d[lang] for lang in langs}, tasks={task: tuple(langs)}, **kw)


def subset(design: Design, n_langs: int, rng) -> Design:
    """The design on n_langs languages drawn at random (each task keeps those it has)."""
    langs = sorted(design.distances)
    chosen = set(rng.choice(langs, size=min(n_langs, len(langs)), replace=False))
    tasks = {t: tuple(lang for lang in ls if lang in chosen) for t, ls in design.tasks.items()}
    return replace(design, distances={lang: design.distances[lang] for lang in sorted(chosen)},
                   tasks={t: ls for t, ls in tasks.items() if ls})


def simulate_results(design: Design, rng) -> pd.DataFrame:
    """One simulated study: results rows (the data/results.py schema) for the baselines and every intermediate task.

    Drawn a block of languages at a time, in the order a loop over (task, seed, run, language) would draw them one
    by one (the same numbers: tests/test_analysis_simulate.py); with item noise, each block's binomial draws follow
    its normal ones."""
    langs = sorted(design.distances)
    dbar = float(np.mean([design.distances[lang] for lang in langs]))
    dev = dict(zip(langs, rng.normal(0, design.lang_sd, len(langs))))
    cols = {k: [] for k in ("intermediate_task", "target_task", "seed", "lang", "metric", "value", "source")}

    def add(inter, task, seed, block_langs, values):
        values = np.clip(values, 0, 100)
        if task in design.items:  # measured on the task's test items
            n = design.items[task]
            values = 100 * rng.binomial(n, values / 100) / n
        k = len(block_langs)
        for col, v in (("intermediate_task", inter), ("target_task", task), ("seed", str(seed)),
                       ("metric", analysed_metric(task)), ("source", f"sim/{inter}/{task}/seed{seed}")):
            cols[col] += [v] * k
        cols["lang"] += block_langs
        cols["value"] += [float(v) for v in values]

    for task, task_langs in design.tasks.items():
        dist = np.array([design.distances[lang] for lang in task_langs])
        block = ["en", *task_langs]
        true = np.r_[85.0, 85.0 - (design.drop_per_0_1 * dist / 0.1 + rng.normal(0, 2.0, len(task_langs)))]
        for seed in range(1, design.n_seeds + 1):
            add("none", task, seed, block, true + rng.normal(0, design.seed_sd, len(block)))
            for inter, slope in design.planted.items():
                effect = np.r_[design.mean_effect, design.mean_effect + slope * (dist - dbar) / 0.1
                               + np.array([dev[lang] for lang in task_langs])]
                add(inter, task, seed, block, true + effect + rng.normal(0, design.seed_sd, len(block)))
    n = len(cols["lang"])
    frame = pd.DataFrame({"model": [design.model] * n, **cols, "split": ["test"] * n})
    return frame[[c for c in COLUMNS]]


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
    if len(targets) == 1:  # one target task: the least-squares coefficients are the languages' means
        return pd.Series(np.bincount(li, effect) / np.bincount(li), index=langs)
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
    items = (", item noise: binomial on " + ", ".join(f"{n} {TASKS[t].display_name or t} items" for t, n in
                                                     design.items.items()) + " per run" if design.items else "")
    head = (f"Power of the after-intermediate test (permutation p < 0.05): probability of detection (Monte Carlo SE) "
            f"over {reps} simulated studies per cell, by {test}; target tasks: "
            f"{', '.join(TASKS[t].display_name or t for t in design.tasks)}; seed sd {design.seed_sd} points, language "
            f"sd {design.lang_sd}{items}; one intermediate task. Column 0 is the false-positive rate.")
    return head + "\n" + wide.to_string()


def pooled_truth(table: pd.DataFrame) -> dict:
    """A realistic truth for the many-language pooled model: its fit on `table` (the languages with a distance of
    analysis/many.py's many_language_table): coefficients, family and language SDs, English's score."""
    from analysis.many import pooled_design, reml_fit

    g = table.reset_index(drop=True)
    fit = reml_fit(g["drop"], pooled_design(g), g["s2"], g["family"])
    return {"coefs": np.asarray(fit["b"], float), "family_sd": math.sqrt(fit["family_var"]),
            "lang_sd": math.sqrt(fit["lang_var"]), "en": float(g["accuracy"].iloc[0] + g["drop"].iloc[0])}


def simulate_many(table: pd.DataFrame, truth: dict, rng, items: int = TEST_ITEMS["sib200"]) -> pd.DataFrame:
    """The table's languages (their seen flag, distance, size, nearest seen relative and family kept) with drops
    drawn from `truth`: X b + a family intercept + a language deviation, then the accuracy measured on `items`
    test items (binomial) and drop and item variance recomputed from it, as analysis/many.py computes them."""
    from analysis.many import item_variance, pooled_design

    g = table.reset_index(drop=True).copy()
    families = sorted(g["family"].unique())
    fam = dict(zip(families, rng.normal(0, truth["family_sd"], len(families))))
    mu = pooled_design(g) @ truth["coefs"] + g["family"].map(fam).to_numpy() + rng.normal(0, truth["lang_sd"], len(g))
    accuracy = 100 * rng.binomial(items, np.clip(truth["en"] - mu, 0, 100) / 100) / items
    g["accuracy"], g["drop"], g["s2"] = accuracy, truth["en"] - accuracy, item_variance(accuracy, items)
    return g


def validate_pooled(table: pd.DataFrame, n_studies: int, planted: float | None = None, seed: int = 0) -> dict:
    """Coverage of the pooled model's 95% interval for `unseen x distance` and how often its Wald p < 0.05, over
    studies simulated from the model fitted to `table` with that term set to `planted` points per +0.1 (0: the
    false-positive rate; None: the fitted value). MC SEs: sqrt(p (1 - p) / n_studies)."""
    from analysis.many import POOLED_TERMS, pooled_effect

    truth = pooled_truth(table)
    j = POOLED_TERMS.index("unseen x distance")
    if planted is not None:
        truth["coefs"][j] = planted / 0.1
    target = 0.1 * truth["coefs"][j]
    rng = np.random.default_rng(seed)
    covered, rejected = [], []
    for _ in range(n_studies):
        t = pooled_effect(simulate_many(table, truth, rng))["terms"]["unseen x distance"]
        covered.append(t["ci_low"] <= target <= t["ci_high"])
        rejected.append(t["p"] < 0.05)
    cov, rej = float(np.mean(covered)), float(np.mean(rejected))
    return {"studies": n_studies, "planted_per_0.1": target, "coverage": cov,
            "coverage_mc_se": math.sqrt(cov * (1 - cov) / n_studies), "rejection_rate": rej,
            "rejection_mc_se": math.sqrt(max(rej * (1 - rej), 1 / n_studies) / n_studies)}


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
