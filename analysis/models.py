"""Pooled models across tasks: a linear mixed model with a random intercept per language and a language-level
permutation p-value. The same languages recur across tasks (and seeds), so the effective n is the number of
languages, not of rows.

Use:
    pooled_drop_model(drops, dist, "XLM-R Large", ["xnli", "pawsx", "xquad", "mlqa"], "syntactic")
        abs_drop ~ distance + C(task) + (1 | language)                       (the baseline question)
    after_intermediate_models(effects, dist, "syntactic")
        effect ~ distance x intermediate_task + C(target task) + (1 | language) + (1 | language:target task)
        one row per intermediate-task seed; the (language, target task) component carries the baseline mean that
        every seed of a cell shares                                           (the after-intermediate question)

Each fit: statsmodels MixedLM, REML, optimizers tried in turn (MIXEDLM_METHODS; the one used is reported), with a
flag when the fit did not converge or a variance component sits on the boundary (0). Reported per coefficient: the
estimate and its standard error, a 95% interval on a t reference with (languages - 2) degrees of freedom (the
distance is a language-level covariate), the Wald p (secondary: optimistic with ~15-20 groups), and the reported p:
a language-level permutation test. The distance values are permuted among the languages (every row of a language
moves together); the statistic is the GLS z of the distance coefficient with the covariance V taken from the model
fitted WITHOUT the tested term, which does not change under the permutation, so the test is valid; it enumerates all
L! permutations when L! <= n_resamples.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import math
import re
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from analysis.stats import LEVEL, MIN_N, PER

MIXEDLM_METHODS = ("bfgs", "lbfgs", "powell", "nm")  # lbfgs alone hits singular matrices on these small designs
MODEL_COLUMNS = ["model", "intermediate_task", "dv", "distance", "pool", "tasks", "n_obs", "n_langs", "n_seeds",
                 "coef_per_0.1", "ci_low_per_0.1", "ci_high_per_0.1", "se_per_0.1", "p_wald", "p_perm", "p_exact",
                 "n_perm", "lang_var", "cell_var", "resid_var", "converged", "method", "note"]


FIT_CACHE_SIZE = 256  # fits kept by fit_mixedlm (each a few kB of small arrays)
_FITS: collections.OrderedDict = collections.OrderedDict()


def _fit_key(formula: str, data: pd.DataFrame, cell: str | None) -> tuple:
    """What a fit depends on: the formula, the cell, and the values, in row order, of the columns it reads (the
    ones the formula names, the language and the cell); other columns of `data` do not enter."""
    used = [c for c in data.columns if c in ("lang", cell)
            or re.search(rf"(?<![\w.]){re.escape(str(c))}(?!\w)", formula)]
    rows = pd.util.hash_pandas_object(data[used], index=False).to_numpy()
    return formula, cell, tuple(used), len(data), hashlib.sha1(rows.tobytes()).hexdigest()


def fit_mixedlm(formula: str, data: pd.DataFrame, cell: str | None = None):
    """(fit, method, clean): MixedLM by REML with groups = language (and a (language, cell) component if given).

    Optimizers are tried in turn until one converges cleanly: no non-convergence and no ConvergenceWarning other than
    "on the boundary" (a variance component at 0: mixed_effect flags that itself). If none does, the fit with the
    highest likelihood is returned with clean = False.

    The same fit is asked for many times in a run (the fit without the tested term is shared by every predictor
    defined for the same languages; the primary model is also the first pooled model), so the last FIT_CACHE_SIZE
    fits are kept, keyed on the values they depend on (_fit_key): a repeated call returns the same objects, which
    callers only read. A default correlate.py run fits 72 models instead of 124.
    """
    key = _fit_key(formula, data, cell)
    if key in _FITS:
        _FITS.move_to_end(key)
        return _FITS[key]
    out = _fit_mixedlm(formula, data, cell)
    _FITS[key] = out
    while len(_FITS) > FIT_CACHE_SIZE:
        _FITS.popitem(last=False)
    return out


def _fit_mixedlm(formula: str, data: pd.DataFrame, cell: str | None = None):
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    kw = {"re_formula": "1", "vc_formula": {"cell": f"0 + C({cell})"}} if cell else {}
    errors, best = [], None
    for method in MIXEDLM_METHODS:  # the first clean fit wins; else the best likelihood, flagged
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = smf.mixedlm(formula, data, groups=data["lang"], **kw).fit(reml=True, method=method)
        except (ValueError, np.linalg.LinAlgError) as e:
            errors.append(f"{method}: {e}")
            continue
        warned = any(issubclass(w.category, ConvergenceWarning) and "boundary" not in str(w.message)
                     for w in caught)  # "on the boundary": a variance component at 0, flagged separately
        if bool(fit.converged) and not warned:
            return fit, method, True
        if best is None or fit.llf > best[0].llf:
            best = (fit, method, False)
    if best is not None:
        return best
    raise np.linalg.LinAlgError("MixedLM failed: " + "; ".join(errors))


def covariance(fit, data: pd.DataFrame, cell: str | None = None) -> np.ndarray:
    """V = resid_var * I + lang_var * [same language] + cell_var * [same language and cell], from a MixedLM fit."""
    lang = data["lang"].to_numpy()
    same_lang = (lang[:, None] == lang[None, :]).astype(float)
    V = fit.scale * np.eye(len(data)) + float(fit.cov_re.iloc[0, 0]) * same_lang
    if cell:
        c = data[cell].to_numpy()
        V += float(np.asarray(fit.vcomp)[0]) * same_lang * (c[:, None] == c[None, :])
    return V


def gls_z(y, A, C, V) -> np.ndarray:
    """GLS z of the last column for designs [A, c] with known covariance V, for every row c of C (B, n)."""
    W = np.linalg.inv(V)
    WA = W @ A
    M = W - WA @ np.linalg.solve(A.T @ WA, WA.T)  # (n, n): W with the A columns projected out
    CM = C @ M
    with np.errstate(invalid="ignore", divide="ignore"):
        return (CM @ y) / np.sqrt((CM * C).sum(-1))


def language_permutations(n_langs: int, n_resamples: int, rng) -> tuple[np.ndarray, bool]:
    """(perms (B, L), exact): all L! orders when L! <= n_resamples (identity included), else n_resamples draws."""
    if math.factorial(n_langs) <= n_resamples:
        return np.array(list(itertools.permutations(range(n_langs)))), True
    return np.array([rng.permutation(n_langs) for _ in range(n_resamples)]), False


def mixed_effect(data: pd.DataFrame, dv: str, null_rhs: str, distance: str = "distance", mask=None,
                 cell: str | None = None, n_resamples: int = 999, seed=0) -> dict:
    """Fit dv ~ null_rhs + tested, tested = data[distance] * mask; the estimate per +0.1 and its permutation p."""
    data = data.reset_index(drop=True)
    missing = [c for c in (dv, distance, "lang", *([cell] if cell else [])) if c not in data]
    if missing:
        raise ValueError(f"mixed_effect: no column {', '.join(missing)} in the data (columns: {', '.join(data)})")
    for col in (dv, distance):
        v = pd.to_numeric(data[col], errors="coerce").to_numpy(float)
        if not np.isfinite(v).all():
            bad = sorted(set(data.loc[~np.isfinite(v), "lang"].astype(str)))
            raise ValueError(f"mixed_effect: {col} is missing or not finite for {', '.join(bad)}; "
                             "leave those rows out before fitting")
    for col in ("lang", *([cell] if cell else [])):
        if data[col].isna().any():
            raise ValueError(f"mixed_effect: {col} is missing in {int(data[col].isna().sum())} rows")
    mask = np.ones(len(data)) if mask is None else np.asarray(mask, float)
    data = data.assign(_tested=data[distance].to_numpy(float) * mask)
    langs, idx = np.unique(data["lang"].to_numpy(), return_inverse=True)
    values = data.groupby("lang")[distance].agg(["min", "max"])
    assert (values["min"] == values["max"]).all(), "the distance must be one value per language"
    out = {"n_obs": len(data), "n_langs": len(langs)}
    try:
        fit, method, clean = fit_mixedlm(f"{dv} ~ {null_rhs} + _tested", data, cell)
        null_fit, _, null_clean = fit_mixedlm(f"{dv} ~ {null_rhs}", data, cell)
    except np.linalg.LinAlgError as e:
        return {**out, "note": str(e)}
    coef, se = float(fit.params["_tested"]), float(fit.bse["_tested"])
    q = stats.t.ppf(0.5 + LEVEL / 2, max(len(langs) - 2, 1))
    lang_var = float(fit.cov_re.iloc[0, 0])
    cell_var = float(np.asarray(fit.vcomp)[0]) if cell else math.nan
    notes = []
    if not clean or not null_clean:
        notes.append("did not converge (estimates unreliable)")
    if lang_var < 1e-8 or (cell and cell_var < 1e-8):
        notes.append("a variance component is 0 (boundary fit)")
    out.update({"coef_per_0.1": PER * coef, "se_per_0.1": PER * se, "ci_low_per_0.1": PER * (coef - q * se),
                "ci_high_per_0.1": PER * (coef + q * se), "p_wald": float(fit.pvalues["_tested"]),
                "lang_var": lang_var, "cell_var": cell_var, "resid_var": float(fit.scale), "converged": clean,
                "method": method})
    # Language-level permutation p: V from the fit without the tested term.
    V = covariance(null_fit, data, cell)
    A = np.asarray(null_fit.model.exog, float)
    y = data[dv].to_numpy(float)
    per_lang = data.groupby("lang")[distance].first().reindex(langs).to_numpy(float)
    perms, exact = language_permutations(len(langs), n_resamples, np.random.default_rng(seed))
    try:
        observed = gls_z(y, A, (per_lang[idx] * mask)[None, :], V)[0]
        z = gls_z(y, A, per_lang[perms][:, idx] * mask, V)
    except np.linalg.LinAlgError as e:  # a singular covariance or design: no permutation p, said so
        notes.append(f"no permutation p ({e})")
        return {**out, "p_perm": math.nan, "note": "; ".join(notes)}
    hits = int((np.abs(z) >= abs(observed) * (1 - 1e-9)).sum())
    out.update(p_perm=hits / len(perms) if exact else (hits + 1) / (len(perms) + 1), p_exact=exact,
               n_perm=len(perms), z_gls=float(observed))
    if notes:
        out["note"] = "; ".join(notes)
    return out


def drop_pool(drops: pd.DataFrame, dist: pd.DataFrame, model: str, tasks, distance: str, dv: str = "abs_drop"):
    """The rows of one model's baselines on `tasks` with a distance: columns lang, task, dv, distance."""
    d = dist.set_index("lang")[distance]
    g = drops[(drops["model"] == model) & (drops["intermediate_task"] == "none") & drops["target_task"].isin(tasks)
              & drops[dv].notna()]
    sizes = g.groupby(["target_task", "split"]).size()
    keep = sizes[sizes >= MIN_N].index  # a task with fewer languages adds nothing but noise
    g = g.set_index(["target_task", "split"]).loc[lambda f: f.index.isin(keep)].reset_index()
    data = pd.DataFrame({"lang": g["lang"].to_numpy(), "task": (g["target_task"] + "/" + g["split"]).to_numpy(),
                         dv: g[dv].to_numpy(float), "distance": d.reindex(g["lang"]).to_numpy(float)})
    return data.dropna().reset_index(drop=True)


