"""The task registry: its rows, XTREME's languages from REFERENCE.md, the printed DATA_DIR layout, layout detection,
and score()'s dispatch to data/metrics.py (including the error on splits without gold).

    python -m pytest -q tests/test_tasks.py
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data import metrics
from data import tasks as tasks_module
from data.readers import MissingDataError
from data.tasks import TASKS, get_task

FIX = Path(__file__).parent / "fixtures" / "data"

# XTREME's target languages (REFERENCE.md): a fact check on these rows, not a list every new task must join.
XTREME_LANG_COUNTS = {"xnli": 15, "pawsx": 7, "udpos": 33, "panx": 40, "xquad": 11, "mlqa": 7, "tydiqa": 9,
                      "bucc2018": 4, "tatoeba": 36}


def test_a_task_module_without_a_row_or_under_another_name_is_refused(monkeypatch, tmp_path):
    import sys
    import types
    monkeypatch.setitem(sys.modules, "data.tasks.norow", types.ModuleType("data.tasks.norow"))
    with pytest.raises(ValueError, match=r"data/tasks/norow.py defines no TASK"):
        tasks_module._load(["norow"])
    renamed = types.ModuleType("data.tasks.other")
    renamed.TASK = TASKS["xnli"]
    monkeypatch.setitem(sys.modules, "data.tasks.other", renamed)
    with pytest.raises(ValueError, match=r"TASK.name is 'xnli'; expected the file's name 'other'"):
        tasks_module._load(["other"])


def test_task_fields_are_keyword_only():
    with pytest.raises(TypeError):
        tasks_module.Task("x", "pair_cls", ("en",), ("train",), None, "accuracy", ("accuracy",), ())


def test_target_task_languages_match_reference():
    counts = {name: len(TASKS[name].langs) for name in XTREME_LANG_COUNTS}
    assert counts == XTREME_LANG_COUNTS
    assert TASKS["bucc2018"].langs == ("de", "fr", "ru", "zh") and "en" not in TASKS["tatoeba"].langs
    assert "yo" in TASKS["udpos"].langs and "my" in TASKS["panx"].langs and "yo" not in TASKS["tatoeba"].langs
    assert all(t.langs == ("en",) for t in TASKS.values() if not t.target)


def test_get_task_unknown_name_lists_the_known_ones():
    assert get_task("xnli") is TASKS["xnli"]
    with pytest.raises(ValueError, match=r"unknown task 'xnl'; known tasks: xnli, pawsx, udpos"):
        get_task("xnl")


def test_every_metric_named_by_a_task_exists_and_primary_metric_is_one_of_its_keys():
    for task in TASKS.values():
        assert all(callable(getattr(metrics, name)) for name in task.metrics), task.name
        assert task.eval_split in task.splits, task.name


def test_the_layout_is_printed_from_the_rows():
    printed = {tuple(line.split(None, 3)) for line in _layout_lines()}
    for name, split, layout, files in tasks_module.layout_rows():
        assert (name, split, layout, files) in printed


def _layout_lines():
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tasks_module.main(["--layout"])
    return out.getvalue().splitlines()


def test_read_rejects_unknown_language_split_and_train_of_other_languages():
    with pytest.raises(ValueError, match=r"xnli has no language 'xx'; expected one of ar, bg"):
        get_task("xnli").read(FIX, "xx", "dev")
    with pytest.raises(ValueError, match=r"xquad has no split 'dev'; expected one of test"):
        get_task("xquad").read(FIX, "en", "dev")
    with pytest.raises(ValueError, match=r"xnli has no train split for 'de'; only for en"):
        get_task("xnli").read(FIX, "de", "train")


def test_originals_are_preferred_and_layout_can_be_chosen():
    xnli = get_task("xnli")
    assert xnli.read(FIX, "de", "test").layout == "original"
    assert xnli.has_gold(FIX, "de", "test")
    assert xnli.read(FIX, "de", "test", layout="xtreme").layout == "xtreme"
    source, paths = xnli.locate(FIX, "de", "test", layout="xtreme")
    assert paths == [FIX / "xnli/test-de.tsv"]


def test_xtreme_only_test_split_has_no_gold(tmp_path):
    for name in ["test-de.tsv", "dev-de.tsv"]:
        (tmp_path / "xnli").mkdir(exist_ok=True)
        shutil.copy(FIX / "xnli" / name, tmp_path / "xnli" / name)
    xnli = get_task("xnli")
    assert not xnli.has_gold(tmp_path, "de", "test")
    assert xnli.has_gold(tmp_path, "de", "dev")
    with pytest.raises(MissingDataError, match=r"no pawsx file for lang=de split=dev"):
        get_task("pawsx").read(tmp_path, "de", "dev")


def test_cli_lists_every_task(capsys):
    tasks_module.main([])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["task", "kind", "#langs", "splits", "metric"]
    assert [l.split()[0] for l in lines[1:]] == list(TASKS)
    assert lines[1].split() == ["xnli", "pair_cls", "15", "train,dev,test", "accuracy"]
    tasks_module.main(["--layout"])
    assert "xnli/XNLI-1.0/xnli.dev.tsv" in capsys.readouterr().out


# ---- score -----------------------------------------------------------------------------------------------------
def test_score_classification_is_accuracy():
    xnli = get_task("xnli")
    golds = xnli.golds(xnli.read(FIX, "en", "dev"))
    assert golds == ["entailment", "contradiction"]
    assert xnli.score(golds, ["entailment", "neutral"], "en") == {"accuracy": 50.0}


def test_score_udpos_merges_span_f1_and_token_accuracy():
    golds, preds = [["NOUN", "VERB", "PUNCT"]], [["NOUN", "NOUN", "PUNCT"]]
    got = get_task("udpos").score(golds, preds, "en")
    assert got == {**metrics.span_f1(golds, preds), **metrics.tag_accuracy(golds, preds)}
    assert got["accuracy"] == pytest.approx(200 / 3)
    assert set(get_task("panx").score(golds, preds, "de")) == {"f1", "precision", "recall"}


def test_score_mlqa_uses_the_language_and_xquad_english_normalization():
    golds, preds = [["der Hund"]], ["Hund"]
    assert get_task("mlqa").score(golds, preds, "de")["exact_match"] == 100.0  # German article dropped
    assert get_task("xquad").score(golds, preds, "de")["exact_match"] == 0.0  # SQuAD: English articles only


def test_score_squad_v2_takes_empty_gold_lists_as_unanswerable():
    task = get_task("squad_v2")
    golds = task.golds(task.read(FIX, "en", "dev"))
    assert golds == [[], ["0 degrees"]]
    assert task.score(golds, ["", "0 degrees"], "en")["exact_match"] == 100.0


def test_score_bucc_optimizes_the_threshold_unless_given():
    task = get_task("bucc2018")
    gold = task.golds(task.read(FIX, "de", "dev"))
    assert gold == frozenset({("de-000000001", "en-000000002"), ("de-000000003", "en-000000001")})
    cands = [("de-000000001", "en-000000002", 0.9), ("de-000000002", "en-000000003", 0.5)]
    assert task.score(gold, cands, "de")["f1"] == pytest.approx(200 / 3)
    assert task.score(gold, cands, "de", threshold=0.4)["f1"] == pytest.approx(50.0)


def test_score_tatoeba_compares_retrieved_ids_with_aligned_gold():
    task = get_task("tatoeba")
    golds = task.golds(task.read(FIX, "de", "test"))
    assert golds == ["0", "1", "2"]
    assert task.score(golds, ["0", "2", "2"], "de") == {"accuracy": pytest.approx(200 / 3)}


def test_scoring_a_split_without_gold_is_an_error():
    xnli = get_task("xnli")
    unlabelled = xnli.read(FIX, "de", "test", layout="xtreme")
    with pytest.raises(ValueError, match=r"example test-de.tsv:1 has no gold label"):
        xnli.golds(unlabelled)
    with pytest.raises(ValueError, match=r"gold labels missing"):
        xnli.score([None], ["entailment"], "de")
    tatoeba = get_task("tatoeba")
    with pytest.raises(ValueError, match=r"tatoeba-de-test has no gold label"):
        tatoeba.golds(tatoeba.read(FIX, "de", "test", layout="xtreme"))
    with pytest.raises(ValueError, match=r"q1 has no gold label"):
        get_task("xquad").golds(get_task("xquad").read(FIX, "de", "test"))


def test_ccg_label_set_needs_the_data_dir():
    with pytest.raises(ValueError, match=r"tags_to_id.json"):
        get_task("ccg").get_labels()
    from data.readers import UPOS
    assert get_task("udpos").get_labels() == UPOS
