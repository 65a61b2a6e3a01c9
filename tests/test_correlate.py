"""correlate.py end to end: the report's first screen, its numbers against independent computations, the outputs,
the intermediate-task path and bad-input messages.

Run: python -m pytest -q tests/test_correlate.py
"""
import csv
import math
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

import correlate as c
from analysis import run as R
from analysis.covariates import log_pretraining_size
from analysis.stats import fisher_ci
from data.results import COLUMNS
from data.tasks import TASKS, target_tasks

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


def tables(markdown: str) -> list[str]:
    """The body rows of every markdown table, one string per table."""
    out, cur = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            out.append("\n".join(cur[2:]))
            cur = []
    return out


# ------------------------------------------------------------------------------------------------ the default run
@pytest.mark.slow
def test_report_opens_with_what_the_inputs_can_answer_then_the_primary_answer(default_run):
    out, r = default_run
    assert "tests (" in r.stdout and r.stderr == ""
    lines = [line for line in (out / "report.md").read_text().splitlines() if line]
    assert lines[0].startswith("# ")
    assert lines[1].startswith("**What these inputs can answer.** These are baseline results only")
    assert "needs your own runs" in lines[1]
    assert lines[2].startswith("**Primary test (chosen after an exploratory analysis of these numbers; fixed for new "
                               "runs): XLM-R Large, syntactic distance")
    assert re.search(r"the drop grows with distance: \+\d\.\d points per \+0\.1 syntactic distance \(95% CI \+\d\.\d "
                     r"to \+\d\.\d; language-level permutation p = 0\.0\d+", lines[2]), lines[2]
    assert lines[3] == "![summary](summary.png)"
    first_table = [line for line in lines[4:] if line.startswith("|")]
    body = first_table[2:first_table.index(next(x for x in first_table[2:] if "pooled (primary)" in x)) + 1]
    assert 5 <= len(body) <= 10  # about 8 rows: per task and pooled
    assert body[0].startswith("| XNLI (test) | parallel | 14 | 0.93 [0.73, 0.98] |")
    assert any("non-parallel" in row for row in body) and any("Tatoeba" in row for row in body)
    assert lines.index("## Appendix") < 32  # the first screen is short (XTREME + SIB-200 answers); the rest follows


@pytest.mark.slow
def test_report_has_no_duplicated_tables_and_no_post_hoc_strongest(default_run):
    out, _ = default_run
    report = (out / "report.md").read_text()
    bodies = [b for b in tables(report) if b]
    assert len(bodies) == len(set(bodies))
    assert "Strongest" not in report and "rel_drop |" not in report  # rel_drop is not tabled twice
    assert "per unit distance" not in report


@pytest.mark.slow
def test_primary_numbers_equal_independent_computations(default_run):
    out, _ = default_run
    drops = pd.read_csv(out / "drops.csv")
    dist = pd.read_csv(out / "distances.csv").set_index("lang")
    corr = pd.read_csv(out / "correlations.csv")
    xnli = drops[(drops["model"] == "XLM-R Large") & (drops["target_task"] == "xnli")]
    x = dist.loc[xnli["lang"], "syntactic"].to_numpy()
    rho = stats.spearmanr(x, xnli["abs_drop"]).statistic
    row = corr[(corr["model"] == "XLM-R Large") & (corr["target_task"] == "xnli") & (corr["predictor"] == "syntactic")
               & (corr["dv"] == "abs_drop")].iloc[0]
    assert row["spearman_rho"] == pytest.approx(rho) and row["n"] == 14
    assert (row["spearman_ci_low"], row["spearman_ci_high"]) == pytest.approx(fisher_ci(rho, 14))
    assert row["theil_sen_per_0.1"] == pytest.approx(0.1 * stats.theilslopes(xnli["abs_drop"], x).slope)
    # the pooled primary test against statsmodels fitted directly
    mixed = pd.read_csv(out / "mixed_models.csv")
    primary = mixed.iloc[0]
    assert primary["pool"] == "parallel (primary)" and primary["distance"] == "syntactic"
    pool = drops[(drops["model"] == "XLM-R Large") & drops["target_task"].isin(["xnli", "pawsx", "xquad", "mlqa"])]
    pool = pool.assign(task=pool["target_task"] + "/" + pool["split"],
                       distance=dist.loc[pool["lang"], "syntactic"].to_numpy()).dropna(subset=["distance"])
    fit = smf.mixedlm("abs_drop ~ C(task) + distance", pool, groups=pool["lang"]).fit(reml=True,
                                                                                     method=primary["method"])
    assert primary["coef_per_0.1"] == pytest.approx(0.1 * fit.params["distance"], rel=1e-5)
    assert primary["se_per_0.1"] == pytest.approx(0.1 * fit.bse["distance"], rel=1e-4)
    assert primary["n_langs"] == pool["lang"].nunique() and primary["n_obs"] == len(pool)


