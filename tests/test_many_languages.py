"""The many-language tasks' readers (issue 20): SIB-200, FLORES retrieval, AmericasNLI, COPA/XCOPA, Belebele, RACE and
the Belebele training set — what they read on hand-made files, and every refusal naming the file and the line.
Real files: tests/test_realdata.py.

    python -m pytest -q tests/test_many_languages.py
"""
from __future__ import annotations

import json

import pytest

from data.examples import DataError
from data.tasks import get_task


def _write(tmp_path, rel, text):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SIB = "sib200/data/annotated/deu_Latn/test.tsv"
SIB_HEADER = "index_id\tcategory\ttext\n"


@pytest.mark.parametrize("body,message", [
    ("id\tcategory\ttext\n1\tsports\tx\n", r"test.tsv:1: header \['id', 'category', 'text'\]"),
    (SIB_HEADER + "1\tcooking\tx\n", r"test.tsv:2: .*cooking"),
    (SIB_HEADER + "1\tsports\tx\n1\ttravel\ty\n", r"test.tsv:3: .*1"),
    (SIB_HEADER + "x1\tsports\tx\n", r"test.tsv:2: index_id 'x1'; expected a whole number"),
    (SIB_HEADER + "1\tsports\t\n", r"test.tsv:2: empty text"),
    (SIB_HEADER + "1\tsports\n", r"test.tsv:2: 2 fields"),
])
def test_sib200_refuses_bad_rows_by_file_and_line(tmp_path, body, message):
    _write(tmp_path, SIB, body)
    with pytest.raises(DataError, match=message):
        get_task("sib200").read(tmp_path, "de", "test")


def test_sib200_reads_quoted_fields_as_pandas_writes_them(tmp_path):
    _write(tmp_path, SIB, SIB_HEADER + '7\tpolitics\t"He said ""no"", then left."\n')
    (example,) = get_task("sib200").read(tmp_path, "de", "test")
    assert (example.id, example.label, example.text) == ("7", "politics", 'He said "no", then left.')


def test_flores_refuses_a_variant_whose_sentences_are_not_englishs(tmp_path):
    for code, ids in (("deu_Latn", "1 2"), ("eng_Latn", "1 3")):
        for split in ("dev", "test"):
            rows = "".join(f"{i}{split}\tsports\ts{i}\n" for i in ids.split())
            _write(tmp_path, f"sib200/data/annotated/{code}/{split}.tsv", SIB_HEADER + rows.replace(split, ""))
    with pytest.raises(DataError, match=r"index_ids differ from English's"):
        get_task("flores").read(tmp_path, "de", "test")


AMNLI = "americasnli/data/anli_final/test/quy.tsv"
AMNLI_HEADER = "id\tlanguage\tpremise\thypothesis\tlabel\n"


@pytest.mark.parametrize("body,message", [
    (AMNLI_HEADER + "1\taym\tp\th\tneutral\n", r"quy.tsv:2: language 'aym'; expected 'quy'"),
    (AMNLI_HEADER + "1\tquy\tp\th\tmaybe\n", r"quy.tsv:2: .*maybe"),
    ("id\tpremise\thypothesis\tlabel\n", r"quy.tsv:1: header"),
    (AMNLI_HEADER + "1\tquy\tp\th\n", r"quy.tsv:2: .*"),
])
def test_americasnli_refuses_bad_rows_by_file_and_line(tmp_path, body, message):
    _write(tmp_path, AMNLI, body)
    with pytest.raises(DataError, match=message):
        get_task("americasnli").read(tmp_path, "quy", "test")


def test_americasnli_reads_aymara_from_its_file_under_its_row(tmp_path):
    _write(tmp_path, "americasnli/data/anli_final/dev/aym.tsv", AMNLI_HEADER + "5\taym\tp\th\tentailment\n")
    (example,) = get_task("americasnli").read(tmp_path, "ay", "dev")
    assert (example.id, example.lang, example.label) == ("5", "ay", "entailment")


def _copa(**change):
    obj = {"premise": "The man fell.", "choice1": "He tripped.", "choice2": "He sang.", "question": "cause",
           "label": 0, "idx": 3, **change}
    return json.dumps(obj) + "\n"


def test_xcopa_builds_jiants_copa_input(tmp_path):
    _write(tmp_path, "xcopa/data/ht/test.ht.jsonl", _copa() + _copa(question="effect", idx=4, label=1))
    a, b = get_task("xcopa").read(tmp_path, "ht", "test")
    assert a.context == "The man fell. What was the cause of this?" and a.choices == ("He tripped.", "He sang.")
    assert b.context == "The man fell. What happened as a result?" and (a.label, b.label) == (0, 1)


@pytest.mark.parametrize("line,message", [
    (_copa(question="why"), r"val.et.jsonl:1: question 'why'; expected cause or effect"),
    (_copa(label=2), r"val.et.jsonl:1: label 2; expected an integer 0..1"),
    (_copa(label=True), r"val.et.jsonl:1: label True"),
    (_copa() + _copa(), r"val.et.jsonl:2: .*3"),
])
def test_xcopa_refuses_bad_lines(tmp_path, line, message):
    _write(tmp_path, "xcopa/data/et/val.et.jsonl", line)
    with pytest.raises(DataError, match=message):
        get_task("xcopa").read(tmp_path, "et", "dev")


