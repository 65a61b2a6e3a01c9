"""Tests for evaluate.py: batched, length-sorted prediction equals one-example-at-a-time inference for every
task kind; result rows, tables and --collect; the CLI on a tiny saved checkpoint and the fixture data; bad input.

    python -m pytest -q tests/test_evaluate.py
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import data.results
import evaluate
from data.examples import Answer, ChoiceExample, PairExample, SpanExample, TagExample
from data.featurize import decode_spans, featurize, stitch_tags
from xlmr.heads import make_head
from xlmr.model import XLMRConfig, XLMREncoder


@dataclass
class FakeTask:  # the few Task attributes predict reads
    name: str
    kind: str
    labels: tuple | None
    allow_null: bool = False


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    return XLMREncoder(XLMRConfig.tiny(vocab_size=1000)).eval()


def one_by_one(encoder, head, feature, kind):
    """Reference inference: a single feature, no padding, no batching."""
    with torch.no_grad():
        if kind == "multiple_choice":  # each choice alone: (N,) scores
            return torch.cat([head(encoder(torch.tensor([seq])), num_choices=1)[0] for seq in feature["input_ids"]])
        return head(encoder(torch.tensor([feature["input_ids"]])))  # (1, C) | (1, T, C) | ((1, T), (1, T))


WORDS = "the cat sat on a very comfortable mat while dogs barked loudly outside".split()


def test_predict_pair_cls_equals_unbatched_inference(encoder, toy_tokenizer):
    torch.manual_seed(1)
    head = make_head("pair_cls", 32, 3).eval()
    task = FakeTask("xnli", "pair_cls", ("entailment", "neutral", "contradiction"))
    rng = np.random.default_rng(0)
    examples = [PairExample(str(i), "de", " ".join(rng.choice(WORDS, rng.integers(1, 12))),
                            " ".join(rng.choice(WORDS, rng.integers(1, 12))), None) for i in range(11)]
    got = evaluate.predict(encoder, head, toy_tokenizer, task, examples, max_len=64, batch_size=4, device="cpu")
    feats = featurize("pair_cls", examples, toy_tokenizer, 64, labels=task.labels)
    ref_logits = [one_by_one(encoder, head, f, "pair_cls")[0] for f in feats]
    assert got == [task.labels[int(x.argmax())] for x in ref_logits]
    # the logits themselves, restored to example order after length sorting and padding
    logits = evaluate.run_features(encoder, head, feats, "pair_cls", toy_tokenizer.pad_id, 4, "cpu")
    for a, b in zip(logits, ref_logits):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    assert torch.stack(ref_logits).std(dim=0).min() > 1e-4  # examples differ: a mix-up would show


def test_predict_tag_equals_unbatched_inference_with_windows(encoder, toy_tokenizer):
    torch.manual_seed(2)
    labels = ("B-PER", "I-PER", "O")
    head = make_head("tag", 32, 3).eval()
    task = FakeTask("panx", "tag", labels)
    rng = np.random.default_rng(1)
    examples = [TagExample(str(i), "de", tuple(rng.choice(WORDS, n)), None) for i, n in enumerate([3, 25, 7, 1, 40])]
    got = evaluate.predict(encoder, head, toy_tokenizer, task, examples, max_len=24, batch_size=2, device="cpu")
    feats = featurize("tag", examples, toy_tokenizer, 24, labels=labels)
    assert len(feats) > len(examples)  # long sentences are windowed
    ref_logits = [one_by_one(encoder, head, f, "tag")[0] for f in feats]  # (T, C) each
    for a, b in zip(evaluate.run_features(encoder, head, feats, "tag", toy_tokenizer.pad_id, 2, "cpu"), ref_logits):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)  # same shape: padding cut off again
    ref = [[labels[t] for t in words] for words in stitch_tags(examples, feats, [x.argmax(-1) for x in ref_logits])]
    assert got == ref and [len(g) for g in got] == [3, 25, 7, 1, 40]


def test_predict_span_equals_unbatched_decoding_over_windows(encoder, toy_tokenizer):
    torch.manual_seed(3)
    head = make_head("span", 32, 2).eval()
    task = FakeTask("xquad", "span", None)
    ctx = " ".join(WORDS * 4)
    examples = [SpanExample("q1", "de", "where is the cat", ctx, None),
                SpanExample("q2", "de", "who barked", "dogs barked loudly", None),
                SpanExample("q3", "de", "what sat", " ".join(WORDS), (Answer("the cat", 0),))]
    got = evaluate.predict(encoder, head, toy_tokenizer, task, examples, max_len=32, batch_size=3, device="cpu",
                           doc_stride=8)
    feats = featurize("span", examples, toy_tokenizer, 32, doc_stride=8)
    assert len(feats) > len(examples)
    outs = [one_by_one(encoder, head, f, "span") for f in feats]
    for (a0, a1), (b0, b1) in zip(evaluate.run_features(encoder, head, feats, "span", toy_tokenizer.pad_id, 3,
                                                        "cpu"), outs):
        torch.testing.assert_close(a0, b0[0], atol=1e-5, rtol=0)
        torch.testing.assert_close(a1, b1[0], atol=1e-5, rtol=0)
    ref = decode_spans(examples, feats, [o[0][0] for o in outs], [o[1][0] for o in outs], n_best=20,
                       max_answer_len=30)
    assert got == ref
    assert all(g and (g in ex.context) for g, ex in zip(got, examples))


def test_predict_multiple_choice_groups_choice_counts(encoder, toy_tokenizer):
    torch.manual_seed(4)
    head = make_head("multiple_choice", 32, 1).eval()
    task = FakeTask("hellaswag", "multiple_choice", None)
    rng = np.random.default_rng(2)
    examples = [ChoiceExample(str(i), "en", " ".join(rng.choice(WORDS, 5)),
                              tuple(" ".join(rng.choice(WORDS, rng.integers(1, 9))) for _ in range(n)), None)
                for i, n in enumerate([4, 2, 4, 3, 2, 4])]
    got = evaluate.predict(encoder, head, toy_tokenizer, task, examples, max_len=32, batch_size=2, device="cpu")
    feats = featurize("multiple_choice", examples, toy_tokenizer, 32)
    ref = [int(one_by_one(encoder, head, f, "multiple_choice").argmax()) for f in feats]
    assert got == ref and len(set(got)) > 1


def test_predict_rejects_retrieval_and_empty_input(encoder, toy_tokenizer):
    head = make_head("pair_cls", 32, 3)
    with pytest.raises(ValueError, match="retrieval.py"):
        evaluate.predict(encoder, head, toy_tokenizer, FakeTask("tatoeba", "retrieval", None), [], 32, 2, "cpu")
    with pytest.raises(ValueError, match="no examples"):
        evaluate.predict(encoder, head, toy_tokenizer, FakeTask("xnli", "pair_cls", ("a",)), [], 32, 2, "cpu")


# --- rows, table, collect ---------------------------------------------------------------------------------

META = {"model": "xlmr-tiny", "intermediate_task": "mnli", "target_task": "xnli", "seed": 3}


def test_result_rows_one_per_language_and_metric():
    rows = data.results.result_rows({"de": {"accuracy": 50.0}, "fr": {"accuracy": 25.0, "f1": 10.0}}, META, "dev",
                                "runs/x")
    assert rows == [
        {**META, "lang": "de", "split": "dev", "metric": "accuracy", "value": 50.0, "source": "runs/x"},
        {**META, "lang": "fr", "split": "dev", "metric": "accuracy", "value": 25.0, "source": "runs/x"},
        {**META, "lang": "fr", "split": "dev", "metric": "f1", "value": 10.0, "source": "runs/x"},
    ]
    assert data.results.result_rows({"de": {"accuracy": 1.0}}, {**META, "seed": None}, "dev", "s")[0]["seed"] == ""


@pytest.mark.parametrize("scores, meta, message", [
    ({"de": {"accuracy": 0.5 * 300}}, META, "not a score on 0-100"),
    ({"de": {"accuracy": float("nan")}}, META, "not a score"),
    ({"de": {"accuracy": 1.0}}, {"model": "m", "target_task": "xnli"}, "intermediate_task"),
])
def test_result_rows_rejects_bad_scores_and_meta(scores, meta, message):
    with pytest.raises(ValueError, match=message):
        data.results.result_rows(scores, meta, "dev", "s")


def test_format_table_has_a_row_per_language_and_the_mean():
    text = data.results.format_table({"de": {"accuracy": 50.0}, "fr": {"accuracy": 40.0}})
    lines = text.splitlines()
    assert lines[0].split() == ["lang", "accuracy"]
    assert lines[1].split() == ["de", "50.00"] and lines[3].split() == ["mean", "45.00"]


def test_collect_gives_mean_std_n_over_seeds(tmp_path):
    from data.results import append_results

    for seed, value in [(1, 70.0), (2, 72.0), (3, 77.0)]:
        rows = data.results.result_rows({"de": {"accuracy": value}, "fr": {"accuracy": 60.0 + seed}},
                                    {**META, "seed": seed}, "test", f"runs/s{seed}")
        append_results(tmp_path / f"s{seed}" / "results.csv", rows)
    table = data.results.collect([str(tmp_path / "s1"), str(tmp_path / "s2"), str(tmp_path / "s3" / "results.csv")])
    de = table[table.lang == "de"].iloc[0]
    assert (de["mean"], de["n"]) == (73.0, 3)
    assert de["std"] == pytest.approx(np.std([70, 72, 77], ddof=1))
    fr = table[table.lang == "fr"].iloc[0]
    assert fr["mean"] == pytest.approx(62.0)
    out = tmp_path / "table.csv"
    evaluate.run(["--collect", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(out)])
    assert out.read_text().splitlines()[0] == "model,intermediate_task,target_task,split,metric,lang,mean,std,n"


def test_collect_rejects_missing_paths(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        data.results.collect([str(tmp_path / "nope")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no results CSV"):
        data.results.collect([str(tmp_path / "empty")])


# --- the command line on a tiny saved checkpoint and the readers' fixture data ------------------------------

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"


def fixture_langs(task) -> list[str]:
    """The task's languages whose eval split the fixture data holds with gold labels."""
    from data.examples import DataError

    out = []
    for lang in task.langs:
        try:
            if task.has_gold(FIXTURE_DATA, lang, task.eval_split):
                out.append(lang)
        except DataError:  # no file for this language in the fixtures
            pass
    return out