def primary_pool(out):
    """The primary test's rows rebuilt from the output tables (for the independent computations below)."""
    drops = pd.read_csv(out / "drops.csv")
    dist = pd.read_csv(out / "distances.csv").set_index("lang")
    pool = drops[(drops["model"] == "XLM-R Large") & drops["target_task"].isin(["xnli", "pawsx", "xquad", "mlqa"])]
    return pool.assign(task=pool["target_task"] + "/" + pool["split"],
                       distance=dist.loc[pool["lang"], "syntactic"].to_numpy()).dropna(subset=["distance"]), dist


@pytest.mark.slow
def test_first_screen_gives_selection_adjusted_p_scale_and_size_adjusted_slope(default_run):
    """Issue 22 items 4, 5, 7: the selection-adjusted p, what +0.1 is, the size-adjusted slope and the confounding."""
    out, _ = default_run
    first = (out / "report.md").read_text().split("## Appendix")[0]
    pool, dist = primary_pool(out)
    m = re.search(r"Selection-adjusted p = (0\.\d+) \(.*? of the (\d) predictors defined for all 16 pooled", first)
    primary_p = pd.read_csv(out / "mixed_models.csv").iloc[0]["p_perm"]
    assert m and float(m.group(1)) > primary_p and int(m.group(2)) >= 5, first[:3000]
    per_lang = dist.loc[sorted(pool["lang"].unique()), "syntactic"]
    assert (f"is {0.1 / per_lang.std():.1f} SD of the 16 pooled languages' distances (SD {per_lang.std():.2f}; "
            f"from {per_lang.min():.2f} de to {per_lang.max():.2f} sw)") in first
    sized = pool.assign(size=dist.loc[pool["lang"], "log_cc100_gichars"].to_numpy())
    fit = smf.mixedlm("abs_drop ~ C(task) + size + distance", sized, groups=sized["lang"]).fit(reml=True)
    se, q = fit.bse["distance"], stats.t.ppf(0.975, 13)
    want = (f"{0.1 * fit.params['distance']:+.1f} points per +0.1 (95% CI {0.1 * (fit.params['distance'] - q * se):+.1f}"
            f" to {0.1 * (fit.params['distance'] + q * se):+.1f}, t(13); language-level Freedman-Lane p = ")
    assert want in first, first[:3000]
    rho = stats.spearmanr(per_lang, dist.loc[per_lang.index, "log_cc100_gichars"]).statistic
    assert f"confounded (Spearman rho = {rho:+.2f} over these languages)" in first
    assert re.search(r"\| pooled, size-adjusted \| .* \| 16 languages \|  \| 0\.\d+ \(FL\) \|", first)
    assert re.search(r"where they disagree the Freedman-Lane p governs \(here: XNLI: HC3 0\.\d+, Freedman-Lane "
                     r"0\.0\d+\)", first)


@pytest.mark.slow
def test_first_screen_answers_for_sib200_over_150_languages(default_run):
    """Issue 20 section 4: the published SIB-200 table gives a many-language answer on the first screen."""
    out, _ = default_run
    first = (out / "report.md").read_text().split("## Appendix")[0]
    assert "**Many languages: SIB-200 (fixed in analysis/design.py when the SIB-200 table was already public).**" in first
    m = re.search(r"zero-shot on (\d+) languages, (\d+) with a syntactic distance", first)
    assert m and int(m.group(1)) == 203 and int(m.group(2)) >= 150
    seen = re.search(r"\| seen \(primary\) \| (\d+) \| (\d+) \| \+\d+\.\d \| [+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\] \| "
                     r"0\.\d+ \| 0\.\d+ \| 0\.\d\d \| 0\.\d\d \|", first)  # p, p within families, SD, family share
    unseen = re.search(r"\| unseen \| (\d+) \|", first)
    assert seen and unseen and int(seen.group(1)) + int(unseen.group(1)) == int(m.group(2))
    assert "Dropped (no distance): Asturian (no URIEL+ code)" in first
    table = pd.read_csv(out / "many_languages.csv")
    assert len(table) == 203
    np.testing.assert_allclose(table["drop"], 92.2 - table["accuracy"])
    assert int(table["seen"].sum()) + int((~table["seen"]).sum()) == 203


