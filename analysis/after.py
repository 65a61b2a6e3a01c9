"""The after-intermediate analysis: does English intermediate-task training change the zero-shot LOSS (the drop
score(en) - score(L)) differently for languages far from English?

Use (analysis/run.py does this for `correlate.py FILE`):
    df, diverged = drop_diverged(rows)                  # before any averaging: runs that fell apart are left out
    pairs = published_pairings(kept)                    # own runs meeting a published baseline (refused by default)
    rows = run_rows(kept, tasks)                        # one row per (intermediate run, language)
    primary = primary_tests(rows, dist, "syntactic")    # per (model, intermediate task): the primary test
    pooled = pooled_comparison(rows, dist, "syntactic") # comparing slopes between intermediate tasks

Definitions. A run is (model, intermediate task, target task, seed). For a run r of intermediate task I and a
non-English language L of its target task t (split as analysed):
    drop_change(L, r) = [score_r(en) - score_r(L)] - [mean_seeds base(en) - mean_seeds base(L)]   (points)
    effect(L, r) = score_r(L) - mean_seeds base(L);   en_effect(r) = score_r(en) - mean_seeds base(en)
drop_change < 0: the drop shrank (intermediate training helped L more than English).

The primary test, per (model, intermediate task) -- each intermediate task's rows with the shared baseline cells,
pooled over the parallel target tasks and every seed -- is the slope of drop_change on the primary distance,
adjusted for log pretraining size (when the model's pretraining corpus is known, analysis/covariates.py):
    drop_change ~ C(run) + distance + log_size            (OLS; one intercept per run)
The run intercepts absorb the (intermediate, target) pair's mean effect, the English score of the run and any
run-level shift. Languages recur in every run (language, language x target components), and each fine-tuning run may
have its own transfer quality (a run-level slope on distance): the covariance of the slope is two-way cluster-robust
(Cameron, Gelbach & Miller 2011, JBES 29:238-249) over languages and runs, V = V_lang + max(V_run - V_row, 0); the
language part is leverage-weighted (each language's score sum divided by sqrt(1 - its leverage), CR2: Bell &
McCaffrey 2002; LEVERAGE_POWER = 1 gives CR3, the cluster HC3, which over-covered), which also makes it robust to noise
that grows with distance. Degrees of freedom: Satterthwaite's over the two parts, the language part's from Bell &
McCaffrey's weights (at most languages - language-level regressors: a slope carried by a few far languages has few;
Imbens & Kolesar 2016, REStat 98:701-712), the run part's runs - 1. The interval is t(df); p_t its two-sided p.
  p (reported) is a studentized language-level permutation test: the size-residualized distances are permuted among
languages (every row of a language moves together) and the statistic is the robust t above, recomputed for each
order; studentizing keeps the test valid when the noise is heteroscedastic, where the plain slope's permutation test is
not (DiCiccio & Romano 2017, JASA 112:1211-1220).
The decision rule is the baseline screen's: the 95% interval excludes 0 and p < 0.05.

Diverged runs (DIVERGED): a run whose English dev score (English test when it has no dev row) is more than 10 points
AND more than 3 scaled MADs (1.4826 x median absolute deviation) below the median of its cell's runs (same model,
intermediate task, target task; 3 or more seeded runs) is named and left out of everything (`correlate.py
--keep-diverged` keeps it). The after-intermediate tests have no iterative fit, so no "did not converge" flag.

The pooled comparison model (pooled_comparison), per model over all its intermediate tasks: drop_change ~ C(run) +
sum_I [distance x 1(I)] + sum_I [log_size x 1(I)]. Runs are nested in (intermediate, target) pairs, so C(run) holds
the C(inter) x C(target) fixed effects; language x intermediate and language x target x intermediate components are
inside the language clusters (any covariance within a language is allowed), the run component with its own slope
inside the run clusters. Contrasts slope(I) - slope(J) get the same studentized permutation, moving each language's
distance in every term at once.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.covariates import log_pretraining_size, pretraining_corpus
from analysis.models import language_permutations
from analysis.stats import LEVEL, MIN_N, PER

DIVERGED = {"points": 10.0, "mads": 3.0, "min_runs": 3}  # the rule; the report states it from these values
# A language's score sum is divided by (1 - h)^LEVERAGE_POWER: 0.5 = CR2 (Bell & McCaffrey), 1 = CR3 (the cluster
# HC3). With Bell-McCaffrey degrees of freedom CR2 held 95% coverage in every scenario of analysis/scenarios.py; CR3
# over-covered (0.975-0.99 at 100 studies a cell), as Imbens & Kolesar (2016) find for HC3 with these df.
LEVERAGE_POWER = 0.5
MAD_SCALE = 1.4826  # MAD x 1.4826 estimates the sd under normal noise
RUN = ["model", "intermediate_task", "target_task", "seed"]
PRIMARY_COLUMNS = ["model", "intermediate_task", "distance", "size_adjusted", "tasks", "n_obs", "n_langs", "n_runs",
                   "n_seeds", "coef_per_0.1", "se_per_0.1", "ci_low_per_0.1", "ci_high_per_0.1", "df", "p", "p_perm",
                   "p_t", "n_perm", "p_exact", "run_share", "unadj_coef_per_0.1", "unadj_ci_low_per_0.1",
                   "unadj_ci_high_per_0.1", "unadj_p", "size_r2", "size_rho", "mean_change", "mean_ci_low",
                   "mean_ci_high", "en_effect", "en_ci_low", "en_ci_high", "note"]


# ---------------------------------------------------------------------------------------------- diverged runs
def diverged_runs(df: pd.DataFrame) -> pd.DataFrame:
    """The runs DIVERGED's rule flags, one row each: the run, the English score checked (split), the cell median,
    scaled MAD and runs. `df`: results rows (data/results.py columns; seed empty = no run identity, never checked)."""
    cols = [*RUN, "split", "english", "cell_median", "cell_mad", "cell_runs"]
    en = (df["lang"].to_numpy(object) == "en") & (df["seed"].astype(str).to_numpy(object) != "")
    cells: dict = {}  # (model, intermediate, target) -> split -> seed -> [English scores]
    for m, i, t, sp, s, v in zip(*(df[c].astype(str).to_numpy(object)[en] for c in (*RUN[:3], "split", "seed")),
                                 df["value"].to_numpy(float)[en]):
        cells.setdefault((m, i, t), {}).setdefault(sp, {}).setdefault(s, []).append(v)
    rows = []
    for key, splits in cells.items():
        split = "dev" if "dev" in splits else "test"
        if split not in splits or len(splits[split]) < DIVERGED["min_runs"]:
            continue
        per_run = {s: float(np.mean(v)) for s, v in splits[split].items()}
        values = np.array(list(per_run.values()))
        med = float(np.median(values))
        mad = MAD_SCALE * float(np.median(np.abs(values - med)))
        for s, v in per_run.items():
            below = med - v
            if below > DIVERGED["points"] and below > DIVERGED["mads"] * mad:
                rows.append({**dict(zip(RUN[:3], key)), "seed": s, "split": split, "english": v, "cell_median": med,
                             "cell_mad": mad, "cell_runs": len(per_run)})
    return pd.DataFrame(rows, columns=cols)


def drop_diverged(df: pd.DataFrame, keep: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows without the diverged runs -- all of them with `keep` --, the diverged runs' table)."""
    bad = diverged_runs(df)
    if keep or bad.empty:
        return df, bad
    drop = set(map(tuple, bad[RUN].astype(str).to_numpy(object)))
    hit = np.array([k in drop for k in zip(*(df[c].astype(str).to_numpy(object) for c in RUN))], bool)
    return df[~hit].reset_index(drop=True), bad


