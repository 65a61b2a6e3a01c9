"""The after-intermediate analysis (analysis/after.py) and studies simulated as real runs behave
(analysis/scenarios.py): the primary test per intermediate task, the diverged-run check, baselines paired within one
source, the loss-question first screen, the pooled comparison model, and every scenario of the misspecification
panel run through the primary test on a few studies.

Run: python -m pytest -q tests/test_analysis_after.py
     python -m pytest -q -m "not slow" tests/test_analysis_after.py

False-positive rate, coverage and power per scenario are measurements: bench/bench_scenarios.py (400 studies a
cell; figures in bench/RESULTS.md and the README).
"""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import correlate
from analysis import after as A
from analysis import scenarios as S
from analysis.covariates import log_pretraining_size
from analysis.distances import english_distances
from data.tasks import TASKS


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "uriel_cache"


@pytest.fixture(scope="module")
def world(cache_dir):
    """The real pool: 16 languages of XNLI, PAWS-X, XQuAD, MLQA with their URIEL+ distances and sizes."""
    return S.real_world(english_distances(S.pool_languages(), cache_dir=cache_dir))


def dist_table(world):
    return pd.DataFrame({"lang": list(world.distances), "syntactic": list(world.distances.values())})


def test_world_is_the_real_pool(world):
    assert len(world.distances) == 16 and set(world.tasks) == {"xnli", "pawsx", "xquad", "mlqa"}
    assert world.distances["de"] < world.distances["ja"] and all(np.isfinite(list(world.sizes.values())))


# --------------------------------------------------------------------------------------------- the primary test
def test_primary_slope_is_the_ols_slope_with_run_intercepts_and_size(world):
    frame = S.simulate_study(replace(world, slopes={"mnli": -1.0, "squad_v2": 0.5}), np.random.default_rng(0))
    rows = A.run_rows(frame.assign(value=frame["value"].astype(float), rank=0), list(world.tasks))
    res = A.primary_tests(rows, dist_table(world), n_resamples=99).set_index("intermediate_task")
    for inter in ("mnli", "squad_v2"):
        g = rows[rows["intermediate_task"] == inter]
        g = g.assign(distance=g["lang"].map(world.distances), size=[log_pretraining_size("XLM-R Large", x)
                                                                    for x in g["lang"]])
        fit = smf.ols("drop_change ~ C(run) + distance + size", g).fit()
        assert res.loc[inter, "coef_per_0.1"] == pytest.approx(0.1 * fit.params["distance"], rel=1e-9)
        unadj = smf.ols("drop_change ~ C(run) + distance", g).fit()
        assert res.loc[inter, "unadj_coef_per_0.1"] == pytest.approx(0.1 * unadj.params["distance"], rel=1e-9)
        assert res.loc[inter, "n_langs"] == 16 and res.loc[inter, "n_runs"] == 12
        assert res.loc[inter, "p"] == res.loc[inter, "p_perm"] and 0 < res.loc[inter, "p_t"] < 1


def test_drop_change_is_english_effect_minus_language_effect(world):
    frame = S.simulate_study(world, np.random.default_rng(1))
    rows = A.run_rows(frame.assign(value=frame["value"].astype(float), rank=0), list(world.tasks))
    r = rows.iloc[5]
    f = frame[(frame["target_task"] == r["target_task"]) & (frame["split"] == "test")]
    after = f[(f["intermediate_task"] == r["intermediate_task"]) & (f["seed"] == r["seed"])].set_index("lang")["value"]
    base = f[f["intermediate_task"] == "none"].groupby("lang")["value"].mean()
    want = (after["en"] - after[r["lang"]]) - (base["en"] - base[r["lang"]])
    assert r["drop_change"] == pytest.approx(want) and r["effect"] == pytest.approx(after[r["lang"]] - base[r["lang"]])


def test_studentized_permutation_enumerates_all_orders_for_few_languages():
    rng = np.random.default_rng(2)
    lang = np.repeat(np.arange(6), 3)
    run = np.tile(np.arange(3), 6)
    x = np.array([0.3, 0.5, 0.35, 0.6, 0.45, 0.7])
    y = 4 * x[lang] + rng.normal(0, 0.3, 18)
    res = A.robust_contrast(y, lang, run, np.zeros(18, int), x, None, n_resamples=720)
    assert res["p_exact"] and res["n_perm"] == 720 and res["p_perm"] >= 1 / 720
    assert res["p"] == res["p_perm"]


