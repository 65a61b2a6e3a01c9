"""Statistics for one (distance, dependent variable) pair over 5-40 languages, right at small n.

Use: `measure_association(x, y, log_size, langs, n_resamples, seed)` -> dict of every statistic below;
`small_n_table(ns, n_resamples)` -> smallest attainable p and critical |rho| per n.

- rho (Spearman, primary), r (Pearson), tau-b (Kendall): scipy.stats; vectorized kernels here for the resampling.
- p-values: two-sided permutation tests that permute ONE sample (y; x is closed over), statistic |coefficient|:
  `scipy.stats.permutation_test((y,), ..., permutation_type="pairings")`. That enumerates all n! orders -- an exact
  test -- whenever n! <= n_resamples (n <= 7 at the default 9,999), else draws n_resamples random orders
  (p = (count + 1) / (n_resamples + 1)). Passing both samples would permute both ((n!)^2 arrangements, never exact).
  The smallest attainable p is 2/n! without ties (1/60 at n = 5): at n = 5 only |rho| = 1 reaches p < 0.05.
- 95% intervals: Fisher z; for rho with the Bonett-Wright variance (1 + rho^2/2)/(n - 3) (Bonett & Wright 2000,
  Psychometrika 65:23-28), for r 1/(n - 3), for tau-b Fieller's 0.437/(n - 4). Below n = 8 no interval ("n too
  small"): the bootstrap is degenerate there and the normal approximation poor.
- Theil-Sen slope of y on x (scipy.stats.theilslopes), reported per +0.1 distance: the fit that goes with a rank
  statistic, at any n >= 5; its 95% interval from n = 8.
- Size adjustment (log pretraining size z, languages with a size only): partial Spearman (ranks of x and y
  residualized on the rank of z) with a Freedman-Lane permutation p (Freedman & Lane 1983: permute the residuals of
  the reduced model y ~ z, refit y* ~ x + z, statistic |t| of x); the size-adjusted OLS slope of y on x with its
  Freedman-Lane p at any n >= 5, and with HC3 standard errors and a t reference (`use_t=True`; statsmodels' robust
  covariances default to a normal reference) only from n = 10.
- Leave-one-language-out: the largest change in rho and whose removal causes it.
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from scipy import stats

MIN_N = 5  # fewer languages: no coefficient (a rank correlation on 4 points can only be +-1, +-0.8, ...)
MIN_N_CI = 8  # fewer: no interval ("n too small")
MIN_N_OLS = 10  # fewer: no HC3 OLS columns (Freedman-Lane p only)
COEFFICIENTS = {"pearson": "pearson_r", "spearman": "spearman_rho", "kendall": "kendall_tau"}
PER = 0.1  # slopes are reported per +0.1 distance
LEVEL = 0.95


def _rank(a, axis=-1):
    return stats.rankdata(a, axis=axis)


def pearson_stat(x, y, axis=-1):
    """Pearson r along `axis`, vectorized over the other axes; equals scipy.stats.pearsonr's statistic."""
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
    """Kendall tau-b, vectorized over leading axes (scipy.stats.kendalltau is not); equals its statistic."""
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


def is_exact(n: int, n_resamples: int) -> bool:
    """Whether a one-sample permutation test over n values enumerates all n! orders."""
    return math.factorial(n) <= n_resamples


def correlation_permutation_p(x, y, n_resamples: int, rng) -> np.ndarray:
    """Two-sided p of (r, rho, tau): share of orders of y with |coefficient| >= the observed one (y permuted only)."""
    x = np.asarray(x, float)

    def statistic(y_, axis=-1):
        return np.abs(np.stack([pearson_stat(x, y_, axis), spearman_stat(x, y_, axis),
                                kendall_stat(x, y_, axis)], axis=-1))

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.permutation_test((np.asarray(y, float),), statistic, permutation_type="pairings",
                                     vectorized=True, n_resamples=n_resamples, alternative="greater", rng=rng)
    return np.asarray(res.pvalue, float)