@pytest.mark.slow
def test_first_screen_p_values_are_bh_adjusted_and_a3_within_each_model(default_run):
    """Issue 22 item 6."""
    out, _ = default_run
    report = (out / "report.md").read_text()
    corr = pd.read_csv(out / "correlations.csv")
    row = corr[(corr["model"] == "XLM-R Large") & (corr["target_task"] == "xquad") & (corr["predictor"] == "syntactic")
               & (corr["dv"] == "abs_drop")].iloc[0]
    assert row["p_spearman_bh"] > row["p_spearman"]
    assert f"| XQuAD (test) | parallel | 10 | 0.70 [0.04, 0.93] | {row['p_spearman']:.4f} | {row['p_spearman_bh']:.4f} |" \
        in report.split("## Appendix")[0]
    mixed = pd.read_csv(out / "mixed_models.csv").iloc[1:]
    for _, g in mixed[mixed["p_perm"].notna()].groupby("model"):
        np.testing.assert_allclose(g["p_perm_bh"], stats.false_discovery_control(g["p_perm"]))
    assert "| p perm | p BH | p Wald |" in report


@pytest.mark.slow
def test_appendix_has_leave_one_out_range_residual_plot_and_heterogeneity_test(default_run):
    """Issue 22 item 8, against statsmodels fitted directly."""
    out, _ = default_run
    report = (out / "report.md").read_text()
    pool, _ = primary_pool(out)
    slopes = {lang: 0.1 * smf.mixedlm("abs_drop ~ C(task) + distance", pool[pool["lang"] != lang],
                                      groups=pool.loc[pool["lang"] != lang, "lang"]).fit(reml=True).params["distance"]
              for lang in pool["lang"].unique()}
    lo, hi = min(slopes, key=slopes.get), max(slopes, key=slopes.get)
    assert (f"the pooled slope ranges from {slopes[lo]:+.2f} (without {lo}) to {slopes[hi]:+.2f} (without {hi})"
            in report)
    m0 = smf.mixedlm("abs_drop ~ C(task) + distance", pool, groups=pool["lang"]).fit(reml=False)
    m1 = smf.mixedlm("abs_drop ~ C(task) * distance", pool, groups=pool["lang"]).fit(reml=False)
    lr = 2 * (m1.llf - m0.llf)
    assert f"Distance x task heterogeneity: likelihood ratio {lr:.2f} on 3 df, p = {stats.chi2.sf(lr, 3):.4f}" in report
    assert "![residuals](primary_residuals.png)" in report
    assert mpimg.imread(out / "primary_residuals.png").shape[0] > 100


@pytest.mark.slow
def test_primary_model_from_the_command_line_says_so(tmp_path, cache_dir):
    """Issue 22 item 4: --primary-model other than the design's."""
    path = write_results(tmp_path / "r.csv", good_rows())
    c.main([str(path), "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir), "--n-resamples", "99",
            "--no-plots", "--primary-model", "m"])
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**Primary test (model chosen on the command line): m, syntactic distance" in report
    assert "exploratory analysis of these numbers" not in report