def make_checkpoint(directory, tokenizer, task=None, seed=0, meta=None) -> Path:
    """A tiny random encoder saved with save_pretrained, plus (for a task) a head saved with save_head."""
    from xlmr.checkpoint import save_head, save_pretrained

    torch.manual_seed(seed)
    directory = Path(directory)
    save_pretrained(XLMREncoder(XLMRConfig.tiny(vocab_size=tokenizer.vocab_size)), tokenizer, directory)
    if task is not None:
        labels = task.get_labels(FIXTURE_DATA)
        head = make_head(task.kind, 32, len(labels) if labels else 1)
        save_head(directory, head, {"kind": task.kind, "num_labels": len(labels) if labels else 1,
                                    "labels": list(labels) if labels else None, "task": task.name,
                                    "model": "xlmr-tiny", "intermediate_task": "mnli",
                                    "target_task": task.name, "seed": seed, **(meta or {})})
    return directory


EVAL_TASKS = [name for name, t in __import__("data.tasks", fromlist=["TASKS"]).TASKS.items() if t.kind != "retrieval"]


@pytest.mark.parametrize("name", EVAL_TASKS)
@pytest.mark.slow
def test_cli_writes_a_row_per_language_of_every_fixture_task(name, tokenizer, tmp_path, capsys):
    from data.results import read_results
    from data.tasks import get_task

    task = get_task(name)
    langs = fixture_langs(task)
    assert langs, f"the fixture data has no labelled {task.eval_split} split of {name}"
    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, task, seed=7)
    results = tmp_path / "results.csv"
    scores = evaluate.run(["--ckpt", str(ckpt), "--langs", ",".join(langs), "--data-dir", str(FIXTURE_DATA),
                           "--results", str(results), "--max-len", "64", "--batch-size", "4"])
    df = read_results(results)
    primary = df[df.metric == task.primary_metric]
    assert sorted(primary.lang) == sorted(langs)
    assert set(df.target_task) == {name} and set(df.split) == {task.eval_split} and set(df.seed) == {"7"}
    assert set(df.model) == {"xlmr-tiny"} and set(df.intermediate_task) == {"mnli"}
    assert all(0 <= v <= 100 for v in df.value)
    assert set(scores) == set(langs)
    table = capsys.readouterr().out
    assert all(f"\n{lang} " in table for lang in langs)