def fisher_ci(coef: float, n: int, kind: str = "spearman", level: float = LEVEL) -> tuple[float, float]:
    """Fisher-z interval: Bonett-Wright variance for rho, 1/(n-3) for r, Fieller 0.437/(n-4) for tau; NaN below 8
and at |coef| = 1 (no interval: the sample is perfectly ordered, the transform has no finite value)."""
    if n < MIN_N_CI or coef is None or not np.isfinite(coef) or abs(coef) >= 1:
        return math.nan, math.nan  # |coef| = 1: Fisher z is infinite, the interval degenerate ([1, 1]): none given
    var = {"spearman": (1 + coef ** 2 / 2) / (n - 3), "pearson": 1 / (n - 3), "kendall": 0.437 / (n - 4)}[kind]
    z = math.atanh(float(np.clip(coef, -1 + 1e-12, 1 - 1e-12)))
    q = stats.norm.ppf(0.5 + level / 2)
    return math.tanh(z - q * math.sqrt(var)), math.tanh(z + q * math.sqrt(var))


def _ols_t(Y, X):
    """Classical OLS t of column 1 for every row of Y (B, n) on the fixed design X (n, k)."""
    XtX_inv = np.linalg.inv(X.T @ X)
    beta = Y @ (XtX_inv @ X.T).T  # (B, k)
    resid = Y - beta @ X.T
    s2 = (resid ** 2).sum(-1) / (X.shape[0] - X.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return beta[..., 1] / np.sqrt(s2 * XtX_inv[1, 1])


def freedman_lane_p(y, x, z, n_resamples: int, rng) -> float:
    """Freedman-Lane permutation p of the x coefficient in y ~ 1 + x + z: permute the residuals of y ~ 1 + z.

    Statistic |t| of x; all n! orders when n! <= n_resamples (exact in the sense of the procedure), else a sample.
    """
    y, x, z = (np.asarray(a, float) for a in (y, x, z))
    Z = np.column_stack([np.ones_like(z), z])
    fitted = Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    resid = y - fitted
    X = np.column_stack([np.ones_like(x), x, z])

    def statistic(e, axis=-1):
        e = np.moveaxis(e, axis, -1)
        return np.abs(_ols_t(fitted + e, X))

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.permutation_test((resid,), statistic, permutation_type="pairings", vectorized=True,
                                            n_resamples=n_resamples, alternative="greater", rng=rng).pvalue)


def partial_spearman(x, y, z) -> float:
    """Spearman rho of x and y with the rank of z partialled out (Pearson of the residualized ranks)."""
    rz = np.column_stack([np.ones(len(z)), _rank(z)])
    res = lambda v: v - rz @ np.linalg.lstsq(rz, v, rcond=None)[0]  # noqa: E731
    return float(pearson_stat(res(_rank(x)), res(_rank(y))))


def _ols(X, y):
    """(beta, residuals, pinv(X)) of an OLS fit, by the pseudo-inverse as statsmodels' OLS fits."""
    pinv = np.linalg.pinv(X)
    beta = pinv @ y
    return beta, y - X @ beta, pinv


def ols_hc3(x, y, z) -> dict:
    """y ~ 1 + x + z with HC3 standard errors and a t reference (n - 3 df: statsmodels' `use_t=True`; its robust
    covariances default to a normal reference); R^2, and the R^2 the x adds over y ~ 1 + z. Computed as statsmodels'
    OLS(...).fit(cov_type="HC3", use_t=True) computes it, in numpy (statsmodels costs about 30 ms a call, and a run
    makes hundreds); tests/test_analysis_stats.py checks every value against statsmodels."""
    x, y, z = (np.asarray(a, float) for a in (x, y, z))
    X = np.column_stack([np.ones_like(x), x, z])
    with np.errstate(invalid="ignore", divide="ignore"):
        beta, e, pinv = _ols(X, y)
        bread = pinv @ pinv.T  # (X'X)^-1
        h = (X * pinv.T).sum(1)  # leverages
        cov = bread @ (X.T * (e ** 2 / (1 - h) ** 2)) @ X @ bread
        se = math.sqrt(cov[1, 1]) if cov[1, 1] >= 0 else math.nan
        t = beta[1] / se
        tss = ((y - y.mean()) ** 2).sum()  # numpy floats: a constant y gives NaN, as statsmodels does
        r2 = 1 - (e @ e) / tss
        _, e0, _ = _ols(X[:, [0, 2]], y)
        delta_r2 = r2 - (1 - (e0 @ e0) / tss)
    return {"ols_slope": float(beta[1]), "ols_se_hc3": float(se), "ols_p_hc3": float(2 * stats.t.sf(abs(t), len(y) - 3)),
            "ols_r2": float(r2), "ols_delta_r2": float(delta_r2)}