def diverged_rule() -> str:
    return (f"a run whose English dev score (test when it has no dev row) is more than {DIVERGED['points']:g} points "
            f"and more than {DIVERGED['mads']:g} scaled MADs ({MAD_SCALE} x median absolute deviation) below the "
            f"median of its cell's runs (same model, intermediate and target task; {DIVERGED['min_runs']} or more "
            "seeds)")


# ----------------------------------------------------------------------------------------- baseline pairing
def published_pairings(kept: pd.DataFrame) -> pd.DataFrame:
    """Cells where an intermediate-task run of your own (source rank 0) meets a baseline from a publication: one row
    per (model, intermediate_task, target_task, split, metric) with the languages and the baseline's sources.
    `kept`: load_scores's per-seed rows (with `rank`)."""
    cols = ["model", "intermediate_task", "target_task", "split", "metric", "langs", "baseline_source"]
    if kept.empty:
        return pd.DataFrame(columns=cols)
    cell = ["model", "target_task", "split", "metric", "lang"]
    base = kept[kept["intermediate_task"] == "none"]
    pub = base[base["rank"] > 0].groupby(cell)["source"].first()
    own_after = kept[(kept["intermediate_task"] != "none") & (kept["rank"] == 0)]
    if pub.empty or own_after.empty:
        return pd.DataFrame(columns=cols)
    hit = own_after.merge(pub.rename("baseline_source").reset_index(), on=cell, how="inner")
    rows = []
    for key, g in hit.groupby(["model", "intermediate_task", "target_task", "split", "metric"], sort=False):
        rows.append({**dict(zip(cols[:5], key)), "langs": " ".join(sorted(set(g["lang"]))),
                     "baseline_source": "; ".join(sorted({s.split(":")[0] for s in g["baseline_source"]}))})
    return pd.DataFrame(rows, columns=cols)


