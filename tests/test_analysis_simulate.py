"""The after-intermediate design simulated (analysis/simulate.py): simulated results files in the project's schema,
planted slopes recovered, validate's bookkeeping on a handful of studies, the power table, the means test against
the mixed model, and simulated results files through correlate.py to the after-intermediate first screen.

Run: python -m pytest -q tests/test_analysis_simulate.py

Coverage and false-positive rate over hundreds of simulated studies, and how often means_test takes the mixed
model's decision, are measurements: bench/bench_simulate.py (figures in bench/RESULTS.md).
"""
import numpy as np
import pandas as pd
import pytest

import correlate
from analysis import simulate as sim
from data.results import COLUMNS
from data.tasks import TASKS


@pytest.fixture(scope="module")
def distance_cache(tmp_path_factory):
    """One distance cache for the session (shared with test_correlate.py: computing distances costs seconds)."""
    return tmp_path_factory.getbasetemp() / "uriel_cache"


def small_design(**kw) -> sim.Design:
    """10 XNLI languages (7 of them in XQuAD) at evenly spread distances, 2 seeds: fast to fit."""
    langs = [lang for lang in TASKS["xnli"].langs if lang != "en"][:10]
    dist = dict(zip(langs, np.linspace(0.35, 0.7, len(langs))))
    tasks = {"xnli": tuple(langs), "xquad": tuple(lang for lang in TASKS["xquad"].langs if lang in dist)}
    return sim.Design(distances=dist, tasks=tasks, **{"n_seeds": 2, **kw})


def test_simulated_results_are_in_the_project_schema():
    d = small_design(planted={"mnli": 1.0, "squad_v1": 0.0})
    frame = sim.simulate_results(d, np.random.default_rng(0))
    assert list(frame.columns) == list(COLUMNS)
    assert set(frame["intermediate_task"]) == {"none", "mnli", "squad_v1"}
    assert frame["value"].between(0, 100).all() and set(frame["seed"]) == {"1", "2"}
    per_run = frame.groupby(["intermediate_task", "target_task", "seed"]).size()
    assert per_run[("mnli", "xnli", "1")] == 11 and per_run[("none", "xquad", "2")] == 8  # + English
    assert set(frame["metric"]) == {TASKS["xnli"].primary_metric, TASKS["xquad"].primary_metric}


@pytest.mark.slow
def test_planted_slope_is_recovered_without_noise():
    d = small_design(seed_sd=1e-4, lang_sd=1e-4, planted={"mnli": 1.5})
    res = sim.analyse(sim.simulate_results(d, np.random.default_rng(1)), d, 99)
    assert res["coef_per_0.1"].iloc[0] == pytest.approx(1.5, abs=1e-3)


@pytest.mark.slow
def test_two_intermediate_tasks_get_their_own_slopes():
    d = small_design(seed_sd=0.2, lang_sd=0.1, planted={"mnli": 2.0, "squad_v1": -1.0})
    res = sim.analyse(sim.simulate_results(d, np.random.default_rng(2)), d, 99).set_index("intermediate_task")
    assert res.loc["mnli", "coef_per_0.1"] == pytest.approx(2.0, abs=0.3)
    assert res.loc["squad_v1", "coef_per_0.1"] == pytest.approx(-1.0, abs=0.3)


@pytest.mark.slow
def test_validate_counts_coverage_and_rejections_of_its_studies():
    """validate over 3 studies against the same studies analysed one by one (same seeds); a large planted slope at
    low noise is detected in every study (whether the intervals cover it at the nominal rate is the bench's)."""
    d = small_design(planted={"mnli": 3.0}, seed_sd=0.3, lang_sd=0.2)
    out = sim.validate(d, n_studies=3, n_resamples=99, seed=4)
    rng = np.random.default_rng(4)
    res = pd.concat([sim.analyse(sim.simulate_results(d, rng), d, 99, seed=[4, i]) for i in range(3)])
    covered = (res["ci_low_per_0.1"] <= 3.0) & (3.0 <= res["ci_high_per_0.1"])
    assert out == {"studies": 3, "coverage": covered.mean(), "rejection_rate": (res["p_perm"] < 0.05).mean(),
                   "not_converged": int((~res["converged"].astype(bool)).sum())}
    assert out["rejection_rate"] == 1.0 and 0 < out["coverage"] <= 1
    assert res["coef_per_0.1"].between(2.0, 4.0).all()