# ------------------------------------------------------------------------------------------------ diverged runs
def results(rows):
    return pd.DataFrame(rows, columns=["model", "intermediate_task", "target_task", "seed", "lang", "split",
                                       "metric", "value", "source"])


def test_a_diverged_run_is_named_and_left_out():
    rows = [["m", "mnli", "xnli", str(s), "en", "dev", "accuracy", v, "runs/x"]
            for s, v in [(1, 85.0), (2, 86.0), (3, 41.0), (4, 84.5)]]
    rows += [["m", "mnli", "xnli", str(s), "de", "test", "accuracy", 80.0, "runs/x"] for s in (1, 2, 3, 4)]
    df = results(rows)
    kept, bad = A.drop_diverged(df)
    assert list(bad["seed"]) == ["3"] and bad["english"].iloc[0] == 41.0 and bad["split"].iloc[0] == "dev"
    assert "3" not in set(kept["seed"]) and len(kept) == 6  # every row of the run goes, not only English
    same, bad2 = A.drop_diverged(df, keep=True)
    assert len(same) == len(df) and len(bad2) == 1


def test_diverged_rule_needs_both_ten_points_and_three_mads_and_three_runs():
    def flagged(values):
        df = results([["m", "mnli", "xnli", str(s), "en", "test", "accuracy", v, "r"] for s, v in enumerate(values)])
        return list(A.diverged_runs(df)["english"])

    assert flagged([85, 86, 76]) == []  # 9 points below the median: kept
    assert flagged([85, 86, 74]) == [74]  # 11 points below, 3 scaled MADs = 4.4
    assert flagged([60, 85, 86, 72, 98]) == []  # 25 and 13 below, but the seeds scatter (3 scaled MADs = 58)
    assert flagged([85, 40]) == []  # two runs: which one diverged cannot be told


def test_did_not_converge_is_not_in_the_after_intermediate_output():
    assert "converged" not in A.PRIMARY_COLUMNS and "converged" not in A.POOLED_COLUMNS


@pytest.mark.slow
def test_diverged_run_is_named_on_the_first_screen_and_kept_on_request(world, tmp_path, cache_dir):
    two_tasks = {t: world.tasks[t] for t in ("xnli", "xquad")}  # 6 runs per intermediate task: two correlate runs
    frame = S.simulate_study(replace(world, n_seeds=3, tasks=two_tasks), np.random.default_rng(4))
    hit = (frame["intermediate_task"] == "mnli") & (frame["target_task"] == "xnli") & (frame["seed"] == "2")
    frame.loc[hit, "value"] -= 40
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    correlate.main([str(path), "--out", str(out), "--cache-dir", str(cache_dir), "--n-resamples", "99",
                    "--no-plots"])
    text = (out / "report.md").read_text()
    assert "**Diverged runs left out of every analysis:** XLM-R Large | mnli | xnli seed 2 (English dev" in text
    assert pd.read_csv(out / "diverged_runs.csv")["seed"].tolist() == [2]
    assert pd.read_csv(out / "after_intermediate.csv").set_index("intermediate_task").loc["mnli", "n_runs"] == 5
    correlate.main([str(path), "--out", str(out), "--cache-dir", str(cache_dir), "--n-resamples", "99",
                    "--no-plots", "--keep-diverged"])
    assert "**Diverged runs kept (--keep-diverged):**" in (out / "report.md").read_text()
    assert pd.read_csv(out / "after_intermediate.csv").set_index("intermediate_task").loc["mnli", "n_runs"] == 6


@pytest.mark.slow
def test_a_diverged_baseline_run_is_named_in_the_data_notes(tmp_path, cache_dir):
    langs = [("en", 85), ("de", 80), ("fr", 79), ("ru", 75), ("zh", 73), ("ar", 70)]
    rows = [["m", "none", "xnli", str(s), lang, "test", "accuracy", v + s - (40 if s == 3 else 0), "runs/a"]
            for s in (1, 2, 3) for lang, v in langs]
    path = tmp_path / "base.csv"
    results(rows).to_csv(path, index=False)
    correlate.main([str(path), "--out", str(tmp_path / "o"), "--cache-dir", str(cache_dir), "--n-resamples", "99",
                    "--no-plots"])
    text = (tmp_path / "o" / "report.md").read_text()
    assert "- Diverged runs left out: m | none | xnli seed 3 (English test 48.0, cell median 86.0)" in text
    drops = pd.read_csv(tmp_path / "o" / "drops.csv").set_index("lang")
    assert drops.loc["de", "n_seeds"] == 2 and drops.loc["de", "score"] == pytest.approx(81.5)


