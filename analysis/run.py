"""The whole analysis in one call: read -> drops -> distances and covariates -> tests -> pooled models -> files.

Use: `ctx = run(paths, out_dir)` (what `python correlate.py` does); ctx holds every table (also written to out_dir).

The primary test is written down by name in analysis/design.py (PRIMARY: model XLM-R Large, syntactic distance,
abs_drop in points, pooled over XNLI, PAWS-X, XQuAD, MLQA -- chosen after an exploratory analysis of the published
numbers, fixed for new runs; a new parallel target task does not join it); it is the pooled mixed model's distance slope
with its language-level permutation p. With intermediate-task runs in the inputs the primary test is, per intermediate
task, the slope of the change of the drop on the same distance with log pretraining size held fixed, pooled over the
parallel target tasks and seeds (analysis/after.py: diverged runs left out first, own runs paired with own
baselines only; a two-way language/run cluster-robust, studentized language-permutation test). Everything else is
exploratory; its p-values are Benjamini-Hochberg adjusted within each family (model, intermediate task, dependent
variable) across its task x predictor grid.
"""
from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.covariates import log_pretraining_size, size_table
from analysis.design import PREDICTORS, PRIMARY, SCRIPT, primary_tasks
from analysis.distances import english_distances, shared_urielplus
from analysis.many import many_language_answer
from analysis.models import (MODEL_COLUMNS, covariance, drop_pool, fit_mixedlm, gls_z,
                             language_permutations, pooled_drop_model)
from analysis.scores import EXPERIMENT, compute_drops, dependent_variables, load_scores, seed_effects
from analysis.stats import LEVEL, MIN_N, PER, freedman_lane_p, measure_association, small_n_row
from common.io import atomic_path
from data.tasks import TASKS, target_tasks

CORR_COLUMNS = [*EXPERIMENT, "dv", "predictor", "n", "spearman_rho", "spearman_ci_low", "spearman_ci_high",
                "p_spearman", "p_exact", "p_spearman_bh", "pearson_r", "pearson_ci_low", "pearson_ci_high",
                "p_pearson", "kendall_tau", "kendall_ci_low", "kendall_ci_high", "p_kendall", "theil_sen_per_0.1",
                "theil_sen_low_per_0.1", "theil_sen_high_per_0.1", "n_sized", "partial_spearman", "p_partial",
                "adj_slope_per_0.1", "p_adj_slope_fl", "ols_slope", "ols_se_hc3", "ols_p_hc3", "ols_r2",
                "ols_delta_r2", "loo_max_delta_rho", "loo_lang", "parallel_test", "langs", "left_out", "note"]


def choose_primary_model(drops: pd.DataFrame, wanted: str = PRIMARY["model"]) -> tuple[str, str]:
    """(model, note): the pre-specified model when present, else the model with most primary-pool rows (said so)."""
    models = list(dict.fromkeys(drops["model"]))
    if wanted in models:
        return wanted, ""
    pool = drops[drops["target_task"].isin(primary_tasks())]
    counts = (pool if len(pool) else drops).groupby("model").size().sort_values(ascending=False, kind="stable")
    model = counts.index[0]
    return model, f"{wanted} is not in the inputs; the primary model is {model} (most rows on the parallel tasks)."


def association_table(drops: pd.DataFrame, dist: pd.DataFrame, n_resamples: int, seed: int) -> pd.DataFrame:
    """One row per (experiment, predictor, dependent variable); rel_drop is left out (within an experiment it is
    abs_drop times a constant: every rank statistic, p and interval is the same; drops.csv has it)."""
    dist = dist.set_index("lang")
    rows = []
    for i, (key, g) in enumerate(drops.groupby(EXPERIMENT, sort=False)):
        exp = dict(zip(EXPERIMENT, key))
        for dv in (v for v in dependent_variables(g) if v != "rel_drop"):
            g_dv = g[g[dv].notna()]
            for j, d in enumerate(PREDICTORS):
                dx = dist.loc[g_dv["lang"], d].to_numpy(float)
                ok = ~np.isnan(dx)
                langs = g_dv["lang"].to_numpy()[ok]
                size = np.array([log_pretraining_size(exp["model"], lang) for lang in langs])
                res = measure_association(dx[ok], g_dv[dv].to_numpy(float)[ok], size, list(langs), n_resamples,
                                          [seed, i, j, len(dv)])
                rows.append({**exp, "dv": dv, "predictor": d, **res, "langs": " ".join(langs),
                             "parallel_test": TASKS[exp["target_task"]].parallel_test,
                             "left_out": " ".join(f"{lang} (no {d} value)"
                                                  for lang in sorted(set(g_dv["lang"]) - set(langs)))})
    out = pd.DataFrame(rows).reindex(columns=CORR_COLUMNS)
    for _, fam in out[out["p_spearman"].notna()].groupby(["model", "intermediate_task", "dv"], sort=False):
        out.loc[fam.index, "p_spearman_bh"] = stats.false_discovery_control(fam["p_spearman"].to_numpy(float))
    return out


