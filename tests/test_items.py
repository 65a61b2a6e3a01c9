"""Per-item scores (data/items.py, `evaluate.py --item-scores`) and the paired item noise of the many-language drops
(analysis/many.py paired_noise), each against a hand-worked example or the results row it must agree with.

Run: python -m pytest -q tests/test_items.py
"""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import many as MN
from data.examples import DataError
from data.items import check_item_task, item_rows, read_item_scores, write_item_scores
from data.tasks import get_task

FIX = Path(__file__).resolve().parent / "fixtures" / "data"


def rows_for(run, lang, scores, ids=None, model="XLM-R Large", task="sib200"):
    ids = ids or [str(i) for i in range(len(scores))]
    return [{"model": model, "intermediate_task": "none", "target_task": task, "seed": "1", "split": "test",
             "lang": lang, "item": i, "position": k, "score": s, "source": f"{run};layout=original"}
            for k, (i, s) in enumerate(zip(ids, scores))]


@pytest.mark.slow
def test_evaluate_writes_item_scores_whose_means_are_its_accuracy_rows(tokenizer, tmp_path, capsys):
    import evaluate
    from data.results import read_results
    from tests.test_evaluate import make_checkpoint

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("sib200"), seed=3)
    results, folder = tmp_path / "results.csv", tmp_path / "items"
    evaluate.run(["--ckpt", str(ckpt), "--langs", "en,de", "--data-dir", str(FIX), "--results", str(results),
                  "--item-scores", str(folder), "--batch-size", "4"])
    assert "item scores written to" in capsys.readouterr().out
    items = read_item_scores([folder])
    rows = read_results([results]).set_index("lang")
    means = items.groupby("lang")["score"].mean()
    assert set(means.index) == set(rows.index) == {"en", "de"}
    for lang, mean in means.items():
        assert mean == pytest.approx(rows.loc[lang, "value"], abs=1e-12)
    en = items[items["lang"] == "en"]
    assert list(en["position"]) == list(range(len(en))) and en["item"].is_unique  # SIB's index_id
    assert set(items["item"][items["lang"] == "de"]) == set(en["item"])  # parallel: the same ids
    assert set(items["source"].str.split(";").str[0]) == {str(ckpt)}
    # a rerun of the same checkpoint replaces its file
    evaluate.run(["--ckpt", str(ckpt), "--langs", "en,de", "--data-dir", str(FIX), "--results", str(results),
                  "--item-scores", str(folder), "--batch-size", "4"])
    assert len(list(folder.glob("items.*.csv"))) == 1


def test_item_scores_are_refused_for_tasks_not_scored_by_item_accuracy_before_any_compute(tmp_path):
    for name in ("xquad", "panx", "udpos"):
        with pytest.raises(ValueError, match=rf"--item-scores: {name} is scored by \w+ over \w+ examples"):
            check_item_task(get_task(name))
    for name in ("sib200", "xnli", "xcopa"):
        check_item_task(get_task(name))


def test_item_rows_score_100_for_a_right_prediction_and_0_for_a_wrong_one():
    ex = [type("E", (), {"id": f"i{k}"})() for k in range(3)]
    rows = item_rows(ex, ["a", "b", "c"], ["a", "x", "c"], "de", {"model": "m", "intermediate_task": None,
                                                                  "target_task": "xnli", "seed": None}, "test", "s")
    assert [r["score"] for r in rows] == [100, 0, 100] and [r["position"] for r in rows] == [0, 1, 2]
    assert rows[0]["intermediate_task"] == "none" and rows[0]["seed"] == ""


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("model,", "modell,", 1), r"line 1.*header modell,.*expected model,"),
    (lambda t: t.replace(",100,", ",50,", 1), r"line 2: score '50'; expected a score of 0 or 100"),
    (lambda t: t.replace(",0,100,", ",x,100,", 1), r"line 2: position 'x'; expected a position 0, 1, 2"),
    (lambda t: t + t.splitlines()[1] + "\n", r"line 4: item '0' of en a second time"),
])
def test_bad_item_score_files_name_the_file_and_line(tmp_path, edit, message):
    path = write_item_scores(tmp_path, rows_for("r", "en", [100, 0]), "sib200", "test", "r")
    path.write_text(edit(path.read_text()))
    with pytest.raises(DataError, match=message):
        read_item_scores([tmp_path])

def test_missing_item_score_paths_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"--item-scores .*empty: no items\.\*\.csv file"):
        read_item_scores([tmp_path / "empty"])
    with pytest.raises(ValueError, match=r"--item-scores .*nothing: no such file or folder"):
        read_item_scores([tmp_path / "nothing"])