@pytest.mark.slow
def test_size_covariate_is_characters_for_xlmr_and_wikipedia_tokens_for_mbert(default_run):
    out, _ = default_run
    dist = pd.read_csv(out / "distances.csv").set_index("lang")
    assert dist.loc["hi", "cc100_gichars"] == pytest.approx(20.2 / 3)  # Devanagari: 3 bytes per letter
    assert dist.loc["ru", "cc100_gichars"] == pytest.approx(278.0 / 2) and dist.loc["de", "cc100_gichars"] == 66.6
    assert log_pretraining_size("XLM-R Large", "hi") == pytest.approx(np.log(20.2 / 3))
    assert np.isnan(log_pretraining_size("XLM-R Large", "yo"))
    assert dist.loc["hi", "wiki_tokens"] == 43_915_945  # mBERT: Wikipedia word tokens
    corr = pd.read_csv(out / "correlations.csv")
    # mBERT's partial rho controls for log Wikipedia tokens: the partial-correlation formula on its XQuAD rows
    drops = pd.read_csv(out / "drops.csv")
    mx = drops[(drops["model"] == "mBERT") & (drops["target_task"] == "xquad")]
    rho = stats.spearmanr(np.column_stack([dist.loc[mx["lang"], "syntactic"], mx["abs_drop"],
                                           dist.loc[mx["lang"], "wiki_tokens"]])).statistic
    want = (rho[0, 1] - rho[0, 2] * rho[1, 2]) / np.sqrt((1 - rho[0, 2] ** 2) * (1 - rho[1, 2] ** 2))
    row = corr[(corr["model"] == "mBERT") & (corr["target_task"] == "xquad") & (corr["predictor"] == "syntactic")
               & (corr["dv"] == "abs_drop")].iloc[0]
    assert row["partial_spearman"] == pytest.approx(want) and row["n_sized"] == len(mx)
    assert "script" not in set(corr["predictor"])  # URIEL's script-type distance is gone ...
    assert dist.loc["bg", "different_script"] == 1 and dist.loc["de", "different_script"] == 0  # ... a flag instead
    # sensitivity: partial rho with bytes instead of characters, by the partial-correlation formula
    drops = pd.read_csv(out / "drops.csv")
    xnli = drops[(drops["model"] == "XLM-R Large") & (drops["target_task"] == "xnli")]
    rho = stats.spearmanr(np.column_stack([dist.loc[xnli["lang"], "syntactic"], xnli["abs_drop"],
                                           np.log(dist.loc[xnli["lang"], "cc100_gib"])])).statistic
    partial = (rho[0, 1] - rho[0, 2] * rho[1, 2]) / np.sqrt((1 - rho[0, 2] ** 2) * (1 - rho[1, 2] ** 2))
    report = (out / "report.md").read_text()
    assert f"XNLI {partial:.2f} (characters: 0.83, n = 14)" in report
    assert "for mBERT (Wikipedia) the log Wikipedia size in word tokens" in report
    assert "`--sensitivity-imputed` adds the primary test on imputed distances" in report  # opt-in, said so
    assert "Tokenizer covariates (fertility, vocabulary overlap with English): not computed" in report


@pytest.mark.slow
def test_default_run_resolves_disputed_cells_by_source_and_reports_them(default_run):
    out, _ = default_run
    drops = pd.read_csv(out / "drops.csv")
    mlqa = drops[(drops["model"] == "XLM-R Large") & (drops["target_task"] == "mlqa")].set_index("lang")
    assert mlqa.loc["hi", "score"] == 69.2 and mlqa.loc["hi", "score_en"] == 80.6  # fairseq, not ERNIE / MuRIL
    report = (out / "report.md").read_text()
    assert "| XLM-R Large none mlqa test f1 hi | 69.2 (facebookresearch/fairseq" in report
    assert "| 62.9 (PaddlePaddle/ERNIE" in report and "| 70.6 (tensorflow/tfhub.dev" in report


@pytest.mark.slow
def test_default_run_lists_left_out_languages_and_small_n_limits(default_run):
    out, _ = default_run
    report = (out / "report.md").read_text()
    assert "| XLM-R Large | none | xquad | test | ro | not an XTREME xquad language |" in report
    assert "- phonological: af, et," in report
    assert "n = 2 < 5: no coefficient (too few languages)" in report  # TyDiQA: bn, te only
    small = pd.read_csv(out / "small_n.csv").set_index("n")
    assert small.loc[5, "critical_rho"] == 1.0 and small.loc[6, "critical_rho"] == pytest.approx(0.886, abs=1e-3)
    assert "| 5 | exact | 0.0167 | 1.000 |" in report


def distinct_colours(rgb) -> int:
    """Distinct rows of an (n, 3) array: np.unique(rgb, axis=0) counted, on each row's bytes (ten times faster)."""
    rows = np.ascontiguousarray(rgb)
    return len(np.unique(rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1])))))


@pytest.mark.slow
def test_plots_are_real_images(default_run):
    out, _ = default_run
    pngs = sorted(out.glob("*.png"))
    names = {p.name for p in pngs}
    assert "summary.png" in names and any(n.startswith("scatter_") for n in names)
    assert any(n.startswith("heatmap_rho_") for n in names)
    for p in pngs:
        img = mpimg.imread(p)  # (H, W, 4) floats in [0, 1]
        assert img.ndim == 3 and img.shape[0] >= 200 and img.shape[1] >= 300, (p.name, img.shape)
        if p.name.startswith("scatter_"):
            assert img.shape[0] >= 400 and img.shape[1] / img.shape[0] < 2.5  # a grid, not a strip
        flat = img[..., :3].reshape(-1, 3)
        assert flat.std() > 0.05 and distinct_colours(flat[::7]) > 20, f"{p.name} looks blank"
        if p.name == "summary.png":  # the count is np.unique's
            assert distinct_colours(flat[::61]) == len(np.unique(flat[::61], axis=0))