def leave_one_out_spearman(x, y) -> np.ndarray:
    """Spearman's rho without each language in turn (scipy's average ranks, then Pearson), all at once."""
    n = len(x)
    keep = ~np.eye(n, dtype=bool)
    rows = np.broadcast_to(np.arange(n), (n, n))[keep].reshape(n, n - 1)
    return spearman_stat(np.asarray(x, float)[rows], np.asarray(y, float)[rows])


def _loo(x, y, rho: float, langs) -> tuple[float, str]:
    """(largest change of rho when one language is left out, that language): scipy.stats.spearmanr's values.

    The n leave-one-out rhos are computed at once (leave_one_out_spearman); the change reported is spearmanr's for
    the language found. Where two languages change rho by the same amount (to 1e-12: |+0.1| and |-0.1| at n = 5),
    which one spearmanr's rounding names first decides, so then those languages are recomputed by spearmanr (the
    others are below them by more than any rounding)."""
    delta = np.abs(leave_one_out_spearman(x, y) - rho)
    top = np.flatnonzero(delta >= np.nanmax(delta) - 1e-12)
    if len(top) > 1:
        tied = [abs(stats.spearmanr(np.delete(x, i), np.delete(y, i)).statistic - rho) for i in top]
        top = top[[int(np.nanargmax(tied))]]
    k = int(top[0])
    return float(stats.spearmanr(np.delete(x, k), np.delete(y, k)).statistic - rho), langs[k]


def measure_association(x, y, log_size, langs, n_resamples: int, seed) -> dict:
    """All statistics for one (distance x, dependent variable y) pair over languages. x, y, log_size: (n,)."""
    x, y, log_size = (np.asarray(a, float) for a in (x, y, log_size))
    if not len(x) == len(y) == len(log_size) == len(langs):
        raise ValueError(f"measure_association: x, y, log_size and langs differ in length "
                         f"({len(x)}, {len(y)}, {len(log_size)}, {len(langs)})")
    for name, a in (("x (distance)", x), ("y (dependent variable)", y)):
        bad = ~np.isfinite(a)
        if bad.any():  # log_size may be NaN (no size known): those languages only leave the size adjustment
            raise ValueError(f"measure_association: {name} is not finite for {', '.join(map(str, np.asarray(langs)[bad]))}"
                             "; leave those languages out before testing")
    out = {"n": len(x)}
    if len(x) < MIN_N:
        out["note"] = f"n = {len(x)} < {MIN_N}: no coefficient (too few languages)"
        return out
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        out["note"] = "constant distance or dependent variable: no coefficient"
        return out
    rng_perm, rng_partial, rng_fl = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    out["pearson_r"] = float(stats.pearsonr(x, y).statistic)
    out["spearman_rho"] = float(stats.spearmanr(x, y).statistic)
    out["kendall_tau"] = float(stats.kendalltau(x, y).statistic)
    p = correlation_permutation_p(x, y, n_resamples, rng_perm)
    out["p_exact"] = is_exact(len(x), n_resamples)
    notes = []
    if len(x) < MIN_N_CI:
        notes.append(f"n = {len(x)} < {MIN_N_CI}: no interval (n too small)")
    for j, name in enumerate(("pearson", "spearman", "kendall")):
        out[f"p_{name}"] = float(p[j])
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = fisher_ci(out[COEFFICIENTS[name]], len(x), name)
    if len(x) >= MIN_N_CI and abs(out["spearman_rho"]) >= 1:
        notes.append("|rho| = 1: no interval (the Fisher-z interval is degenerate)")
    ts = stats.theilslopes(y, x, alpha=LEVEL)
    out["theil_sen_per_0.1"] = PER * float(ts.slope)
    small = len(x) < MIN_N_CI  # like the correlation intervals: none below n = 8
    out["theil_sen_low_per_0.1"] = math.nan if small else PER * float(ts.low_slope)
    out["theil_sen_high_per_0.1"] = math.nan if small else PER * float(ts.high_slope)
    out["loo_max_delta_rho"], out["loo_lang"] = _loo(x, y, out["spearman_rho"], langs)
    sized = ~np.isnan(log_size)
    out["n_sized"] = int(sized.sum())
    if out["n_sized"] < MIN_N:
        notes.append(f"only {out['n_sized']} languages with a pretraining size: no size adjustment")
        out["note"] = "; ".join(notes)
        return out
    xs, ys, zs = x[sized], y[sized], log_size[sized]
    ranks = np.column_stack([np.ones_like(xs), _rank(xs), _rank(zs)])
    raw = np.column_stack([np.ones_like(xs), xs, zs])
    if np.ptp(ys) == 0 or min(np.linalg.matrix_rank(ranks), np.linalg.matrix_rank(raw)) < 3:
        notes.append("distance and size are collinear (or constant) over the sized languages: no size adjustment")
        out["note"] = "; ".join(notes)
        return out
    out["partial_spearman"] = partial_spearman(xs, ys, zs)
    out["p_partial"] = freedman_lane_p(_rank(ys), _rank(xs), _rank(zs), n_resamples, rng_partial)
    X = np.column_stack([np.ones_like(xs), xs, zs])
    out["adj_slope_per_0.1"] = PER * float(np.linalg.lstsq(X, ys, rcond=None)[0][1])
    out["p_adj_slope_fl"] = freedman_lane_p(ys, xs, zs, n_resamples, rng_fl)
    if out["n_sized"] >= MIN_N_OLS:
        out.update(ols_hc3(xs, ys, zs))
    else:
        notes.append(f"{out['n_sized']} sized languages < {MIN_N_OLS}: no HC3 OLS (Freedman-Lane p only)")
    if notes:
        out["note"] = "; ".join(notes)
    return out