# ------------------------------------------------------------------------------------ baselines from one source
def own_runs_without_baseline():
    langs = [lang for lang in TASKS["xnli"].langs if lang != "en"]
    rows = [["XLM-R Large", "mnli", "xnli", str(s), lang, "test", "accuracy", 80.0 - i + s, "runs/mine"]
            for s in (1, 2, 3) for i, lang in enumerate(["en", *langs])]
    return results(rows)


def test_published_pairings_finds_own_runs_on_a_published_baseline():
    kept = pd.concat([own_runs_without_baseline().assign(rank=0),
                      results([["XLM-R Large", "none", "xnli", "", "de", "test", "accuracy", 82.0,
                                "facebookresearch/fairseq@abc:README"]]).assign(rank=2)])
    pairs = A.published_pairings(kept)
    assert len(pairs) == 1 and pairs["langs"].iloc[0] == "de"
    assert pairs["baseline_source"].iloc[0] == "facebookresearch/fairseq@abc"
    assert A.published_pairings(kept[kept["rank"] == 0]).empty


@pytest.mark.slow
def test_own_runs_with_only_a_published_baseline_are_refused_or_named(tmp_path, cache_dir):
    mine, published = tmp_path / "mine.csv", tmp_path / "published.csv"
    own_runs_without_baseline().to_csv(mine, index=False)
    # a publication's baseline (its source ranks after your own runs, as results/published/*.csv do)
    base = own_runs_without_baseline().query("seed == '1'").assign(
        intermediate_task="none", seed="", value=lambda f: f["value"] - 2,
        source="PaddlePaddle/ERNIE@a948f14:ernie-m/README.md")
    base.to_csv(published, index=False)
    args = [str(mine), str(published), "--out", str(tmp_path / "o"), "--cache-dir", str(cache_dir),
            "--n-resamples", "99", "--no-plots"]
    with pytest.raises(SystemExit, match=r"pair runs of your own with a PUBLISHED baseline .*--pair-published-baseline"):
        correlate.main(args)
    correlate.main([*args, "--pair-published-baseline"])
    lines = [x for x in (tmp_path / "o" / "report.md").read_text().splitlines() if x]
    assert "with baselines, some of them published (named below)" in lines[1]
    named = next(x for x in lines if x.startswith("**Baselines from a publication"))
    assert "PaddlePaddle/ERNIE@a948f14" in named and "XLM-R Large | mnli | xnli/test" in named
    assert "mixes intermediate training with every difference" in named


# ------------------------------------------------------------------------------------------------ first screen
@pytest.mark.slow
def test_first_screen_answers_the_loss_question(world, tmp_path, cache_dir):
    w = replace(world, slopes={"mnli": -2.0, "squad_v2": 0.0}, lang_sd=0.2, seed_sd=0.3)
    path = tmp_path / "sim.csv"
    S.simulate_study(w, np.random.default_rng(5)).to_csv(path, index=False)
    correlate.main([str(path), "--out", str(tmp_path / "o"), "--cache-dir", str(cache_dir), "--n-resamples", "199",
                    "--no-plots"])
    lines = [x for x in (tmp_path / "o" / "report.md").read_text().splitlines() if x]
    assert lines[1].startswith("**What these inputs can answer.** They include intermediate-task runs (mnli, squad_v2;")
    assert lines[2].startswith("**Primary test (pre-specified for new runs): per intermediate task, the change of the "
                               "zero-shot drop")
    mnli = next(x for x in lines if x.startswith("- **XLM-R Large | mnli**"))
    assert "(16 languages, 12 runs, up to 3 seeds per target): the drop changes by " in mnli
    assert "English itself +" in mnli and "per +0.1 syntactic distance, with log pretraining size held fixed, by -" \
        in mnli
    assert "far languages gain more: the gap to English narrows with distance." in mnli
    assert "Distance and log pretraining size share 42% of their variation" in mnli
    squad = next(x for x in lines if x.startswith("- **XLM-R Large | squad_v2**"))
    assert "far languages gain more" not in squad
    a = pd.read_csv(tmp_path / "o" / "after_intermediate.csv").set_index("intermediate_task")
    assert a.loc["mnli", "coef_per_0.1"] == pytest.approx(-2.0, abs=0.6)
    pooled = pd.read_csv(tmp_path / "o" / "after_pooled.csv")
    assert list(pooled["term"]) == ["slope mnli", "slope squad_v2", "slope mnli - slope squad_v2"]