def _belebele(**change):
    obj = {"link": "https://x/p", "question_number": 1, "flores_passage": "P.", "question": "Q?",
           **{f"mc_answer{i}": f"a{i}" for i in range(1, 5)}, "correct_answer_num": "3", "dialect": "x",
           "ds": "2023-05-03", **change}
    return json.dumps(obj, ensure_ascii=False) + "\n"


def test_belebele_reads_the_cards_schema(tmp_path):
    _write(tmp_path, "hub/facebook/belebele/data/hin_Latn.jsonl", _belebele())
    (example,) = get_task("belebele").read(tmp_path, "hi-Latn", "test")
    assert example.context == "P." and example.choices[2] == "Q? a3" and example.label == 2


@pytest.mark.parametrize("line,message", [
    (_belebele(correct_answer_num="5"), r"zho_Hans.jsonl:1: label 4; expected an integer 0..3"),
    (_belebele(correct_answer_num="²"), r"zho_Hans.jsonl:1: correct_answer_num '²'; expected 1, 2, 3 or 4"),
    (_belebele(mc_answer4=None), r"zho_Hans.jsonl:1: 'mc_answer4' is NoneType; expected str"),
    (_belebele() + _belebele(), r"zho_Hans.jsonl:2: .*https://x/p#1"),
])
def test_belebele_refuses_bad_lines(tmp_path, line, message):
    _write(tmp_path, "hub/facebook/belebele/data/zho_Hans.jsonl", line)
    with pytest.raises(DataError, match=message):
        get_task("belebele").read(tmp_path, "zh", "test")


def test_race_refuses_an_answer_outside_a_to_d(tmp_path):
    obj = {"id": "h1.txt", "article": "A.", "questions": ["Q?"], "options": [["a", "b", "c", "d"]], "answers": ["E"]}
    _write(tmp_path, "race/RACE/dev/high/1.txt", json.dumps(obj))
    with pytest.raises(DataError, match=r"1.txt:question 0: answer 'E'; expected A, B, C or D"):
        get_task("race").read(tmp_path, "en", "dev")


def test_the_assembled_training_set_needs_its_columns(tmp_path):
    _write(tmp_path, "belebele_assembled/belebele_training_set.tsv", "\tdataset\tsplit\tpassage\n0\tRACE\ttrain\tP\n")
    with pytest.raises(DataError, match=r"belebele_training_set.tsv:1: header .* expected Belebele training-set TSV"):
        get_task("belebele_assembled").read(tmp_path, "en", "train")


# ---- the smoke model trains on each many-language target's English task and scores its languages ----------------
@pytest.mark.slow
@pytest.mark.parametrize("target,langs", [
    ("sib200", ["en", "de"]),          # SIB's own English train set
    ("americasnli", ["ay", "quy"]),    # trains as XNLI (MNLI's English train set)
    ("xcopa", ["et", "ht"]),           # English COPA
    ("belebele", ["en", "de"]),        # RACE
    ("panx_all", ["en", "de"]),        # PAN-X's English train set (WikiANN's en)
    ("udpos_all", ["en", "de", "nb", "nn", "se"]),  # UD v2.7's English treebanks; Norwegian's two rows from one code
])
def test_the_smoke_model_trains_each_target_and_scores_its_languages(tmp_path, target, langs):
    import csv
    from pathlib import Path

    import train

    root = Path(__file__).resolve().parents[1]
    run_dir = tmp_path / "run"
    train.main(["--cfg", str(root / "configs" / "target" / f"{target}.yaml"), "model.path=", "model.size=tiny",
                f"model.spm_path={root / 'tests' / 'fixtures' / 'train' / 'spm.model'}",
                f"data.data_dir={root / 'tests' / 'fixtures' / 'data'}", f"train.out_dir={run_dir}", "train.device=cpu",
                "target.epochs=1", "target.batch_size=4", "target.grad_accum=1", "target.max_len=48",
                "target.eval_every=0", "target.eval_examples=0", "target.patience=0", f"eval.langs=[{','.join(langs)}]",
                f"eval.results={tmp_path / 'all.csv'}"])
    rows = list(csv.DictReader((run_dir / "results.csv").open(encoding="utf-8")))
    metric = get_task(target).primary_metric
    assert sorted(r["lang"] for r in rows if r["metric"] == metric) == sorted(langs)
    assert {r["target_task"] for r in rows} == {target} and all(0 <= float(r["value"]) <= 100 for r in rows)


def test_belebele_hub_requests_name_the_authors_repo_and_one_file_a_variant():
    from data import download as D

    reqs = D.hub_requests(["belebele"], ["en", "hi-Latn"])
    assert {(r.repo, r.revision, r.pattern, r.lang) for r in reqs} == {
        ("facebook/belebele", "main", "data/eng_Latn.jsonl", "en"),
        ("facebook/belebele", "main", "data/hin_Latn.jsonl", "hi-Latn")}
    assert all(r.required for r in reqs)