def pairing_error(pairs: pd.DataFrame) -> str:
    first = pairs.iloc[0]
    return (f"{len(pairs)} experiment(s) pair runs of your own with a PUBLISHED baseline (e.g. model "
            f"{first['model']!r}, intermediate task {first['intermediate_task']!r}, {first['target_task']}/"
            f"{first['split']}: baseline from {first['baseline_source']}): the 'effect' would mix intermediate "
            "training with every difference between your pipeline and the publication's (hyperparameters, model "
            "selection, seed averaging). Add your own baseline runs (intermediate_task = none) of the same model, "
            "or pass --pair-published-baseline to pair them anyway (the report then names the source)")


# ------------------------------------------------------------------------------------------------ run rows
def run_rows(kept: pd.DataFrame, tasks) -> pd.DataFrame:
    """One row per (intermediate-task run, non-English language of the task) on `tasks`, with effect, drop_change,
    en_effect and the baseline's English mean/var/n (for the mean's interval). Rows need the run's English score,
    the language's and English's baseline (else left out)."""
    from data.tasks import TASKS

    cols = ["model", "intermediate_task", "target_task", "split", "metric", "seed", "run", "lang", "effect",
            "drop_change", "en_effect", "base_en_var", "base_en_n"]
    tasks = set(tasks)
    arr = [kept[c].astype(str).to_numpy(object) for c in ("model", "intermediate_task", "target_task", "split",
                                                          "metric", "seed", "lang")]
    base, en_after, after = {}, {}, []
    for (m, i, t, sp, me, s, lang), v in zip(zip(*arr), kept["value"].to_numpy(float)):
        if t not in tasks:
            continue
        if i == "none":
            base.setdefault((m, t, sp, me, lang), []).append(v)
        elif lang == "en":
            en_after.setdefault((m, t, sp, me, i, s), []).append(v)
        elif lang in TASKS[t].langs:
            after.append((m, i, t, sp, me, s, lang, v))
    def mean_var(v):
        mu = sum(v) / len(v)
        return mu, (sum((x - mu) ** 2 for x in v) / (len(v) - 1) if len(v) > 1 else math.nan), len(v)

    base = {k: mean_var(v) for k, v in base.items()}
    en_after = {k: sum(v) / len(v) for k, v in en_after.items()}
    out = []
    for m, i, t, sp, me, s, lang, v in after:
        b, b_en, e = base.get((m, t, sp, me, lang)), base.get((m, t, sp, me, "en")), en_after.get((m, t, sp, me, i, s))
        if b is None or b_en is None or e is None:
            continue
        effect, en_effect = v - b[0], e - b_en[0]
        out.append((m, i, t, sp, me, s, f"{i}/{t}/{sp}/{s}", lang, effect, en_effect - effect, en_effect, b_en[1],
                    b_en[2]))
    return pd.DataFrame(out, columns=cols)


# ------------------------------------------------------------------------------- the two-way robust estimator
def _demean(Z: np.ndarray, run_idx: np.ndarray, n_runs: int) -> np.ndarray:
    """Z (..., n) minus its mean within each run (the run fixed effects projected out)."""
    counts = np.bincount(run_idx, minlength=n_runs)
    one = np.zeros((len(run_idx), n_runs))
    one[np.arange(len(run_idx)), run_idx] = 1.0
    means = (Z @ one) / np.maximum(counts, 1)
    return Z - means[..., run_idx]


def _satterthwaite(parts, dfs) -> float:
    num = sum(parts) ** 2
    den = sum(p * p / max(d, 1) for p, d in zip(parts, dfs) if p > 0)
    return float(num / den) if den > 0 else float(max(dfs[0], 1))


def permutations(n_langs: int, n_resamples: int, seed) -> tuple[np.ndarray, bool]:
    """(orders (B, L), exact): all L! orders when L! <= n_resamples, else the identity and n_resamples - 1 draws."""
    if math.factorial(n_langs) <= n_resamples:
        return language_permutations(n_langs, n_resamples, None)
    perms = np.random.default_rng(seed).permuted(np.tile(np.arange(n_langs), (n_resamples, 1)), axis=1)
    perms[0] = np.arange(n_langs)  # the observed order first (it counts once among the resamples' +1)
    return perms, False


