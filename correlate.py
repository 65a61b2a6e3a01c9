"""Per-language zero-shot drop against linguistic distance from English: the study's answer, with honest statistics.

Run:
    python correlate.py                                  # the published baselines in results/published/
    python correlate.py runs/results.csv --out results/correlation/mine
    python correlate.py runs/results.csv --with-published --metric cosine --n-resamples 999

Input: results CSVs in the schema of data/results.py (evaluate.py / retrieval.py rows, or the published files).
Published display names (XNLI, PAWS-X, ..., F1, EM) are mapped to the project's names (xnli, pawsx, ..., f1,
exact_match). Each task is analysed on its primary metric (data.tasks: accuracy for XNLI/PAWS-X/Tatoeba, F1 for
the rest). One cell = (model, intermediate_task, target_task, split, metric, lang); where sources disagree on a
cell, the first source in SOURCE_PREFERENCE wins (your own runs, whose source is a run directory, come first) and
the report lists what was set aside; seeds of the winning source are averaged.

Dependent variables, per (model, intermediate_task, target_task, split) and non-English language L:
    abs_drop = score(en) - score(L);  rel_drop = 100 * (1 - score(L) / score(en))       (not for retrieval)
    score = score(L)                                                                     (retrieval: no English side)
    effect = score_after(L) - score_baseline(L);  drop_change = abs_drop_after - abs_drop_baseline
                                                   (intermediate_task != none, where the baseline run exists)
Per (experiment, distance, dependent variable), with n >= 5 languages: Pearson r, Spearman rho, Kendall tau-b
(scipy.stats) with permutation p-values (scipy.stats.permutation_test, pairings) and 95% BCa bootstrap CIs
(scipy.stats.bootstrap, paired); Benjamini-Hochberg and Holm adjustment within each family (model,
intermediate_task, dependent variable) across its task x distance grid; partial Spearman controlling for log CC-100
size (ranks residualized on the rank of log size; permutation p on the residuals); OLS dv ~ distance + log size with
HC3 errors and the R^2 the distance adds (statsmodels); leave-one-language-out influence on rho. Across tasks: a
linear mixed model (statsmodels MixedLM) of within-task standardized dv on the distance with task fixed effects and
a random intercept per language. Distances come from data/distances.py (urielplus).

Output (--out, default results/correlation/): report.md, correlations.csv, drops.csv, distances.csv,
mixed_models.csv (and with --matrix, distance_matrix_<distance>.csv: language x language), and PNG
plots: scatter_<experiment>.png (dv against each distance, fitted line, language labels), heatmap_rho_<family>.png
(rho over tasks x distances), distance_collinearity.png. Every file is written atomically.
"""
from __future__ import annotations

import argparse
import io
import math
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from data.distances import DISTANCES, METRICS, URIEL_CODES, distance_matrices, english_distances
from data.examples import DataError
from common.io import atomic_path, atomic_write_bytes, atomic_write_text
from data.results import read_results
from data.tasks import TASKS

ROOT = Path(__file__).resolve().parent
PUBLISHED_DIR = ROOT / "results" / "published"
DEFAULT_OUT = ROOT / "results" / "correlation"
MIN_N = 5  # fewer languages than this: no coefficient (a rank correlation on 4 points can only be +-1, +-0.8, ...)
TARGET_TASKS = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba")

# Display names in the published files -> the registry's names (registry names map to themselves). Metric names
# not listed here (precision, accuracy_query_xx, f1_layer14, ...) are kept as they are and reported as not analysed.
TASK_NAMES = {"XNLI": "xnli", "PAWS-X": "pawsx", "PAN-X": "panx", "UDPOS": "udpos", "XQuAD": "xquad",
              "MLQA": "mlqa", "TyDiQA-GoldP": "tydiqa", "Tatoeba": "tatoeba", "BUCC": "bucc2018",
              **{t: t for t in TARGET_TASKS}}
METRIC_NAMES = {"accuracy": "accuracy", "F1": "f1", "f1": "f1", "EM": "exact_match", "exact_match": "exact_match",
                "F1 (assumed; unlabelled in data)": "f1"}
# Which source wins a disputed cell: first match of these prefixes; a source matching none (your own run
# directory) ranks before all of them. Reasons in results/published/README.md.
SOURCE_PREFERENCE = ("google-deepmind/xquad", "facebookresearch/fairseq", "PaddlePaddle/ERNIE",
                     "tensorflow/tfhub.dev", "jiant-dev/jiant-dev", "google-research/bert", "microsoft/Litmus")
# CC-100 size in GiB (XLM-R paper, Table 6; REFERENCE.md). Yoruba is not in CC-100: absent, never imputed.
CC100_GIB = {"en": 300.8, "af": 1.3, "ar": 28.0, "bg": 57.5, "bn": 8.4, "de": 66.6, "el": 46.9, "es": 53.3,
             "et": 6.1, "eu": 2.0, "fa": 111.6, "fi": 54.3, "fr": 56.8, "he": 31.6, "hi": 20.2, "hu": 58.4,
             "id": 148.3, "it": 30.2, "ja": 69.3, "jv": 0.2, "ka": 9.1, "kk": 6.4, "ko": 54.2, "ml": 7.6,
             "mr": 2.8, "ms": 8.5, "my": 1.6, "nl": 29.3, "pt": 49.1, "ru": 278.0, "sw": 1.6, "ta": 12.2,
             "te": 4.7, "th": 71.7, "tl": 3.1, "tr": 20.9, "ur": 5.7, "vi": 137.3, "zh": 46.9, "ro": 61.4}
DV_DESCRIPTIONS = {
    "abs_drop": "absolute drop, score(en) - score(L), points",
    "rel_drop": "relative drop, 100 * (1 - score(L)/score(en)), percent",
    "score": "retrieval score of L (no English side)",
    "effect": "intermediate-task effect, score_after(L) - score_baseline(L), points",
    "drop_change": "change in absolute drop, drop_after - drop_baseline, points",
}
EXPERIMENT = ["model", "intermediate_task", "target_task", "split", "metric"]
MIXEDLM_METHODS = ("bfgs", "lbfgs", "powell", "nm")  # optimizers tried in turn; the one used is reported
CELL = [*EXPERIMENT, "lang"]