def test_udpos_rows_say_which_words_were_read(tokenizer, tmp_path):
    from data.results import read_results
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("udpos"))
    for words in ("fused", "syntactic"):
        results = tmp_path / f"{words}.csv"
        evaluate.run(["--ckpt", str(ckpt), "--langs", "de", "--data-dir", str(FIXTURE_DATA), "--results",
                      str(results), "--max-len", "64", "--ud-words", words])
        assert set(read_results(results).source) == {f"{ckpt};ud_words={words};layout=original"}
    assert get_task("xnli").read_note(ud_words="fused") == ""  # no such option: nothing added


def test_evaluate_langs_equals_scoring_predict_by_hand(tokenizer, tmp_path):
    from data.tasks import get_task
    from xlmr.checkpoint import load_head, load_pretrained

    task = get_task("pawsx")
    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, task)
    encoder, _ = load_pretrained(ckpt)
    head, _ = load_head(ckpt)
    scores = evaluate.evaluate_langs(encoder, head, tokenizer, task, FIXTURE_DATA, ["de", "en"], "test", 64, 2, "cpu")
    for lang in ("de", "en"):
        examples = task.read(FIXTURE_DATA, lang, "test")
        preds = evaluate.predict(encoder, head, tokenizer, task, examples, 64, 8, "cpu")
        golds = [e.label for e in examples]
        assert scores[lang]["accuracy"] == pytest.approx(100 * np.mean([p == g for p, g in zip(preds, golds)]))