def robust_contrast(y, lang_idx, run_idx, group_idx, x_lang, size_lang=None, contrast=None, n_resamples=999,
                    seed=0, power: float | None = None) -> dict:
    """Two-way (language, run) cluster-robust OLS of y on run intercepts + x x 1(group) (+ size x 1(group)), and the
    studentized language-level permutation test of contrast' slopes. All arrays are per row except x_lang and
    size_lang (per language index). Slopes are per unit of x; PER scaling is the caller's."""
    y = np.asarray(y, float)
    lang_idx, run_idx, group_idx = (np.asarray(a) for a in (lang_idx, run_idx, group_idx))
    L, R, K = int(lang_idx.max()) + 1, int(run_idx.max()) + 1, int(group_idx.max()) + 1
    c = np.ones(K) / K if contrast is None else np.asarray(contrast, float)
    # Language-level residual of the distance on [1, size]: permuting it keeps the size-distance relation.
    Zl = np.column_stack([np.ones(L)] + ([] if size_lang is None else [np.asarray(size_lang, float)]))
    x_lang = np.asarray(x_lang, float)
    x_res = x_lang - Zl @ np.linalg.lstsq(Zl, x_lang, rcond=None)[0]
    perms, exact = permutations(L, n_resamples, seed)
    B = len(perms)
    G = np.zeros((len(y), K))
    G[np.arange(len(y)), group_idx] = 1.0
    xr = x_res[perms][:, lang_idx]  # (B, n)
    Xt = xr[:, :, None] * G[None]  # (B, n, K): tested columns
    if size_lang is not None:
        S = (np.asarray(size_lang, float)[lang_idx])[:, None] * G  # (n, K)
        X = np.concatenate([Xt, np.broadcast_to(S, (B, *S.shape))], axis=2)
    else:
        X = Xt
    p = X.shape[2]
    Xd = np.moveaxis(_demean(np.moveaxis(X, 2, 1), run_idx, R), 1, 2)  # (B, n, p)
    yd = _demean(y, run_idx, R)
    XdT = np.swapaxes(Xd, 1, 2)
    XtX = XdT @ Xd
    try:
        inv = np.linalg.inv(XtX)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(XtX)
    beta = (inv @ (XdT @ yd)[..., None])[..., 0]  # (B, p)
    e = yd - (Xd @ beta[..., None])[..., 0]
    cfull = np.concatenate([c, np.zeros(p - K)])
    XdInv = Xd @ inv  # (B, n, p)
    a = XdInv @ cfull  # d(c'beta)/dy_i
    psi = a * e
    lev = (XdInv * Xd).sum(-1)  # leverage of the non-run columns
    counts = np.bincount(run_idx, minlength=R)
    lev_fe = 1.0 / counts[run_idx]  # the run intercepts' leverage
    Lone = np.zeros((len(y), L))
    Lone[np.arange(len(y)), lang_idx] = 1.0
    Rone = np.zeros((len(y), R))
    Rone[np.arange(len(y)), run_idx] = 1.0
    # A language's leverage: per group (intermediate task) the trace of its rows' hat block (the group's columns
    # touch only the group's rows, so the blocks are separate); the largest over groups scales its score sum.
    h_lang = np.zeros((B, L))
    for k in range(K):
        Gk = Lone * G[:, k:k + 1]  # (n, L): this group's rows of each language
        h_k = (lev @ Gk) + (lev_fe @ Gk) / np.maximum(Gk.sum(0), 1)
        h_lang = np.maximum(h_lang, h_k)
    h_lang = np.clip(h_lang, 0, 0.95)  # (B, L)
    scale = (1 - h_lang) ** (LEVERAGE_POWER if power is None else power)
    v_lang = (((psi @ Lone) / scale) ** 2).sum(-1)
    v_run = (psi @ Rone) ** 2
    v_run = v_run.sum(-1) * (R / (R - 1) if R > 1 else 0.0)
    v_row = (psi ** 2).sum(-1)
    v_extra = np.maximum(v_run - v_row, 0.0)
    V = v_lang + v_extra
    est = beta @ cfull
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / np.sqrt(V)
    # Degrees of freedom of the language part: Bell & McCaffrey's (2002) Satterthwaite approximation under equal
    # language-level variance, (sum w)^2 / sum w^2 over the languages' squared weights in the estimate -- far below
    # L - k when a few languages far from the mean distance carry the slope (Imbens & Kolesar 2016, REStat
    # 98:701-712); capped at L - k.
    k_lang = 2 if size_lang is None else 3
    w = ((a[0] @ Lone) / scale[0]) ** 2
    df_lang = min(float(w.sum() ** 2 / (w ** 2).sum()) if (w ** 2).sum() > 0 else L - k_lang, L - k_lang)
    df = _satterthwaite([float(v_lang[0]), float(v_extra[0])], [df_lang, R - 1])
    hits = int((np.abs(t) >= abs(t[0]) * (1 - 1e-9)).sum())
    p_perm = hits / B  # identity included: exact, or (hits' + 1) / (B' + 1) over the B' = B - 1 random orders
    p_t = float(2 * stats.t.sf(abs(t[0]), df))
    q = stats.t.ppf(0.5 + LEVEL / 2, df)
    se = float(np.sqrt(V[0]))
    return {"coef": float(est[0]), "se": se, "ci_low": float(est[0] - q * se), "ci_high": float(est[0] + q * se),
            "df": df, "t": float(t[0]), "p_perm": float(p_perm), "p_t": p_t, "p": float(p_perm),
            "n_perm": B, "p_exact": exact, "run_share": float(v_extra[0] / V[0]) if V[0] > 0 else math.nan,
            "slopes": beta[0, :K].tolist()}