@pytest.mark.slow
def test_simulation_path_equals_the_correlate_path(world, tmp_path, cache_dir):
    """One study of the all-together scenario: missing cells, heavy tails, and two diverged runs (a baseline and an
    intermediate one) that both paths must leave out. (Seed 12: on some seeds, 10 for one, the baseline side's
    leave-one-language-out refits do not converge and fall back through every optimizer, 14 s instead of 2.)"""
    w = replace(world, **S.SCENARIOS["all of the above together"])
    frame = S.simulate_study(w, np.random.default_rng(12))
    assert sorted(frame.attrs["diverged"]) == [("none", "mlqa", "2"), ("squad_v2", "pawsx", "1")]
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    correlate.main([str(path), "--out", str(tmp_path / "o"), "--cache-dir", str(cache_dir),
                    "--n-resamples", "99", "--no-plots", "--seed", "7"])
    got = pd.read_csv(tmp_path / "o" / "after_intermediate.csv")
    want, bad = S.analyse(pd.read_csv(path, dtype={"seed": str}), w, 99, seed=7)
    assert len(bad) == 2 and len(pd.read_csv(tmp_path / "o" / "diverged_runs.csv")) == 2
    for c in ("coef_per_0.1", "ci_low_per_0.1", "ci_high_per_0.1", "p", "p_perm", "mean_change", "en_effect"):
        np.testing.assert_allclose(got[c], want[c], rtol=1e-9, err_msg=c)


# ------------------------------------------------------------------------------------- the pooled comparison model
def test_pooled_model_recovers_planted_slopes_when_means_depend_on_the_pair(world):
    w = replace(world, slopes={"mnli": -1.5, "squad_v2": 0.5}, pair_means=S.PAIR_MEANS, lang_sd=0.1, seed_sd=0.2)
    frame = S.simulate_study(w, np.random.default_rng(6))
    rows = A.run_rows(frame.assign(value=frame["value"].astype(float), rank=0), list(world.tasks))
    pooled = A.pooled_comparison(rows, dist_table(world), n_resamples=199).set_index("term")
    assert pooled.loc["slope mnli", "coef_per_0.1"] == pytest.approx(-1.5, abs=0.25)
    assert pooled.loc["slope squad_v2", "coef_per_0.1"] == pytest.approx(0.5, abs=0.25)
    diff = pooled.loc["slope mnli - slope squad_v2"]
    assert diff["coef_per_0.1"] == pytest.approx(-2.0, abs=0.35) and diff["p"] < 0.05 and diff["ci_high_per_0.1"] < 0
    same = replace(w, slopes={"mnli": 1.0, "squad_v2": 1.0})
    rows = A.run_rows(S.simulate_study(same, np.random.default_rng(7)).assign(rank=0), list(world.tasks))
    diff = A.pooled_comparison(rows, dist_table(world), n_resamples=199).set_index("term").loc[
        "slope mnli - slope squad_v2"]
    assert diff["ci_low_per_0.1"] <= 0 <= diff["ci_high_per_0.1"]


def test_baseline_robust_test_is_exposed():
    langs = ["de", "es", "fr", "ru", "hi", "ar", "zh", "tr", "vi", "el"]
    rng = np.random.default_rng(0)
    dist = pd.DataFrame({"lang": langs, "syntactic": np.linspace(0.3, 0.7, len(langs))})
    drops = pd.DataFrame([{"model": "XLM-R Large", "intermediate_task": "none", "target_task": t, "split": "test",
                           "lang": lang, "abs_drop": 30 * d + rng.normal(0, 1)}
                          for t in ("xnli", "xquad") for lang, d in zip(langs, dist["syntactic"])])
    r = A.baseline_robust_test(drops, dist, "XLM-R Large", ["xnli", "xquad"], "syntactic", n_resamples=99)
    assert r["coef_per_0.1"] == pytest.approx(3.0, abs=0.5) and r["p"] < 0.05 and r["n_langs"] == 10


# ---------------------------------------------------------------------------------------------------- the scenarios
@pytest.mark.parametrize("name", list(S.SCENARIOS))
def test_each_scenario_runs_the_primary_test_and_detects_a_large_planted_slope(world, name):
    """Every scenario's studies through validate (the path correlate.py takes), 3 studies with both intermediate
    tasks at -4 points per +0.1: every test rejects and the rule decides (30 of 30 studies per scenario did when this
    was written). Their false-positive rate and coverage are measured by bench/bench_scenarios.py."""
    w = replace(world, **S.SCENARIOS[name], slopes={"mnli": -4.0, "squad_v2": -4.0})
    out = S.validate(w, 3, n_resamples=99, seed=100 + list(S.SCENARIOS).index(name))
    assert out["studies"] == 3 and out["tests"] == 6
    assert out["rejection_rate"] == 1.0 and out["decision_rate"] == 1.0, out