# --- bad input: a clear error before any compute ----------------------------------------------------------

@pytest.fixture
def no_compute(monkeypatch):
    """Fail the test if the model is loaded: errors must come before any compute."""
    import xlmr.checkpoint

    def refuse(*a, **k):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr(xlmr.checkpoint, "load_pretrained", refuse)


def test_error_directory_without_weights(tmp_path, no_compute):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no encoder weights"):
        evaluate.run(["--ckpt", str(tmp_path / "empty"), "--task", "xnli", "--all-langs"])
    with pytest.raises(ValueError, match="checkpoint directory not found"):
        evaluate.run(["--ckpt", str(tmp_path / "nope"), "--task", "xnli", "--all-langs"])


def test_error_checkpoint_without_head(tokenizer, tmp_path, no_compute):
    ckpt = make_checkpoint(tmp_path / "enc", tokenizer)
    with pytest.raises(ValueError, match="no task head"):
        evaluate.run(["--ckpt", str(ckpt), "--task", "xnli", "--all-langs"])


def test_error_unknown_task(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("xnli"))
    with pytest.raises(ValueError, match="unknown task 'xnlii'; known tasks: xnli"):
        evaluate.run(["--ckpt", str(ckpt), "--task", "xnlii", "--all-langs"])


def test_error_language_the_task_lacks(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("pawsx"))
    with pytest.raises(ValueError, match="pawsx has no language.*ar.*its languages: de en"):
        evaluate.run(["--ckpt", str(ckpt), "--task", "pawsx", "--langs", "de,ar", "--data-dir", str(FIXTURE_DATA)])


def test_error_split_without_gold(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("xquad"))
    with pytest.raises(ValueError, match="xquad, split test: no gold labels .* for de"):
        evaluate.run(["--ckpt", str(ckpt), "--langs", "en,de", "--data-dir", str(FIXTURE_DATA)])


def test_error_all_langs_lists_every_missing_language_split_and_path_at_once(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("xquad"))
    with pytest.raises(ValueError) as e:  # the fixture holds xquad en and de only
        evaluate.run(["--ckpt", str(ckpt), "--task", "xquad", "--all-langs", "--data-dir", str(FIXTURE_DATA)])
    message = str(e.value)
    assert "task xquad: 9 of 11 language(s) have no file under DATA_DIR" in message and "\n" not in message
    for lang in ("ar", "el", "es", "hi", "ru", "th", "tr", "vi", "zh"):
        assert f"{lang} test (expected xquad/xquad.{lang}.json or hub/google/xtreme/XQuAD.{lang}/" in message
    assert "en test" not in message and "de test" not in message