def robust_mean(y, lang_idx, run_idx, target_idx, base_var=None, base_n=None) -> dict:
    """Mean of y over target tasks (each target's mean weighted equally) with a two-way (language, run) cluster
    interval; base_var/base_n per target add the shared baseline English mean's variance (None: not added)."""
    y = np.asarray(y, float)
    T = int(target_idx.max()) + 1
    L, R = int(lang_idx.max()) + 1, int(run_idx.max()) + 1
    n_t = np.bincount(target_idx, minlength=T)
    means = np.bincount(target_idx, y, minlength=T) / n_t
    e = y - means[target_idx]
    psi = e / (T * n_t[target_idx])
    v_lang = np.bincount(lang_idx, psi, minlength=L) ** 2
    v_lang = v_lang.sum() * (L / (L - 1) if L > 1 else 0.0)
    v_run = (np.bincount(run_idx, psi, minlength=R) ** 2).sum() * (R / (R - 1) if R > 1 else 0.0)
    v_extra = max(v_run - float((psi ** 2).sum()), 0.0)
    parts, dfs = [v_lang, v_extra], [L - 1, R - T]
    if base_var is not None:
        bv = np.asarray(base_var, float)
        bn = np.asarray(base_n, float)
        ok = np.isfinite(bv) & (bn > 1)
        if ok.any():
            pooled = float(np.sum((bn[ok] - 1) * bv[ok]) / np.sum(bn[ok] - 1))
            parts.append(float(np.sum(pooled / bn) / T ** 2))
            dfs.append(int(np.sum(bn[ok] - 1)))
    V = sum(parts)
    df = _satterthwaite(parts, dfs)
    q = stats.t.ppf(0.5 + LEVEL / 2, df)
    m = float(means.mean())
    return {"mean": m, "ci_low": m - q * math.sqrt(V), "ci_high": m + q * math.sqrt(V), "df": df}


def english_effect(en_effect, run_idx, target_idx, base_en_var, base_en_n) -> dict:
    """Mean over target tasks of the runs' English effect (per-row arrays; one value per run), with the after-runs'
    seed spread and the baseline English mean's (base_en_var/base_en_n per target index)."""
    _, first = np.unique(run_idx, return_index=True)
    y, t = np.asarray(en_effect, float)[first], np.asarray(target_idx)[first]
    T = int(t.max()) + 1
    n_t = np.bincount(t, minlength=T).astype(float)
    means = np.bincount(t, y, minlength=T) / n_t
    m = float(means.mean())
    parts, dfs = [], []
    a_df = int((n_t - 1).sum())
    if a_df > 0:
        s2 = float(((y - means[t]) ** 2).sum()) / a_df
        parts.append(float((s2 / n_t).sum()) / T ** 2)
        dfs.append(a_df)
    bn, bv = np.asarray(base_en_n, float), np.asarray(base_en_var, float)
    ok = (bn > 1) & np.isfinite(bv)
    if ok.any():
        pooled = float(((bn[ok] - 1) * bv[ok]).sum() / (bn[ok] - 1).sum())
        parts.append(float((pooled / bn).sum()) / T ** 2)
        dfs.append(int((bn[ok] - 1).sum()))
    if not parts:
        return {"mean": m, "ci_low": math.nan, "ci_high": math.nan}
    q = stats.t.ppf(0.5 + LEVEL / 2, _satterthwaite(parts, dfs))
    return {"mean": m, "ci_low": m - q * math.sqrt(sum(parts)), "ci_high": m + q * math.sqrt(sum(parts))}


# ----------------------------------------------------------------------------------------------- the tests
def _groups(rows: pd.DataFrame, by) -> list[tuple[tuple, dict]]:
    """[(key, {column: numpy array of the group's rows})] in sorted key order: pandas' groupby costs more than the
    statistics on these small tables (the simulations run thousands)."""
    cols = {c: rows[c].to_numpy(float if c in ("effect", "drop_change", "en_effect", "base_en_var", "base_en_n")
                                else object) for c in rows.columns}
    idx: dict = {}
    for i, key in enumerate(zip(*(cols[c] for c in by))):
        idx.setdefault(key, []).append(i)
    return [(key, {c: v[idx[key]] for c, v in cols.items()}) for key in sorted(idx)]