def pooled_drop_model(drops, dist, model: str, tasks, distance: str, dv: str = "abs_drop", n_resamples: int = 999,
                      seed=0, pool: str = "") -> dict:
    """abs_drop ~ distance + C(task) + (1 | language) over a model's baseline tasks; a MODEL_COLUMNS row."""
    data = drop_pool(drops, dist, model, tasks, distance, dv)
    row = {"model": model, "intermediate_task": "none", "dv": dv, "distance": distance, "pool": pool,
           "tasks": " ".join(sorted(data["task"].unique())), "n_obs": len(data), "n_langs": data["lang"].nunique()}
    if data["task"].nunique() < 2 or data["lang"].nunique() < MIN_N:
        return {**row, "note": f"fewer than 2 tasks with >= {MIN_N} languages, or fewer than {MIN_N} languages"}
    return {**row, **mixed_effect(data, dv, "C(task)", n_resamples=n_resamples, seed=seed)}


def after_intermediate_models(effects: pd.DataFrame, dist: pd.DataFrame, distance: str = "syntactic",
                              n_resamples: int = 999, seed=0) -> pd.DataFrame:
    """Per (model, intermediate task): the distance slope of the effect, pooled over target tasks and seeds."""
    d = dist.set_index("lang")[distance]
    rows = []
    for model, g in effects.groupby("model", sort=False):
        data = pd.DataFrame({"lang": g["lang"].to_numpy(), "inter": g["intermediate_task"].to_numpy(),
                             "target": (g["target_task"] + "/" + g["split"]).to_numpy(),
                             "effect": g["effect"].to_numpy(float),
                             "distance": d.reindex(g["lang"]).to_numpy(float)}).dropna().reset_index(drop=True)
        inters = sorted(data["inter"].unique())
        for name in inters:
            data[f"d_{name}"] = data["distance"] * (data["inter"] == name)
        for k, name in enumerate(inters):
            sub = data
            row = {"model": model, "intermediate_task": name, "dv": "effect", "distance": distance,
                   "pool": "every target task and seed", "tasks": " ".join(sorted(data["target"].unique())),
                   "n_seeds": int(g[g["intermediate_task"] == name].groupby(["target_task", "lang"]).size().max())}
            if sub.loc[sub["inter"] == name, "lang"].nunique() < MIN_N:
                rows.append({**row, "n_obs": len(sub), "n_langs": sub["lang"].nunique(),
                             "note": f"fewer than {MIN_N} languages"})
                continue
            several_targets = sub["target"].nunique() > 1
            rhs = " + ".join((["C(target)"] if several_targets else ["1"])
                             + (["C(inter)"] + [f"d_{o}" for o in inters if o != name] if len(inters) > 1 else []))
            # seeds (or several intermediate tasks) share a cell's baseline mean: a (language, target) component;
            # with one target task that cell is the language itself (the random intercept)
            target_var = "target" if several_targets and sub.duplicated(["lang", "target"]).any() else None
            res = mixed_effect(sub, "effect", rhs, mask=(sub["inter"] == name).to_numpy(), cell=target_var,
                               n_resamples=n_resamples, seed=[*np.atleast_1d(seed), k])
            rows.append({**row, **res})
    return pd.DataFrame(rows).reindex(columns=[*MODEL_COLUMNS, "z_gls"])
