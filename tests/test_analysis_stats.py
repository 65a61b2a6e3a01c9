"""analysis/stats.py and analysis/models.py: every statistic against an independent computation.

Run: python -m pytest -q tests/test_analysis_stats.py
"""
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from analysis import models as M
from analysis import stats as S


@pytest.fixture
def vectors():
    rng = np.random.default_rng(3)
    x = np.round(rng.random(12), 1)  # ties, like URIEL distances
    y = x + rng.random(12)
    z = rng.random(12) * 3
    return x, y, z


def test_vectorized_kernels_equal_scipy(vectors):
    x, y, _ = vectors
    assert S.pearson_stat(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert S.spearman_stat(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert S.kendall_stat(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    batch = np.stack([y, y[::-1], np.round(y)])
    for i, b in enumerate(batch):
        assert S.kendall_stat(x, batch)[i] == pytest.approx(stats.kendalltau(x, b).statistic, abs=1e-12)


def kendall_tau_b(x, Y):
    """Kendall's tau-b of x with each row of Y by its definition, (C - D) / sqrt((n0 - n1) (n0 - n2)) over all pairs
    (the reference from n = 6, where scipy's kendalltau one order at a time takes seconds)."""
    i, j = np.triu_indices(len(x), 1)
    sx, sy = np.sign(x[i] - x[j]), np.sign(Y[:, i] - Y[:, j])
    return (sx * sy).sum(1) / np.sqrt((sx != 0).sum() * (sy != 0).sum(1))


@pytest.mark.parametrize("n", [5, 6, 7])
def test_permutation_p_is_exact_over_all_n_factorial_pairings(n):
    rng = np.random.default_rng(n)
    x = np.round(rng.random(n), 1)
    y = x + rng.normal(0, 0.3, n)
    got = S.correlation_permutation_p(x, y, 9999, np.random.default_rng(0))
    assert S.is_exact(n, 9999)
    orders = np.array(list(itertools.permutations(range(n))))
    assert len(orders) == math.factorial(n)
    Y, X = y[orders], np.broadcast_to(x, (len(orders), n))
    if n < 6:  # scipy one order at a time
        fns = (lambda a, b: stats.pearsonr(a, b).statistic, lambda a, b: stats.spearmanr(a, b).statistic,
               lambda a, b: stats.kendalltau(a, b).statistic)
        nulls = [np.array([abs(f(x, b)) for b in Y]) for f in fns]
    else:  # scipy's pearsonr along an axis; Spearman = Pearson of average ranks; tau-b by its definition
        nulls = [np.abs(stats.pearsonr(X, Y, axis=1).statistic),
                 np.abs(stats.pearsonr(stats.rankdata(X, axis=1), stats.rankdata(Y, axis=1), axis=1).statistic),
                 np.abs(kendall_tau_b(x, Y))]
        some = rng.choice(len(orders), 40, replace=False)
        np.testing.assert_allclose(nulls[1][some], [abs(stats.spearmanr(x, Y[k]).statistic) for k in some],
                                   atol=1e-12)
        np.testing.assert_allclose(nulls[2][some], [abs(stats.kendalltau(x, Y[k]).statistic) for k in some],
                                   atol=1e-12)
    for j, null in enumerate(nulls):
        expected = np.mean(null >= null[0] - 1e-12)  # two-sided: |coefficient| at least as large (order 0: observed)
        assert got[j] == pytest.approx(expected, abs=1e-12), (n, j)


def test_permutation_p_with_sampling_is_count_plus_one_over_resamples_plus_one():
    rng = np.random.default_rng(0)
    x, y = rng.random(9), rng.random(9)
    p = S.correlation_permutation_p(x, y, 999, np.random.default_rng(1))
    assert not S.is_exact(9, 999)
    assert np.all(p * 1000 == np.round(p * 1000)) and np.all(p >= 1 / 1000)


@pytest.mark.parametrize("n, min_p, critical", [(5, 1 / 60, 1.0), (6, 2 / 720, 0.886), (7, 2 / 5040, 0.786)])
def test_smallest_p_and_critical_rho_per_n(n, min_p, critical):
    row = S.small_n_row(n, 9999)
    assert row["min_p"] == pytest.approx(min_p) and row["test"] == "exact"
    assert row["critical_rho"] == pytest.approx(critical, abs=5e-4)
    # the critical value is attainable at p <= 0.05 and the next lower |rho| is not (all n! orders, by hand)
    base = np.arange(n)
    orders = np.array(list(itertools.permutations(base)))  # untied ranks: Spearman's rho is Pearson's r of them
    assert sorted(map(tuple, S._all_orders(n).tolist())) == list(map(tuple, orders.tolist()))  # the null's orders
    null = np.abs(stats.pearsonr(np.broadcast_to(base, orders.shape), orders, axis=1).statistic)
    assert null[-1] == pytest.approx(abs(stats.spearmanr(base, orders[-1]).statistic)) == 1.0
    assert np.mean(null >= row["critical_rho"] - 1e-9) <= 0.05
    below = null[null < row["critical_rho"] - 1e-9].max()
    assert np.mean(null >= below - 1e-9) > 0.05


def test_monte_carlo_p_floor_is_reported_when_not_exact():
    assert S.small_n_row(8, 9999)["min_p"] == pytest.approx(1 / 10000)
    assert S.small_n_row(8, 99999)["test"] == "exact" and S.small_n_row(8, 99999)["min_p"] == pytest.approx(2 / 40320)


def test_fisher_bonett_wright_interval_by_formula():
    rho, n = 0.93, 14
    se = math.sqrt((1 + rho ** 2 / 2) / (n - 3))
    z = math.atanh(rho)
    q = stats.norm.ppf(0.975)
    assert S.fisher_ci(rho, n) == pytest.approx((math.tanh(z - q * se), math.tanh(z + q * se)), abs=1e-12)
    assert S.fisher_ci(rho, n) == pytest.approx((0.740, 0.983), abs=1e-3)  # the issue's [0.73, 0.98]
    r_lo, r_hi = S.fisher_ci(0.5, 20, "pearson")
    assert (r_lo, r_hi) == pytest.approx((math.tanh(math.atanh(0.5) - q / math.sqrt(17)),
                                          math.tanh(math.atanh(0.5) + q / math.sqrt(17))), abs=1e-12)
    assert all(math.isnan(v) for v in S.fisher_ci(0.9, 7))  # n too small


def test_ols_hc3_uses_a_t_reference(vectors):
    x, y, z = vectors
    res = S.ols_hc3(x, y, z)
    X = np.column_stack([np.ones_like(x), x, z])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    hc3 = bread @ (X.T * (e ** 2 / (1 - h) ** 2)) @ X @ bread
    t = beta[1] / math.sqrt(hc3[1, 1])
    assert res["ols_slope"] == pytest.approx(beta[1], abs=1e-10)
    assert res["ols_se_hc3"] == pytest.approx(math.sqrt(hc3[1, 1]), abs=1e-10)
    assert res["ols_p_hc3"] == pytest.approx(2 * stats.t.sf(abs(t), len(x) - 3), abs=1e-10)  # t, not normal
    assert res["ols_p_hc3"] > 2 * stats.norm.sf(abs(t))
    fit = sm.OLS(y, X).fit(cov_type="HC3", use_t=True)  # the reference: every value as statsmodels gives it
    size_only = sm.OLS(y, X[:, [0, 2]]).fit()
    assert res["ols_p_hc3"] == pytest.approx(fit.pvalues[1], abs=1e-12)
    assert (res["ols_slope"], res["ols_se_hc3"]) == pytest.approx((fit.params[1], fit.bse[1]), rel=1e-10)
    assert res["ols_r2"] == pytest.approx(fit.rsquared, rel=1e-10)
    assert res["ols_delta_r2"] == pytest.approx(fit.rsquared - size_only.rsquared, rel=1e-9)


def test_no_ols_below_ten_languages_but_freedman_lane(vectors):
    x, y, z = (v[:9] for v in vectors)
    res = S.measure_association(x, y, z, list("abcdefghi"), 199, 0)
    assert "ols_p_hc3" not in res and "p_adj_slope_fl" in res and "partial_spearman" in res
    assert "no HC3 OLS" in res["note"]
    res10 = S.measure_association(*(v[:10] for v in vectors), list("abcdefghij"), 199, 0)
    assert "ols_p_hc3" in res10


def test_no_interval_below_eight_languages():
    rng = np.random.default_rng(0)
    x = rng.random(7)
    res = S.measure_association(x, x + rng.random(7), rng.random(7), list("abcdefg"), 199, 0)
    assert math.isnan(res["spearman_ci_low"]) and math.isnan(res["theil_sen_low_per_0.1"])
    assert "n too small" in res["note"]


def test_freedman_lane_p_is_exact_over_all_residual_orders():
    rng = np.random.default_rng(5)
    n = 6
    x, z = rng.random(n), rng.random(n)
    y = x + 0.5 * z + rng.normal(0, 0.2, n)
    got = S.freedman_lane_p(y, x, z, 9999, np.random.default_rng(0))
    Z = sm.add_constant(z)
    reduced = sm.OLS(y, Z).fit()
    X = sm.add_constant(np.column_stack([x, z]))
    observed = abs(sm.OLS(y, X).fit().tvalues[1])
    null = [abs(sm.OLS(reduced.fittedvalues + reduced.resid[list(p)], X).fit().tvalues[1])
            for p in itertools.permutations(range(n))]
    assert got == pytest.approx(np.mean(np.array(null) >= observed * (1 - 1e-12)), abs=1e-12)


def test_partial_spearman_by_formula(vectors):
    x, y, z = vectors
    rho = stats.spearmanr(np.column_stack([x, y, z])).statistic
    expected = (rho[0, 1] - rho[0, 2] * rho[1, 2]) / math.sqrt((1 - rho[0, 2] ** 2) * (1 - rho[1, 2] ** 2))
    assert S.partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-12)


def test_theil_sen_per_tenth_and_loo(vectors):
    x, y, z = vectors
    res = S.measure_association(x, y, z, list("abcdefghijkl"), 199, 0)
    ts = stats.theilslopes(y, x)
    assert res["theil_sen_per_0.1"] == pytest.approx(0.1 * ts.slope)
    loo = [stats.spearmanr(np.delete(x, i), np.delete(y, i)).statistic - res["spearman_rho"] for i in range(12)]
    k = int(np.argmax(np.abs(loo)))
    assert res["loo_max_delta_rho"] == loo[k] and res["loo_lang"] == "abcdefghijkl"[k]
    np.testing.assert_allclose(S.leave_one_out_spearman(x, y) - res["spearman_rho"], loo, atol=1e-12)


def test_loo_ties_are_broken_as_spearmanr_breaks_them():
    """n = 5: leaving out a, d or e changes rho by -0.1, b or c by +0.1; the one named is the one spearmanr's values
    name (the first of its largest)."""
    x, y = np.arange(5.0), np.array([0.0, 2.0, 1.0, 3.0, 4.0])
    rho = stats.spearmanr(x, y).statistic
    loo = np.array([stats.spearmanr(np.delete(x, i), np.delete(y, i)).statistic for i in range(5)]) - rho
    k = int(np.nanargmax(np.abs(loo)))
    assert np.sum(np.isclose(np.abs(loo), abs(loo[k]), atol=1e-12)) > 1  # a tie
    got = S.measure_association(x, y, np.ones(5), list("abcde"), 99, 0)
    assert (got["loo_max_delta_rho"], got["loo_lang"]) == (loo[k], "abcde"[k])


def test_fewer_than_five_languages_get_no_coefficient_and_a_reason():
    res = S.measure_association(np.arange(4.0), np.arange(4.0), np.ones(4), list("abcd"), 199, 0)
    assert res == {"n": 4, "note": "n = 4 < 5: no coefficient (too few languages)"}


# ---------------------------------------------------------------------------------------------- pooled models
def pooled_data(n_langs=12, tasks=("a", "b", "c"), seed=0, slope=20.0):
    rng = np.random.default_rng(seed)
    dist = dict(zip([f"l{i}" for i in range(n_langs)], np.round(rng.random(n_langs), 2)))
    u = {lang: rng.normal(0, 2) for lang in dist}
    rows = [{"lang": lang, "task": t, "abs_drop": 5 + 2 * k + slope * d + u[lang] + rng.normal(0, 1),
             "distance": d} for k, t in enumerate(tasks) for lang, d in dist.items()]
    return pd.DataFrame(rows)


def test_pooled_mixed_model_equals_statsmodels_fitted_directly():
    data = pooled_data()
    res = M.mixed_effect(data, "abs_drop", "C(task)", n_resamples=199, seed=0)
    fit = smf.mixedlm("abs_drop ~ C(task) + distance", data, groups=data["lang"]).fit(reml=True, method=res["method"])
    assert res["coef_per_0.1"] == pytest.approx(0.1 * fit.params["distance"], rel=1e-6)
    assert res["se_per_0.1"] == pytest.approx(0.1 * fit.bse["distance"], rel=1e-5)
    assert res["p_wald"] == pytest.approx(fit.pvalues["distance"], rel=1e-4, abs=1e-12)
    assert res["lang_var"] == pytest.approx(float(fit.cov_re.iloc[0, 0]), rel=1e-4)
    q = stats.t.ppf(0.975, 12 - 2)
    assert res["ci_low_per_0.1"] == pytest.approx(0.1 * (fit.params["distance"] - q * fit.bse["distance"]), rel=1e-5)
    assert res["converged"] is True


def test_fits_are_reused_only_for_the_same_values_of_the_columns_they_read():
    data = pooled_data(n_langs=8, seed=4)
    fit, method, _ = M.fit_mixedlm("abs_drop ~ C(task)", data)
    direct = smf.mixedlm("abs_drop ~ C(task)", data, groups=data["lang"]).fit(reml=True, method=method)
    np.testing.assert_allclose(fit.params, direct.params, rtol=1e-12)
    other_distance = data.assign(distance=data["distance"] + 1, unused="x")  # columns the formula does not read
    assert M.fit_mixedlm("abs_drop ~ C(task)", other_distance)[0] is fit
    assert M.fit_mixedlm("abs_drop ~ C(task) + distance", data)[0] is not fit
    shifted = data.assign(abs_drop=data["abs_drop"] + np.arange(len(data)) * 1e-3)
    assert M.fit_mixedlm("abs_drop ~ C(task)", shifted)[0].params["Intercept"] != fit.params["Intercept"]
    reordered = data.iloc[::-1].reset_index(drop=True)  # rows in another order: the design follows the data given
    again = M.fit_mixedlm("abs_drop ~ C(task)", reordered)[0]
    exog = pd.DataFrame(np.asarray(again.model.exog), columns=again.model.exog_names)
    assert again is not fit and (exog["C(task)[T.b]"] == (reordered["task"] == "b")).all()
    assert again.params.to_numpy() == pytest.approx(fit.params.to_numpy(), rel=1e-5)


def test_language_permutation_p_equals_gls_refits_over_the_same_permutations():
    data = pooled_data(n_langs=8, seed=1, slope=5.0)
    res = M.mixed_effect(data, "abs_drop", "C(task)", n_resamples=99, seed=7)
    null = smf.mixedlm("abs_drop ~ C(task)", data, groups=data["lang"]).fit(reml=True, method=res["method"])
    lang = data["lang"].to_numpy()
    V = null.scale * np.eye(len(data)) + float(null.cov_re.iloc[0, 0]) * (lang[:, None] == lang[None, :])
    langs = np.unique(lang)
    per_lang = data.groupby("lang")["distance"].first().reindex(langs).to_numpy()
    perms, exact = M.language_permutations(len(langs), 99, np.random.default_rng(7))
    assert not exact and perms.shape == (99, 8)
    A = pd.get_dummies(data["task"], drop_first=True, dtype=float).assign(const=1.0).to_numpy()

    def z(dvals):
        col = pd.Series(dvals, index=langs).reindex(lang).to_numpy()
        fit = sm.GLS(data["abs_drop"].to_numpy(), np.column_stack([A, col]), sigma=V).fit()
        return fit.params[-1] / math.sqrt(fit.normalized_cov_params[-1, -1])  # known V: no scale estimate

    observed = z(per_lang)
    hits = sum(abs(z(per_lang[p])) >= abs(observed) * (1 - 1e-9) for p in perms)
    assert res["z_gls"] == pytest.approx(observed, rel=1e-6)
    assert res["p_perm"] == pytest.approx((hits + 1) / 100, abs=1e-12) and res["p_exact"] is False


def test_language_permutation_is_exact_for_few_languages():
    perms, exact = M.language_permutations(5, 999, np.random.default_rng(0))
    assert exact and len(perms) == 120 and len({tuple(p) for p in perms}) == 120
    data = pooled_data(n_langs=5, seed=2)
    res = M.mixed_effect(data, "abs_drop", "C(task)", n_resamples=999, seed=0)
    assert res["p_exact"] and res["n_perm"] == 120 and res["p_perm"] >= 1 / 120


def test_non_convergence_and_boundary_are_flagged():
    data = pooled_data(seed=3)
    data["abs_drop"] = data["task"].map({"a": 1.0, "b": 2.0, "c": 3.0}) + 0.001 * data["distance"]  # no variance
    res = M.mixed_effect(data, "abs_drop", "C(task)", n_resamples=99, seed=0)
    assert isinstance(res.get("note"), str) and ("boundary" in res["note"] or "converge" in res["note"]
                                                 or "MixedLM failed" in res["note"])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")  # boundary fits
def test_after_intermediate_model_equals_statsmodels_with_the_cell_component():
    from analysis import simulate as sim
    from analysis.scores import seed_effects
    from data.tasks import TASKS

    langs = [lang for lang in TASKS["xnli"].langs if lang != "en"][:9]
    design = sim.Design(distances=dict(zip(langs, np.linspace(0.3, 0.7, 9))), n_seeds=3,
                        tasks={"xnli": tuple(langs), "xquad": tuple(x for x in TASKS["xquad"].langs if x in langs)})
    frame = sim.simulate_results(design, np.random.default_rng(4))
    res = sim.analyse(frame, design, 99).iloc[0]
    e = seed_effects(frame.assign(value=frame["value"].astype(float)))
    e = e.assign(distance=e["lang"].map(design.distances), target=e["target_task"] + "/" + e["split"])
    assert res["n_obs"] == len(e) == 3 * (9 + 6) and res["n_seeds"] == 3
    fit = smf.mixedlm("effect ~ C(target) + distance", e, groups=e["lang"], re_formula="1",
                      vc_formula={"cell": "0 + C(target)"}).fit(reml=True, method=res["method"])
    assert res["coef_per_0.1"] == pytest.approx(0.1 * fit.params["distance"], rel=1e-4)
    assert res["se_per_0.1"] == pytest.approx(0.1 * fit.bse["distance"], rel=1e-3)
    assert res["cell_var"] == pytest.approx(float(np.asarray(fit.vcomp)[0]), rel=1e-3, abs=1e-6)


def test_distance_and_size_with_the_same_ranks_give_no_size_adjustment_and_a_reason():
    # mBERT's MLQA: six languages whose syntactic distance and Wikipedia size rank identically (reversed)
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    size = np.log([946e6, 689e6, 269e6, 180e6, 169e6, 44e6])
    out = S.measure_association(x, np.array([3.0, 5.0, 4.0, 9.0, 8.0, 12.0]), size, list("abcdef"), 99, 0)
    assert np.isfinite(out["spearman_rho"]) and "partial_spearman" not in out
    assert "distance and size are collinear" in out["note"]


# ------------------------------------------------------------------ issue 22 item 9: boundaries and degenerate cases
def test_perfect_rank_correlation_at_n_8_or_more_gives_no_interval():
    x = np.linspace(0.3, 0.7, 9)
    res = S.measure_association(x, 10 * x, np.log(np.arange(1, 10)), [f"l{i}" for i in range(9)], 99, 0)
    assert res["spearman_rho"] == pytest.approx(1.0)
    assert math.isnan(res["spearman_ci_low"]) and math.isnan(res["spearman_ci_high"])  # was [1.00, 1.00]
    assert "|rho| = 1: no interval" in res["note"]
    assert all(math.isnan(v) for v in S.fisher_ci(-1.0, 20))
    from analysis.report import _ci
    assert _ci(1.0, math.nan, math.nan, n=9) == "1.00 [no interval]" and _ci(0.9, math.nan, math.nan, n=6).endswith(
        "[n too small]")


@pytest.mark.parametrize("which", ["x", "y"])
def test_measure_association_refuses_nan_input_naming_the_language(which):
    x, y = np.linspace(0.3, 0.7, 8), np.arange(8.0)
    (x if which == "x" else y)[3] = np.nan
    with pytest.raises(ValueError, match=r"measure_association: " + which + r" .*not finite for l3;"):
        S.measure_association(x, y, np.zeros(8), [f"l{i}" for i in range(8)], 99, 0)


@pytest.mark.parametrize("column", ["abs_drop", "distance"])
def test_mixed_effect_refuses_nan_input_naming_the_language(column):
    data = pd.DataFrame({"lang": np.repeat(list("abcdef"), 2), "task": ["t1", "t2"] * 6,
                         "abs_drop": np.arange(12.0), "distance": np.repeat(np.linspace(0.3, 0.6, 6), 2)})
    data.loc[4, column] = np.nan  # language c
    with pytest.raises(ValueError, match=rf"mixed_effect: {column} is missing or not finite for c;"):
        M.mixed_effect(data, "abs_drop", "C(task)")


def test_wikipedia_sizes_header_says_what_the_uncompressed_column_counts():
    """The source's wiki/README.md: 'the size of the processed tokenized text file called `*.all`'."""
    from analysis.covariates import WIKIPEDIA_SIZES

    header = "".join(line for line in WIKIPEDIA_SIZES.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert "that file uncompressed" not in header
    assert "the size of the processed tokenized text file called" in header and "`*.all`" in header


@pytest.mark.slow
def test_selection_adjusted_p_equals_max_z_over_a_joint_permutation_computed_directly():
    """analysis/run.py selection_adjusted_p against GLS fits (statsmodels) over all 5! joint language orders."""
    from analysis import run as R

    rng = np.random.default_rng(5)
    langs = list("abcde")
    dist = pd.DataFrame({"lang": langs, **{p: rng.random(5) for p in R.PREDICTORS}})
    dist["phonological"] = [np.nan, *rng.random(4)]  # not defined for every language: not a candidate
    rows = [{"model": "m", "intermediate_task": "none", "target_task": t, "split": "test", "lang": lang,
             "abs_drop": 30 * dist.loc[i, "syntactic"] + rng.normal(0, 2) + (3 if t == "xnli" else 0)}
            for t in ("xnli", "pawsx") for i, lang in enumerate(langs)]
    drops = pd.DataFrame(rows)
    got = R.selection_adjusted_p(drops, dist, "m", 9999, 0)
    cands = [p for p in R.PREDICTORS if p != "phonological"]
    assert got["candidates"] == cands and got["not_candidates"] == ["phonological"]
    data = M.drop_pool(drops, dist, "m", ["xnli", "pawsx"], "syntactic")
    null = smf.mixedlm("abs_drop ~ C(task)", data, groups=data["lang"]).fit(reml=True)
    V = M.covariance(null, data)
    A = np.asarray(null.model.exog)
    d = dist.set_index("lang")

    def z(order, p):
        x = d.loc[[langs[k] for k in order], p].to_numpy()[[langs.index(lang) for lang in data["lang"]]]
        return abs(sm.GLS(data["abs_drop"].to_numpy(), np.column_stack([A, x]), sigma=V).fit().tvalues[-1])

    observed = z(range(5), "syntactic")
    hits = sum(max(z(order, p) for p in cands) >= observed * (1 - 1e-9) for order in itertools.permutations(range(5)))
    assert got["p_selection"] == pytest.approx(hits / 120)
    single = M.pooled_drop_model(drops, dist, "m", ["xnli", "pawsx"], "syntactic", n_resamples=9999)["p_perm"]
    assert got["p_selection"] >= single