def _arrays(g: dict, dist: pd.DataFrame, distance: str, model: str, adjust: bool) -> dict:
    """The rows of one test as numpy arrays: rows without a distance (or a size, when adjusting) left out."""
    d = dict(zip(dist["lang"], dist[distance].to_numpy(float)))
    lang = g["lang"]
    size = {x: log_pretraining_size(model, x) if adjust else 0.0 for x in set(lang)}
    y = g["drop_change"]
    ok = np.array([math.isfinite(d.get(x, math.nan)) and math.isfinite(size[x]) for x in lang], bool) & np.isfinite(y)
    langs_used, li = np.unique(lang[ok], return_inverse=True)
    runs, ri = np.unique(g["run"][ok], return_inverse=True)
    targets, ti = np.unique(g["target_task"][ok] + "/" + g["split"][ok], return_inverse=True)
    seed_keys = np.unique(np.column_stack([ti, np.unique(g["seed"][ok], return_inverse=True)[1]]), axis=0)
    return {"y": y[ok], "li": li, "ri": ri, "ti": ti, "langs": langs_used,
            "x": np.array([d[x] for x in langs_used], float), "s": np.array([size[x] for x in langs_used], float),
            "runs": runs, "targets": targets, "en_effect": g["en_effect"][ok], "inter": g["intermediate_task"][ok],
            "seeds_per_target": np.bincount(seed_keys[:, 0]) if len(seed_keys) else np.zeros(1, int),
            "base_en": [np.bincount(ti, g[c][ok]) / np.bincount(ti) for c in ("base_en_var", "base_en_n")],
            "tasks": " ".join(sorted(set(g["target_task"] + "/" + g["split"])))}


def primary_tests(rows: pd.DataFrame, dist: pd.DataFrame, distance: str = "syntactic", n_resamples: int = 999,
                  seed=0) -> pd.DataFrame:
    """The primary after-intermediate test per (model, intermediate task): a PRIMARY_COLUMNS row each."""
    out = []
    for k, ((model, inter), g0) in enumerate(_groups(rows, ["model", "intermediate_task"])):
        adjust = pretraining_corpus(model) is not None
        a = _arrays(g0, dist, distance, model, adjust)
        n_langs = len(a["langs"])
        row = {"model": model, "intermediate_task": inter, "distance": distance, "size_adjusted": adjust,
               "tasks": a["tasks"], "n_obs": len(a["y"]),
               "n_langs": n_langs, "n_runs": len(a["runs"]),
               "n_seeds": int(a["seeds_per_target"].max()) if len(a["y"]) else 0}
        if n_langs < MIN_N:
            out.append({**row, "note": f"fewer than {MIN_N} languages with a distance"
                        + (" and a pretraining size" if adjust else "")})
            continue
        x, s = a["x"], (a["s"] if adjust else None)
        zeros = np.zeros(len(a["y"]), int)
        rng_seed = [*np.atleast_1d(seed), k]
        res = robust_contrast(a["y"], a["li"], a["ri"], zeros, x, s, n_resamples=n_resamples, seed=rng_seed)
        row.update({"coef_per_0.1": PER * res["coef"], "se_per_0.1": PER * res["se"],
                    "ci_low_per_0.1": PER * res["ci_low"], "ci_high_per_0.1": PER * res["ci_high"],
                    "df": res["df"], "p": res["p"], "p_perm": res["p_perm"], "p_t": res["p_t"],
                    "n_perm": res["n_perm"], "p_exact": res["p_exact"], "run_share": res["run_share"]})
        if adjust:
            un = robust_contrast(a["y"], a["li"], a["ri"], zeros, x, None, n_resamples=n_resamples, seed=rng_seed)
            row.update({"unadj_coef_per_0.1": PER * un["coef"], "unadj_ci_low_per_0.1": PER * un["ci_low"],
                        "unadj_ci_high_per_0.1": PER * un["ci_high"], "unadj_p": un["p"],
                        "size_r2": float(np.corrcoef(x, s)[0, 1] ** 2),
                        "size_rho": float(np.corrcoef(stats.rankdata(x), stats.rankdata(s))[0, 1])})
        m = robust_mean(a["y"], a["li"], a["ri"], a["ti"], *a["base_en"])
        en = english_effect(a["en_effect"], a["ri"], a["ti"], *a["base_en"])
        row.update({"mean_change": m["mean"], "mean_ci_low": m["ci_low"], "mean_ci_high": m["ci_high"],
                    "en_effect": en["mean"], "en_ci_low": en["ci_low"], "en_ci_high": en["ci_high"]})
        out.append(row)
    return pd.DataFrame(out).reindex(columns=PRIMARY_COLUMNS)


POOLED_COLUMNS = ["model", "term", "distance", "size_adjusted", "n_obs", "n_langs", "n_runs", "coef_per_0.1",
                  "ci_low_per_0.1", "ci_high_per_0.1", "p", "p_perm", "p_t", "n_perm", "note"]