# --------------------------------------------------------------------------- the intermediate-task path (synthetic)
@pytest.fixture(scope="module")
def intermediate_run(cache_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("intermediate")
    return out, R.run([FIXTURES / "intermediate.csv"], out, n_resamples=N_RESAMPLES, cache_dir=cache_dir)


@pytest.mark.slow
def test_intermediate_rows_give_effect_and_drop_change(intermediate_run):
    _, ctx = intermediate_run
    d = ctx["drops"]
    after = d[(d["intermediate_task"] == "mnli") & (d["target_task"] == "xnli")].set_index("lang")
    assert after.loc["sw", "score"] == pytest.approx(64.5 + 3.5) and after.loc["sw", "n_seeds"] == 2
    assert after.loc["sw", "effect"] == pytest.approx(3.5)
    assert after.loc["sw", "drop_change"] == pytest.approx((85.5 - 68.0) - (85.0 - 64.5))
    effects = ctx["effects"]
    sw = effects[(effects["lang"] == "sw") & (effects["target_task"] == "xnli")]
    assert len(sw) == 2  # every seed is a row of the after-intermediate model
    np.testing.assert_allclose(sw["effect"], sw["score"] - sw["score_baseline"])


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")  # boundary fits
@pytest.mark.slow
def test_intermediate_results_give_the_after_intermediate_first_screen(intermediate_run):
    out, ctx = intermediate_run
    lines = [line for line in (out / "report.md").read_text().splitlines() if line]
    assert lines[1].startswith("**What these inputs can answer.** They include intermediate-task runs (mnli;")
    assert "baselines only" not in lines[1]
    assert lines[2].startswith("**Primary test (pre-specified for new runs): per intermediate task, the change of "
                               "the zero-shot drop")
    assert lines[3].startswith("- **xlmr-tiny | mnli** (9 languages, 2 runs, up to 2 seeds per target): the drop "
                               "changes by ")
    assert "### A0. The baseline answer" in lines
    a = ctx["after"].iloc[0]
    # independently: drop change per seed from the fixture, OLS with an intercept per run, distance and log size
    raw = pd.read_csv(FIXTURES / "intermediate.csv", dtype={"seed": str})
    raw = raw[raw["target_task"] == "xnli"]  # the pooled test takes the parallel tasks only (not Tatoeba)
    base = raw[raw["intermediate_task"] == "none"].groupby("lang")["value"].mean()
    aft = raw[raw["intermediate_task"] == "mnli"].pivot(index="seed", columns="lang", values="value")
    dist = ctx["dist"].set_index("lang")["syntactic"]
    e = pd.DataFrame([{"seed": s, "lang": lang, "y": (aft.loc[s, "en"] - aft.loc[s, lang]) - (base["en"] - base[lang]),
                       "distance": dist[lang], "size": log_pretraining_size("xlmr-tiny", lang)}
                      for s in aft.index for lang in aft.columns if lang != "en"]).dropna()
    fit = smf.ols("y ~ C(seed) + distance + size", e).fit()
    assert a["coef_per_0.1"] == pytest.approx(0.1 * fit.params["distance"], rel=1e-9)
    assert (out / "summary.png").exists() and (out / "after_intermediate.csv").exists()


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
    (lambda rows: rows.__setitem__(0, ["m", "none", "NLI", *rows[0][3:]]),
     r"bad.csv:line 2: unknown target_task 'NLI'"),
])
def test_bad_input_names_file_and_line(tmp_path, mutate, message):
    rows = good_rows()
    mutate(rows)
    path = write_results(tmp_path / "bad.csv", rows)
    with pytest.raises(SystemExit) as e:
        c.main([str(path), "--out", str(tmp_path / "out")])
    assert e.value.code.startswith("correlate.py: ")
    assert re.search(message, e.value.code), e.value.code
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (["--power", "--seed-sd", "-1"], r"argument --seed-sd: '-1' is not a finite number > 0"),
    (["--power", "--seed-sd", "nan"], r"argument --seed-sd: 'nan' is not a finite number > 0"),
    (["--power", "--seed", "-1"], r"argument --seed: -1 is below 0"),
    (["--seed", "-1"], r"argument --seed: -1 is below 0"),
    (["--power", "--power-reps", "0"], r"argument --power-reps: 0 is below 1"),
    (["--power", "--power-reps", "-5"], r"argument --power-reps: -5 is below 1"),
    (["--n-resamples", "0"], r"argument --n-resamples: 0 is below 1"),
])
def test_bad_options_are_refused_naming_the_option(capsys, args, message):
    """Issue 22 items 14 and 17 (correlate.py): refused by argparse before any work, the option named."""
    with pytest.raises(SystemExit) as e:
        c.main(args)
    assert e.value.code == 2
    assert re.search(message, capsys.readouterr().err)