def test_error_xtreme_xquad_without_answers_says_what_works_not_a_dev_split(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("xquad"))
    with pytest.raises(ValueError) as e:  # the fixture's xquad.de.json is XTREME's copy: answers blanked
        evaluate.run(["--ckpt", str(ckpt), "--task", "xquad", "--langs", "de", "--data-dir", str(FIXTURE_DATA)])
    message = str(e.value)
    assert "--split" not in message and "split dev" not in message
    assert message.endswith("xquad has no other split: read the original upstream files, which keep them "
                            "(xquad/xquad.L.json as released upstream))")


def test_error_head_of_another_kind_or_label_set(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("panx"))
    with pytest.raises(ValueError, match="a 'tag' head cannot score xnli"):
        evaluate.run(["--ckpt", str(ckpt), "--task", "xnli", "--langs", "de", "--data-dir", str(FIXTURE_DATA)])
    with pytest.raises(ValueError, match="head labels .* differ from udpos's"):
        evaluate.run(["--ckpt", str(ckpt), "--task", "udpos", "--langs", "de", "--data-dir", str(FIXTURE_DATA)])


def test_main_prints_one_line_error_and_exits(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        evaluate.main(["--ckpt", str(tmp_path / "nope"), "--task", "xnli", "--all-langs"])
    assert str(exc.value.code).startswith("evaluate.py: error: ") and "not found" in str(exc.value.code)


def test_cli_default_task_is_the_heads_target_or_for_an_intermediate_checkpoint_its_own(tokenizer, tmp_path):
    from data.results import read_results
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("mnli"), meta={"target_task": "none"})
    results = tmp_path / "r.csv"
    evaluate.run(["--ckpt", str(ckpt), "--langs", "en", "--data-dir", str(FIXTURE_DATA), "--results", str(results)])
    df = read_results(results)
    assert set(df.target_task) == {"mnli"} and set(df.split) == {"dev"}


def test_a_head_trained_on_another_task_is_refused_naming_both(tokenizer, tmp_path, no_compute):
    from data.tasks import get_task

    # a QQP head has pawsx's kind and labels, but was trained on another task (issue 22 item 17)
    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("pawsx"), meta={"task": "qqp", "target_task": "none"})
    with pytest.raises(ValueError, match=r"head.json: the head was trained on 'qqp', which is not pawsx .* a qqp head "
                                         r"cannot score pawsx"):
        evaluate.run(["--ckpt", str(ckpt), "--task", "pawsx", "--langs", "de", "--data-dir", str(FIXTURE_DATA)])


def test_a_head_trained_on_the_same_english_data_scores_the_sibling_task(tokenizer, tmp_path):
    from data.tasks import get_task

    # XQuAD and MLQA are both trained on SQuAD v1.1: an XQuAD head scores MLQA
    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("mlqa"), meta={"task": "xquad",
                                                                                  "target_task": "xquad"})
    evaluate.check_head_fits(evaluate.read_head_meta(ckpt), get_task("mlqa"), ckpt, FIXTURE_DATA)
    evaluate.check_head_fits(dict(evaluate.read_head_meta(ckpt), task="squad_v1"), get_task("mlqa"), ckpt,
                             FIXTURE_DATA)


def test_results_rows_record_the_layout_read(tokenizer, tmp_path):
    # Hub and upstream UD-POS are different test sets (empty nodes): the rows say which one was scored (item 3)
    from data.results import read_results
    from data.tasks import get_task

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("xnli"))
    results = tmp_path / "r.csv"
    evaluate.run(["--ckpt", str(ckpt), "--langs", "de", "--data-dir", str(FIXTURE_DATA), "--results", str(results),
                  "--max-len", "64"])
    layout = get_task("xnli").read(FIXTURE_DATA, "de", "test").layout
    assert set(read_results(results).source) == {f"{ckpt};layout={layout}"}
    assert evaluate.row_sources("run", get_task("udpos"), {"de": "hub", "en": "original"}, ud_words="syntactic") == {
        "de": "run;ud_words=syntactic;layout=hub", "en": "run;ud_words=syntactic;layout=original"}