def pooled_comparison(rows: pd.DataFrame, dist: pd.DataFrame, distance: str = "syntactic", n_resamples: int = 999,
                      seed=0) -> pd.DataFrame:
    """Per model with 2+ intermediate tasks: each task's slope in the pooled model and every pairwise contrast."""
    out = []
    for m, ((model,), g0) in enumerate(_groups(rows, ["model"])):
        adjust = pretraining_corpus(model) is not None
        a = _arrays(g0, dist, distance, model, adjust)
        inters = sorted(set(a["inter"]))
        if len(inters) < 2 or len(a["langs"]) < MIN_N:
            continue
        gi = np.searchsorted(np.array(inters, object), a["inter"])
        li, ri, x, s = a["li"], a["ri"], a["x"], (a["s"] if adjust else None)
        langs, y = a["langs"], a["y"]
        base = {"model": model, "distance": distance, "size_adjusted": adjust, "n_obs": len(y),
                "n_langs": len(langs), "n_runs": len(a["runs"])}
        contrasts = [(f"slope {a}", np.eye(len(inters))[i]) for i, a in enumerate(inters)]
        contrasts += [(f"slope {a} - slope {b}", np.eye(len(inters))[i] - np.eye(len(inters))[j])
                      for (i, a), (j, b) in itertools.combinations(enumerate(inters), 2)]
        for j, (term, c) in enumerate(contrasts):
            res = robust_contrast(y, li, ri, gi, x, s, contrast=c, n_resamples=n_resamples,
                                  seed=[*np.atleast_1d(seed), m, j])
            out.append({**base, "term": term, "coef_per_0.1": PER * res["coef"],
                        "ci_low_per_0.1": PER * res["ci_low"], "ci_high_per_0.1": PER * res["ci_high"],
                        "p": res["p"], "p_perm": res["p_perm"], "p_t": res["p_t"], "n_perm": res["n_perm"]})
    return pd.DataFrame(out).reindex(columns=POOLED_COLUMNS)


def baseline_robust_test(drops: pd.DataFrame, dist: pd.DataFrame, model: str, tasks, distance: str,
                         dv: str = "abs_drop", n_resamples: int = 999, seed=0) -> dict:
    """The same robust statistic for the baseline question (exposed for the baseline screen): dv ~ C(task) +
    distance, two-way (language, task) clusters, studentized language-level permutation; no size adjustment."""
    from analysis.models import drop_pool

    data = drop_pool(drops, dist, model, tasks, distance, dv)
    if data["lang"].nunique() < MIN_N:
        return {"note": f"fewer than {MIN_N} languages"}
    langs, li = np.unique(data["lang"].to_numpy(object), return_inverse=True)
    ri = np.unique(data["task"].to_numpy(object), return_inverse=True)[1]
    x = data.groupby("lang")["distance"].first().reindex(langs).to_numpy(float)
    res = robust_contrast(data[dv], li, ri, np.zeros(len(data), int), x, None, n_resamples=n_resamples, seed=seed)
    return {"coef_per_0.1": PER * res["coef"], "ci_low_per_0.1": PER * res["ci_low"],
            "ci_high_per_0.1": PER * res["ci_high"], "p": res["p"], "p_perm": res["p_perm"], "p_t": res["p_t"],
            "n_langs": len(langs), "n_obs": len(data)}


# ------------------------------------------------------------------------------------------ the report's text
def _p(v) -> str:
    return "" if v is None or not np.isfinite(v) else (f"{v:.4f}" if v >= 0.0001 else f"{v:.1e}")


def _ci(v, lo, hi) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    return f"{v:+.2f} (95% CI {lo:+.2f} to {hi:+.2f})" if np.isfinite(lo) and np.isfinite(hi) else f"{v:+.2f}"


def decides(r) -> bool:
    """The baseline screen's decision rule: the 95% interval excludes 0 and p < 0.05."""
    return bool((r["ci_low_per_0.1"] > 0 or r["ci_high_per_0.1"] < 0) and r["p"] < 0.05)


def direction(r) -> str:
    if not np.isfinite(r["coef_per_0.1"]) or not decides(r):
        return ("no reliable dependence on distance: intermediate training changes the drop about equally for near "
                "and far languages, as far as these runs can tell")
    if r["coef_per_0.1"] < 0:
        return "far languages gain more: the gap to English narrows with distance"
    return "near languages gain more: the gap to English widens with distance"


def pairing_lines(pairs: pd.DataFrame) -> list[str]:
    if pairs is None or not len(pairs):
        return []
    srcs = sorted(set("; ".join(pairs["baseline_source"]).split("; ")))
    return [f"**Baselines from a publication (asked for with --pair-published-baseline).** Runs of your own are "
            f"paired with the published baseline of {', '.join(srcs)} for "
            + "; ".join(f"{r.model} | {r.intermediate_task} | {r.target_task}/{r.split}" for r in pairs.itertuples())
            + ". For those, the 'effect' below mixes intermediate training with every difference between your "
            "pipeline and the publication's (hyperparameters, model selection, checkpoint, a multi-seed average).", ""]