@pytest.mark.parametrize("out, message", [
    ("a_file", r"--out .*a_file: is a file; expected an output folder"),
    ("a_file/sub", r"--out .*a_file/sub: .*a_file is a file, so the folder cannot be created"),
])
def test_unwritable_out_is_refused_before_any_work(tmp_path, out, message):
    (tmp_path / "a_file").write_text("x")
    path = write_results(tmp_path / "r.csv", good_rows())
    with pytest.raises(SystemExit) as e:
        c.main([str(path), "--out", str(tmp_path / out), "--no-plots"])
    assert re.search("correlate.py: " + message, e.value.code), e.value.code


def test_out_without_write_permission_is_refused(tmp_path, monkeypatch):
    path = write_results(tmp_path / "r.csv", good_rows())
    real = c.os.access
    monkeypatch.setattr(c.os, "access", lambda p, mode: False if Path(p) == tmp_path else real(p, mode))  # root
    with pytest.raises(SystemExit, match=r"correlate.py: --out .*/new: no write permission in "):
        c.main([str(path), "--out", str(tmp_path / "new"), "--no-plots"])


def test_a_field_over_the_csv_limit_names_file_and_line(tmp_path):
    rows = good_rows()
    rows[2][-1] = "x" * 131_073  # the source field
    path = write_results(tmp_path / "big.csv", rows)
    with pytest.raises(SystemExit, match=r"correlate.py: .*big.csv:line 4: not a readable CSV row \(field larger than "
                                         r"field limit"):
        c.main([str(path), "--out", str(tmp_path / "out")])


def test_a_language_the_task_does_not_have_names_file_and_line(tmp_path):
    rows = good_rows() + [["m", "none", "xnli", "1", "yo", "dev", "accuracy", 50, "runs/a"]]
    path = write_results(tmp_path / "yo.csv", rows)
    with pytest.raises(SystemExit) as e:
        c.main([str(path), "--out", str(tmp_path / "out")])
    assert re.fullmatch(r"correlate.py: .*yo.csv:line 8: language 'yo' is not a language of xnli \(data/tasks.py: "
                        r"ar, bg, .*\)", e.value.code), e.value.code
    assert "\n" not in e.value.code and not (tmp_path / "out").exists()


def test_wrong_schema_names_the_file(tmp_path):
    path = write_results(tmp_path / "bad.csv", [["m", "xnli", "de", "80"]], header=["model", "task", "lang", "score"])
    with pytest.raises(SystemExit, match=r"bad.csv:line 1: header 'model,task,lang,score' is not the results schema"):
        c.main([str(path), "--out", str(tmp_path / "out")])


@pytest.mark.slow
def test_english_only_tasks_and_secondary_metrics_are_noted_not_errors(tmp_path, cache_dir):
    rows = good_rows() + [["m", "none", "mnli", "1", "en", "dev", "accuracy", 88.0, "runs/mnli"],
                          ["m", "none", "xnli", "1", "de", "dev", "accuracy_layer14", 70.0, "runs/a"]]
    path = write_results(tmp_path / "r.csv", rows)
    c.main([str(path), "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir), "--n-resamples", "99",
            "--no-plots"])
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Not analysed (English-only tasks, no zero-shot languages): mnli (1 rows)." in report
    assert "Not analysed (secondary metrics): xnli accuracy_layer14 (1 rows)." in report
    assert "XLM-R Large is not in the inputs; the primary model is m" in report
    corr = pd.read_csv(tmp_path / "out" / "correlations.csv")
    assert set(corr["target_task"]) == {"xnli"} and (corr["n"] == 5).all()