# ----------------------------------------------------------------------------------------------- reading inputs
def source_rank(source: str) -> int:
    """0 for a run of your own; 1.. for the publications in SOURCE_PREFERENCE order."""
    for i, prefix in enumerate(SOURCE_PREFERENCE):
        if source.startswith(prefix):
            return i + 1
    return 0


def load_scores(paths) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Validated, name-mapped scores on each task's primary metric, one row per cell.

    Returns (scores, set_aside, notes): scores has CELL + value, n_seeds, source, file, line; set_aside has the
    rows a preferred source overruled.
    """
    df = read_results(paths)
    notes = []
    english_only = df["target_task"].isin(set(TASKS) - set(TARGET_TASKS))  # e.g. mnli dev scores from evaluate.py
    if english_only.any():
        counts = df[english_only].groupby("target_task").size()
        notes.append("Not analysed (English-only tasks, no zero-shot languages): "
                     + ", ".join(f"{t} ({n} rows)" for t, n in counts.items()) + ".")
        df = df[~english_only].reset_index(drop=True)
    for i, row in df.iterrows():
        where = f"line {row['line']}"
        if row["target_task"] not in TASK_NAMES:
            raise DataError(row["file"], where, f"unknown target_task {row['target_task']!r}: expected one of "
                            f"{', '.join(TARGET_TASKS)} (or their published display names), or another task of "
                            "data/tasks.py (English-only: noted and skipped)")
        if row["lang"] not in URIEL_CODES:
            raise DataError(row["file"], where, f"unknown language code {row['lang']!r}: expected an ISO 639-1 "
                            f"code of an XTREME language ({', '.join(sorted(URIEL_CODES))})")
    df["target_task"] = df["target_task"].map(TASK_NAMES)
    assumed = df["metric"].str.contains("assumed")
    if assumed.any():
        notes.append(f"{int(assumed.sum())} rows have a metric the source does not name (taken as F1): "
                     f"{', '.join(sorted(set(df.loc[assumed, 'file'].map(lambda f: Path(f).name))))}.")
    df["metric"] = df["metric"].map(lambda m: METRIC_NAMES.get(m, m))  # the project's own names pass through
    primary = df["target_task"].map(lambda t: TASKS[t].primary_metric)
    secondary = df[df["metric"] != primary]
    if len(secondary):
        counts = secondary.groupby(["target_task", "metric"]).size()
        notes.append("Not analysed (secondary metrics): " + ", ".join(f"{t} {m} ({n} rows)"
                                                                       for (t, m), n in counts.items()) + ".")
    df = df[df["metric"] == primary].copy()
    df["rank"] = df["source"].map(source_rank)
    best = df.groupby(CELL)["rank"].transform("min")
    kept = df[df["rank"] == best]
    overruled = df[df["rank"] > best]
    # An overruled row that repeats the used value is a confirmation, not a dispute.
    used_values = kept.groupby(CELL)["value"].agg(lambda v: set(v))
    agrees = np.array([r["value"] in used_values[tuple(r[CELL])] for _, r in overruled.iterrows()], dtype=bool)
    set_aside = overruled[~agrees].copy()
    if agrees.any():
        notes.append(f"{int(agrees.sum())} cells are given with the same value by a second source (not disputes).")
    # Within the winning source rank: one value per seed (two sources disagreeing on a seed is an error).
    clash = kept[kept.duplicated([*CELL, "seed"], keep=False)]
    for _, group in clash.groupby([*CELL, "seed"]):
        if group["value"].nunique() > 1:
            a, b = group.iloc[0], group.iloc[1]
            raise DataError(b["file"], f"line {b['line']}",
                            f"value {b['value']} contradicts {a['value']} ({a['file']}:line {a['line']}) for the "
                            f"same cell {dict(zip(CELL, group.iloc[0][CELL]))} and seed {a['seed']!r}")
    kept = kept.drop_duplicates([*CELL, "seed"])
    scores = (kept.groupby(CELL, sort=False)
              .agg(value=("value", "mean"), n_seeds=("seed", "size"), source=("source", "first"),
                   file=("file", "first"), line=("line", "first"))
              .reset_index())
    for key, g in kept.groupby(EXPERIMENT, sort=False):
        pubs = sorted({src.split(":")[0].split("@")[0] for src, r in zip(g["source"], g["rank"]) if r > 0})
        if len(pubs) > 1:
            notes.append(f"{' | '.join(map(str, key))} takes languages from more than one source ({', '.join(pubs)}):"
                         " its drops compare numbers from different runs.")
    return scores, set_aside, notes


# ------------------------------------------------------------------------------------------ dependent variables
def compute_drops(scores: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """One row per (experiment, non-English language) with the dependent variables; plus the languages left out."""
    rows, left_out = [], []
    by_exp = {k: g for k, g in scores.groupby(EXPERIMENT, sort=False)}
    for key, group in by_exp.items():
        exp = dict(zip(EXPERIMENT, key))
        task = TASKS[exp["target_task"]]
        retrieval = task.kind == "retrieval"
        values = dict(zip(group["lang"], group["value"]))
        if not retrieval and "en" not in values:
            first = group.iloc[0]
            raise DataError(first["file"], f"line {first['line']}",
                            f"no English score for model={exp['model']!r}, intermediate_task="
                            f"{exp['intermediate_task']!r}, target_task={exp['target_task']!r}, split="
                            f"{exp['split']!r}, metric={exp['metric']!r}: the drop needs score(en)")
        base = None
        if exp["intermediate_task"] != "none":
            base_key = (exp["model"], "none", exp["target_task"], exp["split"], exp["metric"])
            base = by_exp.get(base_key)
            base = None if base is None else dict(zip(base["lang"], base["value"]))
        for _, r in group.iterrows():
            lang = r["lang"]
            if lang == "en":
                if retrieval:
                    left_out.append({**exp, "lang": lang, "reason": "English is the retrieval pivot, not a target"})
                continue
            if lang not in task.langs:
                left_out.append({**exp, "lang": lang, "reason": f"not an XTREME {task.name} language"})
                continue
            row = {**exp, "lang": lang, "score": r["value"], "n_seeds": r["n_seeds"], "source": r["source"]}
            if not retrieval:
                en = values["en"]
                row.update(score_en=en, abs_drop=en - r["value"], rel_drop=100 * (1 - r["value"] / en))
            if base is not None and lang in base:
                row["score_baseline"] = base[lang]
                row["effect"] = r["value"] - base[lang]
                if not retrieval and "en" in base:
                    row["drop_change"] = (values["en"] - r["value"]) - (base["en"] - base[lang])
            elif exp["intermediate_task"] != "none":
                left_out.append({**exp, "lang": lang, "reason": "no baseline (intermediate_task=none) score: "
                                 "no effect or drop change"})
            rows.append(row)
    cols = [*EXPERIMENT, "lang", "score_en", "score", "abs_drop", "rel_drop", "score_baseline", "effect",
            "drop_change", "n_seeds", "source"]
    drops = pd.DataFrame(rows).reindex(columns=cols)
    return drops, left_out


def dependent_variables(exp_rows: pd.DataFrame) -> list[str]:
    """The dependent variables an experiment has (in DV_DESCRIPTIONS order)."""
    retrieval = TASKS[exp_rows["target_task"].iloc[0]].kind == "retrieval"
    dvs = ["score"] if retrieval else ["abs_drop", "rel_drop"]
    return dvs + [dv for dv in ("effect", "drop_change") if exp_rows[dv].notna().any()]


# ------------------------------------------------------------------------------------------------- statistics
def _rank(a, axis=-1):
    return stats.rankdata(a, axis=axis)


def pearson_stat(x, y, axis=-1):
    """Pearson r along `axis`, vectorized over the other axes; equals scipy.stats.pearsonr's statistic.

    scipy.stats.pearsonr also computes a p-value for every resample, which costs more than the statistic.
    """
    x, y = np.moveaxis(np.asarray(x, float), axis, -1), np.moveaxis(np.asarray(y, float), axis, -1)
    xc = x - x.mean(-1, keepdims=True)
    yc = y - y.mean(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(-1) / np.sqrt((xc * xc).sum(-1) * (yc * yc).sum(-1))
    return np.clip(r, -1.0, 1.0)


def spearman_stat(x, y, axis=-1):
    """Spearman rho = Pearson on average ranks, vectorized; equals scipy.stats.spearmanr's statistic."""
    return pearson_stat(_rank(x, axis), _rank(y, axis), axis)