def diverged_lines(ctx) -> list[str]:
    bad = ctx.get("diverged")
    if bad is None or not len(bad):
        return []
    what = "kept (--keep-diverged)" if ctx.get("keep_diverged") else "left out of every analysis"
    return [f"**Diverged runs {what}:** " + "; ".join(
        f"{r.model} | {r.intermediate_task} | {r.target_task} seed {r.seed} (English {r.split} {r.english:.1f}, cell "
        f"median {r.cell_median:.1f})" for r in bad.itertuples()) + f". Rule: {diverged_rule()}.", ""]


def first_screen_lines(ctx, distance: str, pool_names: str) -> list[str]:
    """The after-intermediate primary test, one paragraph per (model, intermediate task)."""
    after = ctx["after"]
    L = [f"**Primary test (pre-specified for new runs): per intermediate task, the change of the zero-shot drop "
         f"(score(en) - score(L), points) after intermediate training, against {distance} distance with log "
         f"pretraining size held fixed, pooled over the parallel target tasks ({pool_names}) and every seed.** OLS "
         "with one intercept per run; language- and run-clustered, leverage-weighted (CR2) standard errors with "
         "Bell-McCaffrey degrees of freedom; p from a studentized language-level permutation (DiCiccio & Romano "
         "2017). Decision rule as for the baseline: the 95% interval excludes 0 and p < 0.05.", ""]
    L += pairing_lines(ctx.get("published_pairings")) + diverged_lines(ctx)
    if after.empty:
        L.append("- No intermediate-task runs with baselines on those target tasks: the primary test needs them. The "
                 "effects on the other tasks are in Appendix A2 and effects.csv.")
    for _, r in after.iterrows():
        head = f"- **{r['model']} | {r['intermediate_task']}**"
        if not np.isfinite(r["coef_per_0.1"]):
            L.append(f"{head}: not estimable ({r['note']}).")
            continue
        adj = "with log pretraining size held fixed" if r["size_adjusted"] else "(no size adjustment: the model's " \
              "pretraining corpus is unknown)"
        text = (f"{head} ({r['n_langs']} languages, {r['n_runs']} runs, up to {r['n_seeds']} seeds per target): "
                f"the drop changes by {_ci(r['mean_change'], r['mean_ci_low'], r['mean_ci_high'])} points on "
                f"average (English itself {_ci(r['en_effect'], r['en_ci_low'], r['en_ci_high'])}); per +0.1 "
                f"{distance} distance, {adj}, by {_ci(r['coef_per_0.1'], r['ci_low_per_0.1'], r['ci_high_per_0.1'])}"
                f" points, p = {_p(r['p'])} (robust t: {_p(r['p_t'])}): "
                f"{direction(r)}.")
        if r["run_share"] > 0.5:
            text += (f" Run-to-run differences in the slope make up {100 * r['run_share']:.0f}% of its variance over "
                     f"{r['n_runs']} runs: more seeds narrow the interval.")
        if r["size_adjusted"] and np.isfinite(r.get("size_r2", np.nan)):
            text += (f" Distance and log pretraining size share {100 * r['size_r2']:.0f}% of their variation over "
                     f"these languages (rho = {r['size_rho']:+.2f}), so only the rest informs the slope; without the "
                     f"adjustment it is {_ci(r['unadj_coef_per_0.1'], r['unadj_ci_low_per_0.1'], r['unadj_ci_high_per_0.1'])}"
                     f" (p = {_p(r['unadj_p'])}).")
        L.append(text)
    return L + [""]


def appendix_lines(ctx) -> list[str]:
    """The pooled comparison model and the diverged-run rule (appendix A3)."""
    pooled = ctx.get("after_pooled")
    L = ["After intermediate training -- the pooled comparison model (exploratory): drop change ~ C(run) + "
         "distance x C(intermediate task) + log size x C(intermediate task), runs nested in (intermediate, target) "
         "pairs, two-way (language, run) cluster-robust; each slope and each difference of slopes with the "
         "studentized permutation that moves a language's distance in every term at once.", ""]
    if pooled is not None and len(pooled):
        L += ["| model | term | languages | runs | per +0.1 [95% CI] | p | p perm | p t |", "|---|---|---|---|---|---|---|---|"]
        L += [f"| {r.model} | {r.term} | {r.n_langs} | {r.n_runs} | "
              f"{_ci(r._8, r._9, r._10)} | {_p(r.p)} | {_p(r.p_perm)} | {_p(r.p_t)} |" for r in pooled.itertuples()]
    else:
        L.append("(one intermediate task per model: nothing to compare)")
    L += ["", f"Diverged-run check: {diverged_rule()}; "
          + (f"{len(ctx['diverged'])} run(s) flagged (diverged_runs.csv)." if ctx.get("diverged") is not None
             and len(ctx["diverged"]) else "none flagged."), ""]
    return L
