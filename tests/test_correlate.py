"""correlate.py: the analysis, its statistics (parity with scipy/statsmodels), outputs and bad-input messages.

Run: python -m pytest -q tests/test_correlate.py
"""
import csv
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests

import correlate as c
from data.results import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "correlate"
N_RESAMPLES = 199  # tests only; the default run uses 9,999


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One distance cache for the session (shared with test_distances.py: computing distances costs seconds)."""
    return tmp_path_factory.getbasetemp() / "uriel_cache"


@pytest.fixture(scope="module")
def default_run(cache_dir, tmp_path_factory):
    """`python correlate.py` on the shipped published results, in a temporary output folder."""
    out = tmp_path_factory.mktemp("correlation")
    r = subprocess.run([sys.executable, "correlate.py", "--out", str(out), "--cache-dir", str(cache_dir),
                        "--n-resamples", str(N_RESAMPLES)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out, r


# ------------------------------------------------------------------------------------------------ the default run
def test_default_run_writes_report_csvs_and_plots(default_run):
    out, r = default_run
    assert "tests (" in r.stdout and r.stderr == ""
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "correlations.csv", "drops.csv", "distances.csv", "mixed_models.csv",
            "distance_collinearity.png"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary files left
    report = (out / "report.md").read_text()
    assert "**These are baselines only (intermediate_task = none).**" in report
    assert "comes from your own runs" in report
    for section in ("## The answer", "## Distances", "## Languages left out", "## Across tasks: mixed model"):
        assert section in report
    corr = pd.read_csv(out / "correlations.csv")
    assert set(corr["distance"]) == set(c.DISTANCES)
    assert corr.loc[corr["n"] < 5, "spearman_rho"].isna().all() and corr.loc[corr["n"] >= 5, "spearman_rho"].notna().any()


def test_default_run_resolves_disputed_cells_by_source_and_reports_them(default_run):
    out, _ = default_run
    drops = pd.read_csv(out / "drops.csv")
    mlqa = drops[(drops["model"] == "XLM-R Large") & (drops["target_task"] == "mlqa")].set_index("lang")
    assert mlqa.loc["hi", "score"] == 69.2 and mlqa.loc["hi", "score_en"] == 80.6  # fairseq, not ERNIE / MuRIL
    assert mlqa.loc["hi", "source"].startswith("facebookresearch/fairseq")
    report = (out / "report.md").read_text()
    assert "| XLM-R Large none mlqa test f1 hi | 69.2 (facebookresearch/fairseq" in report
    assert "| 62.9 (PaddlePaddle/ERNIE" in report and "| 70.6 (tensorflow/tfhub.dev" in report


def test_default_run_lists_left_out_languages(default_run):
    out, _ = default_run
    report = (out / "report.md").read_text()
    assert "| XLM-R Large | none | xquad | test | ro | not an XTREME xquad language |" in report
    assert "- phonological: af, et," in report  # no shared URIEL feature: listed, not silently dropped
    assert "n = 2 < 5: no coefficient (too few languages)" in report  # TyDiQA: bn, te only
    dist = pd.read_csv(out / "distances.csv").set_index("lang")
    assert "known typological features" in dist.loc["kk", "thin_coverage"]


def test_plots_are_real_images(default_run):
    out, _ = default_run
    pngs = sorted(out.glob("*.png"))
    assert any(p.name.startswith("scatter_") for p in pngs) and any(p.name.startswith("heatmap_rho_") for p in pngs)
    for p in pngs:
        img = mpimg.imread(p)  # (H, W, 4) floats in [0, 1]
        assert img.ndim == 3 and img.shape[0] >= 200 and img.shape[1] >= 300, (p.name, img.shape)
        flat = img[..., :3].reshape(-1, 3)
        assert flat.std() > 0.05 and len(np.unique(flat[::7], axis=0)) > 20, f"{p.name} looks blank"


# ------------------------------------------------------------------------------------- statistics against scipy
@pytest.fixture
def vectors():
    rng = np.random.default_rng(3)
    x = np.round(rng.random(9), 1)  # ties, like URIEL distances
    y = x + rng.random(9)
    log_size = rng.random(9) * 3
    return x, y, log_size


def test_vectorized_kernels_equal_scipy(vectors):
    x, y, _ = vectors
    assert c.pearson_stat(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert c.spearman_stat(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert c.kendall_stat(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    batch_x = np.stack([x, x[::-1], np.round(y)])  # (3, 9), one row with many ties
    got = c.correlation_stats(batch_x, np.stack([y, y, y]), axis=-1)  # (3, 3): rows x (r, rho, tau)
    for i, bx in enumerate(batch_x):
        np.testing.assert_allclose(got[i], [stats.pearsonr(bx, y).statistic, stats.spearmanr(bx, y).statistic,
                                            stats.kendalltau(bx, y).statistic], atol=1e-12)


def test_permutation_p_and_bca_ci_equal_scipy_with_scipy_statistics(vectors):
    x, y, z = vectors
    res = c.measure_association(x, y, z, list("abcdefghi"), N_RESAMPLES, [0, 1, 2])
    perm_ss, boot_ss, _ = np.random.SeedSequence([0, 1, 2]).spawn(3)  # the streams measure_association uses
    for name, f in (("pearson", lambda a, b: stats.pearsonr(a, b).statistic),
                    ("spearman", lambda a, b: stats.spearmanr(a, b).statistic),
                    ("kendall", lambda a, b: stats.kendalltau(a, b).statistic)):
        p = stats.permutation_test((x, y), f, permutation_type="pairings", vectorized=False,
                                   n_resamples=N_RESAMPLES, rng=np.random.default_rng(perm_ss)).pvalue
        ci = stats.bootstrap((x, y), f, paired=True, vectorized=False, n_resamples=N_RESAMPLES, method="BCa",
                             rng=np.random.default_rng(boot_ss)).confidence_interval
        assert res[f"p_{name}"] == pytest.approx(p, abs=1e-12)
        assert (res[f"{name}_ci_low"], res[f"{name}_ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert res["spearman_rho"] == stats.spearmanr(x, y).statistic
    assert res["pearson_r"] == stats.pearsonr(x, y).statistic
    assert res["kendall_tau"] == stats.kendalltau(x, y).statistic


def test_partial_spearman_ols_hc3_and_loo_equal_reference_formulas(vectors):
    x, y, z = vectors
    res = c.measure_association(x, y, z, list("abcdefghi"), N_RESAMPLES, 0)
    rho = stats.spearmanr(np.column_stack([x, y, z])).statistic  # (3, 3)
    partial = (rho[0, 1] - rho[0, 2] * rho[1, 2]) / np.sqrt((1 - rho[0, 2] ** 2) * (1 - rho[1, 2] ** 2))
    assert res["partial_spearman"] == pytest.approx(partial, abs=1e-12)
    X = np.column_stack([np.ones_like(x), x, z])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, bread, X)  # leverages
    hc3 = bread @ (X.T * (e ** 2 / (1 - h) ** 2)) @ X @ bread
    assert res["ols_slope"] == pytest.approx(beta[1], abs=1e-10)
    assert res["ols_se_hc3"] == pytest.approx(np.sqrt(hc3[1, 1]), abs=1e-10)
    r2_size = sm.OLS(y, sm.add_constant(z)).fit().rsquared
    r2_full = 1 - (e ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert res["ols_delta_r2"] == pytest.approx(r2_full - r2_size, abs=1e-12)
    loo = [stats.spearmanr(np.delete(x, i), np.delete(y, i)).statistic - res["spearman_rho"] for i in range(9)]
    k = int(np.argmax(np.abs(loo)))
    assert res["loo_max_delta_rho"] == pytest.approx(loo[k]) and res["loo_lang"] == "abcdefghi"[k]


def test_fewer_than_five_languages_get_no_coefficient_and_a_reason():
    res = c.measure_association(np.arange(4.0), np.arange(4.0), np.ones(4), list("abcd"), N_RESAMPLES, 0)
    assert res == {"n": 4, "note": "n = 4 < 5: no coefficient (too few languages)"}


def test_missing_size_is_not_imputed(vectors):
    x, y, z = vectors
    z = z.copy()
    z[:5] = np.nan  # 4 languages with a size left
    res = c.measure_association(x, y, z, list("abcdefghi"), N_RESAMPLES, 0)
    assert res["n"] == 9 and res["n_sized"] == 4 and "partial_spearman" not in res and "ols_slope" not in res
    assert "only 4 languages with a CC-100 size" in res["note"]


# --------------------------------------------------------------------------- the intermediate-task path (synthetic)
@pytest.fixture(scope="module")
def intermediate_run(cache_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("intermediate")
    return out, c.run([FIXTURES / "intermediate.csv"], out, n_resamples=N_RESAMPLES, cache_dir=cache_dir,
                      plots=False)


def test_intermediate_rows_give_effect_and_drop_change(intermediate_run):
    _, ctx = intermediate_run
    d = ctx["drops"]
    after = d[(d["intermediate_task"] == "mnli") & (d["target_task"] == "xnli")].set_index("lang")
    # seeds 1 and 2 are +-0.2 around the base value: their mean is the value itself
    assert after.loc["sw", "score"] == pytest.approx(64.5 + 3.5) and after.loc["sw", "n_seeds"] == 2
    assert after.loc["sw", "effect"] == pytest.approx(3.5)
    assert after.loc["sw", "drop_change"] == pytest.approx((85.5 - 68.0) - (85.0 - 64.5))
    tat = d[(d["intermediate_task"] == "mnli") & (d["target_task"] == "tatoeba")]
    gain = {"de": 1.0, "fr": 0.8, "es": 1.1, "ru": 1.6, "zh": 2.2, "ar": 2.4, "hi": 2.9, "tr": 2.0}  # fixture's
    np.testing.assert_allclose(tat["effect"], [1.5 * gain[lang] for lang in tat["lang"]])
    assert tat["drop_change"].isna().all() and tat["abs_drop"].isna().all()  # retrieval: no English side
    corr = ctx["corr"]
    dvs = set(corr.loc[corr["intermediate_task"] == "mnli", "dv"])
    assert dvs == {"abs_drop", "rel_drop", "effect", "drop_change", "score"}
    eff = corr[(corr["dv"] == "effect") & (corr["target_task"] == "xnli") & (corr["distance"] == "syntactic")].iloc[0]
    dist = ctx["dist"].set_index("lang")
    after = after.loc[after.index.intersection(dist.index[dist["syntactic"].notna()])]
    assert eff["spearman_rho"] == pytest.approx(stats.spearmanr(dist.loc[after.index, "syntactic"],
                                                                after["effect"]).statistic)


def test_intermediate_report_is_not_called_baseline_only(intermediate_run):
    out, _ = intermediate_run
    report = (out / "report.md").read_text()
    assert "baselines only" not in report and "## xlmr-tiny | intermediate: mnli | effect" in report


def test_rel_drop_statistics_equal_abs_drop_and_those_of_a_direct_run(intermediate_run):
    _, ctx = intermediate_run
    corr = ctx["corr"]
    key = (corr["intermediate_task"] == "none") & (corr["target_task"] == "xnli") & (corr["distance"] == "featural")
    a, r = corr[key & (corr["dv"] == "abs_drop")].iloc[0], corr[key & (corr["dv"] == "rel_drop")].iloc[0]
    for col in ("spearman_rho", "p_spearman", "spearman_ci_low", "pearson_r", "kendall_tau", "partial_spearman"):
        assert a[col] == r[col]
    d = ctx["drops"]
    base = d[(d["intermediate_task"] == "none") & (d["target_task"] == "xnli")]
    dist = ctx["dist"].set_index("lang").loc[base["lang"], "featural"].to_numpy()
    size = np.log(base["lang"].map(c.CC100_GIB).to_numpy(float))
    direct = c.measure_association(dist, base["rel_drop"].to_numpy(), size, list(base["lang"]), N_RESAMPLES,
                                [0, 0, c.DISTANCES.index("featural")])
    assert direct["spearman_rho"] == pytest.approx(r["spearman_rho"])
    assert direct["p_spearman"] == r["p_spearman"] and direct["ols_slope"] == pytest.approx(r["ols_slope"])


def test_multiple_testing_adjustment_equals_scipy_and_statsmodels(intermediate_run):
    _, ctx = intermediate_run
    corr = ctx["corr"]
    fam = corr[(corr["model"] == "xlmr-tiny") & (corr["intermediate_task"] == "mnli") & (corr["dv"] == "effect")]
    fam = fam[fam["p_spearman"].notna()]
    assert len(fam) >= 12  # xnli and tatoeba x distances
    np.testing.assert_allclose(fam["p_spearman_bh"], stats.false_discovery_control(fam["p_spearman"].to_numpy()))
    np.testing.assert_allclose(fam["p_spearman_holm"], multipletests(fam["p_spearman"].to_numpy(), method="holm")[1])


def test_mixed_model_equals_statsmodels_mixedlm(intermediate_run):
    _, ctx = intermediate_run
    d, dist = ctx["drops"], ctx["dist"].set_index("lang")
    mixed = ctx["mixed"]
    row = mixed[(mixed["intermediate_task"] == "mnli") & (mixed["dv"] == "effect") &
                (mixed["distance"] == "geographic")].iloc[0]
    g = d[d["intermediate_task"] == "mnli"].copy()
    g["z"] = g.groupby("target_task")["effect"].transform(lambda v: (v - v.mean()) / v.std())
    g = g[g.groupby("target_task")["effect"].transform("std") > 0]  # tatoeba's effect is constant: left out
    g["task"] = g["target_task"] + "/" + g["split"]
    g["distance"] = dist.loc[g["lang"], "geographic"].to_numpy()
    if g["task"].nunique() < 2:
        assert row["note"].startswith("fewer than 2 tasks")
        return
    fit = smf.mixedlm("z ~ distance + C(task)", g, groups=g["lang"]).fit(reml=True, method=row["method"])
    assert row["coef"] == pytest.approx(fit.params["distance"])


def test_mixed_model_on_two_baseline_tasks_equals_statsmodels(intermediate_run):
    _, ctx = intermediate_run
    d, dist, mixed = ctx["drops"], ctx["dist"].set_index("lang"), ctx["mixed"]
    # xnli abs_drop and tatoeba score are different dvs, so the baseline has no two-task model: none is fitted
    assert mixed[(mixed["intermediate_task"] == "none") & mixed["coef"].notna()].empty
    # build a second task from xnli to check the fit itself
    base = d[(d["intermediate_task"] == "none") & (d["target_task"] == "xnli")].copy()
    twin = base.assign(target_task="pawsx", split="dev", abs_drop=base["abs_drop"] ** 1.5)
    both = pd.concat([base, twin], ignore_index=True)
    got = c.mixed_models(both, ctx["dist"])
    row = got[(got["dv"] == "abs_drop") & (got["distance"] == "syntactic")].iloc[0]
    both["z"] = both.groupby("target_task")["abs_drop"].transform(lambda v: (v - v.mean()) / v.std())
    both["task"] = both["target_task"] + "/" + both["split"]
    both["distance"] = dist.loc[both["lang"], "syntactic"].to_numpy()
    assert row["method"] == "bfgs"
    fit = smf.mixedlm("z ~ distance + C(task)", both, groups=both["lang"]).fit(reml=True, method="bfgs")
    assert row["coef"] == pytest.approx(fit.params["distance"]) and row["p"] == pytest.approx(fit.pvalues["distance"])
    fam = got[(got["dv"] == "abs_drop") & got["p"].notna()]
    np.testing.assert_allclose(fam["p_bh"], stats.false_discovery_control(fam["p"].to_numpy()))


# ------------------------------------------------------------------------------------------------------ bad input
def write_results(path, rows, header=COLUMNS):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def good_rows():
    return [["m", "none", "xnli", "1", lang, "dev", "accuracy", v, "runs/a"]
            for lang, v in [("en", 85), ("de", 80), ("fr", 79), ("ru", 75), ("zh", 73), ("ar", 70)]]


@pytest.mark.parametrize("mutate, message", [
    (lambda rows: rows.__setitem__(2, [*rows[2][:4], "xx", *rows[2][5:]]),
     r"bad.csv:line 4: unknown language code 'xx'"),
    (lambda rows: rows.pop(0), r"bad.csv:line 2: no English score for model='m'.*target_task='xnli'"),
    (lambda rows: rows.__setitem__(1, [*rows[1][:7], "nan", "runs/a"]), r"bad.csv:line 3: value 'nan' is not a finite"),
    (lambda rows: rows.append([*rows[1][:7], 60, "runs/a"]), r"bad.csv:line 8: value 60.0 contradicts 80.0 .*line 3"),
    (lambda rows: rows.__setitem__(0, ["m", "none", "NLI", *rows[0][3:]]), r"bad.csv:line 2: unknown target_task 'NLI'"),
])
def test_bad_input_names_file_and_line(tmp_path, mutate, message):
    rows = good_rows()
    mutate(rows)
    path = write_results(tmp_path / "bad.csv", rows)
    with pytest.raises(SystemExit) as e:
        c.main([str(path), "--out", str(tmp_path / "out")])
    assert e.value.code.startswith("correlate.py: ")
    assert __import__("re").search(message, e.value.code), e.value.code
    assert not (tmp_path / "out").exists()


def test_wrong_schema_names_the_file(tmp_path):
    path = write_results(tmp_path / "bad.csv", [["m", "xnli", "de", "80"]], header=["model", "task", "lang", "score"])
    with pytest.raises(SystemExit, match=r"bad.csv:line 1: header 'model,task,lang,score' is not the results schema"):
        c.main([str(path), "--out", str(tmp_path / "out")])


def test_two_runs_disagreeing_on_a_seed_is_an_error(tmp_path):
    rows = good_rows() + [["m", "none", "xnli", "1", "de", "dev", "accuracy", 77, "runs/b"]]
    path = write_results(tmp_path / "bad.csv", rows)
    with pytest.raises(SystemExit, match=r"bad.csv:line 8: value 77.0 contradicts 80.0 .*seed '1'"):
        c.main([str(path), "--out", str(tmp_path / "out")])


def test_english_only_tasks_and_secondary_metrics_are_noted_not_errors(tmp_path, cache_dir):
    rows = good_rows() + [["m", "none", "mnli", "1", "en", "dev", "accuracy", 88.0, "runs/mnli"],
                          ["m", "none", "xnli", "1", "de", "dev", "accuracy_layer14", 70.0, "runs/a"]]
    path = write_results(tmp_path / "r.csv", rows)
    c.main([str(path), "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir), "--n-resamples", "99",
            "--no-plots"])
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Not analysed (English-only tasks, no zero-shot languages): mnli (1 rows)." in report
    assert "Not analysed (secondary metrics): xnli accuracy_layer14 (1 rows)." in report
    corr = pd.read_csv(tmp_path / "out" / "correlations.csv")
    assert set(corr["target_task"]) == {"xnli"} and (corr["n"] == 5).all()