def _all_orders(n: int) -> np.ndarray:
    """All n! orders of range(n), one per row, built by inserting each next value at every position (numpy: 8 ms at
    n = 9, where a list of itertools.permutations takes 0.4 s)."""
    orders = np.zeros((1, 0), dtype=np.int8)
    for k in range(n):
        m = len(orders)
        out = np.empty((m * (k + 1), k + 1), dtype=np.int8)
        for pos in range(k + 1):  # value k at position pos of every order of range(k)
            block = out[pos * m:(pos + 1) * m]
            block[:, :pos], block[:, pos], block[:, pos + 1:] = orders[:, :pos], k, orders[:, pos:]
        orders = out
    return orders


@functools.lru_cache(maxsize=None)
def spearman_null(n: int) -> tuple[np.ndarray, bool]:
    """|rho| under the null for n untied ranks: all n! orders for n <= 9, else 200,000 seeded random orders."""
    base = np.arange(n, dtype=float)
    if n <= 9:
        perms = _all_orders(n).astype(float)  # every order once (not in itertools' order: only the values count)
        exact = True
    else:
        rng = np.random.default_rng(0)
        perms = rng.permuted(np.tile(base, (200_000, 1)), axis=1)
        exact = False
    d2 = ((perms - base) ** 2).sum(1)
    return np.abs(1 - 6 * d2 / (n * (n * n - 1))), exact


def small_n_row(n: int, n_resamples: int, alpha: float = 0.05) -> dict:
    """Smallest attainable two-sided p and critical |rho| at alpha for the test as run (untied ranks)."""
    null, exact_null = spearman_null(n)
    exact = is_exact(n, n_resamples)
    min_p = 2 / math.factorial(n) if exact else max(2 / math.factorial(n), 1 / (n_resamples + 1))
    values = np.sort(np.unique(np.round(null, 10)))
    ordered = np.sort(null)  # P(|rho*| >= v) for every v at once: the share of the null at or above v - 1e-9
    tail = (len(null) - np.searchsorted(ordered, values - 1e-9, side="left")) / len(null)
    ok = values[tail <= alpha]
    return {"n": n, "test": "exact" if exact else f"{n_resamples} random orders", "min_p": min_p,
            "critical_rho": float(ok.min()) if len(ok) else math.nan,
            "critical_from": "all n! orders" if exact_null else "200,000 random orders"}
