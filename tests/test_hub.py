"""The Hugging Face Hub layout: Parquet files built here from the documented schemas read into exactly the examples
of the upstream readers; real XQuAD and Tatoeba files converted to the Hub's schema read back equal; data.download
--source hub against a pre-filled Hugging Face cache with HF_HUB_OFFLINE=1; bad Parquet input is one line.

    python -m pytest -q tests/test_hub.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import config
from data import download as D
from data.check import check
from data.examples import Answer, Bitext, ChoiceExample, DataError, PairExample, SingleExample, SpanExample, TagExample
from data.readers import hub as H
from data.languages import need
from data.tasks import BINARY_LABELS, LAYOUT_ORDER, NLI_LABELS, PANX_LABELS, get_task
from data.tasks import TASKS as TASKS_ALL
from data.readers.tagging import UPOS

ROOT = Path(__file__).resolve().parent.parent

# Arrow types as `datasets` writes its features: ClassLabel -> int64, Sequence(x) -> list<x>,
# Sequence({a, b}) -> struct of lists.
STR, INT, INT32 = pa.string(), pa.int64(), pa.int32()
LIST_STR, LIST_INT = pa.list_(pa.string()), pa.list_(pa.int64())
ANSWERS = pa.struct([("text", LIST_STR), ("answer_start", pa.list_(INT32))])
CHOICES = pa.struct([("label", LIST_STR), ("text", LIST_STR)])
SHARD = "validation-00000-of-00001.parquet"


def shared_dir() -> Path | None:
    """../shared (XSTILTS_SHARED, <repo>/../shared, /work/shared): the real published files, when present."""
    for cand in (os.environ.get("XSTILTS_SHARED"), ROOT.parent / "shared", Path("/work/shared")):
        if cand and (Path(cand) / "realdata").is_dir():
            return Path(cand)
    return None


def write(path: Path, columns: dict, types: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()}), path)
    return path


def hub_file(root: Path, repo_path: str) -> Path:
    return root / "hub" / repo_path


# ---- 1. every task kind from Hub-schema files -------------------------------------------------------------------
def test_classlabel_tables_name_the_registry_labels():
    assert set(H.NLI_NAMES) == set(NLI_LABELS)
    assert {H.LABEL_NAMES.get(n, n) for n in H.QQP_NAMES} == set(BINARY_LABELS)
    assert [H.LABEL_NAMES[n] for n in H.SST2_NAMES] == list(BINARY_LABELS)  # negative=0, positive=1
    assert set(H.PAWSX_NAMES) == set(BINARY_LABELS)
    assert H.PANX_NAMES == PANX_LABELS and H.UPOS_NAMES == UPOS
    assert config.DATA_LAYOUTS == ("auto", *LAYOUT_ORDER)


def test_xnli_label_ids_are_mapped_by_the_card_order(tmp_path):
    # facebook/xnli: ClassLabel(names=[entailment, neutral, contradiction]); NLI_LABELS orders them differently.
    write(hub_file(tmp_path, "facebook/xnli/de/test-00000-of-00001.parquet"),
          {"premise": ["p0", "p1", "p2"], "hypothesis": ["h0", "h1", "h2"], "label": [0, 1, 2]},
          {"premise": STR, "hypothesis": STR, "label": INT})
    got = get_task("xnli").read(tmp_path, "de", "test", layout="hub")
    shard = "test-00000-of-00001.parquet"
    assert list(got) == [PairExample(f"{shard}:0", "de", "p0", "h0", "entailment"),
                         PairExample(f"{shard}:1", "de", "p1", "h1", "neutral"),
                         PairExample(f"{shard}:2", "de", "p2", "h2", "contradiction")]
    assert got.layout == "hub"


def test_glue_pairs_and_single_sentences_with_row_index_ids(tmp_path):
    write(hub_file(tmp_path, f"nyu-mll/glue/qqp/{SHARD}"),
          {"question1": ["a?", "b?"], "question2": ["c?", "d?"], "label": [1, 0], "idx": [7, 8]},
          {"question1": STR, "question2": STR, "label": INT, "idx": INT32})
    write(hub_file(tmp_path, f"nyu-mll/glue/sst2/{SHARD}"),
          {"sentence": ["bad .", "good ."], "label": [0, 1], "idx": [0, 1]},
          {"sentence": STR, "label": INT, "idx": INT32})
    assert list(get_task("qqp").read(tmp_path, "en", "dev")) == [PairExample("7", "en", "a?", "c?", "1"),
                                                                  PairExample("8", "en", "b?", "d?", "0")]
    assert list(get_task("sst2").read(tmp_path, "en", "dev")) == [SingleExample("0", "en", "bad .", "0"),
                                                                   SingleExample("1", "en", "good .", "1")]


def test_pawsx_keeps_the_original_ids(tmp_path):
    write(hub_file(tmp_path, "google-research-datasets/paws-x/de/test-00000-of-00001.parquet"),
          {"id": [12, 13], "sentence1": ["a", "b"], "sentence2": ["c", "d"], "label": [1, 0]},
          {"id": INT32, "sentence1": STR, "sentence2": STR, "label": INT})
    assert list(get_task("pawsx").read(tmp_path, "de", "test")) == [PairExample("12", "de", "a", "c", "1"),
                                                                     PairExample("13", "de", "b", "d", "0")]


def test_anli_plus_concatenates_rounds_snli_and_mnli_and_skips_snli_without_gold(tmp_path):
    nli = {"premise": STR, "hypothesis": STR, "label": INT}
    for r in ("r1", "r2", "r3"):
        write(hub_file(tmp_path, f"facebook/anli/plain_text/train_{r}-00000-of-00001.parquet"),
              {"uid": [f"u{r}"], "premise": [f"P{r}"], "hypothesis": [f"H{r}"], "label": [2], "reason": [""]},
              {**nli, "uid": STR, "reason": STR})
    write(hub_file(tmp_path, "stanfordnlp/snli/plain_text/train-00000-of-00001.parquet"),
          {"premise": ["s0", "s1"], "hypothesis": ["t0", "t1"], "label": [0, -1]}, nli)
    write(hub_file(tmp_path, "nyu-mll/glue/mnli/train-00000-of-00001.parquet"),
          {"premise": ["m"], "hypothesis": ["n"], "label": [1], "idx": [0]}, {**nli, "idx": INT32})
    got = get_task("anli_plus").read(tmp_path, "en", "train", layout="hub")
    assert list(got) == [PairExample("anli_r1:ur1", "en", "Pr1", "Hr1", "contradiction"),
                         PairExample("anli_r2:ur2", "en", "Pr2", "Hr2", "contradiction"),
                         PairExample("anli_r3:ur3", "en", "Pr3", "Hr3", "contradiction"),
                         PairExample("snli:train-00000-of-00001.parquet:0", "en", "s0", "t0", "entailment"),
                         PairExample("mnli:0", "en", "m", "n", "neutral")]
    assert got.skipped == {"snli: gold_label '-'": 1}


def test_tags_are_classlabel_names_per_token(tmp_path):
    write(hub_file(tmp_path, "google/xtreme/PAN-X.de/test-00000-of-00001.parquet"),
          {"tokens": [["Angela", "Merkel", "spricht"], ["in", "Köln"]], "ner_tags": [[1, 2, 0], [0, 5]],
           "langs": [["de"] * 3, ["de"] * 2]}, {"tokens": LIST_STR, "ner_tags": LIST_INT, "langs": LIST_STR})
    write(hub_file(tmp_path, f"google/xtreme/udpos.Dutch/{SHARD}"),  # (udpos.German: refused, other treebanks)
          {"tokens": [["Merkel", "spricht"]], "pos_tags": [[11, 15]]}, {"tokens": LIST_STR, "pos_tags": LIST_INT})
    shard = "test-00000-of-00001.parquet"
    assert list(get_task("panx").read(tmp_path, "de", "test")) == [
        TagExample(f"{shard}:0", "de", ("Angela", "Merkel", "spricht"), ("B-PER", "I-PER", "O")),
        TagExample(f"{shard}:1", "de", ("in", "Köln"), ("O", "B-LOC"))]
    assert list(get_task("udpos").read(tmp_path, "nl", "dev")) == [
        TagExample(f"{SHARD}:0", "nl", ("Merkel", "spricht"), ("PROPN", "VERB"))]


@pytest.mark.slow
def test_sib200_hub_copy_holds_the_authors_tsvs_and_reads_as_them(tmp_path):
    """Davlan/sib200 keeps the authors' TSVs as `data/<FLORES code>/{train,dev,test}.tsv` (its loaders fetch
    .../Davlan/sib200/raw/main/data/{lang}/{split}.tsv: SEACrowd/seacrowd-datahub sea_datasets/sib_200/sib_200.py).
    The real German and English files placed there read as the upstream ones, for sib200 and for FLORES retrieval;
    a file whose columns come in another order is refused by name, not read shuffled."""
    import shutil

    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared/realdata not found")
    real = shared / "realdata" / "DATA"
    for code in ("deu_Latn", "eng_Latn"):
        for split in ("train", "dev", "test"):
            src = real / "sib200" / "data" / "annotated" / code / f"{split}.tsv"
            if src.is_file():
                dest = hub_file(tmp_path, f"Davlan/sib200/data/{code}/{split}.tsv")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
    for name, lang, split in (("sib200", "de", "test"), ("sib200", "en", "train"), ("flores", "de", "test")):
        task = get_task(name)
        hub, upstream = task.read(tmp_path, lang, split, layout="hub"), task.read(real, lang, split)
        if name == "flores":  # (tmp_path holds the Hub layout only)
            assert (hub.src, hub.tgt, hub.gold) == (upstream.src, upstream.tgt, upstream.gold) and len(hub.src) == 303
        else:
            assert (hub.layout, upstream.layout) == ("hub", "original")
            assert list(hub) == list(upstream) and len(hub) == {"test": 204, "train": 701}[split]
    reqs = D.hub_requests(["sib200"], ["en", "de"])  # what `data.download --source hub` fetches
    assert {(r.repo, r.pattern, r.required) for r in reqs} == {
        ("Davlan/sib200", f"data/{code}/{split}.tsv", required)
        for code, split, required in (("eng_Latn", "train", True), ("eng_Latn", "dev", True),
                                      ("eng_Latn", "test", True), ("deu_Latn", "dev", False),
                                      ("deu_Latn", "test", True))}
    assert {r.where for r in reqs if r.lang == "de"} == {"file data/deu_Latn/dev.tsv", "file data/deu_Latn/test.tsv"}
    path = hub_file(tmp_path, "Davlan/sib200/data/deu_Latn/test.tsv")
    path.write_text("index_id\ttext\tcategory\n1\tEin Satz.\tsports\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test.tsv:1: header \['index_id', 'text', 'category'\]; expected SIB-200 TSV"):
        get_task("sib200").read(tmp_path, "de", "test", layout="hub")


def test_wikiann_configs_are_wikipedia_codes_and_read_as_the_original_files(tmp_path):
    """unimelb-nlp/wikiann (data/tasks/panx_all.py): a config per Wikipedia, `<code>/<split>-00000-of-00001.parquet`
    (its card's `configs:`), `tokens`, `ner_tags` ClassLabel(PAN-X's order), `langs`, `spans`. The Alemannic
    Wikipedia's config `als` is the language gsw; the same sentences in the original `als:token<TAB>tag` file read
    the same."""
    sentences = [(["Züri", "isch", "schön"], ["B-LOC", "O", "O"]), (["Roger", "Federer"], ["B-PER", "I-PER"])]
    write(hub_file(tmp_path, "unimelb-nlp/wikiann/als/test-00000-of-00001.parquet"),
          {"tokens": [w for w, _ in sentences],
           "ner_tags": [[H.PANX_NAMES.index(t) for t in ts] for _, ts in sentences],
           "langs": [["als"] * len(w) for w, _ in sentences],
           "spans": [["LOC: Züri"], ["PER: Roger Federer"]]},
          {"tokens": LIST_STR, "ner_tags": LIST_INT, "langs": LIST_STR, "spans": LIST_STR})
    original = tmp_path / "panx" / "panx_dataset" / "als" / "test"
    original.parent.mkdir(parents=True)
    original.write_text("\n\n".join("\n".join(f"als:{w}\t{t}" for w, t in zip(*s)) for s in sentences) + "\n",
                        encoding="utf-8")
    task = get_task("panx_all")
    hub, upstream = task.read(tmp_path, "gsw", "test", layout="hub"), task.read(tmp_path, "gsw", "test")
    assert hub.layout == "hub" and upstream.layout == "original"
    assert [(e.lang, e.words, e.tags) for e in hub] == [(e.lang, e.words, e.tags) for e in upstream] == [
        ("gsw", ("Züri", "isch", "schön"), ("B-LOC", "O", "O")), ("gsw", ("Roger", "Federer"), ("B-PER", "I-PER"))]
    original.write_text("gsw:Züri\tB-LOC\n", encoding="utf-8")  # the prefix is the folder's Wikipedia code
    with pytest.raises(DataError, match=r"als/test:1: token 'gsw:Züri'; expected the language prefix 'als:'"):
        task.read(tmp_path, "gsw", "test", layout="original")
    reqs = D.hub_requests(["panx_all"], ["gsw", "jv-x-bms", "en"])  # what `data.download --source hub` fetches
    assert {(r.repo, r.pattern, r.required) for r in reqs} == {
        ("unimelb-nlp/wikiann", f"{code}/{split}-*.parquet", split == "test" or code == "en")  # data.check's needs
        for code in ("als", "map-bms", "en") for split in ("validation", "test")}
    assert len(task.langs) == 175 and "simple" not in task.langs and task.train_task == "panx"


def _hf_ud_rows(conllu: Path) -> dict:
    """A .conllu file as huggingface/datasets' universal_dependencies.py writes it: one row per sentence, one entry
    per line conllu.parse_incr yields (multiword tokens and empty nodes too), HEAD `_` as "None", UPOS as the
    ClassLabel id (a multiword token's `_` is a name of its own)."""
    rows, tokens, upos, head = {"tokens": [], "upos": [], "head": []}, [], [], []
    for line in conllu.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if tokens:
                rows["tokens"].append(tokens), rows["upos"].append(upos), rows["head"].append(head)
            tokens, upos, head = [], [], []
        elif not line.startswith("#"):
            cols = line.split("\t")
            tokens.append(cols[1])
            upos.append(H.UD27_UPOS_NAMES.index(cols[3]))
            head.append("None" if cols[6] == "_" else str(int(cols[6])))
    return rows


@pytest.mark.slow
def test_ud27_hub_rows_read_as_the_syntactic_words_of_the_real_conllu(tmp_path):
    """universal-dependencies/universal_dependencies keeps every CoNLL-U line; read_hub_ud keeps the words (HEAD not
    "None"): on the real English EWT dev and PUD test files (multiword tokens, empty nodes) it reads exactly what
    read_conllu(ud_words="syntactic") reads from the files, for udpos_all; the Hub copy says its words are
    syntactic, so XTREME's fused words are refused there."""
    import shutil

    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared/realdata not found")
    ud = shared / "realdata" / "DATA" / "udpos" / "ud-treebanks-v2.5"
    task = get_task("udpos_all")
    assert {s.revision for s in task.sources if s.layout == "hub"} == {"refs/convert/parquet"}
    for folder, stem, split, hub_split in (("UD_English-EWT", "en_ewt", "dev", "validation"),
                                           ("UD_English-PUD", "en_pud", "test", "test")):
        conllu = ud / folder / f"{stem}-ud-{split}.conllu"
        cols = _hf_ud_rows(conllu)
        write(hub_file(tmp_path, f"universal-dependencies/universal_dependencies/{stem}/{hub_split}/0000.parquet"),
              cols, {"tokens": LIST_STR, "upos": LIST_INT, "head": LIST_STR})
        dest = tmp_path / "udpos_all" / "ud-treebanks-v2.7" / folder / conllu.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(conllu, dest)
        hub = task.read(tmp_path, "en", split, layout="hub", ud_words="syntactic")
        upstream = task.read(tmp_path, "en", split, layout="original", ud_words="syntactic")
        assert hub.tokenization == upstream.tokenization == "ud_words=syntactic"
        assert [(e.words, e.tags) for e in hub] == [(e.words, e.tags) for e in upstream]
        assert len(hub) == {"dev": 2001, "test": 1000}[split] and hub[0].id == f"{stem}/0000.parquet:0"
        assert sum(len(r) for r in cols["tokens"]) > sum(len(e.words) for e in hub)  # lines that are not words
        with pytest.raises(ValueError, match="its words are ud_words=syntactic; ud_words=fused needs another"):
            task.read(tmp_path, "en", split, layout="hub", ud_words="fused")
    reqs = D.hub_requests(["udpos_all"], ["en", "nb", "nn", "se"])
    assert {(r.repo, r.revision, r.pattern) for r in reqs if r.split == "test"} == {
        ("universal-dependencies/universal_dependencies", "refs/convert/parquet", f"{g}/test/*.parquet")
        for g in ("en_*", "no_bokmaal", "no_nynorsk*", "sme_*")}


def test_ud27_hub_rows_refuse_a_word_without_upos_and_skip_withheld_text(tmp_path):
    path = hub_file(tmp_path, "universal-dependencies/universal_dependencies/ja_bccwj/test/0000.parquet")
    types = {"tokens": LIST_STR, "upos": LIST_INT, "head": LIST_STR}
    upos = H.UD27_UPOS_NAMES.index
    write(path, {"tokens": [["_", "_", "_"], ["行く", "。"]], "upos": [[upos("NOUN"), upos("VERB"), upos("PUNCT")],
                                                                      [upos("VERB"), upos("PUNCT")]],
                 "head": [["2", "0", "2"], ["0", "1"]]}, types)
    got = get_task("udpos_all").read(tmp_path, "ja", "test", layout="hub")
    assert [(e.words, e.tags) for e in got] == [(("行く", "。"), ("VERB", "PUNCT"))]
    assert sum(got.skipped.values()) == 1  # the withheld sentence, counted
    write(path, {"tokens": [["行く"]], "upos": [[upos("_")]], "head": [["0"]]}, types)
    with pytest.raises(DataError, match=r"row 0: upos\[0\] of word '行く' is '_'; expected a UPOS tag"):
        get_task("udpos_all").read(tmp_path, "ja", "test", layout="hub")


def test_hub_udpos_holds_syntactic_words_and_says_so(tmp_path):
    # google/xtreme's loading script kept syntactic words, not XTREME's fused ones: asking for fused is an error
    write(hub_file(tmp_path, f"google/xtreme/udpos.Dutch/{SHARD}"),
          {"tokens": [["naar", "de", "markt"]], "pos_tags": [[1, 5, 7]]}, {"tokens": LIST_STR, "pos_tags": LIST_INT})
    udpos = get_task("udpos")
    assert udpos.read(tmp_path, "nl", "dev", ud_words="syntactic").tokenization == "ud_words=syntactic"
    with pytest.raises(ValueError, match=r"its words are ud_words=syntactic; ud_words=fused needs another layout's "
                                         r"files \(python -m data.tasks --layout\), or read these with ud_words=syntactic"):
        udpos.read(tmp_path, "nl", "dev", ud_words="fused")


def test_span_offsets_are_moved_onto_stripped_contexts_and_v2_empty_answers_are_null(tmp_path):
    # google/xtreme stripped " Die Stadt Berlin." but kept answer_start 11 (of the unstripped context).
    write(hub_file(tmp_path, f"google/xtreme/XQuAD.de/{SHARD}"),
          {"id": ["q1"], "context": ["Die Stadt Berlin."], "question": ["Welche?"],
           "answers": [{"text": ["Berlin"], "answer_start": [11]}]},
          {"id": STR, "context": STR, "question": STR, "answers": ANSWERS})
    write(hub_file(tmp_path, f"rajpurkar/squad_v2/squad_v2/{SHARD}"),
          {"id": ["a", "b"], "title": ["T", "T"], "context": ["x y", "x y"], "question": ["q?", "r?"],
           "answers": [{"text": ["y"], "answer_start": [2]}, {"text": [], "answer_start": []}]},
          {"id": STR, "title": STR, "context": STR, "question": STR, "answers": ANSWERS})
    write(hub_file(tmp_path, f"google/xtreme/tydiqa/{SHARD}"),
          {"id": ["arabic-1-0", "english-2-0"], "context": ["c d", "e f"], "question": ["?", "?"],
           "answers": [{"text": ["d"], "answer_start": [2]}, {"text": ["f"], "answer_start": [2]}]},
          {"id": STR, "context": STR, "question": STR, "answers": ANSWERS})
    assert list(get_task("xquad").read(tmp_path, "de", "test")) == [
        SpanExample("q1", "de", "Welche?", "Die Stadt Berlin.", (Answer("Berlin", 10),), False)]
    assert list(get_task("squad_v2").read(tmp_path, "en", "dev")) == [
        SpanExample("a", "en", "q?", "x y", (Answer("y", 2),), False), SpanExample("b", "en", "r?", "x y", (), True)]
    assert list(get_task("tydiqa").read(tmp_path, "ar", "dev")) == [
        SpanExample("arabic-1-0", "ar", "?", "c d", (Answer("d", 2),), False)]


def test_multiple_choice_readers(tmp_path):
    write(hub_file(tmp_path, "Rowan/hellaswag/default/validation/0000.parquet"),
          {"ind": [5, 6], "activity_label": ["x", "x"], "ctx_a": ["A man", "B"], "ctx_b": ["he", ""],
           "ctx": ["A man he", "B"], "endings": [["a", "b", "c", "d"]] * 2, "source_id": ["s", "s"],
           "split": ["val", "val"], "split_type": ["indomain"] * 2, "label": ["2", ""]},
          {"ind": INT32, "activity_label": STR, "ctx_a": STR, "ctx_b": STR, "ctx": STR, "endings": LIST_STR,
           "source_id": STR, "split": STR, "split_type": STR, "label": STR})
    write(hub_file(tmp_path, "allenai/cosmos_qa/default/validation/0000.parquet"),
          {"id": ["c1"], "context": ["ctx"], "question": ["q?"], **{f"answer{i}": [f"a{i}"] for i in range(4)},
           "label": [3]}, {"id": STR, "context": STR, "question": STR, "label": INT32,
                           **{f"answer{i}": STR for i in range(4)}})
    write(hub_file(tmp_path, f"tau/commonsense_qa/data/{SHARD}"),
          {"id": ["k"], "question": ["stem?"], "question_concept": ["c"],
           "choices": [{"label": list("ABCDE"), "text": list("vwxyz")}], "answerKey": ["C"]},
          {"id": STR, "question": STR, "question_concept": STR, "choices": CHOICES, "answerKey": STR})
    assert list(get_task("hellaswag").read(tmp_path, "en", "dev")) == [
        ChoiceExample("5", "en", "A man", ("he a", "he b", "he c", "he d"), 2),
        ChoiceExample("6", "en", "B", ("a", "b", "c", "d"), None)]
    assert list(get_task("cosmosqa").read(tmp_path, "en", "dev")) == [
        ChoiceExample("c1", "en", "ctx q?", ("a0", "a1", "a2", "a3"), 3)]
    assert list(get_task("commonsenseqa").read(tmp_path, "en", "dev")) == [
        ChoiceExample("k", "en", "stem?", tuple("vwxyz"), 2)]


def test_tatoeba_rows_keep_the_alignment_and_lose_the_newlines(tmp_path):
    write(hub_file(tmp_path, f"google/xtreme/tatoeba.deu/{SHARD}"),
          {"source_sentence": ["Hallo.\n", "Ja.\n"], "target_sentence": ["Hello.\n", "Yes."],
           "source_lang": ["deu", "deu"], "target_lang": ["eng", "eng"]},
          {"source_sentence": STR, "target_sentence": STR, "source_lang": STR, "target_lang": STR})
    got = get_task("tatoeba").read(tmp_path, "de", "test")
    assert got == Bitext("tatoeba-de-test", "de", ("0", "1"), ("Hallo.", "Ja."), ("0", "1"), ("Hello.", "Yes."),
                         frozenset({("0", "0"), ("1", "1")}))


def test_check_reports_the_hub_layout_labelled_and_a_forced_layout(tmp_path):
    test_tatoeba_rows_keep_the_alignment_and_lose_the_newlines(tmp_path)
    report = check(tmp_path, tasks=["tatoeba"], langs=["de"])
    (entry,) = report["tasks"][0]["entries"]
    assert (report["ok"], entry["layout"], entry["labelled"], entry["n_examples"]) == (True, "hub", True, 2)
    assert report["layout"] == "auto: the first found, in registry order (upstream, hub, xtreme)"
    forced = check(tmp_path, tasks=["tatoeba"], langs=["de"], layout="xtreme")
    assert not forced["ok"] and forced["layout"] == "xtreme only"
    assert forced["tasks"][0]["entries"][0]["status"] == "missing"
    with pytest.raises(ValueError, match="layout 'parquet'; expected auto or one of upstream, hub, xtreme"):
        check(tmp_path, layout="parquet")


def test_the_layout_choice_reaches_the_entry_points(tmp_path):
    import evaluate
    import retrieval
    from data.readers.common import MissingDataError

    test_tatoeba_rows_keep_the_alignment_and_lose_the_newlines(tmp_path)
    task = get_task("tatoeba")
    assert retrieval.read_bitext(task, tmp_path, "de", "test", "hub").tgt == ("Hello.", "Yes.")
    with pytest.raises(MissingDataError, match="tatoeba/de-en.de"):
        retrieval.read_bitext(task, tmp_path, "de", "test", "xtreme")
    test_xnli_label_ids_are_mapped_by_the_card_order(tmp_path)
    get_task("xnli").check_gold(tmp_path, ["de"], "test", "hub")
    with pytest.raises(MissingDataError):
        get_task("xnli").check_gold(tmp_path, ["de"], "test", "upstream")
    assert evaluate.parse_args(["--ckpt", "x"]).layout == config.DataConfig().layout == "auto"
    assert retrieval.parse_args(["--ckpt", "x", "--task", "tatoeba", "--layout", "hub"]).layout == "hub"


# ---- 2. real files converted to the Hub's schema --------------------------------------------------------------
def _realdata() -> Path:
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared/realdata is absent (set XSTILTS_SHARED)")
    return shared / "realdata" / "DATA"


def xquad_to_hub(src: Path, dest: Path) -> None:
    """What google/xtreme's loading script wrote for XQuAD.L: context, question and answer texts .strip()-ed,
    answer_start as in the file."""
    doc = json.loads(src.read_text(encoding="utf-8"))
    rows = {"id": [], "context": [], "question": [], "answers": []}
    for article in doc["data"]:
        for par in article["paragraphs"]:
            for qa in par["qas"]:
                rows["id"].append(qa["id"])
                rows["context"].append(par["context"].strip())
                rows["question"].append(qa["question"].strip())
                rows["answers"].append({"text": [a["text"].strip() for a in qa["answers"]],
                                        "answer_start": [a["answer_start"] for a in qa["answers"]]})
    write(dest, rows, {"id": STR, "context": STR, "question": STR, "answers": ANSWERS})


@pytest.mark.slow
def test_real_xquad_from_the_hub_schema_equals_the_original_up_to_stripped_whitespace(tmp_path):
    data = _realdata()
    task = get_task("xquad")
    moved = 0
    for lang in task.langs:
        xquad_to_hub(data / "xquad" / f"xquad.{lang}.json", hub_file(tmp_path, f"google/xtreme/XQuAD.{lang}/{SHARD}"))
        original = task.read(data, lang, "test", layout="upstream")
        hub = task.read(tmp_path, lang, "test", layout="hub")
        assert len(hub) == len(original) == 1190
        for o, h in zip(original, hub):
            lead = len(o.context) - len(o.context.lstrip())
            expected = SpanExample(o.id, lang, o.question.strip(), o.context.strip(),
                                   tuple(Answer(a.text, a.start - lead) for a in o.answers), False)
            assert h == expected
            assert all(h.context[a.start:a.start + len(a.text)] == a.text for a in h.answers)
            moved += lead > 0
    assert moved == 169  # questions whose context had leading whitespace (34 contexts), measured on the files


@pytest.mark.slow
def test_real_tatoeba_from_the_hub_schema_equals_the_original(tmp_path):
    data = _realdata()
    task = get_task("tatoeba")
    for lang in task.langs:
        code = need(lang, "laser")
        src = (data / "tatoeba" / f"tatoeba.{code}-eng.{code}").read_text(encoding="utf-8").splitlines(keepends=True)
        tgt = (data / "tatoeba" / f"tatoeba.{code}-eng.eng").read_text(encoding="utf-8").splitlines(keepends=True)
        write(hub_file(tmp_path, f"google/xtreme/tatoeba.{code}/{SHARD}"),  # one row per line, newline kept
              {"source_sentence": src, "target_sentence": tgt, "source_lang": [code] * len(src),
               "target_lang": ["eng"] * len(src)},
              {"source_sentence": STR, "target_sentence": STR, "source_lang": STR, "target_lang": STR})
        assert task.read(tmp_path, lang, "test", layout="hub") == task.read(data, lang, "test", layout="upstream")


def udpos_to_hub(conllu: Path, dest: Path) -> None:
    """What google/xtreme's loading script wrote for udpos.*: per sentence, every row with 10 columns whose form and
    UPOS are not "_" (multiword-token lines have UPOS "_"; empty nodes keep theirs), as ClassLabel ids."""
    import csv

    tokens, tags, sent_t, sent_p = [], [], [], []
    with open(conllu, encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 10 and row[1] != "_" and row[3] != "_":
                sent_t.append(row[1])
                sent_p.append(H.UPOS_NAMES.index(row[3]))
            if len(row) == 0 and sent_t:
                tokens.append(sent_t)
                tags.append(sent_p)
                sent_t, sent_p = [], []
    write(dest, {"tokens": tokens, "pos_tags": tags}, {"tokens": LIST_STR, "pos_tags": LIST_INT})


@pytest.mark.parametrize("treebank, split, extra_words", [("UD_English-EWT/en_ewt-ud-dev.conllu", "dev", 3),
                                                          ("UD_English-PUD/en_pud-ud-test.conllu", "test", 7),
                                                          ("UD_English-ParTUT/en_partut-ud-test.conllu", "test", 0)])
@pytest.mark.slow
def test_real_ud_from_the_hub_schema_differs_only_by_empty_nodes(tmp_path, treebank, split, extra_words):
    conllu = _realdata() / "udpos" / "ud-treebanks-v2.5" / treebank
    hub_split = {"dev": "validation", "test": "test"}[split]
    udpos_to_hub(conllu, hub_file(tmp_path, f"google/xtreme/udpos.English/{hub_split}-00000-of-00001.parquet"))
    from data.readers.tagging import read_conllu

    upstream = read_conllu([conllu], "en", split, UPOS, ud_words="syntactic")  # the Hub script's words
    hub = get_task("udpos").read(tmp_path, "en", split, layout="hub")
    assert len(hub) == len(upstream)
    rows = [line.split("\t") for line in conllu.read_text(encoding="utf-8").splitlines() if line[:1].isdigit()]
    empty_nodes = sum(1 for r in rows if "." in r[0] and r[1] != "_" and r[3] != "_")  # kept by the Hub's script
    assert sum(len(h.words) - len(u.words) for h, u in zip(hub, upstream)) == extra_words == empty_nodes
    assert [(h.words, h.tags) for h, u in zip(hub, upstream) if len(h.words) == len(u.words)] == \
           [(u.words, u.tags) for h, u in zip(hub, upstream) if len(h.words) == len(u.words)]


def test_real_cosmosqa_from_the_hub_schema_equals_the_original(tmp_path):
    import csv

    src = _realdata() / "cosmosqa" / "valid.csv"
    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    keys = ["id", "context", "question", "answer0", "answer1", "answer2", "answer3"]
    write(hub_file(tmp_path, "allenai/cosmos_qa/default/validation/0000.parquet"),  # cosmos_qa.py: the CSV's rows
          {**{k: [r[k] for r in rows] for k in keys}, "label": [int(r["label"]) for r in rows]},
          {**{k: STR for k in keys}, "label": INT32})
    hub = get_task("cosmosqa").read(tmp_path, "en", "dev", layout="hub")
    assert len(hub) == 1000 and list(hub) == list(get_task("cosmosqa").read(src.parent.parent, "en", "dev"))


# ---- 3. data.download --source hub against a pre-filled Hugging Face cache ------------------------------------
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_cache(cache: Path, repo: str, files: dict[str, Path], revision: str = "main") -> None:
    """The Hugging Face cache layout: datasets--owner--name/{refs/<revision>, snapshots/<commit>/<path>}."""
    folder = cache / f"datasets--{repo.replace('/', '--')}"
    (folder / "refs" / revision).parent.mkdir(parents=True, exist_ok=True)
    (folder / "refs" / revision).write_text(COMMIT)
    for rel, src in files.items():
        dest = folder / "snapshots" / COMMIT / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(src.read_bytes())


@pytest.fixture()
def cache(tmp_path):
    """A cache with google/xtreme tatoeba.deu and tatoeba.fra, and Rowan/hellaswag on refs/convert/parquet."""
    build = tmp_path / "build"
    test_tatoeba_rows_keep_the_alignment_and_lose_the_newlines(build)
    tatoeba = hub_file(build, f"google/xtreme/tatoeba.deu/{SHARD}")
    tatoeba_fra = write(hub_file(build, f"google/xtreme/tatoeba.fra/{SHARD}"),
                        {"source_sentence": ["Oui.\n"], "target_sentence": ["Yes.\n"], "source_lang": ["fra"],
                         "target_lang": ["eng"]}, {k: STR for k in ("source_sentence", "target_sentence", "source_lang",
                                                                   "target_lang")})
    test_multiple_choice_readers(build)
    hellaswag = hub_file(build, "Rowan/hellaswag/default/validation/0000.parquet")
    root = tmp_path / "hf_cache"
    fill_cache(root, "google/xtreme", {f"tatoeba.deu/{SHARD}": tatoeba, f"tatoeba.fra/{SHARD}": tatoeba_fra})
    fill_cache(root, "Rowan/hellaswag", {"default/train/0000.parquet": hellaswag,
                                         "default/validation/0000.parquet": hellaswag},
               revision="refs/convert/parquet")
    return root


def run_download(argv, cache_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache_dir), "HF_HUB_DISABLE_TELEMETRY": "1"}
    return subprocess.run([sys.executable, "-m", "data.download", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_download_from_an_offline_cache_lays_out_a_data_dir_that_check_accepts(cache, tmp_path):
    out = tmp_path / "DATA"
    done = run_download(["--tasks", "tatoeba,hellaswag", "--source", "hub", "--langs", "en,de,fr", "--out", str(out)],
                        cache)
    assert done.returncode == 0, done.stderr
    assert done.stderr.rstrip().splitlines()[-2] == "OK"  # data.check's verdict, then the "done" line
    assert (out / "hub/google/xtreme/tatoeba.fra" / SHARD).is_file()
    assert (out / "hub/Rowan/hellaswag/default/train/0000.parquet").is_file()
    report = check(out, tasks=["tatoeba", "hellaswag"], langs=["en", "de", "fr"])
    assert report["ok"] and {e["layout"] for t in report["tasks"] for e in t["entries"]} == {"hub"}


def test_a_missing_config_or_split_is_one_line_naming_repo_config_and_split(cache, tmp_path, monkeypatch):
    import huggingface_hub.constants as C

    monkeypatch.setattr(C, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(C, "HF_HUB_CACHE", str(cache))
    with pytest.raises(D.DownloadError) as e:
        D.download_hub(["tatoeba"], tmp_path / "DATA", langs=["de", "fr", "ja"], log=lambda m: None)
    assert str(e.value) == ("hub: google/xtreme has no file for config tatoeba.jpn, split validation "
                            "(tatoeba ja test; looked for tatoeba.jpn/validation-*.parquet)")
    with pytest.raises(D.DownloadError, match=r"^hub: facebook/xnli \(revision main\) could not be fetched: .*\S$"):
        D.download_hub(["xnli"], tmp_path / "DATA", langs=["de"], log=lambda m: None)  # not in the cache
    with pytest.raises(ValueError, match="bucc2018 has no Hub copy .*gold pairs.*; use --source upstream"):
        D.download_hub(["bucc2018"], tmp_path / "DATA", log=lambda m: None)


def test_default_source_per_task_and_options_that_imply_upstream(tmp_path):
    assert set(D.DEFAULT_SOURCES) == set(TASKS_ALL) and set(D.SOURCES) <= set(TASKS_ALL)
    assert D.split_by_source(["belebele", "xquad"], None) == (["belebele"], ["xquad"])  # Hub-only: always the Hub
    with pytest.raises(ValueError, match=r"belebele: no upstream files to fetch .* use --source hub"):
        D.split_by_source(["belebele"], "upstream")
    assert D.split_by_source(["panx", "xquad", "tatoeba"], None) == (["panx", "tatoeba"], ["xquad"])
    assert D.split_by_source(["panx", "xquad"], "hub") == (["panx", "xquad"], [])
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "AmazonPhotos.zip").write_bytes(b"")  # the manual original at hand: upstream
    assert D.split_by_source(["panx"], None, tmp_path) == ([], ["panx"])
    for task, (source, _) in D.DEFAULT_SOURCES.items():
        if source == "hub":
            assert any(s.layout == "hub" for s in get_task(task).sources), task


# ---- 4. bad Parquet input ---------------------------------------------------------------------------------------
def _xnli_file(root: Path, columns: dict, types: dict) -> Path:
    return write(hub_file(root, "facebook/xnli/de/test-00000-of-00001.parquet"), columns, types)


def _one_line_error(root: Path) -> str:
    with pytest.raises(DataError) as e:
        get_task("xnli").read(root, "de", "test", layout="hub")
    assert "\n" not in str(e.value)
    return str(e.value)


def test_missing_column_is_one_line_naming_file_and_expected_columns(tmp_path):
    path = _xnli_file(tmp_path, {"premise": ["p"], "label": [0]}, {"premise": STR, "label": INT})
    assert _one_line_error(tmp_path) == (f"{path}: no column 'hypothesis' (has premise, label); expected columns "
                                         "premise: string, hypothesis: string, label: int")


def test_wrong_type_is_one_line_naming_file_column_and_type(tmp_path):
    path = _xnli_file(tmp_path, {"premise": ["p"], "hypothesis": ["h"], "label": ["entailment"]},
                      {"premise": STR, "hypothesis": STR, "label": STR})
    assert _one_line_error(tmp_path) == f"{path}: column 'label' is string; expected int"


def test_label_id_outside_the_classlabel_is_one_line_naming_file_and_row(tmp_path):
    path = _xnli_file(tmp_path, {"premise": ["p", "q"], "hypothesis": ["h", "i"], "label": [2, 3]},
                      {"premise": STR, "hypothesis": STR, "label": INT})
    assert _one_line_error(tmp_path) == (f"{path}:row 1: label id 3 is outside the ClassLabel; expected 0..2 "
                                         "(entailment, neutral, contradiction) or -1 for no label")


def test_tag_id_outside_the_classlabel_and_a_file_that_is_not_parquet(tmp_path):
    path = write(hub_file(tmp_path, "google/xtreme/PAN-X.de/test-00000-of-00001.parquet"),
                 {"tokens": [["a"], ["b", "c"]], "ner_tags": [[0], [0, 7]]}, {"tokens": LIST_STR, "ner_tags": LIST_INT})
    with pytest.raises(DataError, match=rf"^{path}:row 1: ner_tags id 7 is outside the ClassLabel; expected 0\.\.6 "
                                        r"\(O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC\)"):
        get_task("panx").read(tmp_path, "de", "test")
    path.write_text("not parquet")
    with pytest.raises(DataError, match=rf"^{path}: not a readable Parquet file \(.*\); expected a Hub Parquet "
                                        "shard with columns tokens: list<string>, ner_tags: list<int>$"):
        get_task("panx").read(tmp_path, "de", "test")


def test_check_collects_a_bad_hub_row_as_malformed(tmp_path):
    _xnli_file(tmp_path, {"premise": ["p", "q"], "hypothesis": ["h", "i"], "label": [2, 9]},
               {"premise": STR, "hypothesis": STR, "label": INT})
    entry = check(tmp_path, tasks=["xnli"], langs=["de"])["tasks"][0]["entries"]
    (test,) = [e for e in entry if e["split"] == "test"]
    assert (test["status"], test["layout"], test["n_examples"]) == ("malformed", "hub", 1)
    assert test["errors"][0].endswith("row 1: label id 9 is outside the ClassLabel; expected 0..2 (entailment, "
                                      "neutral, contradiction) or -1 for no label")


# ---- 5. requirements ----------------------------------------------------------------------------------------------
def test_requirements_pin_huggingface_hub_and_pyarrow():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert any(l.startswith("huggingface_hub>=") for l in lines) and any(l.startswith("pyarrow>=") for l in lines)


# ---- issue 22 item 2: udpos configs that hold other languages' treebanks --------------------------------------
@pytest.mark.parametrize("lang, name, other", [("el", "Greek", "Ancient Greek"), ("zh", "Chinese", "Classical Chinese")])
def test_hub_udpos_configs_holding_another_languages_treebanks_are_refused_with_the_reason(tmp_path, lang, name,
                                                                                           other):
    path = write(hub_file(tmp_path, f"google/xtreme/udpos.{name}/test-00000-of-00001.parquet"),
                 {"tokens": [["a"]], "pos_tags": [[7]]}, {"tokens": LIST_STR, "pos_tags": LIST_INT})
    with pytest.raises(DataError, match=rf"^{path}: google/xtreme udpos\.{name} also holds {other} .*'_{name}'.*"
                                        "rows do not say which treebank"):
        get_task("udpos").read(tmp_path, lang, "test", layout="hub", ud_words="syntactic")
    with pytest.raises(ValueError, match=rf"udpos .*{lang}.* cannot come from the Hub: .*udpos\.{name} also holds "
                                         rf"{other}.*--langs"):
        D.hub_requests(["udpos"], None)
    assert {r.lang for r in D.hub_requests(["udpos"], ["en", "nl"])} == {"en", "nl"}  # the others still come


# ---- issue 22 item 13: the Hub readers refuse what the upstream readers refuse, naming file and row ------------
def _xquad(root: Path, answers: list, ids=("q1", "q2")) -> Path:
    n = len(answers)
    return write(hub_file(root, f"google/xtreme/XQuAD.de/{SHARD}"),
                 {"id": list(ids)[:n], "context": ["Die Stadt Berlin."] * n, "question": ["Welche?"] * n,
                  "answers": answers}, {"id": STR, "context": STR, "question": STR, "answers": ANSWERS})


def _refusal(task: str, root: Path, lang: str, split: str, **kw) -> str:
    with pytest.raises(DataError) as e:
        get_task(task).read(root, lang, split, layout="hub", **kw)
    assert "\n" not in str(e.value)
    return str(e.value)


@pytest.mark.parametrize("answers, message", [
    ({"text": ["Berlin", None], "answer_start": [10, 10]}, "row 1: answers.text[1] is null; expected a value"),
    ({"text": ["Berlin"], "answer_start": [None]}, "row 1: answers.answer_start[0] is null; expected a value"),
    ({"text": None, "answer_start": None}, "row 1: 'answers.text' is null; expected a list"),
    ({"text": [], "answer_start": []}, "row 1: no answers; expected at least one (SQuAD v1.1-format questions are "
                                         "all answerable)"),
    ({"text": [""], "answer_start": [0]}, "row 1: answers.text[0] is empty; expected text"),
])
def test_null_or_empty_answers_are_refused_naming_file_and_row(tmp_path, answers, message):
    path = _xquad(tmp_path, [{"text": ["Berlin"], "answer_start": [10]}, answers])
    assert _refusal("xquad", tmp_path, "de", "test") == f"{path}:{message}"


@pytest.mark.parametrize("tokens, tags, message", [
    (["a", None], [7, 7], "tokens[1] is null; expected a value"),
    (["a", ""], [7, 7], "tokens[1] is empty; expected text"),
    (["a", " "], [7, 7], "tokens[1] is blank; expected text"),
    (["a", "b"], [7, -1], "pos_tags[1] is -1 (no label); expected a tag id for every token"),
    (["a", "b"], [7, None], "pos_tags[1] is null; expected a value"),
    ([], [], "no tokens; expected a sentence of at least one token"),
])
def test_null_or_empty_tokens_and_missing_tags_are_refused(tmp_path, tokens, tags, message):
    path = write(hub_file(tmp_path, f"google/xtreme/udpos.Dutch/{SHARD}"),
                 {"tokens": [["x"], tokens], "pos_tags": [[7], tags]}, {"tokens": LIST_STR, "pos_tags": LIST_INT})
    assert _refusal("udpos", tmp_path, "nl", "dev", ud_words="syntactic") == f"{path}:row 1: {message}"
    report = check(tmp_path, tasks=["udpos"], langs=["nl"])  # data.check no longer calls it ok
    assert any(e["status"] == "malformed" for t in report["tasks"] for e in t["entries"] if e["lang"] == "nl")


def test_a_corrupt_page_and_bad_utf8_after_the_schema_check_name_the_file(tmp_path):
    path = _xnli_file(tmp_path, {"premise": ["p" * 40] * 30, "hypothesis": ["h"] * 30, "label": [0] * 30},
                      {"premise": STR, "hypothesis": STR, "label": INT})
    data = bytearray(path.read_bytes())
    data[8:16] = b"\xff" * 8  # the first page header; the footer (schema) is intact
    path.write_bytes(bytes(data))
    assert pq.read_schema(path).names == ["premise", "hypothesis", "label"]
    assert _refusal("xnli", tmp_path, "de", "test").startswith(f"{path}: its rows cannot be read (")
    bad = pa.array([b"ok", b"caf\xe9"], type=pa.binary()).view(pa.string())  # not UTF-8, as a string column
    pq.write_table(pa.table({"premise": bad, "hypothesis": ["h", "h"], "label": pa.array([0, 1], INT)}), path)
    assert _refusal("xnli", tmp_path, "de", "test").startswith(f"{path}:row 1: column 'premise' is not valid UTF-8")


def test_a_null_id_a_null_ending_and_an_empty_shard_are_refused(tmp_path):
    path = write(hub_file(tmp_path, f"nyu-mll/glue/mnli/{'validation_matched'}-00000-of-00001.parquet"),
                 {"premise": ["p", "q"], "hypothesis": ["h", "i"], "label": [0, 1], "idx": [0, None]},
                 {"premise": STR, "hypothesis": STR, "label": INT, "idx": INT32})
    assert _refusal("mnli", tmp_path, "en", "dev") == f"{path}:row 1: 'idx' is null; expected a value"
    path = write(hub_file(tmp_path, "Rowan/hellaswag/default/validation/0000.parquet"),
                 {"ind": [5], "ctx_a": ["A man"], "ctx_b": ["he"], "endings": [["a", None, "c", "d"]], "label": ["1"]},
                 {"ind": INT32, "ctx_a": STR, "ctx_b": STR, "endings": LIST_STR, "label": STR})
    assert _refusal("hellaswag", tmp_path, "en", "dev") == f"{path}:row 0: endings[1] is null; expected a value"
    path = _xnli_file(tmp_path, {"premise": [], "hypothesis": [], "label": []},
                      {"premise": STR, "hypothesis": STR, "label": INT})
    assert _refusal("xnli", tmp_path, "de", "test") == f"{path}: no rows; expected at least one (an empty shard is a " \
                                                       "broken copy)"


@pytest.mark.parametrize("label", ["²", "٣", "1.0", " 1"])
def test_a_choice_label_must_be_ascii_digits(tmp_path, label):
    path = write(hub_file(tmp_path, "Rowan/hellaswag/default/validation/0000.parquet"),
                 {"ind": [5], "ctx_a": ["A man"], "ctx_b": ["he"], "endings": [["a", "b", "c", "d"]], "label": [label]},
                 {"ind": INT32, "ctx_a": STR, "ctx_b": STR, "endings": LIST_STR, "label": STR})
    assert _refusal("hellaswag", tmp_path, "en", "dev") == (f"{path}:row 0: label {label!r}; expected a choice index "
                                                            "0..3 as a string")


def test_a_tatoeba_row_of_another_language_is_refused(tmp_path):
    path = write(hub_file(tmp_path, f"google/xtreme/tatoeba.deu/{SHARD}"),
                 {"source_sentence": ["Hallo.", "Oui."], "target_sentence": ["Hello.", "Yes."],
                  "source_lang": ["deu", "fra"], "target_lang": ["eng", "eng"]},
                 {"source_sentence": STR, "target_sentence": STR, "source_lang": STR, "target_lang": STR})
    with pytest.raises(DataError, match=rf"^{path}:row 1: source_lang 'fra', target_lang 'eng'; expected 'deu' and "
                                        r"'eng' \(config tatoeba.deu\)$"):
        get_task("tatoeba").read(tmp_path, "de", "test")


def test_a_duplicate_id_names_its_row_and_the_first(tmp_path):
    path = _xquad(tmp_path, [{"text": ["Berlin"], "answer_start": [10]}] * 3, ids=("q1", "q2", "q1"))
    assert _refusal("xquad", tmp_path, "de", "test") == (f"{path}:row 2: duplicate id 'q1' (first on row 0); "
                                                         "expected every id once")


def test_anli_plus_tells_a_shards_source_by_its_own_repo_folder_not_a_folder_above(tmp_path):
    root = tmp_path / "snli" / "DATA"  # a DATA_DIR under a folder named snli: MNLI rows stay MNLI
    nli = {"premise": STR, "hypothesis": STR, "label": INT}
    for r in ("r1", "r2", "r3"):
        write(hub_file(root, f"facebook/anli/plain_text/train_{r}-00000-of-00001.parquet"),
              {"uid": [f"u{r}"], "premise": ["P"], "hypothesis": ["H"], "label": [2]}, {**nli, "uid": STR})
    write(hub_file(root, "stanfordnlp/snli/plain_text/train-00000-of-00001.parquet"),
          {"premise": ["s"], "hypothesis": ["t"], "label": [0]}, nli)
    write(hub_file(root, "nyu-mll/glue/mnli/train-00000-of-00001.parquet"),
          {"premise": ["m"], "hypothesis": ["n"], "label": [1], "idx": [0]}, {**nli, "idx": INT32})
    got = get_task("anli_plus").read(root, "en", "train", layout="hub")
    assert [e.id.split(":")[0] for e in got] == ["anli_r1", "anli_r2", "anli_r3", "snli", "mnli"]


@pytest.mark.slow
def test_real_americasnli_from_the_hub_schema_equals_the_original_but_for_ids(tmp_path):
    """nala-cub/americas_nli's card: per language code a config, splits validation/test, premise, hypothesis and a
    ClassLabel(entailment, neutral, contradiction); Parquet on refs/convert/parquet as <code>/<split>/0000.parquet.
    The real Aymara and Wixarika test files written in that schema read back as the original examples."""
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared/realdata not found")
    task = get_task("americasnli")
    assert {s.revision for s in task.sources if s.layout == "hub"} == {"refs/convert/parquet"}
    for code, lang in (("aym", "ay"), ("hch", "hch")):
        original = list(task.read(shared / "realdata" / "DATA", lang, "test", layout="original"))
        write(hub_file(tmp_path, f"nala-cub/americas_nli/{code}/test/0000.parquet"),
              {"premise": [e.text_a for e in original], "hypothesis": [e.text_b for e in original],
               "label": [H.NLI_NAMES.index(e.label) for e in original]},
              {"premise": STR, "hypothesis": STR, "label": INT})
        hub = task.read(tmp_path, lang, "test", layout="hub")
        assert hub.layout == "hub" and len(hub) == len(original) == 750
        assert [(e.lang, e.text_a, e.text_b, e.label) for e in hub] == [
            (e.lang, e.text_a, e.text_b, e.label) for e in original]
        assert hub[0].id == "0000.parquet:0"
    reqs = D.hub_requests(["americasnli"], ["ay"])  # what `data.download --source hub` fetches
    assert {(r.repo, r.revision, r.pattern, r.required) for r in reqs} == {
        ("nala-cub/americas_nli", "refs/convert/parquet", "aym/validation/*.parquet", False),  # dev: optional
        ("nala-cub/americas_nli", "refs/convert/parquet", "aym/test/*.parquet", True)}