@pytest.mark.slow
def test_power_table_rises_with_effect_and_prints():
    d = small_design()
    table = sim.power_table(d, seeds=(2,), n_langs=(10,), effects=(0.0, 3.0), reps=8, n_resamples=99, seed=0)
    assert list(table["effect_per_0.1"]) == [0.0, 3.0]
    assert table["p_detect"].iloc[1] == 1.0 and table["p_detect"].iloc[0] <= 0.25
    text = sim.format_power(table, d, 8)
    assert "Column 0 is the false-positive rate" in text and "3 pt/0.1" in text


def test_power_flag_prints_the_table(monkeypatch, capsys):
    d = small_design()
    monkeypatch.setattr(sim, "xtreme_design", lambda dist, **kw: d)
    monkeypatch.setattr("analysis.distances.english_distances", lambda *a, **k: pd.DataFrame({"lang": ["de"]}))
    real = sim.power_table
    monkeypatch.setattr(sim, "power_table", lambda design, reps, seed, method: real(
        design, seeds=(1,), n_langs=(6,), effects=(0.0, 2.0), reps=reps, seed=seed, method=method))
    correlate.main(["--power", "--power-reps", "3"])
    out = capsys.readouterr().out
    assert "Power of the after-intermediate test" in out and "correlate.py --power: 2 cells x 3 studies (means)" in out
    assert "by the language-effects permutation test" in out
    assert out.count("(0.33)") == 2  # each cell's MC SE: sqrt(max(p (1 - p), 1/3) / 3) = 0.33 for 3 studies


@pytest.mark.slow
def test_simulated_results_file_gives_the_after_intermediate_first_screen(tmp_path, distance_cache):
    d = small_design(planted={"mnli": 1.0})
    d = replace_tasks(d, {"xnli": d.tasks["xnli"]})  # one target task: half the baseline-side tests of the run
    path = tmp_path / "sim.csv"
    sim.simulate_results(d, np.random.default_rng(3)).to_csv(path, index=False)
    correlate.main([str(path), "--out", str(tmp_path / "out"), "--cache-dir", str(distance_cache),
                    "--n-resamples", "99", "--no-plots"])
    report = (tmp_path / "out" / "report.md").read_text()
    first = [line for line in report.splitlines()[1:] if line][:3]
    assert first[0].startswith("**What these inputs can answer.** They include intermediate-task runs (mnli;")
    assert first[1].startswith("**Primary test (pre-specified for new runs): per intermediate task, the change of "
                               "the zero-shot drop")
    assert first[2].startswith("- **sim-xlmr | mnli** (10 languages") and "per +0.1 syntactic distance" in first[2]
    after = pd.read_csv(tmp_path / "out" / "after_intermediate.csv")
    assert after["n_langs"].iloc[0] == 10 and after["n_seeds"].iloc[0] == 2


# ------------------------------------------------------------------------------------- the power grid's cheap test
def test_study_effects_equal_seed_effects():
    from analysis.scores import seed_effects

    d = small_design(planted={"mnli": 1.0, "squad_v1": 0.0})
    frame = sim.simulate_results(d, np.random.default_rng(5))
    lang, target, effect = sim.study_effects(frame, "mnli")
    ref = seed_effects(frame.assign(value=frame["value"].astype(float)))
    ref = ref[ref["intermediate_task"] == "mnli"]
    got = sorted(zip(target, lang, np.round(effect, 9)))
    want = sorted(zip(ref["target_task"] + "/" + ref["split"], ref["lang"], np.round(ref["effect"], 9)))
    assert got == want and len(got) == 2 * (10 + 7)  # 2 seeds x (XNLI + XQuAD languages)