def test_task_names_and_metrics_come_from_the_registry():
    from analysis import scores

    names = scores.task_names()
    for t in target_tasks():
        assert names[TASKS[t].display_name or t] == t and scores.analysed_metric(t) == TASKS[t].primary_metric
    assert set(R.primary_tasks()) <= set(target_tasks())  # the design names registry tasks
    source = (ROOT / "correlate.py").read_text() + "".join(p.read_text() for p in (ROOT / "analysis").glob("*.py"))
    assert '"PAWS-X"' not in source and "TARGET_TASKS = (" not in source  # no task list of its own


def test_analysis_imports_no_model_or_training_code():
    import ast

    for path in sorted((ROOT / "analysis").glob("*.py")) + [ROOT / "correlate.py"]:
        tree = ast.parse(path.read_text())
        mods = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        mods |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not mods & {"xlmr", "train", "evaluate", "retrieval", "config", "study"}, (path.name, mods)


@pytest.mark.slow
def test_cosine_metric_cannot_change_rank_results(tmp_path, cache_dir):
    path = write_results(tmp_path / "r.csv", good_rows() + [["m", "none", "xnli", "1", "es", "dev", "accuracy", 81,
                                                             "runs/a"]])
    got = {}
    for metric in ("angular", "cosine"):
        c.main([str(path), "--out", str(tmp_path / metric), "--cache-dir", str(cache_dir), "--n-resamples", "999",
                "--no-plots", "--metric", metric])
        got[metric] = pd.read_csv(tmp_path / metric / "correlations.csv")
    a, b = got["angular"], got["cosine"]
    for col in ("spearman_rho", "kendall_tau", "p_spearman", "spearman_ci_low", "partial_spearman", "p_partial"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-12, err_msg=col)
    syn = (a["predictor"] == "syntactic").to_numpy()
    assert not np.allclose(a.loc[syn, "theil_sen_per_0.1"], b.loc[syn, "theil_sen_per_0.1"])  # slopes rescale


@pytest.mark.slow
def test_intermediate_runs_without_baselines_are_said_to_need_them(tmp_path, cache_dir):
    rows = [[*r[:1], "mnli", *r[2:]] for r in good_rows()]
    path = write_results(tmp_path / "r.csv", rows)
    c.main([str(path), "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir), "--n-resamples", "99",
            "--no-plots"])
    lines = [line for line in (tmp_path / "out" / "report.md").read_text().splitlines() if line]
    assert lines[1].startswith("**What these inputs can answer.** They include intermediate-task runs (mnli) but no "
                               "baseline runs")


@pytest.mark.slow
def test_english_score_zero_gives_no_rel_drop_and_no_crash(tmp_path, cache_dir, monkeypatch):
    rows = [[*r[:7], 0 if r[4] == "en" else v, r[8]] for r, v in zip(good_rows(), [0, 10, 0, 20, 5, 0])]
    path = write_results(tmp_path / "r.csv", rows)
    published = tmp_path / "published"  # two of the shipped files (the whole set is the default run's, above)
    published.mkdir()
    for name in ("google_bert_multilingual_xnli_zeroshot.csv", "xquad_readme_mbert_xlmr_large.csv"):
        (published / name).write_bytes((c.PUBLISHED_DIR / name).read_bytes())
    monkeypatch.setattr(c, "PUBLISHED_DIR", published)
    c.main([str(path), "--with-published", "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir),
            "--n-resamples", "99", "--no-plots"])  # study.py collect's command line
    drops = pd.read_csv(tmp_path / "out" / "drops.csv")
    assert set(drops["model"]) == {"m", "mBERT", "mBERT (uncased, original release)", "XLM-R Large"}
    mine = drops[drops["model"] == "m"]
    assert mine["rel_drop"].isna().all() and list(mine["abs_drop"]) == [-10.0, 0.0, -20.0, -5.0, 0.0]
    assert "| m | none | xnli | dev | en | score(en) = 0: rel_drop undefined" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.slow