def kendall_stat(x, y, axis=-1):
    """Kendall tau-b, vectorized over leading axes (scipy.stats.kendalltau is not); equals its statistic.

    tau_b = sum_ij sign(dx_ij) sign(dy_ij) / sqrt(sum_ij sign(dx_ij)^2 * sum_ij sign(dy_ij)^2); one pass per
    observation keeps memory at (batch, n) rather than (batch, n, n).
    """
    x, y = np.moveaxis(np.asarray(x, float), axis, -1), np.moveaxis(np.asarray(y, float), axis, -1)
    concordance = np.zeros(np.broadcast_shapes(x.shape, y.shape)[:-1])
    tx = np.zeros_like(concordance)
    ty = np.zeros_like(concordance)
    for i in range(x.shape[-1]):
        sx = np.sign(x[..., i:i + 1] - x)  # (..., n): sign of x_i - x_j
        sy = np.sign(y[..., i:i + 1] - y)
        concordance += (sx * sy).sum(-1)
        tx += np.abs(sx).sum(-1)
        ty += np.abs(sy).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return concordance / np.sqrt(tx * ty)


def correlation_stats(x, y, axis=-1):
    """(Pearson r, Spearman rho, Kendall tau) stacked on the last axis: one resampling serves all three."""
    return np.stack([pearson_stat(x, y, axis), spearman_stat(x, y, axis), kendall_stat(x, y, axis)], axis=-1)


def _bootstrap_stats(x, y, axis=-1):
    return np.moveaxis(correlation_stats(x, y, axis), -1, 0)  # scipy.stats.bootstrap wants the outputs first


def residualize_ranks(y, x, z):
    """Ranks of y and x with the (linear) part explained by the rank of z removed: the partial Spearman inputs."""
    import statsmodels.api as sm
    Z = sm.add_constant(_rank(z))
    ry = sm.OLS(_rank(y), Z).fit().resid
    rx = sm.OLS(_rank(x), Z).fit().resid
    return ry, rx