def pooled_models(drops, dist, n_resamples: int, seed: int) -> pd.DataFrame:
    """Exploratory pooled fits: every model x predictor, over the parallel tasks and over every drop task."""
    rows = []
    base = drops[drops["intermediate_task"] == "none"]
    drop_tasks = [t for t in target_tasks() if TASKS[t].kind != "retrieval"]
    for m, model in enumerate(dict.fromkeys(base["model"])):
        for j, d in enumerate(PREDICTORS):
            for pool, tasks in (("parallel", primary_tasks()), ("all drop tasks", drop_tasks)):
                rows.append(pooled_drop_model(base, dist, model, tasks, d, n_resamples=n_resamples,
                                              seed=[seed, m, j, len(pool)], pool=pool))
    out = pd.DataFrame(rows).reindex(columns=[*MODEL_COLUMNS, "p_perm_bh"])
    for _, fam in out[out["p_perm"].notna()].groupby("model", sort=False):  # BH within each model (issue 22)
        out.loc[fam.index, "p_perm_bh"] = stats.false_discovery_control(fam["p_perm"].to_numpy(float))
    return out


def _pool(drops, dist, model: str) -> pd.DataFrame:
    """The primary test's rows: lang, task, the primary dv, distance (the primary distance)."""
    return drop_pool(drops, dist, model, primary_tasks(), PRIMARY["distance"], PRIMARY["dv"])


def selection_adjusted_p(drops, dist, model: str, n_resamples: int, seed) -> dict:
    """The primary p adjusted for the choice of the distance among the candidate predictors (analysis/design.py).

    Candidates: every predictor defined (and not constant) for all languages of the primary pool. One joint language
    permutation moves every candidate's values together; the statistic of a permutation is max over candidates of the
    GLS |z| (V from the fit without any distance, as for the primary p); p = share of permutations whose max |z|
    reaches the primary distance's observed |z| (Westfall-Young max-T). With the same seed the permutations are those
    of the primary test, so the adjusted p is never below the primary p.
    """
    dv = PRIMARY["dv"]
    data = _pool(drops, dist, model)
    langs, idx = np.unique(data["lang"].to_numpy(), return_inverse=True)
    d = dist.set_index("lang")
    cands = [p for p in PREDICTORS if p in d and d.loc[langs, p].notna().all() and d.loc[langs, p].nunique() > 1]
    out = {"candidates": cands, "not_candidates": [p for p in PREDICTORS if p not in cands], "n_langs": len(langs),
           "p_selection": math.nan}
    if PRIMARY["distance"] not in cands or len(langs) < MIN_N or data["task"].nunique() < 2:
        return out
    try:
        null_fit, _, _ = fit_mixedlm(f"{dv} ~ C(task)", data)
        V, A, y = covariance(null_fit, data), np.asarray(null_fit.model.exog, float), data[dv].to_numpy(float)
        X = d.loc[langs, cands].to_numpy(float)  # (L, K)
        perms, exact = language_permutations(len(langs), n_resamples, np.random.default_rng(seed))
        z_obs = np.array([gls_z(y, A, X[idx, k][None, :], V)[0] for k in range(len(cands))])
        z_max = np.max([np.abs(gls_z(y, A, X[perms, k][:, idx], V)) for k in range(len(cands))], axis=0)
    except np.linalg.LinAlgError:
        return out
    hits = int((z_max >= abs(z_obs[cands.index(PRIMARY["distance"])]) * (1 - 1e-9)).sum())
    out.update(p_selection=hits / len(perms) if exact else (hits + 1) / (len(perms) + 1), n_perm=len(perms),
               z={c: float(z) for c, z in zip(cands, z_obs)})
    return out