def test_paired_noise_is_the_covariance_of_the_per_item_differences_hand_worked():
    # run A: English right on items 0, 1, 3; de right on 0, 3; fr right on 1, 2, 3
    items = pd.DataFrame(rows_for("A", "en", [100, 100, 0, 100]) + rows_for("A", "de", [100, 0, 0, 100])
                         + rows_for("A", "fr", [0, 100, 100, 100]))
    S = MN.paired_noise(items, ["de", "fr"], "sib200", "XLM-R Large")
    # d_de = (0, 100, 0, 0), d_fr = (100, 0, -100, 0): var(d_de, ddof 1) = 2500, var(d_fr) = 6666.67,
    # cov = (-25 * 25 + 75 * -25 + -25 * -100 + -25 * 0) / 3 = 0; each / 4 items
    assert S.loc["de", "de"] == pytest.approx(2500 / 4)
    assert S.loc["fr", "fr"] == pytest.approx(20000 / 3 / 4)
    assert S.loc["de", "fr"] == pytest.approx(0.0, abs=1e-9)
    # unpaired binomial variances would add English's and L's: 100^2 (0.75 * 0.25 + 0.5 * 0.5) / 4 for de
    assert S.loc["de", "de"] < 1e4 * (0.75 * 0.25 + 0.5 * 0.5) / 4


def test_paired_noise_averages_runs_item_by_item_and_pairs_by_id_or_position():
    ids = ["10", "11", "12", "13"]
    a = rows_for("A", "en", [100, 100, 0, 100], ids) + rows_for("A", "de", [100, 0, 0, 100], ids[::-1][::-1])
    # run B lists de's items in another order (ids pair them) and has its own English
    b = rows_for("B", "en", [100, 0, 0, 100], ids) + rows_for("B", "de", [0, 100, 0, 100], ["11", "10", "12", "13"])
    S = MN.paired_noise(pd.DataFrame(a + b), ["de"], "sib200", "XLM-R Large")
    d = np.mean([[0, 100, 0, 0], [100 - 100, 0 - 0, 0, 0]], axis=0)  # B: de's 10 is 100 (listed second)
    assert S.loc["de", "de"] == pytest.approx(np.var(d, ddof=1) / 4)
    # XNLI-like ids that name the file: paired by position
    x = rows_for("A", "en", [100, 0, 100], ["en.tsv:2", "en.tsv:3", "en.tsv:4"]) + rows_for(
        "A", "de", [0, 0, 100], ["de.tsv:2", "de.tsv:3", "de.tsv:4"])
    S = MN.paired_noise(pd.DataFrame(x).assign(file="f", line=2), ["de"], "sib200", "XLM-R Large")
    assert S.loc["de", "de"] == pytest.approx(np.var([100, 0, 0], ddof=1) / 3)
    bad = rows_for("A", "en", [100, 0, 100], ["a", "b", "c"]) + rows_for("A", "de", [0, 100], ["x", "y"])
    with pytest.raises(DataError, match=r"items.csv.*line 7: de has 2 items and other ids than English's 3"):
        MN.paired_noise(pd.DataFrame(bad).assign(file="items.csv", line=7), ["de"], "sib200", "XLM-R Large")
    with pytest.raises(ValueError, match="no English item scores of XLM-R Large on sib200"):
        MN.paired_noise(pd.DataFrame(rows_for("A", "de", [0])), ["de"], "sib200", "XLM-R Large")


def test_a_full_noise_matrix_enters_reml_as_known_covariance_and_the_slope_is_its_gls_estimate():
    rng = np.random.default_rng(0)
    n = 40
    fam = np.array([f"f{k}" for k in rng.integers(0, 6, n)])
    x = rng.uniform(0.3, 0.8, n)
    A = rng.normal(0, 1, (n, n))
    S = A @ A.T / n * 4 + np.diag(rng.uniform(1, 4, n))  # a full, positive definite noise covariance
    y = 3 + 15 * x + rng.multivariate_normal(np.zeros(n), S) + rng.normal(0, 2, n)
    X = np.column_stack([np.ones(n), x])
    fit = MN.reml_fit(y, X, S, fam)
    same = (fam[:, None] == fam[None, :]).astype(float)
    V = S + fit["lang_var"] * np.eye(n) + fit["family_var"] * same
    gls = sm.GLS(y, X, sigma=V).fit()
    assert fit["b"] == pytest.approx(gls.params, rel=1e-6)
    assert fit["cov_b"] == pytest.approx(gls.cov_params() / gls.scale, rel=1e-6)
    # a diagonal matrix gives the same fit as its diagonal (the closed-form path)
    D = np.diag(np.diag(S))
    dense, closed = MN.reml_fit(y, X, D, fam), MN.reml_fit(y, X, np.diag(S), fam)
    # (the same objective; the optimiser stops a hair apart on the two paths)
    assert dense["b"] == pytest.approx(closed["b"], rel=1e-4, abs=1e-4)
    assert dense["lang_var"] == pytest.approx(closed["lang_var"], rel=1e-3)
    assert math.isclose(dense["reml"], closed["reml"], rel_tol=1e-8)