def test_means_test_equals_the_mixed_model_slope_on_a_balanced_design():
    # one target task, every language and seed present: the GLS slope of a language-level covariate is the OLS
    # slope of the language means, whatever the variance components
    langs = [lang for lang in TASKS["xnli"].langs if lang != "en"][:8]
    d = sim.Design(distances=dict(zip(langs, np.linspace(0.3, 0.7, 8))), tasks={"xnli": tuple(langs)}, n_seeds=3,
                   planted={"mnli": 1.0})
    frame = sim.simulate_results(d, np.random.default_rng(7))
    mixed = sim.analyse(frame, d, 99)["coef_per_0.1"].iloc[0]
    assert sim.means_test(frame, d, n_resamples=99)["coef_per_0.1"] == pytest.approx(mixed, rel=1e-4)


def test_means_test_p_is_exact_over_all_language_orders():
    import itertools

    langs = [lang for lang in TASKS["xnli"].langs if lang != "en"][:6]
    d = sim.Design(distances=dict(zip(langs, [0.3, 0.5, 0.35, 0.6, 0.45, 0.7])), tasks={"xnli": tuple(langs)},
                   n_seeds=2, planted={"mnli": 2.0})
    frame = sim.simulate_results(d, np.random.default_rng(8))
    y = sim.language_effects(frame, "mnli")
    x = np.array([d.distances[lang] for lang in y.index])
    slopes = [abs(np.polyfit(x[list(p)], y.to_numpy(), 1)[0]) for p in itertools.permutations(range(6))]
    want = np.mean(np.array(slopes) >= abs(np.polyfit(x, y.to_numpy(), 1)[0]) * (1 - 1e-9))
    assert sim.means_test(frame, d, n_resamples=720)["p_perm"] == pytest.approx(want)


@pytest.mark.slow
def test_means_test_and_the_mixed_model_both_detect_a_planted_slope():
    """On the same 2 studies with a large planted slope both tests reject and their slopes agree within 10%; how
    often their decisions agree over many studies is bench/bench_simulate.py's measurement."""
    d = replace_planted(small_design(seed_sd=0.3, lang_sd=0.2), 2.0)
    rng = np.random.default_rng(6)
    for i in range(2):
        frame = sim.simulate_results(d, rng)
        mixed = sim.analyse(frame, d, 99, seed=i).iloc[0]
        means = sim.means_test(frame, d, n_resamples=999, rng=np.random.default_rng(i))
        assert mixed["p_perm"] < 0.05 and means["p_perm"] < 0.05, (mixed["p_perm"], means["p_perm"])
        assert means["coef_per_0.1"] == pytest.approx(mixed["coef_per_0.1"], rel=0.1)
        assert means["n_langs"] == 10


def replace_planted(design, eff):
    from dataclasses import replace

    return replace(design, planted={"mnli": eff})


def replace_tasks(design, tasks):
    from dataclasses import replace

    return replace(design, tasks=tasks)


def test_unknown_power_method_is_refused():
    with pytest.raises(ValueError, match="unknown power method 'fast'"):
        sim.power_table(small_design(), reps=1, method="fast")