def test_validate_counts_what_its_studies_give(world):
    """validate's rates and diverged-run counts against the same studies analysed one by one; with collapses planted
    in a fifth of the runs, every collapse alone in its cell is named, and at most one run is named wrongly."""
    w = replace(world, **{**S.SCENARIOS["all of the above together"], "diverged": 0.2})
    out = S.validate(w, 2, n_resamples=19, seed=3)
    rng = np.random.default_rng(3)
    rejected, decided, covered, planted, named, found, alone, alone_found = [], [], [], 0, 0, 0, 0, 0
    for i in range(2):
        frame = S.simulate_study(w, rng)
        res, bad = S.analyse(frame, w, 19, seed=[3, i])
        rejected += list(res["p"] < 0.05)
        decided += list((res["p"] < 0.05) & ((res["ci_low_per_0.1"] > 0) | (res["ci_high_per_0.1"] < 0)))
        truth = res["intermediate_task"].map(w.slopes)
        covered += list((res["ci_low_per_0.1"] <= truth) & (truth <= res["ci_high_per_0.1"]))
        runs = set(frame.attrs["diverged"])
        hits = runs & set(zip(bad["intermediate_task"], bad["target_task"], bad["seed"].astype(str)))
        cells = [r[:2] for r in runs]
        lone = {r for r in runs if cells.count(r[:2]) == 1}
        planted, named, found = planted + len(runs), named + len(bad), found + len(hits)
        alone, alone_found = alone + len(lone), alone_found + len(lone & hits)
    assert out["tests"] == len(rejected) == 4
    assert (out["rejection_rate"], out["decision_rate"], out["coverage"]) == (
        np.mean(rejected), np.mean(decided), np.mean(covered))
    assert out["rejection_se"] == S.mc_se(np.mean(rejected), 2)
    assert (out["diverged_planted"], out["diverged_named"], out["diverged_found"], out["diverged_alone"],
            out["diverged_alone_found"]) == (planted, named, found, alone, alone_found)
    assert alone > 3 and alone_found == alone and named - found <= 1, out


def test_misspecification_panel_prints_every_cell_with_its_mc_se(world, monkeypatch):
    few = {k: S.SCENARIOS[k] for k in list(S.SCENARIOS)[:1]}
    table = S.panel(replace(world, n_seeds=1), reps=2, n_resamples=9, scenarios=few)
    text = S.format_panel(table, world)
    assert "2 studies per cell, Monte Carlo SE in parentheses" in text
    assert text.count("(0.500)") == 6  # sqrt(max(p (1 - p), 1/2) / 2) for every cell of 2 studies


def test_power_takes_lang_sd_and_prints_the_panel(monkeypatch, capsys, world):
    from analysis import simulate as sim

    seen = {}
    monkeypatch.setattr("analysis.distances.english_distances", lambda *a, **k: dist_table(world))
    monkeypatch.setattr(sim, "power_table", lambda design, reps, seed, method: seen.setdefault(
        "design", design) and pd.DataFrame({"seeds": [1], "languages": [6], "effect_per_0.1": [0.0],
                                            "p_detect": [0.05], "mc_se": [0.01]}))
    monkeypatch.setattr(S, "panel", lambda w, reps, seed: seen.setdefault("world", w) and pd.DataFrame(
        [{"scenario": "x", "studies": reps, "fpr": 0.05, "fpr_se": 0.011, "fpr_rule": 0.04, "fpr_rule_se": 0.01,
          "coverage": 0.95, "coverage_se": 0.011, "power": 0.9, "power_se": 0.015, "power_rule": 0.88,
          "power_rule_se": 0.016, "coverage_alt": 0.94, "coverage_alt_se": 0.012}]))
    correlate.main(["--power", "--lang-sd", "1.0", "--misspecification", "--panel-reps", "400"])
    out = capsys.readouterr().out
    assert seen["design"].lang_sd == 1.0 and seen["world"].lang_sd == 1.0
    assert "language sd 1.0" in out and "400 studies per cell" in out and "0.050 (0.011)" in out
