"""The after-intermediate design validated by simulation (analysis/simulate.py): planted effects are recovered with
the stated coverage, the null false-positive rate stays at the nominal level, the power table behaves, and simulated
results files go through correlate.py to the after-intermediate first screen.

Run: python -m pytest -q tests/test_analysis_simulate.py            (fast, fixed seeds)
     python -m pytest -q -m slow tests/test_analysis_simulate.py    (the large versions)

Tolerances: with N simulated studies the Monte Carlo SE of a rate near 0.95 is sqrt(0.95 * 0.05 / N); the tests
allow 3 SE (N = 60: 0.084; N = 600: 0.027), on fixed seeds.
"""
import math

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


def tolerance(n):
    return 3 * math.sqrt(0.95 * 0.05 / n)


def test_simulated_results_are_in_the_project_schema():
    d = small_design(planted={"mnli": 1.0, "squad_v1": 0.0})
    frame = sim.simulate_results(d, np.random.default_rng(0))
    assert list(frame.columns) == list(COLUMNS)
    assert set(frame["intermediate_task"]) == {"none", "mnli", "squad_v1"}
    assert frame["value"].between(0, 100).all() and set(frame["seed"]) == {"1", "2"}
    per_run = frame.groupby(["intermediate_task", "target_task", "seed"]).size()
    assert per_run[("mnli", "xnli", "1")] == 11 and per_run[("none", "xquad", "2")] == 8  # + English
    assert set(frame["metric"]) == {TASKS["xnli"].primary_metric, TASKS["xquad"].primary_metric}


def test_planted_slope_is_recovered_without_noise():
    d = small_design(seed_sd=1e-4, lang_sd=1e-4, planted={"mnli": 1.5})
    res = sim.analyse(sim.simulate_results(d, np.random.default_rng(1)), d, 99)
    assert res["coef_per_0.1"].iloc[0] == pytest.approx(1.5, abs=1e-3)


def test_two_intermediate_tasks_get_their_own_slopes():
    d = small_design(seed_sd=0.2, lang_sd=0.1, planted={"mnli": 2.0, "squad_v1": -1.0})
    res = sim.analyse(sim.simulate_results(d, np.random.default_rng(2)), d, 99).set_index("intermediate_task")
    assert res.loc["mnli", "coef_per_0.1"] == pytest.approx(2.0, abs=0.3)
    assert res.loc["squad_v1", "coef_per_0.1"] == pytest.approx(-1.0, abs=0.3)


@pytest.mark.slow
def test_coverage_of_95_intervals_fast():
    out = sim.validate(small_design(planted={"mnli": 1.0}), n_studies=60, n_resamples=99, seed=0)
    assert abs(out["coverage"] - 0.95) <= tolerance(60), out


@pytest.mark.slow
def test_null_false_positive_rate_fast():
    out = sim.validate(small_design(planted={"mnli": 0.0}), n_studies=60, n_resamples=99, seed=1)
    assert out["rejection_rate"] <= 0.05 + tolerance(60), out
    assert abs(out["coverage"] - 0.95) <= tolerance(60), out


@pytest.mark.slow
def test_coverage_and_false_positive_rate_large():
    planted = sim.validate(small_design(planted={"mnli": 1.0}), n_studies=200, n_resamples=199, seed=10)
    null = sim.validate(small_design(planted={"mnli": 0.0}), n_studies=200, n_resamples=199, seed=11)
    assert abs(planted["coverage"] - 0.95) <= tolerance(200), planted
    assert abs(null["coverage"] - 0.95) <= tolerance(200), null
    assert null["rejection_rate"] <= 0.05 + tolerance(200), null


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
def test_means_test_agrees_with_the_mixed_model_on_the_same_studies():
    d = small_design()
    for eff in (0.0, 1.5):
        rng = np.random.default_rng(int(eff * 10))
        decisions = []
        for i in range(25):
            study = replace_planted(d, eff)
            frame = sim.simulate_results(study, rng)
            p_mixed = sim.analyse(frame, study, 199, seed=i)["p_perm"].iloc[0]
            p_means = sim.means_test(frame, study, n_resamples=999, rng=np.random.default_rng(i))["p_perm"]
            decisions.append((p_mixed < 0.05, p_means < 0.05))
        decisions = np.array(decisions)
        assert (decisions[:, 0] == decisions[:, 1]).mean() >= 0.88, (eff, decisions.mean(0))
        assert abs(decisions[:, 0].mean() - decisions[:, 1].mean()) <= 0.12, (eff, decisions.mean(0))


def replace_planted(design, eff):
    from dataclasses import replace

    return replace(design, planted={"mnli": eff})


def test_unknown_power_method_is_refused():
    with pytest.raises(ValueError, match="unknown power method 'fast'"):
        sim.power_table(small_design(), reps=1, method="fast")