def loop_simulation(design: sim.Design, rng) -> pd.DataFrame:
    """The simulation's definition, one score at a time (what simulate_results draws a block at a time)."""
    langs = sorted(design.distances)
    dbar = float(np.mean([design.distances[lang] for lang in langs]))
    dev = {lang: rng.normal(0, design.lang_sd) for lang in langs}
    rows = []
    for task, task_langs in design.tasks.items():
        true = {"en": 85.0}
        for lang in task_langs:
            true[lang] = 85.0 - (design.drop_per_0_1 * design.distances[lang] / 0.1 + rng.normal(0, 2.0))
        for seed in range(1, design.n_seeds + 1):
            for lang, v in true.items():
                rows.append(("none", task, str(seed), lang, v + rng.normal(0, design.seed_sd)))
            for inter, slope in design.planted.items():
                for lang, v in true.items():
                    effect = design.mean_effect + (0.0 if lang == "en" else
                                                   slope * (design.distances[lang] - dbar) / 0.1 + dev[lang])
                    rows.append((inter, task, str(seed), lang, v + effect + rng.normal(0, design.seed_sd)))
    return pd.DataFrame(rows, columns=["intermediate_task", "target_task", "seed", "lang", "value"]).assign(
        value=lambda f: f["value"].clip(0, 100))


def test_block_draws_are_the_numbers_a_loop_over_scores_draws():
    d = small_design(planted={"mnli": 1.0, "squad_v1": -0.5}, n_seeds=3)
    frame = sim.simulate_results(d, np.random.default_rng(7))
    ref = loop_simulation(d, np.random.default_rng(7))
    pd.testing.assert_frame_equal(frame[list(ref.columns)], ref)


@pytest.mark.slow
def test_item_noise_measures_every_score_on_the_task_s_test_items():
    d = small_design(items={"xnli": 4}, seed_sd=0.5)
    frame = sim.simulate_results(d, np.random.default_rng(0))
    xnli = frame[frame["target_task"] == "xnli"]["value"]
    assert set(xnli) <= {0.0, 25.0, 50.0, 75.0, 100.0} and xnli.nunique() > 1  # a score on 4 items
    assert (frame[frame["target_task"] == "xquad"]["value"] % 25 != 0).any()  # no items given: no item noise
    # on 204 items the run-to-run spread of a language's score is sqrt(seed_sd^2 + 10^4 p (1 - p) / 204) points
    one = sim.Design(distances={"de": 0.0}, tasks={"xnli": ("de",)}, planted={}, n_seeds=4000, seed_sd=0.5,
                     drop_per_0_1=0.0, items={"xnli": 204})
    de = sim.simulate_results(one, np.random.default_rng(1)).query("lang == 'de'")["value"]
    p = de.mean() / 100
    assert de.std() == pytest.approx(np.sqrt(0.25 + 1e4 * p * (1 - p) / 204), rel=0.05)


def test_the_many_language_design_is_sib200_with_its_204_items():
    dist = pd.DataFrame({"lang": ["de", "fr", "ace", "zz-notask", "yo"], "syntactic": [0.4, 0.45, 0.6, 0.5, np.nan]})
    d = sim.many_language_design(dist)
    assert d.tasks == {"sib200": ("ace", "de", "fr")} and d.items == {"sib200": 204}
    assert sim.TEST_ITEMS["sib200"] == 204 and sim.xtreme_design(dist).items == {}


@pytest.mark.slow
def test_power_over_sib200_prints_its_item_noise_and_a_grid_to_every_language(monkeypatch, capsys):
    langs = [lang for lang in TASKS["sib200"].langs if lang != "en"][:30]
    dist = pd.DataFrame({"lang": langs, "syntactic": np.linspace(0.3, 0.8, len(langs))})
    monkeypatch.setattr("analysis.distances.english_distances", lambda *a, **k: dist)
    real = sim.power_table
    seen = {}

    def small(design, reps, seed, method, n_langs):
        seen["n_langs"] = n_langs
        return real(design, seeds=(1,), n_langs=n_langs[-1:], effects=(0.0, 5.0), reps=reps, seed=seed, method=method)
    monkeypatch.setattr(sim, "power_table", small)
    correlate.main(["--power", "--power-design", "many", "--power-reps", "5"])
    out = capsys.readouterr().out
    assert seen["n_langs"] == (10, 25, len(langs))
    assert "target tasks: SIB-200" in out and "item noise: binomial on 204 SIB-200 items per run" in out
    assert "correlate.py --power: 2 cells x 5 studies (means)" in out