def size_adjusted_primary(drops, dist, model: str, n_resamples: int, seed) -> dict:
    """The primary model with log pretraining size added: dv ~ C(task) + size + distance + (1 | language).

    Slope per +0.1 with a t(languages - 3) interval (REML MixedLM), and a language-level Freedman-Lane p: per language
    the mean of dv minus the task effects of the reduced fit (dv ~ C(task) + size + (1 | language)), then
    Freedman-Lane on those language means (permute the residuals of mean ~ size; statistic |t| of distance in
    mean ~ distance + size). rho_distance_size: Spearman rho of distance and log size over the same languages.
    """
    dv = PRIMARY["dv"]
    data = _pool(drops, dist, model)
    data["size"] = [log_pretraining_size(model, lang) for lang in data["lang"]]
    out = {"covariate": "log pretraining size", "unsized": sorted(set(data.loc[data["size"].isna(), "lang"]))}
    data = data.dropna().reset_index(drop=True)
    L = data["lang"].nunique()
    out["n_langs"] = L
    if L < MIN_N + 1 or data["task"].nunique() < 2:
        return {**out, "note": f"{L} languages with a pretraining size: no size-adjusted slope"}
    try:
        fit, _, clean = fit_mixedlm(f"{dv} ~ C(task) + size + distance", data)
        reduced, _, _ = fit_mixedlm(f"{dv} ~ C(task) + size", data)
    except np.linalg.LinAlgError as e:
        return {**out, "note": str(e)}
    coef, se = float(fit.params["distance"]), float(fit.bse["distance"])
    q = stats.t.ppf(0.5 + LEVEL / 2, L - 3)
    fe = reduced.fe_params
    task_effect = np.asarray(reduced.model.exog, float)[:, [i for i, n in enumerate(fe.index) if n.startswith(
        "C(task)")]] @ fe[[n for n in fe.index if n.startswith("C(task)")]].to_numpy(float)
    lang_mean = data.assign(adj=data[dv] - task_effect).groupby("lang").agg(
        y=("adj", "mean"), x=("distance", "first"), z=("size", "first"))
    rng = np.random.default_rng(np.random.SeedSequence([*np.atleast_1d(seed), 22]))
    out.update({"coef_per_0.1": PER * coef, "ci_low_per_0.1": PER * (coef - q * se),
                "ci_high_per_0.1": PER * (coef + q * se), "df": L - 3, "converged": clean,
                "p_fl": freedman_lane_p(lang_mean["y"], lang_mean["x"], lang_mean["z"], n_resamples, rng),
                "rho_distance_size": float(stats.spearmanr(lang_mean["x"], lang_mean["z"]).statistic)})
    return out