def measure_association(x, y, log_size, langs, n_resamples: int, seed) -> dict:
    """All statistics for one (distance x, dependent variable y) pair over languages. x, y: (n,)."""
    out = {"n": len(x)}
    if len(x) < MIN_N:
        out["note"] = f"n = {len(x)} < {MIN_N}: no coefficient (too few languages)"
        return out
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        out["note"] = "constant distance or dependent variable: no coefficient"
        return out
    ss = np.random.SeedSequence(seed)
    rng_perm, rng_boot, rng_partial = (np.random.default_rng(s) for s in ss.spawn(3))
    out["pearson_r"] = stats.pearsonr(x, y).statistic
    out["spearman_rho"] = stats.spearmanr(x, y).statistic
    out["kendall_tau"] = stats.kendalltau(x, y).statistic
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perm = stats.permutation_test((x, y), correlation_stats, permutation_type="pairings", vectorized=True,
                                      n_resamples=n_resamples, alternative="two-sided", rng=rng_perm)
        boot = stats.bootstrap((x, y), _bootstrap_stats, paired=True, vectorized=True, n_resamples=n_resamples,
                               confidence_level=0.95, method="BCa", rng=rng_boot)
    for j, name in enumerate(("pearson", "spearman", "kendall")):
        out[f"p_{name}"] = float(perm.pvalue[j])
        out[f"{name}_ci_low"] = float(boot.confidence_interval.low[j])
        out[f"{name}_ci_high"] = float(boot.confidence_interval.high[j])
    # Leave-one-language-out: the largest change in rho and whose removal causes it.
    loo = np.array([stats.spearmanr(np.delete(x, i), np.delete(y, i)).statistic for i in range(len(x))])
    k = int(np.nanargmax(np.abs(loo - out["spearman_rho"])))
    out["loo_max_delta_rho"], out["loo_lang"] = float(loo[k] - out["spearman_rho"]), langs[k]
    # Partial Spearman and OLS on the languages with a CC-100 size.
    sized = ~np.isnan(log_size)
    out["n_sized"] = int(sized.sum())
    if out["n_sized"] < MIN_N:
        out["note"] = f"only {out['n_sized']} languages with a CC-100 size: no partial correlation or OLS"
        return out
    xs, ys, zs = x[sized], y[sized], log_size[sized]
    ry, rx = residualize_ranks(ys, xs, zs)
    out["partial_spearman"] = pearson_stat(rx, ry)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["p_partial"] = float(stats.permutation_test((rx, ry), pearson_stat, permutation_type="pairings",
                                                        vectorized=True, n_resamples=n_resamples,
                                                        rng=rng_partial).pvalue)
    out.update(fit_ols(x, y, log_size))
    return out


OLS_FIELDS = ("ols_slope", "ols_se_hc3", "ols_p_hc3", "ols_r2", "ols_delta_r2")


def fit_ols(x, y, log_size) -> dict:
    """dv ~ distance + log size (HC3 errors) on the languages with a size; the R^2 the distance adds."""
    import statsmodels.api as sm

    sized = ~np.isnan(log_size)
    if sized.sum() < MIN_N:
        return {}
    xs, ys, zs = x[sized], y[sized], log_size[sized]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = sm.OLS(ys, sm.add_constant(np.column_stack([xs, zs]))).fit(cov_type="HC3")
        size_only = sm.OLS(ys, sm.add_constant(zs)).fit()
    return dict(zip(OLS_FIELDS, (full.params[1], full.bse[1], full.pvalues[1], full.rsquared,
                                 full.rsquared - size_only.rsquared)))