@pytest.mark.slow
def test_own_runs_with_item_scores_get_paired_drops_in_the_many_language_answer(tmp_path):
    from analysis.report import many_language_lines

    rng = np.random.default_rng(0)
    seen, unseen = ["de", "fr", "es", "ru", "ar", "zh", "hi"], ["ace", "acm", "ak", "bm", "ee", "fon", "ln"]
    n = 40
    en = (rng.random(n) < 0.9).astype(int) * 100
    items, results = rows_for("runs/a", "en", list(en)), []
    for k, lang in enumerate(seen + unseen):
        keep = rng.random(n) < (0.9 if lang in seen else 0.6)  # L agrees with English on most items
        s = np.where(keep, en, 100 - en)
        items += rows_for("runs/a", lang, list(s))
        results.append({"lang": lang, "value": s.mean()})
    results.append({"lang": "en", "value": en.mean()})
    res = pd.DataFrame(results).assign(model="XLM-R Large", intermediate_task="none", target_task="sib200", seed=1,
                                       split="test", metric="accuracy", source="runs/a;layout=original")
    res.to_csv(tmp_path / "results.csv", index=False)
    folder = tmp_path / "items"
    folder.mkdir()
    write_item_scores(folder, items, "sib200", "test", "runs/a")
    m = MN.many_language_answer([tmp_path / "results.csv"], cache_dir=tmp_path / "cache", n_resamples=99,
                                items=read_item_scores([folder]))
    t = m["table"].set_index("lang")
    assert set(t["noise"]) == {"paired"} and m["paired"] == {"languages": 14, "runs": 1}
    S = MN.paired_noise(read_item_scores([folder]), list(t.index), "sib200", "XLM-R Large")
    assert t.loc["ak", "s2"] == pytest.approx(S.loc["ak", "ak"])
    screen = "\n".join(many_language_lines({"many": m}))
    assert "item-noise weights (paired: per-item scores of 1 run(s), English and L on the same items, for 14 " \
           "languages; binomial on 204 items for the rest)" in screen
    # the seen group's slope is the GLS estimate with that block of S as the known noise
    g = m["table"][m["table"]["seen"] & (m["table"]["dropped"] == "")].reset_index(drop=True)
    block = S.loc[list(g["lang"]), list(g["lang"])].to_numpy()
    fit = MN.reml_fit(g["drop"], np.column_stack([np.ones(len(g)), g["distance"]]), block, g["family"])
    assert m["groups"]["seen"]["coef_per_0.1"] == pytest.approx(0.1 * fit["b"][1])
    assert m["groups"]["seen"]["coef_per_0.1"] != pytest.approx(MN.group_effect(g, 99, 0)["coef_per_0.1"])


def test_correlate_refuses_a_bad_item_score_file_before_the_analysis(tmp_path, monkeypatch):
    import correlate

    path = write_item_scores(tmp_path, rows_for("r", "en", [100, 0]), "sib200", "test", "r")
    path.write_text(path.read_text().replace(",100,", ",7,", 1))
    monkeypatch.setattr(correlate, "run", lambda *a, **k: pytest.fail("the analysis ran"))
    with pytest.raises(SystemExit, match=rf"correlate.py: {path}:line 2: score '7'; expected a score of 0 or 100"):
        correlate.main(["--item-scores", str(tmp_path), "--out", str(tmp_path / "out")])
    other = write_item_scores(tmp_path / "x", rows_for("r", "de", [100, 0]), "sib200", "test", "r")
    with pytest.raises(SystemExit, match="no English item scores of XLM-R Large on sib200"):
        correlate.main(["--item-scores", str(other), "--out", str(tmp_path / "out")])


@pytest.mark.slow
def test_evaluate_refuses_item_scores_for_an_f1_task_or_a_file_before_loading_the_model(tokenizer, tmp_path,
                                                                                       monkeypatch):
    import evaluate
    from tests.test_evaluate import make_checkpoint

    monkeypatch.setattr(evaluate, "load_pretrained", lambda *a, **k: pytest.fail("the model was loaded"))
    xquad = make_checkpoint(tmp_path / "xquad", tokenizer, get_task("xquad"))
    with pytest.raises(SystemExit, match="evaluate.py: error: --item-scores: xquad is scored by f1 over span "
                                         "examples; per-item scores exist for accuracy tasks"):
        evaluate.main(["--ckpt", str(xquad), "--langs", "en", "--data-dir", str(FIX), "--results",
                       str(tmp_path / "r.csv"), "--item-scores", str(tmp_path / "items")])
    sib = make_checkpoint(tmp_path / "sib", tokenizer, get_task("sib200"))
    (tmp_path / "afile").write_text("")
    with pytest.raises(SystemExit, match=r"--item-scores .*afile: is a file; expected a folder"):
        evaluate.main(["--ckpt", str(sib), "--langs", "en", "--data-dir", str(FIX), "--results",
                       str(tmp_path / "r.csv"), "--item-scores", str(tmp_path / "afile")])