def test_sensitivity_imputed_adds_the_primary_test_on_imputed_distances(monkeypatch):
    langs = ["de", "es", "fr", "ru", "hi", "ar", "zh", "tr", "vi", "el"]
    rng = np.random.default_rng(0)
    dist = pd.DataFrame({"lang": langs, "syntactic": np.linspace(0.3, 0.7, len(langs))})
    drops = pd.DataFrame([{"model": "XLM-R Large", "intermediate_task": "none", "target_task": t, "split": "test",
                           "lang": lang, "abs_drop": 30 * d + rng.normal(0, 1)}
                          for t in ("xnli", "xquad") for lang, d in zip(langs, dist["syntactic"])])
    imputed_table = dist.assign(syntactic=dist["syntactic"].to_numpy()[[1, 0, 3, 2, 5, 4, 7, 6, 9, 8]])
    seen = []

    def fake(langs_, metric, cache_dir, codes="macrolanguage", imputed=False):
        seen.append((codes, imputed))
        return imputed_table if imputed else dist

    monkeypatch.setattr(R, "english_distances", fake)
    rows = R.sensitivity(drops, dist, "XLM-R Large", 99, 0, "angular", None)
    assert [r["variant"] for r in rows] == ["macrolanguage codes (as reported)", "standard-variety codes"]
    rows = R.sensitivity(drops, dist, "XLM-R Large", 99, 0, "angular", None, imputed=True)
    assert rows[2]["variant"] == "urielplus imputation (knn, k = 10)" and seen[-1] == ("macrolanguage", True)
    want = R.pooled_drop_model(drops, imputed_table, "XLM-R Large", R.primary_tasks(), "syntactic", n_resamples=99, seed=0)
    assert rows[2]["coef_per_0.1"] == pytest.approx(want["coef_per_0.1"]) and rows[2]["n_langs"] == 10
    assert rows[2]["coef_per_0.1"] != pytest.approx(rows[0]["coef_per_0.1"])


@pytest.mark.slow
def test_readme_sib200_answer_is_what_the_default_run_prints(default_run):
    """Issue 20 item 5: every SIB-200 number of the README's answer equals the default run's, at the README's
    rounding."""
    out, _ = default_run
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").replace("−", "-").split())
    num = r"([+-]?\d+\.?\d*)"
    m = re.search(rf"On SIB-200 \((\d+) of (\d+) languages with a distance\) the drop grows by {num} per \+0\.1 within "
                  rf"the (\d+) seen languages \(95% CI {num} to {num}, p = {num}\) and by {num} within the (\d+) unseen "
                  rf"ones \({num} to {num}, p = {num}\); (\d+)% \(seen\) and (\d+)% \(unseen\)", readme)
    assert m, "the README's SIB-200 sentence changed shape"
    table = pd.read_csv(out / "many_languages.csv")
    ok = table[table["dropped"].isna()]
    assert (int(m[1]), int(m[2])) == (len(ok), len(table))
    report = (out / "report.md").read_text()
    for name, first in (("seen \\(primary\\)", 3), ("unseen", 8)):
        row = re.search(rf"\| {name} \| (\d+) \| \d+ \| [^|]+ \| ([+-]\d+\.\d) \[([+-]\d+\.\d), ([+-]\d+\.\d)\] \| "
                        rf"(\d\.\d+) \| [^|]+ \| [^|]+ \| (\d\.\d\d) \|", report)
        slope, lo, hi, p = (float(m[first + k]) for k in (0, 2, 3, 4))
        assert int(m[first + 1]) == int(row[1]) and (slope, lo, hi) == tuple(float(row[k]) for k in (2, 3, 4))
        # the README's p is from 9,999 permutations, the fixture's from N_RESAMPLES: within 3 Monte Carlo SE
        assert abs(float(row[5]) - p) <= 3 * math.sqrt(p * (1 - p) / (N_RESAMPLES + 1)), (name, row[5], p)
        assert int(m[13 if first == 3 else 14]) == round(100 * float(row[6]))
    pooled = pd.read_csv(out / "many_pooled.csv").set_index("term")
    q = re.search(rf"The pooled model puts the unseen languages' slope {num} per \+0\.1 above the seen ones' \(95% CI "
                  rf"{num} to {num}, Wald p = {num}\); an unseen language loses {num} more per \+0\.1 of genetic "
                  rf"distance to its nearest seen relative \({num} to {num}\), and each doubling of CC-100 size lowers a "
                  rf"seen language's drop by {num} points \({num} to {num}\)", readme)
    assert q, "the README's pooled-model sentence changed shape"
    for term, (k, lo, hi) in (("unseen x distance", (1, 2, 3)), ("unseen x nearest seen", (5, 6, 7)),
                              ("seen x log size", (8, 9, 10))):
        r = pooled.loc[term]
        sign = -1 if term == "seen x log size" else 1  # "lowers ... by 1.2": the coefficient is -1.2
        assert (sign * float(q[k]), float(q[lo]), float(q[hi])) == (
            round(r["coef"], 1), round(r["ci_low"], 1), round(r["ci_high"], 1)), term
    assert round(pooled.loc["unseen x distance", "p"], 3) == float(q[4])