def run_tests(drops: pd.DataFrame, dist: pd.DataFrame, n_resamples: int, seed: int) -> pd.DataFrame:
    """One row per (experiment, distance, dependent variable).

    Within one experiment rel_drop = 100 * abs_drop / score(en) is abs_drop times a constant, so every rank and
    correlation statistic, p-value (same permutations) and CI is the same: those are taken from the abs_drop test
    and only the OLS fit (whose slope scales) is redone.
    """
    dist = dist.set_index("lang")
    rows = []
    for i, (key, g) in enumerate(drops.groupby(EXPERIMENT, sort=False)):
        exp = dict(zip(EXPERIMENT, key))
        done = {}
        for dv in dependent_variables(g):
            g_dv = g[g[dv].notna()]
            for j, d in enumerate(DISTANCES):
                dx = dist.loc[g_dv["lang"], d].to_numpy(float)
                ok = ~np.isnan(dx)
                langs = g_dv["lang"].to_numpy()[ok]
                left = sorted(set(g_dv["lang"]) - set(langs))
                size = np.array([math.log(CC100_GIB[lang]) if lang in CC100_GIB else np.nan for lang in langs])
                x, y = dx[ok], g_dv[dv].to_numpy(float)[ok]
                if dv == "rel_drop" and ("abs_drop", d) in done:
                    res = {**done[("abs_drop", d)], **fit_ols(x, y, size)}
                else:
                    res = measure_association(x, y, size, list(langs), n_resamples, [seed, i, j])
                done[(dv, d)] = res
                rows.append({**exp, "dv": dv, "distance": d, **res,
                             "langs": " ".join(langs),
                             "left_out": " ".join(f"{lang} (no {d} distance)" for lang in left),
                             "no_cc100_size": " ".join(lang for lang in langs if lang not in CC100_GIB)})
    cols = [*EXPERIMENT, "dv", "distance", "n", "pearson_r", "p_pearson", "pearson_ci_low", "pearson_ci_high",
            "spearman_rho", "p_spearman", "spearman_ci_low", "spearman_ci_high", "kendall_tau", "p_kendall",
            "kendall_ci_low", "kendall_ci_high", "p_spearman_bh", "p_spearman_holm", "p_pearson_bh",
            "p_kendall_bh", "n_sized", "partial_spearman", "p_partial", "ols_slope", "ols_se_hc3", "ols_p_hc3",
            "ols_r2", "ols_delta_r2", "loo_max_delta_rho", "loo_lang", "langs", "left_out", "no_cc100_size",
            "note"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    return adjust_p_values(out)


def adjust_p_values(corr: pd.DataFrame) -> pd.DataFrame:
    """Benjamini-Hochberg (and Holm for Spearman) within each family (model, intermediate_task, dv)."""
    from statsmodels.stats.multitest import multipletests

    for _, g in corr.groupby(["model", "intermediate_task", "dv"], sort=False):
        g = g[g["p_spearman"].notna()]
        if g.empty:
            continue
        for name in ("spearman", "pearson", "kendall"):
            corr.loc[g.index, f"p_{name}_bh"] = stats.false_discovery_control(g[f"p_{name}"].to_numpy())
        corr.loc[g.index, "p_spearman_holm"] = multipletests(g["p_spearman"].to_numpy(), method="holm")[1]
    return corr


def mixed_models(drops: pd.DataFrame, dist: pd.DataFrame) -> pd.DataFrame:
    """MixedLM per (model, intermediate_task, dv, distance): z-scored dv ~ distance + C(task), language groups.

    Only experiments with at least MIN_N languages enter; the model needs at least two such experiments. rel_drop
    is skipped: standardized within a task it equals abs_drop.
    """
    import statsmodels.formula.api as smf

    dist = dist.set_index("lang")
    rows = []
    for (model, inter), g in drops.groupby(["model", "intermediate_task"], sort=False):
        for dv in DV_DESCRIPTIONS:
            if dv == "rel_drop" or g[dv].notna().sum() == 0:  # rel_drop: z-scores identical to abs_drop's
                continue
            parts = []
            for key, ge in g[g[dv].notna()].groupby(["target_task", "split"], sort=False):
                if dv not in dependent_variables(ge) or len(ge) < MIN_N or ge[dv].std() == 0:
                    continue
                part = ge[["lang"]].copy()
                part["task"] = f"{key[0]}/{key[1]}"
                part["z"] = ((ge[dv] - ge[dv].mean()) / ge[dv].std()).to_numpy()
                parts.append(part)
            if len(parts) < 2:
                continue
            data = pd.concat(parts, ignore_index=True)
            for d in DISTANCES:
                sub = data.assign(distance=dist.loc[data["lang"], d].to_numpy(float)).dropna()
                row = {"model": model, "intermediate_task": inter, "dv": dv, "distance": d, "n_obs": len(sub),
                       "n_langs": sub["lang"].nunique(), "tasks": " ".join(sorted(sub["task"].unique()))}
                if sub["task"].nunique() < 2 or sub["lang"].nunique() < MIN_N:
                    row["note"] = "fewer than 2 tasks or 5 languages with this distance"
                else:
                    fit, errors = None, []
                    for method in MIXEDLM_METHODS:  # lbfgs alone hits singular matrices on these small designs
                        try:
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                fit = smf.mixedlm("z ~ distance + C(task)", sub, groups=sub["lang"]).fit(
                                    reml=True, method=method)
                            break
                        except (ValueError, np.linalg.LinAlgError) as e:
                            errors.append(f"{method}: {e}")
                    if fit is None:
                        row["note"] = "MixedLM failed: " + "; ".join(errors)
                        rows.append(row)
                        continue
                    row["method"] = method
                    row.update(coef=fit.params["distance"], se=fit.bse["distance"], p=fit.pvalues["distance"],
                               group_var=float(fit.cov_re.iloc[0, 0]), converged=bool(fit.converged))
                rows.append(row)
    out = pd.DataFrame(rows).reindex(columns=["model", "intermediate_task", "dv", "distance", "n_obs", "n_langs",
                                              "coef", "se", "p", "p_bh", "group_var", "converged", "method",
                                              "tasks", "note"])
    for _, g in out[out["p"].notna()].groupby(["model", "intermediate_task", "dv"], sort=False):
        out.loc[g.index, "p_bh"] = stats.false_discovery_control(g["p"].to_numpy(float))  # across the distances
    return out


# ---------------------------------------------------------------------------------------------------- output
def _slug(*parts) -> str:
    """A file-name-safe label; long model names are cut and disambiguated by a short hash."""
    import hashlib

    words = []
    for p in parts:
        w = re.sub(r"[^A-Za-z0-9]+", "-", str(p)).strip("-").lower()
        if len(w) > 24:
            w = f"{w[:16]}-{hashlib.sha1(str(p).encode()).hexdigest()[:6]}"
        words.append(w)
    return "_".join(words)


def _save_figure(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    atomic_write_bytes(path, buf.getvalue())


def write_plots(out: Path, drops, dist, corr, collinearity) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    dist_i = dist.set_index("lang")
    for key, g in drops.groupby(EXPERIMENT, sort=False):
        if len(g) < MIN_N:
            continue
        dv = dependent_variables(g)[0] if g["effect"].isna().all() else "effect"
        fig, axes = plt.subplots(1, len(DISTANCES), figsize=(3.0 * len(DISTANCES), 3.2), sharey=True)
        for ax, d in zip(axes, DISTANCES):
            x = dist_i.loc[g["lang"], d].to_numpy(float)
            y = g[dv].to_numpy(float)
            ok = ~np.isnan(x) & ~np.isnan(y)
            ax.scatter(x[ok], y[ok], s=14)
            for xi, yi, lang in zip(x[ok], y[ok], g["lang"].to_numpy()[ok]):
                ax.annotate(lang, (xi, yi), fontsize=7, xytext=(2, 2), textcoords="offset points")
            if ok.sum() >= 2 and np.ptp(x[ok]) > 0:
                fit = stats.linregress(x[ok], y[ok])
                xs = np.linspace(x[ok].min(), x[ok].max(), 2)
                ax.plot(xs, fit.intercept + fit.slope * xs, color="C3", lw=1)
            rho = corr[(corr[EXPERIMENT].apply(tuple, axis=1) == key) & (corr["dv"] == dv) & (corr["distance"] == d)]
            r = rho["spearman_rho"].iloc[0] if len(rho) else np.nan
            ax.set_title(f"{d}\nrho={r:.2f}, n={int(ok.sum())}" if not np.isnan(r) else f"{d}\nn={int(ok.sum())}",
                         fontsize=8)
            ax.set_xlabel(f"{d} distance from en", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.locator_params(nbins=3)  # fewer tick artists: drawing dominates the run time
        axes[0].set_ylabel(dv, fontsize=8)
        fig.suptitle(" | ".join(str(k) for k in key), fontsize=9)
        fig.subplots_adjust(left=0.04, right=0.99, bottom=0.17, top=0.78, wspace=0.08)  # tight_layout: 2x slower
        name = f"scatter_{_slug(*key)}.png"
        _save_figure(fig, out / name)
        plt.close(fig)
        written.append(name)
    for (model, inter, dv), g in corr.groupby(["model", "intermediate_task", "dv"], sort=False):
        if dv == "rel_drop":  # its rho are those of abs_drop
            continue
        table = g.pivot_table(index=g["target_task"] + "/" + g["split"], columns="distance", values="spearman_rho",
                              dropna=False).reindex(columns=list(DISTANCES))
        if table.notna().sum().sum() == 0:
            continue
        fig, ax = plt.subplots(figsize=(1.1 * len(DISTANCES) + 3, 0.5 * len(table) + 2.2))
        im = ax.imshow(table.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        ax.set_xticks(range(len(table.columns)), table.columns, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(table.index)), table.index, fontsize=8)
        for (i, j), v in np.ndenumerate(table.to_numpy(float)):
            ax.text(j, i, "n<5" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if abs(v) > 0.6 else "black")
        fig.colorbar(im, ax=ax, label="Spearman rho")
        ax.set_title(f"{model} | {inter} | {dv} (rel_drop: the same)" if dv == "abs_drop" else
                     f"{model} | {inter} | {dv}", fontsize=9)
        fig.subplots_adjust(left=0.3, right=0.98, bottom=0.3, top=0.9)
        name = f"heatmap_rho_{_slug(model, inter, dv)}.png"
        _save_figure(fig, out / name)
        plt.close(fig)
        written.append(name)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(collinearity.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(collinearity)), collinearity.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(collinearity)), collinearity.index, fontsize=8)
    for (i, j), v in np.ndenumerate(collinearity.to_numpy(float)):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
    fig.colorbar(im, ax=ax, label="Spearman rho")
    ax.set_title("Distance collinearity (languages analysed, excl. en)", fontsize=9)
    fig.subplots_adjust(left=0.2, right=0.92, bottom=0.2, top=0.93)
    _save_figure(fig, out / "distance_collinearity.png")
    plt.close(fig)
    written.append("distance_collinearity.png")
    return written


def _display(path) -> str:
    """A path relative to the project when it is inside it (reports stay the same on every machine)."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)


def _fmt(v, spec=".2f") -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)


def _fmt_ci(v, low, high) -> str:
    if v is None or np.isnan(v):
        return "-"
    if np.isnan(low) or np.isnan(high):
        return f"{v:.2f} [BCa undefined]"
    return f"{v:.2f} [{low:.2f}, {high:.2f}]"


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def write_report(out: Path, ctx: dict) -> str:
    corr, drops, dist, mixed = ctx["corr"], ctx["drops"], ctx["dist"], ctx["mixed"]
    has_coef = corr[corr["spearman_rho"].notna()]
    L = ["# Linguistic distance from English against zero-shot degradation", ""]
    L += [f"Inputs: {', '.join(ctx['inputs'])}. {len(drops)} (experiment, language) rows; "
          f"{len(corr)} tests, {len(has_coef)} with a coefficient; {ctx['n_resamples']} permutations and "
          f"bootstrap resamples (seed {ctx['seed']}); distances: urielplus, {ctx['metric']}.", ""]
    if (drops["intermediate_task"] == "none").all():
        L += ["**These are baselines only (intermediate_task = none).** The published per-language numbers answer "
              "only the first half of the question: how much XLM-R (and mBERT) lose zero-shot per language, and how "
              "that loss tracks distance from English. No per-language table of intermediate-task (X-STILTs) results "
              "is published in a form we could verify, so the after-intermediate-training half (the effect of the "
              "intermediate task and the change in drop) comes from your own runs: pass your evaluate.py / "
              "retrieval.py results files, e.g. `python correlate.py runs/results.csv --with-published`.", ""]
    L += ["## The answer", ""]
    L += _summary(corr, mixed)
    L += ["", "## Dependent variables", ""]
    L += [f"- `{k}`: {v}" for k, v in DV_DESCRIPTIONS.items()]
    L += ["- Each task on its primary metric (accuracy: XNLI, PAWS-X, Tatoeba; F1: the others). Spearman is primary; "
          "Pearson and Kendall tau-b are secondary. p-values: two-sided permutation tests (exact, over all n! "
          "pairings, when n! <= the number of resamples: n <= 7 at 9,999); CIs: "
          "95% BCa bootstrap over languages. BH/Holm adjust within each family (model, intermediate task, dependent "
          "variable) across its task x distance grid. Partial rho controls for log CC-100 size; OLS slope with HC3 "
          "errors; delta R^2 = what the distance adds to log size alone. LOO max drho = the largest change in rho "
          "when one language is left out, and which.",
          "- Within one experiment rel_drop is abs_drop times 100/score(en), so its correlations, p-values and CIs are "
          "exactly those of abs_drop (only OLS slopes differ); it matters when comparing drops across tasks or "
          "models. \"BCa undefined\": the bootstrap or jackknife distribution is degenerate (common with n <= 7 "
          "and tied distances); no CI is given rather than a wrong one.", ""]
    for (model, inter, dv), g in corr.groupby(["model", "intermediate_task", "dv"], sort=False):
        L += [f"## {model} | intermediate: {inter} | {dv}", ""]
        t = pd.DataFrame({
            "task/split": g["target_task"] + "/" + g["split"], "distance": g["distance"], "n": g["n"],
            "rho [95% CI]": [_fmt_ci(r, a, b) for r, a, b in
                             zip(g["spearman_rho"], g["spearman_ci_low"], g["spearman_ci_high"])],
            "p": g["p_spearman"].map(lambda v: _fmt(v, ".4f")), "p BH": g["p_spearman_bh"].map(lambda v: _fmt(v, ".3f")),
            "r": g["pearson_r"].map(_fmt), "tau": g["kendall_tau"].map(_fmt),
            "partial rho": g["partial_spearman"].map(_fmt), "OLS slope (HC3 p)": [
                f"{_fmt(s, '.1f')} ({_fmt(p, '.3f')})" if not np.isnan(s) else "" for s, p in
                zip(g["ols_slope"], g["ols_p_hc3"])],
            "dR2": g["ols_delta_r2"].map(_fmt),
            "LOO max drho": [f"{_fmt(v, '+.2f')} ({lang})" if isinstance(lang, str) else "" for v, lang in
                             zip(g["loo_max_delta_rho"], g["loo_lang"])],
            "note": g["note"].astype(object).fillna("")})
        L += [_md_table(t), ""]
    if len(mixed):
        L += ["## Across tasks: mixed model", "",
              "z-scored dependent variable (within each task) ~ distance + C(task), random intercept per language "
              "(statsmodels MixedLM, REML; optimizers bfgs, lbfgs, powell, nm tried in turn, the one used in column method). Only tasks with n >= 5 enter.", ""]
        m = mixed.copy()
        for c in ("coef", "se", "group_var"):
            m[c] = m[c].map(_fmt)
        m["p"] = m["p"].map(lambda v: _fmt(v, ".4f"))
        m["p_bh"] = m["p_bh"].map(lambda v: _fmt(v, ".4f"))
        L += [_md_table(m.astype(object).fillna("")), ""]
    L += ["## Distances", "",
          f"URIEL+ (urielplus) {ctx['metric']} distances from English (eng); data: the URIEL data shipped with "
          "urielplus, sources combined per feature by union, no imputation; a distance uses the features known for "
          "both languages and is missing where none is shared. Macrolanguages use the macrolanguage code (ara, zho, "
          "msa, est, swa, fas), which pools more features than the standard variety in URIEL's data. Thin coverage "
          "is flagged; such distances rest on few features.", ""]
    d = dist.copy()
    for c in DISTANCES:
        d[c] = d[c].map(lambda v: _fmt(v, ".3f"))
    d["log_cc100_gib"] = d["log_cc100_gib"].map(_fmt)
    L += [_md_table(d.fillna("")), ""]
    L += ["Collinearity (Spearman rho between distances, over the languages analysed except en). The distances are "
          "strongly correlated, so a correlation with one distance does not single it out; none is put together "
          "with another in one regression.", "", _md_table(ctx["collinearity"].map(_fmt).reset_index()
                                                             .rename(columns={"index": "distance"})), ""]
    L += ["## Data notes and caveats", ""]
    L += [f"- {n}" for n in ctx["notes"]]
    if len(ctx["set_aside"]):
        L += ["- Disputed cells (two sources, different values): the preferred source was used.", ""]
        s = ctx["set_aside"]
        used = ctx["scores"].set_index(CELL)
        rows = []
        for _, r in s.iterrows():
            u = used.loc[tuple(r[CELL])]
            rows.append({"cell": " ".join(str(r[c]) for c in CELL), "used": f"{u['value']:g} ({u['source'][:45]})",
                         "set aside": f"{r['value']:g} ({r['source'][:45]})"})
        L += [_md_table(pd.DataFrame(rows)), ""]
    thin = dist[(dist["thin_coverage"] != "") & (dist["lang"] != "en")]
    if len(thin):
        L += ["- Thin URIEL coverage (distances kept, flagged): " + "; ".join(
            f"{r.lang} ({r.thin_coverage})" for r in thin.itertuples()) + "."]
    L += ["- Source preference order: your own runs, then " + ", ".join(SOURCE_PREFERENCE) + ".",
          "- Tiny n: PAWS-X and MLQA have 6 non-English languages, BUCC 4 (no coefficient); the published PAN-X and "
          "UD-POS numbers cover only Indic languages, TyDiQA only bn and te (XTREME-paper copies in the MuRIL doc). "
          "With n = 5-7 a permutation test cannot reach small p-values and the CIs are wide.",
          "- Splits differ by source: most published numbers are test sets; the jiant retrieval replication is dev "
          "(BUCC threshold tuned on the scored split); SumEval's split is not stated. Each (task, split) is analysed "
          "separately.",
          "- Published caveats (results/published/SOURCES.md): the MuRIL doc labels UD-POS as F1 while XTREME reports "
          "accuracy; SumEval's XLM-R was trained on 3,696 English TyDiQA-GoldP examples only, its model size and "
          "metric are not stated; the google-research/bert XNLI row is the uncased original mBERT.",
          "- Pretraining size: log CC-100 GiB (XLM-R paper, Table 6) for XLM-R and used as a proxy for mBERT too "
          "(mBERT was trained on Wikipedia). Yoruba is not in CC-100: it is left out of the partial correlations "
          "and OLS (flagged, not imputed); Romanian's size is listed but ro is not an XTREME XQuAD language.", ""]
    L += ["## Languages left out", ""]
    lo = pd.DataFrame(ctx["left_out"])
    if len(lo):
        L += [_md_table(lo[["model", "intermediate_task", "target_task", "split", "lang", "reason"]]), ""]
    missing = {d: sorted(dist.loc[dist[d].isna(), "lang"]) for d in DISTANCES}
    missing = {d: v for d, v in missing.items() if v}
    if missing:
        L += ["Per distance (no URIEL feature shared with English, so no distance; left out of that distance's tests):",
              ""]
        L += [f"- {d}: {', '.join(v)}" for d, v in missing.items()]
        L += [""]
    no_size = sorted(set(drops["lang"]) - set(CC100_GIB))
    if no_size:
        L += [f"No CC-100 size (left out of partial correlations and OLS only): {', '.join(no_size)}.", ""]
    no_coef = corr[corr["spearman_rho"].isna()]
    if len(no_coef):
        L += ["Tests without a coefficient:", ""]
        for (task, split, model, inter, note), g in no_coef.groupby(
                ["target_task", "split", "model", "intermediate_task", "note"], sort=False):
            L += [f"- {model} | {inter} | {task}/{split}: {note} ({len(g)} tests)"]
        L += [""]
    L += ["## Files", "", "correlations.csv (one row per test), drops.csv, distances.csv, and the plots: "
          + ", ".join(ctx["plots"]) + "."]
    text = "\n".join(L) + "\n"
    atomic_write_text(out / "report.md", text)
    return text


def _summary(corr: pd.DataFrame, mixed: pd.DataFrame) -> list[str]:
    L = []
    for (model, inter, dv), g in corr.groupby(["model", "intermediate_task", "dv"], sort=False):
        g = g[g["spearman_rho"].notna()]
        if g.empty:
            continue
        sig = g[g["p_spearman_bh"] < 0.05]
        pos = (g["spearman_rho"] > 0).mean()
        best = g.loc[g["spearman_rho"].abs().idxmax()]
        L.append(f"- **{model} | {inter} | {dv}**: {len(g)} tests over {g['target_task'].nunique()} tasks; rho > 0 in "
                 f"{pos:.0%}; {len(sig)} significant after BH (q < 0.05)"
                 + (": " + ", ".join(f"{r.target_task} x {r.distance} (rho {r.spearman_rho:.2f}, n {int(r.n)})"
                                      for r in sig.itertuples()) if len(sig) else "")
                 + f". Strongest: {best['target_task']} x {best['distance']}, rho "
                   f"{_fmt_ci(best['spearman_rho'], best['spearman_ci_low'], best['spearman_ci_high'])}, "
                   f"n {int(best['n'])}.")
    if len(mixed) and mixed["coef"].notna().any():
        m = mixed[mixed["coef"].notna()]
        sig = m[m["p_bh"] < 0.05]
        L.append(f"- Mixed models across tasks: {len(m)} fits, {len(sig)} with BH-adjusted p < 0.05 (across the "
                 "distances of one model and dv)"
                 + (": " + ", ".join(f"{r.model} {r.dv} ~ {r.distance} (coef {r.coef:.2f} SD per unit distance, "
                                      f"p_BH {r.p_bh:.3g})" for r in sig.itertuples()) if len(sig) else "") + ".")
    L.append("- For drops a positive rho means languages farther from English lose more; for retrieval scores a "
             "negative rho means the same.")
    return L


# ------------------------------------------------------------------------------------------------------ main
def run(paths, out: Path, metric: str = "angular", n_resamples: int = 9999, seed: int = 0, cache_dir=None,
        plots: bool = True) -> dict:
    """The whole analysis; returns the tables (also written under `out`) and the seconds per phase (timings)."""
    out = Path(out)
    timings, t = {}, time.perf_counter()

    def lap(name):
        nonlocal t
        timings[name], t = time.perf_counter() - t, time.perf_counter()

    scores, set_aside, notes = load_scores(paths)
    drops, left_out = compute_drops(scores)
    if drops.empty:
        raise ValueError(f"no non-English scores to analyse in {', '.join(map(str, paths))}")
    lap("read")
    langs = sorted(set(drops["lang"]) | {"en"})
    dist = english_distances(langs, metric, cache_dir)
    dist["cc100_gib"] = dist["lang"].map(CC100_GIB)
    dist["log_cc100_gib"] = np.log(dist["cc100_gib"])
    lap("distances")
    corr = run_tests(drops, dist, n_resamples, seed)
    lap("tests")
    mixed = mixed_models(drops, dist)
    lap("mixed_models")
    collinearity = dist[dist["lang"] != "en"][list(DISTANCES)].corr(method="spearman")
    for name, table in (("drops.csv", drops), ("distances.csv", dist), ("correlations.csv", corr),
                        ("mixed_models.csv", mixed)):
        with atomic_path(out / name) as tmp:
            table.to_csv(tmp, index=False)
    written = write_plots(out, drops, dist, corr, collinearity) if plots else []
    lap("plots")
    ctx = dict(corr=corr, drops=drops, dist=dist, mixed=mixed, collinearity=collinearity, scores=scores,
               set_aside=set_aside, notes=notes, left_out=left_out, plots=written, metric=metric,
               n_resamples=n_resamples, seed=seed, inputs=[_display(p) for p in paths], timings=timings)
    write_report(out, ctx)
    lap("report")
    return ctx


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Zero-shot drop per language against linguistic distance from English.")
    p.add_argument("results", nargs="*", help="results CSVs (default: results/published/*.csv)")
    p.add_argument("--with-published", action="store_true", help="also read results/published/*.csv")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default: results/correlation/)")
    p.add_argument("--metric", choices=METRICS, default="angular", help="URIEL distance: angular or cosine")
    p.add_argument("--n-resamples", type=int, default=9999, help="permutations and bootstrap resamples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="distance cache (default: ~/.cache/xstilts)")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--matrix", action="store_true",
                   help="also write distance_matrix_<distance>.csv (language x language, the languages analysed); "
                        "the genetic matrix takes about a minute the first time, then comes from the cache")
    args = p.parse_args(argv)
    published = sorted(PUBLISHED_DIR.glob("*.csv"))
    paths = list(args.results) + (published if args.with_published or not args.results else [])
    if not paths:
        sys.exit(f"correlate.py: no results files (and none in {PUBLISHED_DIR})")
    t0 = time.perf_counter()
    try:
        ctx = run(paths, Path(args.out), args.metric, args.n_resamples, args.seed, args.cache_dir, not args.no_plots)
        if args.matrix:
            langs = list(ctx["dist"]["lang"])
            for d, m in distance_matrices(langs, args.metric, args.cache_dir).items():
                with atomic_path(Path(args.out) / f"distance_matrix_{d}.csv") as tmp:
                    m.to_csv(tmp)
    except ValueError as e:  # DataError included: the message names the file and line
        sys.exit(f"correlate.py: {e}")
    n = int(ctx["corr"]["spearman_rho"].notna().sum())
    print(f"correlate.py: {len(ctx['corr'])} tests ({n} with a coefficient) in {time.perf_counter() - t0:.1f} s; "
          f"wrote {args.out}/report.md")


if __name__ == "__main__":
    main()