def primary_diagnostics(drops, dist, model: str) -> dict:
    """Appendix A3b: the scale of +0.1 distance, leave-one-language-out slopes, per-language residuals and the
    distance x task heterogeneity test of the primary model (dv ~ C(task) + distance + (1 | language))."""
    import statsmodels.formula.api as smf

    dv = PRIMARY["dv"]
    data = _pool(drops, dist, model)
    per_lang = data.groupby("lang")["distance"].first()
    out = {"n_langs": len(per_lang)}
    if len(per_lang):
        out.update(sd=float(per_lang.std(ddof=1)) if len(per_lang) > 1 else math.nan,
                   min=float(per_lang.min()), max=float(per_lang.max()), min_lang=str(per_lang.idxmin()),
                   max_lang=str(per_lang.idxmax()))
    if len(per_lang) < MIN_N or data["task"].nunique() < 2:
        return out
    formula = f"{dv} ~ C(task) + distance"
    try:
        fit, _, _ = fit_mixedlm(formula, data)
    except np.linalg.LinAlgError:
        return out
    resid = data[dv].to_numpy(float) - np.asarray(fit.model.exog, float) @ fit.fe_params.to_numpy(float)
    out["residuals"] = (data.assign(residual=resid).groupby("lang")
                        .agg(distance=("distance", "first"), residual=("residual", "mean"), tasks=("task", "size"))
                        .reset_index().sort_values("distance", kind="stable"))
    loo = {}
    for lang in per_lang.index:
        sub = data[data["lang"] != lang].reset_index(drop=True)
        if sub["task"].nunique() < 2 or sub["lang"].nunique() < MIN_N:
            continue
        try:
            loo[lang] = PER * float(fit_mixedlm(formula, sub)[0].params["distance"])
        except np.linalg.LinAlgError:
            continue
    if loo:
        lo, hi = min(loo, key=loo.get), max(loo, key=loo.get)
        out["loo"] = {"low": loo[lo], "low_lang": lo, "high": loo[hi], "high_lang": hi, "n": len(loo)}
    # Distance x task: likelihood ratio of ML fits (REML likelihoods of different fixed effects do not compare).
    fits = []
    for f in (formula, f"{dv} ~ C(task) * distance"):
        for method in ("bfgs", "lbfgs", "powell", "nm"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = smf.mixedlm(f, data, groups=data["lang"]).fit(reml=False, method=method)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if m.converged:
                break
        else:
            return out
        fits.append(m)
    k = data["task"].nunique() - 1
    lr = max(2 * (fits[1].llf - fits[0].llf), 0.0)
    out["heterogeneity"] = {"lr": lr, "df": k, "p": float(stats.chi2.sf(lr, k))}
    return out


def hc3_fl_disagreements(corr: pd.DataFrame, model: str, alpha: float = 0.05) -> list[dict]:
    """Per-task rows of the primary model, distance and dv where the HC3 p and the Freedman-Lane p of the
    size-adjusted slope fall on different sides of alpha."""
    g = corr[(corr["model"] == model) & (corr["intermediate_task"] == "none") & (corr["predictor"] ==
             PRIMARY["distance"]) & (corr["dv"] == PRIMARY["dv"]) & corr["ols_p_hc3"].notna()
             & corr["p_adj_slope_fl"].notna()]
    return [{"task": r["target_task"], "split": r["split"], "p_hc3": float(r["ols_p_hc3"]),
             "p_fl": float(r["p_adj_slope_fl"])} for _, r in g.iterrows()
            if (r["ols_p_hc3"] < alpha) != (r["p_adj_slope_fl"] < alpha)]


def retrieval_summary(drops: pd.DataFrame, dist: pd.DataFrame, model: str) -> list[dict]:
    """Per retrieval task of a model: rho of the score with log pretraining size and with each predictor."""
    out = []
    d = dist.set_index("lang")
    for (task, split), g in drops[(drops["model"] == model) & (drops["intermediate_task"] == "none")].groupby(
            ["target_task", "split"]):
        if TASKS[task].kind != "retrieval" or len(g) < MIN_N:
            continue
        size = np.array([log_pretraining_size(model, lang) for lang in g["lang"]])
        ok = ~np.isnan(size)
        row = {"task": task, "split": split, "n": int(ok.sum()),
               "rho_size": float(stats.spearmanr(size[ok], g["score"].to_numpy()[ok]).statistic)}
        for p in PREDICTORS:
            x = d.loc[g["lang"], p].to_numpy(float)
            k = ~np.isnan(x)
            row[p] = float(stats.spearmanr(x[k], g["score"].to_numpy()[k]).statistic)
        out.append(row)
    return out


def sensitivity(drops, dist, model: str, n_resamples: int, seed: int, metric: str, cache_dir,
                imputed: bool = False, integrated: bool = False) -> list[dict]:
    """The primary test re-run on the standard-variety URIEL codes (ar -> arb, zh -> cmn, ...) and, with
    `imputed`, on distances from urielplus's own imputation of missing features (analysis/distances.py
    impute_urielplus; about 10 s the first time (the rows needed), then cached) and, with `integrated`, on
    urielplus's integrated databases (integrated_english_distances; about 3 minutes once, then cached)."""
    from analysis.distances import IMPUTATION, INTEGRATED, integrated_english_distances

    variants = [("macrolanguage codes (as reported)", dist),
                ("standard-variety codes", english_distances(list(dist["lang"]), metric, cache_dir, codes="standard"))]
    if imputed:
        variants.append((f"urielplus imputation ({IMPUTATION['strategy']}, k = {IMPUTATION['k']})",
                         english_distances(list(dist["lang"]), metric, cache_dir, imputed=True)))
    if integrated:
        d = PRIMARY["distance"]
        other = integrated_english_distances(list(dist["lang"]), d, metric, cache_dir).set_index("lang")[d]
        variants.append((INTEGRATED, dist.assign(**{d: other.reindex(dist["lang"]).to_numpy(float)})))
    rows = []
    for name, table in variants:
        r = pooled_drop_model(drops, table, model, primary_tasks(), PRIMARY["distance"], n_resamples=n_resamples,
                              seed=seed)
        rows.append({"variant": name, **{k: r.get(k) for k in ("n_langs", "coef_per_0.1", "ci_low_per_0.1",
                                                              "ci_high_per_0.1", "p_perm", "converged")}})
    return rows


def size_in_bytes(drops, dist, model: str) -> list[dict]:
    """Partial rho on the primary distance with log CC-100 GiB (bytes) instead of characters, per primary task."""
    from analysis.covariates import CC100_GIB, uses_cc100
    from analysis.stats import partial_spearman

    rows = []
    if not uses_cc100(model):
        return rows
    d = dist.set_index("lang")[PRIMARY["distance"]]
    base = drops[(drops["model"] == model) & (drops["intermediate_task"] == "none")]
    for (task, split), g in base[base["target_task"].isin(primary_tasks())].groupby(["target_task", "split"]):
        g = g[g["lang"].isin(CC100_GIB) & d.reindex(g["lang"]).notna().to_numpy()]
        if len(g) < MIN_N:
            continue
        x, y = d.loc[g["lang"]].to_numpy(float), g[PRIMARY["dv"]].to_numpy(float)
        rows.append({"task": task, "split": split, "n": len(g),
                     "bytes": partial_spearman(x, y, np.log([CC100_GIB[lang] for lang in g["lang"]])),
                     "characters": partial_spearman(x, y, [log_pretraining_size(model, lang) for lang in g["lang"]])})
    return rows


TOKENIZER_COVARIATES = ("fertility", "overlap_types")


def tokenizer_associations(drops, dist, tok: pd.DataFrame, model: str, n_resamples: int, seed: int) -> pd.DataFrame:
    """Per baseline task of `model` with tokenizer covariates: rho of each covariate with the drop (permutation p)
    and the partial rho of the primary distance and the drop controlling for it (Freedman-Lane p).

    Fertility of languages written without spaces (data/languages.tsv `spaces`: zh, ja, th, ...) counts pieces per character, not per word: left out of the
    fertility rows (said in `left_out`); the overlap uses every language.
    """
    from analysis.stats import _rank, correlation_permutation_p, freedman_lane_p, partial_spearman
    from data.languages import need

    d = dist.set_index("lang")[PRIMARY["distance"]]
    base = drops[(drops["model"] == model) & (drops["intermediate_task"] == "none") & drops[PRIMARY["dv"]].notna()]
    rows = []
    for i, ((task, split), g) in enumerate(base.groupby(["target_task", "split"], sort=False)):
        t = tok[tok["task"] == task].set_index("lang")
        if t.empty:  # no text for this task under the data folder (the notes say so)
            continue
        for j, cov in enumerate(TOKENIZER_COVARIATES):
            skip = {l for l in g["lang"] if need(l, "spaces") == "no"} if cov == "fertility" else set()
            k = g[g["lang"].isin(t.index) & ~g["lang"].isin(skip) & d.reindex(g["lang"]).notna().to_numpy()]
            row = {"model": model, "target_task": task, "split": split, "covariate": cov, "n": len(k),
                   "langs": " ".join(k["lang"]),
                   "left_out": " ".join(sorted(set(g["lang"]) & skip & set(t.index)))}
            if len(k) < MIN_N:
                rows.append({**row, "note": f"n = {len(k)} < {MIN_N}: no coefficient"})
                continue
            c = t.loc[k["lang"], cov].to_numpy(float)
            y = k[PRIMARY["dv"]].to_numpy(float)
            x = d.loc[k["lang"]].to_numpy(float)
            rng = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, i, j]).spawn(2)]
            row["rho_with_drop"] = float(stats.spearmanr(c, y).statistic)
            row["p_rho"] = float(correlation_permutation_p(c, y, n_resamples, rng[0])[1])
            row["rho_distance_drop"] = float(stats.spearmanr(x, y).statistic)
            ranks = np.column_stack([np.ones(len(k)), _rank(x), _rank(c)])
            if np.linalg.matrix_rank(ranks) < 3:
                row["note"] = "distance and covariate have the same ranks: no partial rho"
            else:
                row["partial_rho_distance"] = partial_spearman(x, y, c)
                row["p_partial"] = freedman_lane_p(_rank(y), _rank(x), _rank(c), n_resamples, rng[1])
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=["model", "target_task", "split", "covariate", "n", "rho_with_drop",
                                               "p_rho", "rho_distance_drop", "partial_rho_distance", "p_partial",
                                               "langs", "left_out", "note"])


