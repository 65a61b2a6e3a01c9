"""The readers on real published files (shared/realdata, see its README): data.check, XQuAD and Tatoeba counts and
contents, and UD-POS read from `.conllu` equal, word for word and tag for tag, to XTREME's own preprocessed files of
the same treebanks. Skipped (with the reason) where shared/realdata is absent; CI has it.

    python -m pytest -q tests/test_realdata.py

shared/ is found as $XSTILTS_SHARED, else the first of <repo>/../shared and /work/shared that exists.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from data.check import check, format_report
from data.languages import need
from data.tasks import get_task

XQUAD_LANGS = get_task("xquad").langs

REPO = Path(__file__).resolve().parents[1]


def _shared() -> Path | None:
    if os.environ.get("XSTILTS_SHARED"):
        return Path(os.environ["XSTILTS_SHARED"])
    return next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()), None)


SHARED = _shared()
REAL = SHARED / "realdata" if SHARED else None
if REAL is None or not (REAL / "DATA").is_dir():
    pytest.skip(f"no real published files: shared/realdata/DATA not found (XSTILTS_SHARED, {REPO.parent / 'shared'}, "
                "/work/shared)", allow_module_level=True)
DATA = REAL / "DATA"
XTREME_DATA = REAL / "DATA_XTREME_PREPROCESSED"


# ---- data.check --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_data_check_reads_every_real_file_without_a_format_error():
    report = check(DATA)
    entries = {(t["task"], e["lang"], e["split"]): e for t in report["tasks"] for e in t["entries"]}
    assert not [k for k, e in entries.items() if e["status"] == "malformed"]
    # what fails the check is only what the snapshot leaves out: other UD languages, Cosmos QA's train set, and the
    # 76 Tatoeba languages beyond XTREME's 36 (they lie in LASER_tatoeba_v1/, tested below)
    assert {m.split(":")[0].rsplit(" ", 2)[0] for m in report["errors"]} == {"udpos", "cosmosqa", "tatoeba_all"}
    assert "cosmosqa en train" in "\n".join(report["errors"])
    expected = {("xquad", lang, "test"): 1190 for lang in XQUAD_LANGS}
    expected.update({("udpos", "en", "dev"): 2157, ("udpos", "en", "test"): 3230, ("udpos", "en", "train"): 1781,
                     ("udpos", "af", "dev"): 194, ("udpos", "af", "test"): 425, ("udpos", "zh", "test"): 500,
                     ("sst2", "en", "dev"): 6735, ("sst2", "en", "train"): 5000, ("cosmosqa", "en", "dev"): 1000})
    for key, n in expected.items():
        assert (entries[key]["status"], entries[key]["n_examples"], entries[key]["labelled"]) == ("ok", n, True), key
    for key in [k for k in expected if k[0] == "udpos"]:
        assert entries[key]["tokenization"] == "ud_words=fused" and entries[key]["layout"] == "original"
    assert "      words: ud_words=fused" in format_report(report)  # the printed report says which words


# ---- XQuAD and Tatoeba -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_xquad_has_1190_parallel_questions_per_language_with_answers_found_in_their_context():
    ids = None
    for lang in XQUAD_LANGS:
        ex = get_task("xquad").read(DATA, lang, "test")
        raw = json.loads((DATA / f"xquad/xquad.{lang}.json").read_text(encoding="utf-8"))
        qas = [q for art in raw["data"] for par in art["paragraphs"] for q in par["qas"]]
        assert len(ex) == len(qas) == 1190
        assert [e.id for e in ex] == [q["id"] for q in qas]
        assert [e.question for e in ex] == [q["question"] for q in qas]
        for e in ex:
            assert e.answers and all(e.context[a.start:a.start + len(a.text)] == a.text for a in e.answers), e.id
        ids = ids or [e.id for e in ex]
        assert [e.id for e in ex] == ids  # the same questions in every language
    en, de = get_task("xquad").read(DATA, "en", "test")[0], get_task("xquad").read(DATA, "de", "test")[0]
    assert (en.id, en.question, [a.text for a in en.answers], en.answers[0].start) == (
        "56beb4343aeaaa14008c925b", "How many points did the Panthers defense surrender?", ["308"], 34)
    assert (de.question, de.answers[0].start) == ("Wie viele Punkte gab die Verteidigung der Panthers ab?", 38)


TATOEBA_SIZES = {"jv": 205, "ka": 746, "kk": 575, "ml": 687, "sw": 390, "ta": 307, "te": 234, "th": 548}


def test_tatoeba_reads_all_36_languages_line_aligned():
    task = get_task("tatoeba")
    for lang in task.langs:
        bt = task.read(DATA, lang, "test")
        lines = (DATA / f"tatoeba/tatoeba.{need(lang, 'laser')}-eng.{need(lang, 'laser')}").read_text(
            encoding="utf-8").split("\n")
        n = TATOEBA_SIZES.get(lang, 1000)
        assert len(bt.src) == len(bt.tgt) == n and len(bt.gold) == n, lang
        assert list(bt.src) == lines[:n] and lines[n:] in ([], [""]), lang
        assert bt.gold == frozenset((str(i), str(i)) for i in range(n))
    de = task.read(DATA, "de", "test")
    assert (de.src[0], de.tgt[0]) == ("Maria sagte, sie wisse nicht, wo Tom sei.",
                                      "Mary said she didn't know where Tom was.")
    assert task.read(DATA, "zh", "test").src[:2] == ("我們試試看！", "我该去睡觉了。")


# ---- UD-POS: .conllu read as XTREME's download prepares it --------------------------------------------------------
# The splits shared/realdata holds XTREME's own preprocessed output of. zh has none (its conllu test file is there):
# it has no multiword tokens, so test_ud_chinese_has_no_multiword_tokens_so_both_readings_agree covers it.
UD_SPLITS = [("en", "dev"), ("en", "test"), ("en", "train"), ("af", "dev"), ("af", "test")]


@pytest.mark.parametrize("lang,split", UD_SPLITS, ids=[f"{l}-{s}" for l, s in UD_SPLITS])
@pytest.mark.slow
def test_ud_conllu_equals_xtremes_preprocessed_file_word_for_word_and_tag_for_tag(lang, split):
    assert (XTREME_DATA / f"udpos/{split}-{lang}.tsv").is_file()  # shared/realdata/README.md lists it
    task = get_task("udpos")
    ours = task.read(DATA, lang, split, layout="original")
    theirs = task.read(XTREME_DATA, lang, split, layout="xtreme")
    assert len(ours) == len(theirs)
    assert [e.words for e in ours] == [e.words for e in theirs]
    if split != "test":  # XTREME's test files carry no tags
        assert [e.tags for e in ours] == [e.tags for e in theirs]


@pytest.mark.slow
def test_ud_english_dev_xtreme_words_and_the_syntactic_option():
    task = get_task("udpos")
    fused = task.read(DATA, "en", "dev")
    syntactic = task.read(DATA, "en", "dev", ud_words="syntactic")
    assert (sum(map(len, (e.words for e in fused))), sum(map(len, (e.words for e in syntactic)))) == (27480, 27869)
    assert sum(a.words != b.words for a, b in zip(fused, syntactic)) == 330
    first = next(i for i, e in enumerate(fused) if "didn't" in e.words)
    j = fused[first].words.index("didn't")
    assert fused[first].tags[j] == "AUX" and syntactic[first].words[j:j + 2] == ("did", "n't")


def test_ud_chinese_has_no_multiword_tokens_so_both_readings_agree():
    task = get_task("udpos")
    fused = task.read(DATA, "zh", "test")
    assert fused == task.read(DATA, "zh", "test", ud_words="syntactic")
    path = DATA / "udpos/ud-treebanks-v2.5/UD_Chinese-GSD/zh_gsd-ud-test.conllu"
    word_lines = [l for l in path.read_text(encoding="utf-8").split("\n") if l[:1].isdigit()]
    assert sum(map(len, (e.words for e in fused))) == len(word_lines)


# ---- a file users have: CommonsenseQA in the Hugging Face export ---------------------------------------------------
def test_commonsenseqa_hugging_face_export_is_read(tmp_path):
    rejected = REAL / "rejected/commonsenseqa_hf_export/dev_rand_split.jsonl"
    (tmp_path / "commonsenseqa").mkdir()
    (tmp_path / "commonsenseqa/dev_rand_split.jsonl").symlink_to(rejected)
    ex = get_task("commonsenseqa").read(tmp_path, "en", "dev")
    assert len(ex) == 1221 and all(len(e.choices) == 5 and e.label is not None for e in ex)
    assert (ex[0].id, ex[0].context, ex[0].choices, ex[0].label) == (
        "1afa02df02c908a558b4036e80242fac",
        "A revolving door is convenient for two direction travel, but it also serves as a security measure at a what?",
        ("bank", "library", "department store", "mall", "new york"), 0)


# ---- UD-POS F1 as XTREME computes it (seqeval on the list of sentences) -------------------------------------------
@pytest.mark.slow
def test_span_f1_equals_seqeval_on_the_real_chinese_test_set():
    import random
    import warnings

    from seqeval import metrics as seqeval_metrics

    from data.metrics import span_f1
    golds = [list(e.tags) for e in get_task("udpos").read(DATA, "zh", "test")]
    rng = random.Random(3)
    tagset = sorted({t for g in golds for t in g})
    for noise in (0.1,):
        preds = [[t if rng.random() > noise else rng.choice(tagset) for t in g] for g in golds]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = 100 * seqeval_metrics.f1_score(golds, preds)
        assert span_f1(golds, preds)["f1"] == pytest.approx(ref, abs=1e-9)
    # Four zh test sentences open with X; a wrong last tag in the sentence before one of them moves where the X
    # chunk begins under seqeval's joining, so the two readings then differ.
    openers = [i for i in range(1, len(golds)) if golds[i][0] == "X"]
    assert len(openers) == 4
    preds = [list(g) for g in golds]
    for i in openers:
        preds[i - 1][-1] = "NOUN" if golds[i - 1][-1] != "NOUN" else "VERB"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = 100 * seqeval_metrics.f1_score(golds, preds)
    assert span_f1(golds, preds)["f1"] == pytest.approx(ref, abs=1e-9)
    assert span_f1(golds, preds, boundaries="sentence")["f1"] != pytest.approx(ref, abs=1e-6)


# ---- SIB-200 -----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_data_check_reads_all_205_sib200_variants_with_the_files_counts():
    task = get_task("sib200")
    report = check(DATA, tasks=["sib200"])
    entries = {(e["lang"], e["split"]): e for t in report["tasks"] for e in t["entries"]}
    folder = DATA / "sib200" / "data" / "annotated"
    assert len(task.langs) == 205 == len([p for p in folder.iterdir() if p.is_dir()])
    for lang in task.langs:
        for split in ("dev", "test"):
            lines = (folder / need(lang, "flores") / f"{split}.tsv").read_text(encoding="utf-8").splitlines()
            entry = entries[(lang, split)]
            assert (entry["status"], entry["n_examples"], entry["labelled"]) == ("ok", len(lines) - 1, True), (lang, split)
    from data.tasks.sib200 import read_sib_tsv
    for code in ("eng_Latn", "yor_Latn", "deu_Latn", "zho_Hans", "arb_Arab"):  # the snapshot's train files
        path = folder / code / "train.tsv"  # only English's trains; the others are read for their counts
        assert len(read_sib_tsv([path], code, "train", task.labels)) == 701


@pytest.mark.slow
def test_sib200_is_parallel_the_same_index_ids_and_labels_in_every_variant():
    task = get_task("sib200")
    for split, n in (("dev", 99), ("test", 204)):
        english = {e.id: e.label for e in task.read(DATA, "en", split)}
        assert len(english) == n
        for lang in task.langs:
            assert {e.id: e.label for e in task.read(DATA, lang, split)} == english, (lang, split)


# ---- AmericasNLI, XCOPA, all of LASER's Tatoeba ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["americasnli", "xcopa"])
def test_data_check_reads_americasnli_and_xcopa_with_the_files_counts(name):
    task = get_task(name)
    report = check(DATA, tasks=[name])
    entries = {(e["lang"], e["split"]): e for t in report["tasks"] for e in t["entries"]}
    for lang in task.langs:
        for split in ("dev", "test"):
            (path,) = task.locate(DATA, lang, split)[1]
            records = [l for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
            n = len(records) - (name == "americasnli")  # the TSV's header
            entry = entries[(lang, split)]
            assert (entry["status"], entry["n_examples"], entry["labelled"]) == ("ok", n, True), (name, lang, split)
    assert len(task.langs) == {"americasnli": 10, "xcopa": 11}[name]


def test_all_112_laser_tatoeba_languages_read_line_aligned(tmp_path):
    (tmp_path / "tatoeba").symlink_to(REAL / "LASER_tatoeba_v1")
    task = get_task("tatoeba_all")
    assert len(task.langs) == 112
    report = check(tmp_path, tasks=["tatoeba_all"])
    assert report["ok"], report["errors"]
    for lang in task.langs:
        code = need(lang, "laser")
        lines = (REAL / "LASER_tatoeba_v1" / f"tatoeba.{code}-eng.{code}").read_text(encoding="utf-8").splitlines()
        bitext = task.read(tmp_path, lang, "test")
        assert len(bitext.src) == len(bitext.tgt) == len(lines), lang