def run(paths, out: Path, metric: str = "angular", n_resamples: int = 9999, seed: int = 0, cache_dir=None,
        plots: bool = True, primary_model: str = PRIMARY["model"], display_paths=None, spm=None,
        data_dir=None, sensitivity_imputed: bool = False, keep_diverged: bool = False,
        pair_published: bool = False, item_scores=None, sensitivity_integrated: bool = False) -> dict:
    """The whole analysis; returns the tables (also written under `out`) and the seconds per phase (timings).
    item_scores: the per-item scores of one's own runs (data/items.py read_item_scores; the many-language drops
    are then paired).

    With `spm` (a sentencepiece model file) and `data_dir` (the tasks' data folder): tokenizer covariates per
    language (analysis/tokenization.py) and their association with the primary model's drop (tokenizer.csv,
    tokenizer_associations.csv, the report's appendix). Distances not yet cached come from one urielplus load."""
    with shared_urielplus():
        return _run(paths, out, metric, n_resamples, seed, cache_dir, plots, primary_model, display_paths, spm,
                    data_dir, sensitivity_imputed, keep_diverged, pair_published, item_scores,
                    sensitivity_integrated)


def _run(paths, out, metric, n_resamples, seed, cache_dir, plots, primary_model, display_paths, spm, data_dir,
         sensitivity_imputed, keep_diverged, pair_published, item_scores=None,
         sensitivity_integrated=False) -> dict:
    from analysis import plots as plotting
    from analysis import report

    out = Path(out)
    timings, t = {}, time.perf_counter()

    def lap(name):
        nonlocal t
        timings[name], t = time.perf_counter() - t, time.perf_counter()

    if (spm is None) != (data_dir is None):
        raise ValueError("tokenizer covariates need both a sentencepiece model (--spm) and a data folder (--data-dir)")
    if spm is not None:  # bad inputs fail before any work
        from analysis.tokenization import load_spm

        load_spm(spm)
        if not Path(data_dir).is_dir():
            raise ValueError(f"{data_dir}: no such data folder (--data-dir)")
    # --- after-intermediate hook (analysis/after.py): diverged runs out before averaging; own runs pair only with
    # own baselines unless pair_published
    from analysis import after as aft

    diverged = []

    def screen(df):
        df, bad = aft.drop_diverged(df, keep_diverged)
        diverged.append(bad)
        return df

    scores, set_aside, notes, kept = load_scores(paths, screen=screen)
    diverged = diverged[0]
    if len(diverged):  # named in the data notes in every mode (and on the after-intermediate first screen)
        notes.append(("Diverged runs kept (--keep-diverged): " if keep_diverged else "Diverged runs left out: ")
                     + "; ".join(f"{r.model} | {r.intermediate_task} | {r.target_task} seed {r.seed} (English "
                                 f"{r.split} {r.english:.1f}, cell median {r.cell_median:.1f})"
                                 for r in diverged.itertuples()) + f". Rule: {aft.diverged_rule()}.")
    pairings = aft.published_pairings(kept)
    if len(pairings) and not pair_published:
        raise ValueError(aft.pairing_error(pairings))
    # --- end of hook
    drops, left_out = compute_drops(scores)
    if drops.empty:
        raise ValueError(f"no non-English scores to analyse in {', '.join(map(str, paths))}")
    effects = seed_effects(kept)
    lap("read")
    langs = sorted(set(drops["lang"]) | {"en"})
    dist = english_distances(langs, metric, cache_dir).merge(size_table(langs), on="lang")
    dist[SCRIPT] = 1 - dist["shares_script_with_en"]
    lap("distances")
    corr = association_table(drops, dist, n_resamples, seed)
    lap("tests")
    model, model_note = choose_primary_model(drops, primary_model)
    n_perm = min(n_resamples, 9999)
    primary = pooled_drop_model(drops, dist, model, primary_tasks(), PRIMARY["distance"], n_resamples=n_perm,
                                seed=seed, pool="parallel (primary)")
    mixed = pooled_models(drops, dist, min(n_resamples, 999), seed)
    # --- after-intermediate hook: the primary test per intermediate task and the pooled comparison (analysis/after.py)
    after_rows = aft.run_rows(kept, primary_tasks())
    after = aft.primary_tests(after_rows, dist, PRIMARY["distance"], n_resamples=n_perm, seed=seed)
    after_pooled = aft.pooled_comparison(after_rows, dist, PRIMARY["distance"], n_resamples=min(n_perm, 999),
                                         seed=seed)
    # --- end of hook
    sens = sensitivity(drops, dist, model, n_perm, seed, metric, cache_dir, sensitivity_imputed,
                       sensitivity_integrated)
    many = many_language_answer(paths, metric, cache_dir, n_perm, seed, imputed=sensitivity_imputed,
                                items=item_scores, integrated=sensitivity_integrated)
    selection = selection_adjusted_p(drops, dist, model, n_perm, seed)
    size_adjusted = size_adjusted_primary(drops, dist, model, n_perm, seed)
    diagnostics = primary_diagnostics(drops, dist, model)
    lap("pooled_models")
    tok, tok_assoc, tok_notes = None, None, []
    if spm is not None and data_dir is not None:
        from analysis.tokenization import tokenizer_covariates

        tasks = [t for t in dict.fromkeys(drops["target_task"]) if TASKS[t].kind != "retrieval"]
        tok, tok_notes = tokenizer_covariates(spm, data_dir, tasks)
        tok_assoc = tokenizer_associations(drops, dist, tok, model, n_resamples, seed)
        for name, table in (("tokenizer.csv", tok), ("tokenizer_associations.csv", tok_assoc)):
            with atomic_path(out / name) as tmp:
                table.to_csv(tmp, index=False)
        lap("tokenizer")
    ns = sorted({int(n) for n in corr["n"].dropna() if n >= MIN_N})
    small_n = pd.DataFrame([small_n_row(n, n_resamples) for n in ns])
    collinearity = dist[dist["lang"] != "en"][list(PREDICTORS)].corr(method="spearman")
    for name, table in (("drops.csv", drops), ("distances.csv", dist), ("correlations.csv", corr),
                        ("mixed_models.csv", pd.concat([pd.DataFrame([primary]), mixed], ignore_index=True)
                         .reindex(columns=[*MODEL_COLUMNS, "p_perm_bh"])), ("small_n.csv", small_n)):
        with atomic_path(out / name) as tmp:
            table.to_csv(tmp, index=False)
    if many is not None:
        with atomic_path(out / "many_languages.csv") as tmp:
            many["table"].to_csv(tmp, index=False)
        if "terms" in many["pooled"]:
            with atomic_path(out / "many_pooled.csv") as tmp:
                pd.DataFrame([{"term": k, **v} for k, v in many["pooled"]["terms"].items()]).assign(
                    n=many["pooled"]["n"], family_share=many["pooled"]["family_share"],
                    converged=many["pooled"]["converged"]).to_csv(tmp, index=False)
    if len(effects):
        with atomic_path(out / "effects.csv") as tmp:
            effects.to_csv(tmp, index=False)
        for name, table in (("after_intermediate.csv", after), ("after_pooled.csv", after_pooled)):
            with atomic_path(out / name) as tmp:
                table.to_csv(tmp, index=False)
    with atomic_path(out / "diverged_runs.csv") as tmp:
        diverged.to_csv(tmp, index=False)
    ctx = dict(corr=corr, drops=drops, dist=dist, mixed=mixed, primary=primary, after=after, effects=effects,
               primary_model=model, model_note=model_note, collinearity=collinearity, scores=scores,
               set_aside=set_aside, notes=notes, left_out=left_out, metric=metric, n_resamples=n_resamples,
               seed=seed, inputs=display_paths or [str(p) for p in paths], timings=timings, small_n=small_n,
               sensitivity=sens, size_in_bytes=size_in_bytes(drops, dist, model),
               retrieval=retrieval_summary(drops, dist, model), n_perm=n_perm, tokenizer=tok,
               tokenizer_associations=tok_assoc, tokenizer_notes=tok_notes, spm=spm, data_dir=data_dir,
               sensitivity_imputed=sensitivity_imputed, sensitivity_integrated=sensitivity_integrated,
               after_pooled=after_pooled, diverged=diverged,
               keep_diverged=keep_diverged, published_pairings=pairings, selection=selection,
               size_adjusted=size_adjusted, diagnostics=diagnostics, hc3_fl=hc3_fl_disagreements(corr, model),
               many=many, model_chosen_on_command_line=primary_model != PRIMARY["model"] and model == primary_model)
    ctx["plots"] = plotting.write_plots(out, ctx) if plots else []
    lap("plots")
    report.write_report(out, ctx)
    lap("report")
    return ctx

