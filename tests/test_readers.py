"""Readers: every format's output checked exactly on the hand-made fixture DATA_DIR (both layouts), and the bad
inputs of issue 3 item 4 (each error names file:line or file:id and what was expected).

    python -m pytest -q tests/test_readers.py
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data.examples import Answer, Bitext, ChoiceExample, DataError, PairExample, SingleExample, SpanExample, TagExample
from data.readers import MissingDataError
from data.tasks import get_task

FIX = Path(__file__).parent / "fixtures" / "data"


def read(task, lang, split, layout=None, data_dir=FIX):
    return get_task(task).read(data_dir, lang, split, layout=layout)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---- pair classification ---------------------------------------------------------------------------------------
def test_xnli_original_keeps_one_language_of_the_combined_file():
    ex = read("xnli", "de", "dev")
    assert ex.layout == "original"
    assert ex == [PairExample("1", "de", "Er sagte „ja“.", "Er war müde.", "neutral"),
                  PairExample("2", "de", "Die Katze schläft.", "Ein Tier ruht.", "entailment")]
    assert read("xnli", "en", "dev")[0] == PairExample("1", "en", 'He said "yes" to me.', "He agreed.", "entailment")
    assert read("xnli", "de", "test") == [PairExample("3", "de", "Ein Mann spielt.", "Niemand spielt.", "contradiction")]


def test_xnli_xtreme_layout_undoes_csv_quoting_and_has_no_test_labels():
    dev = read("xnli", "en", "dev", layout="xtreme")
    assert dev == [PairExample("dev-en.tsv:1", "en", 'He said "yes" to me.', "He agreed.", "entailment"),
                   PairExample("dev-en.tsv:2", "en", "The cat sleeps.", "The cat is running.", "contradiction")]
    test = read("xnli", "de", "test", layout="xtreme")
    assert test == [PairExample("test-de.tsv:1", "de", "Ein Mann spielt.", "Niemand spielt.", None)]
    assert read("xnli", "en", "train") == [
        PairExample("train-en.tsv:1", "en", 'He said "yes".', "He agreed.", "entailment"),
        PairExample("train-en.tsv:2", "en", "The cat sleeps.", "The cat runs.", "contradiction")]


def test_xnli_train_falls_back_to_mnli_when_no_xnli_train_file(tmp_path):
    shutil.copytree(FIX / "mnli", tmp_path / "mnli")
    ex = read("xnli", "en", "train", data_dir=tmp_path)
    assert ex.layout == "glue" and ex.paths == (str(tmp_path / "mnli/MNLI/train.tsv"),)
    assert [e.label for e in ex] == ["entailment", "contradiction", "neutral"]


def test_pawsx_original_and_xtreme_layouts():
    assert read("pawsx", "de", "test") == [PairExample("1", "de", "Anna traf Ben.", "Ben traf Anna.", "1"),
                                           PairExample("2", "de", "Anna sah Ben.", "Ben sah Anna.", "0")]
    assert read("pawsx", "en", "train")[1] == PairExample("2", "en", "Tom hit Bob.", "Bob hit Tom.", "0")
    assert read("pawsx", "de", "test", layout="xtreme") == [
        PairExample("test-de.tsv:1", "de", "Anna traf Ben.", "Ben traf Anna.", None),
        PairExample("test-de.tsv:2", "de", "Anna sah Ben.", "Ben sah Anna.", None)]
    assert read("pawsx", "en", "train", layout="xtreme")[0].label == "1"


def test_mnli_glue_and_jsonl_agree_and_jsonl_counts_skipped_dash_labels():
    glue = read("mnli", "en", "dev")
    orig = read("mnli", "en", "dev_matched", layout="original")
    assert glue == orig == [PairExample("200n", "en", 'She said "hi".', "She spoke.", "entailment"),
                            PairExample("201c", "en", "It is hot.", "It is cold.", "contradiction")]
    assert glue.skipped == {} and orig.skipped == {"gold_label '-'": 1}
    assert read("mnli", "en", "dev_mismatched") == [PairExample("300e", "en", "Prices rose.", "Prices changed.",
                                                                "entailment")]


def test_anli_plus_train_joins_anli_rounds_snli_and_mnli():
    ex = read("anli_plus", "en", "train")
    assert [e.id for e in ex] == ["anli_r1:R1-t1", "anli_r2:R2-t1", "anli_r3:R3-t1", "snli:snli-1",
                                  "mnli:100e", "mnli:101c", "mnli:102n"]
    assert ex[0] == PairExample("anli_r1:R1-t1", "en", "Context R1.", "A hypothesis.", "entailment")
    assert ex.skipped == {"snli: gold_label '-'": 1}
    assert [e.label for e in read("anli_plus", "en", "dev")] == ["contradiction"] * 3
    assert [e.label for e in read("anli_plus", "en", "test")] == ["neutral"] * 3


def test_glue_qqp_and_sst2():
    assert read("qqp", "en", "train") == [
        PairExample("5", "en", "How do I cook rice?", "What is the way to cook rice?", "1"),
        PairExample("6", "en", "Why is the sky blue?", "How tall is Everest?", "0")]
    assert read("sst2", "en", "train") == [SingleExample("train.tsv:2", "en", "a gorgeous film ", "1"),
                                           SingleExample("train.tsv:3", "en", "dull and slow ", "0")]


# ---- tagging ---------------------------------------------------------------------------------------------------
def test_conllu_reads_xtreme_fused_words_by_default_and_syntactic_words_on_request():
    de = read("udpos", "de", "test")
    assert de == [TagExample("de_gsd-ud-test.conllu:gsd-1", "de", ("Er", "geht", "zum", "Markt", "."),
                             ("PRON", "VERB", "ADP", "NOUN", "PUNCT"))]  # the empty node 5.1 is no word
    assert de.tokenization == "ud_words=fused"
    assert read("udpos", "en", "train")[1] == TagExample(
        "en_ewt-ud-train.conllu:ewt-2", "en", ("I", "can't", "."), ("PRON", "AUX", "PUNCT"))
    syn = get_task("udpos").read(FIX, "de", "test", ud_words="syntactic")
    assert syn == [TagExample("de_gsd-ud-test.conllu:gsd-1", "de", ("Er", "geht", "zu", "dem", "Markt", "."),
                              ("PRON", "VERB", "ADP", "DET", "NOUN", "PUNCT"))]
    assert syn.tokenization == "ud_words=syntactic"
    assert read("udpos", "en", "train", layout="xtreme").tokenization == "ud_words=fused"
    assert read("panx", "de", "test", layout="xtreme").tokenization == ""


def test_xtreme_udpos_files_refuse_syntactic_words():
    with pytest.raises(ValueError, match=r"train-en.tsv: its words are ud_words=fused; ud_words=syntactic needs "
                                         r"another layout's files"):
        get_task("udpos").read(FIX, "en", "train", layout="xtreme", ud_words="syntactic")
    assert get_task("udpos").read(FIX, "en", "train", layout="xtreme", ud_words="fused")


def test_read_options_are_checked():
    with pytest.raises(ValueError, match=r"ud_words='fusd'; expected one of fused, syntactic"):
        get_task("udpos").read(FIX, "de", "test", ud_words="fusd")
    with pytest.raises(ValueError, match=r"unknown read option\(s\) words; expected ud_words"):
        get_task("udpos").read(FIX, "de", "test", words="fused")
    # a reader that has no such option is not given it (XNLI has no multiword tokens)
    assert get_task("xnli").read(FIX, "de", "test", ud_words="syntactic")[0].label == "contradiction"


def test_conllu_reads_every_treebank_of_a_language_in_sorted_order_and_counts_withheld_text():
    en = read("udpos", "en", "test")
    assert [e.id for e in en] == ["en_ewt-ud-test.conllu:ewt-test-1", "en_gum-ud-test.conllu:gum-1"]
    ja = read("udpos", "ja", "test")
    assert ja == [TagExample("ja_gsd-ud-test.conllu:ja-gsd-1", "ja", ("猫", "が", "寝る", "。"),
                             ("NOUN", "ADP", "VERB", "PUNCT"))]
    assert ja.skipped == {"text withheld (every form '_', or all but one, as XTREME drops)": 1}


def test_xtreme_tag_files_train_labelled_test_tokens_only():
    assert read("udpos", "en", "train", layout="xtreme") == [
        TagExample("train-en.tsv:1", "en", ("Dogs", "bark", "."), ("NOUN", "VERB", "PUNCT")),
        TagExample("train-en.tsv:5", "en", ("I", "ca", "n't", "."), ("PRON", "AUX", "PART", "PUNCT"))]
    assert read("udpos", "en", "test", layout="xtreme") == [
        TagExample("test-en.tsv:1", "en", ("Cats", "sleep", "."), None),
        TagExample("test-en.tsv:5", "en", ("Go", "!"), None)]
    assert read("panx", "de", "test", layout="xtreme")[1] == TagExample("test-de.tsv:7", "de", ("Siemens",), None)


def test_panx_original_strips_the_language_prefix():
    assert read("panx", "de", "test") == [
        TagExample("test:1", "de", ("Angela", "Merkel", "lebt", "in", "Berlin"), ("B-PER", "I-PER", "O", "O", "B-LOC")),
        TagExample("test:7", "de", ("Siemens",), ("B-ORG",))]
    assert [e.words for e in read("panx", "en", "train")] == [e.words for e in read("panx", "en", "train", "xtreme")]


def test_ccg_reads_supertags_and_label_set_from_tags_to_id():
    assert read("ccg", "en", "train") == [
        TagExample("ccg.train.tsv:1", "en", ("John", "likes", "Mary", "."), ("NP", "(S\\NP)/NP", "NP", ".")),
        TagExample("ccg.train.tsv:2", "en", ("The", "dog", "sleeps"), ("NP/N", "N", "S\\NP"))]
    assert get_task("ccg").get_labels(FIX) == ("N", "NP", "(S\\NP)/NP", ".", "NP/N", "S\\NP")


# ---- span ------------------------------------------------------------------------------------------------------
def test_xquad_answers_kept_and_xtreme_blanked_answers_read_as_unlabelled():
    assert read("xquad", "en", "test") == [SpanExample(
        "q1", "en", "Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.",
        (Answer("Paris", 22), Answer("Paris.", 22)))]
    assert read("xquad", "de", "test") == [SpanExample("q1", "de", "Wo steht der Eiffelturm?",
                                                       "Der Eiffelturm steht in Paris.", None)]
    assert get_task("xquad").has_gold(FIX, "en", "test") and not get_task("xquad").has_gold(FIX, "de", "test")


def test_mlqa_reads_context_language_files():
    assert read("mlqa", "de", "test") == [SpanExample("m3", "de", "Was ist die Hauptstadt Italiens?",
                                                      "Rom ist die Hauptstadt Italiens.", (Answer("Rom", 0),))]


def test_tydiqa_language_comes_from_the_id_prefix():
    assert read("tydiqa", "ar", "dev") == [SpanExample("arabic-300-0", "ar", "ما عاصمة مصر؟", "القاهرة عاصمة مصر.",
                                                       (Answer("القاهرة", 0),))]
    assert [e.id for e in read("tydiqa", "en", "train")] == ["english-100-0"]
    xt = read("tydiqa", "en", "dev", layout="xtreme")
    assert xt[0].id == "english-400-0" and xt[0].answers is None


def test_squad_v2_null_answers_and_v1():
    assert read("squad_v2", "en", "dev") == [
        SpanExample("v3", "en", "Who melts ice?", "Ice melts at 0 degrees.", (), True),
        SpanExample("v4", "en", "When does ice melt?", "Ice melts at 0 degrees.", (Answer("0 degrees", 13),), False)]
    assert read("squad_v1", "en", "dev")[0].answers == (Answer("0 degrees", 13), Answer("0", 13))


# ---- multiple choice -------------------------------------------------------------------------------------------
def test_hellaswag_choice_is_ctx_b_plus_ending():
    assert read("hellaswag", "en", "train") == [
        ChoiceExample("4", "en", "A man cracks eggs into a bowl.",
                      ("he whisks them.", "he eats the bowl.", "he sings.", "he sleeps."), 0),
        ChoiceExample("5", "en", "A woman opens a door.",
                      ("She walks out.", "The door eats her.", "Fish fly.", "She melts."), 0)]


def test_cosmosqa_csv_and_jsonl():
    assert read("cosmosqa", "en", "train")[0] == ChoiceExample(
        "c1", "en", "I missed the bus, so I walked. Why did I walk?",
        ("I missed the bus.", "I like rain.", 'I said "no".', "None of the above choices ."), 0)
    assert read("cosmosqa", "en", "dev") == [ChoiceExample(
        "c3", "en", "She smiled. How did she feel?", ("Sad.", "Angry.", "Happy.", "None of the above choices ."), 2)]


def test_commonsenseqa_label_is_index_of_answer_key():
    assert read("commonsenseqa", "en", "train")[1] == ChoiceExample(
        "k2", "en", "What do you use to write?", ("spoon", "pen", "rock", "cup", "sock"), 1)


def test_commonsenseqa_hugging_face_export_reads_like_the_original(tmp_path):
    choices = '{"label": ["A", "B", "C", "D", "E"], "text": ["spoon", "pen", "rock", "cup", "sock"]}'
    write(tmp_path, "commonsenseqa/train_rand_split.jsonl",
          f'{{"id": "k2", "question": "What do you use to write?", "question_concept": "x", "choices": {choices}, '
          f'"answerKey": "B"}}\n'
          f'{{"id": "k3", "question": "Unlabelled?", "question_concept": "x", "choices": {choices}, "answerKey": ""}}\n')
    assert read("commonsenseqa", "en", "train", data_dir=tmp_path) == [
        read("commonsenseqa", "en", "train")[1],
        ChoiceExample("k3", "en", "Unlabelled?", ("spoon", "pen", "rock", "cup", "sock"), None)]


def test_commonsenseqa_bad_question_or_choices_name_both_layouts(tmp_path):
    write(tmp_path, "commonsenseqa/train_rand_split.jsonl", '{"id": "k", "question": 3, "answerKey": "A"}\n')
    with pytest.raises(DataError, match=r"train_rand_split.jsonl:1: 'question' is int; expected dict/str"):
        read("commonsenseqa", "en", "train", data_dir=tmp_path)
    write(tmp_path, "commonsenseqa/train_rand_split.jsonl",
          '{"id": "k", "question": "Q?", "choices": {"label": ["A", "B"], "text": ["x"]}, "answerKey": "A"}\n')
    with pytest.raises(DataError, match=r":1: choices has 2 labels and 1 texts; expected two lists of strings"):
        read("commonsenseqa", "en", "train", data_dir=tmp_path)


# ---- retrieval -------------------------------------------------------------------------------------------------
def test_bucc_original_with_gold_and_xtreme_test_without():
    dev = read("bucc2018", "de", "dev")
    assert dev == Bitext("bucc2018-de-dev", "de", ("de-000000001", "de-000000002", "de-000000003"),
                         ("Das Haus ist rot.", "Ich habe Hunger.", "Guten Morgen."),
                         ("en-000000001", "en-000000002", "en-000000003"),
                         ("Good morning.", "The house is red.", "It is late."),
                         frozenset({("de-000000001", "en-000000002"), ("de-000000003", "en-000000001")}))
    assert read("bucc2018", "de", "test", layout="xtreme").gold is None
    assert read("bucc2018", "de", "dev", layout="xtreme") == dev


def test_tatoeba_laser_files_are_aligned_xtreme_files_are_not():
    zh = read("tatoeba", "zh", "test")  # cmn = LASER's code for Chinese
    assert zh == Bitext("tatoeba-zh-test", "zh", ("0", "1"), ("我爱你。", "谢谢。"), ("0", "1"),
                        ("I love you.", "Thank you."), frozenset({("0", "0"), ("1", "1")}))
    xt = read("tatoeba", "de", "test", layout="xtreme")
    assert xt.gold is None and xt.tgt == ("I love you.", "Thank you.", "Where is the station?")


def test_every_example_records_its_language_and_reading_is_deterministic():
    for task, lang, split in [("xnli", "zh", "dev"), ("udpos", "en", "test"), ("panx", "de", "test"),
                              ("mlqa", "en", "dev"), ("tydiqa", "ar", "train"), ("ccg", "en", "dev")]:
        first, second = read(task, lang, split), read(task, lang, split)
        assert first == second and all(e.lang == lang for e in first)


def test_conllu_file_order_does_not_depend_on_creation_order(tmp_path):
    tb = "udpos/ud-treebanks-v2.5"
    # created in reverse order: the reader must still read en_ewt before en_gum
    for name in ["UD_English-GUM/en_gum-ud-test.conllu", "UD_English-EWT/en_ewt-ud-test.conllu"]:
        write(tmp_path, f"{tb}/{name}", (FIX / tb / name).read_text(encoding="utf-8"))
    assert [e.id for e in read("udpos", "en", "test", data_dir=tmp_path)] == [
        "en_ewt-ud-test.conllu:ewt-test-1", "en_gum-ud-test.conllu:gum-1"]


# ---- UD multiword tokens the way XTREME's download converts them (issue 12) -----------------------------------------
def ud_file(root: Path, name: str, *sentences) -> None:
    """Write `udpos/ud-treebanks-v2.5/UD_X/<name>`; a sentence is rows (id, form, upos, head, deps) for words and
    (range, form) for a multiword token."""
    lines = []
    for i, rows in enumerate(sentences, start=1):
        lines.append(f"# sent_id = s{i}")
        for row in rows:
            if len(row) == 2:
                lines.append(f"{row[0]}\t{row[1]}\t_\t_\t_\t_\t_\t_\t_\t_")
            else:
                id_, form, upos, head, deps = row
                lines.append(f"{id_}\t{form}\t_\t{upos}\t_\t_\t{head}\tdep\t{deps}\t_")
        lines.append("")
    write(root, f"udpos/ud-treebanks-v2.5/UD_X/{name}", "\n".join(lines) + "\n")


def ud_read(root: Path, lang: str, ud_words="fused"):
    return [(e.words, e.tags) for e in get_task("udpos").read(root, lang, "test", ud_words=ud_words)]


# Hand-made trees shaped like each treebank's multiword tokens. XTREME (lib/conll.py): the word of the span with the
# fewest ancestors gives its UPOS; a tie goes to the POS earliest in the precedence list (es, fr, it have their own).
UD_MWT_CASES = {
    "de": ([("1", "Er", "PRON", 2, "_"), ("2", "geht", "VERB", 0, "_"), ("3-4", "im"), ("3", "in", "ADP", 5, "_"),
            ("4", "dem", "DET", 5, "_"), ("5", "Park", "NOUN", 2, "_")],  # in, dem tie: ADP before DET
           (("Er", "geht", "im", "Park"), ("PRON", "VERB", "ADP", "NOUN"))),
    "fr": ([("1", "Le", "DET", 2, "_"), ("2", "livre", "NOUN", 0, "_"), ("3-4", "auquel"), ("3", "à", "ADP", 4, "_"),
            ("4", "lequel", "PRON", 6, "_"), ("5", "je", "PRON", 6, "_"), ("6", "pense", "VERB", 2, "_"),
            ("7-8", "du"), ("7", "de", "ADP", 9, "_"), ("8", "le", "DET", 9, "_"), ("9", "vin", "NOUN", 6, "_")],
           (("Le", "livre", "auquel", "je", "pense", "du", "vin"), ("DET", "NOUN", "PRON", "PRON", "VERB", "ADP",
                                                                      "NOUN"))),  # lequel is above à
    "es": ([("1-3", "dámelo"), ("1", "da", "VERB", 0, "_"), ("2", "me", "PRON", 1, "_"), ("3", "lo", "PRON", 1, "_"),
            ("4-5", "del"), ("4", "de", "ADP", 6, "_"), ("5", "el", "DET", 6, "_"), ("6", "río", "NOUN", 1, "_")],
           (("dámelo", "del", "río"), ("VERB", "ADP", "NOUN"))),
    "it": ([("1", "La", "DET", 2, "_"), ("2", "casa", "NOUN", 0, "_"), ("3-4", "della"), ("3", "di", "ADP", 5, "_"),
            ("4", "la", "DET", 5, "_"), ("5", "nonna", "NOUN", 2, "_"), ("6-7", "parlarne"),
            ("6", "parlar", "VERB", 2, "_"), ("7", "ne", "PRON", 6, "_")],
           (("La", "casa", "della", "nonna", "parlarne"), ("DET", "NOUN", "ADP", "NOUN", "VERB"))),
    "pt": ([("1", "O", "DET", 2, "_"), ("2", "livro", "NOUN", 0, "_"), ("3-4", "do"), ("3", "de", "ADP", 5, "_"),
            ("4", "o", "DET", 5, "_"), ("5", "João", "PROPN", 2, "_")],
           (("O", "livro", "do", "João"), ("DET", "NOUN", "ADP", "PROPN"))),
    "ar": ([("1", "قرأ", "VERB", 0, "_"), ("2-5", "وبكتابه"), ("2", "و", "CCONJ", 4, "_"), ("3", "ب", "ADP", 4, "_"),
            ("4", "كتاب", "NOUN", 1, "_"), ("5", "ه", "PRON", 4, "_")],
           (("قرأ", "وبكتابه"), ("VERB", "NOUN"))),
    "he": ([("1", "הוא", "PRON", 2, "_"), ("2", "גר", "VERB", 0, "_"), ("3-5", "בבית"), ("3", "ב", "ADP", 5, "_"),
            ("4", "ה", "DET", 5, "_"), ("5", "בית", "NOUN", 2, "_")],
           (("הוא", "גר", "בבית"), ("PRON", "VERB", "NOUN"))),
    "tr": ([("1-2", "evdeyim"), ("1", "evde", "NOUN", 0, "_"), ("2", "yim", "AUX", 1, "_"), ("3", ".", "PUNCT", 1, "_")],
           (("evdeyim", "."), ("NOUN", "PUNCT"))),
    "fa": ([("1", "من", "PRON", 4, "_"), ("2-3", "کتابش"), ("2", "کتاب", "NOUN", 4, "_"), ("3", "ش", "PRON", 2, "_"),
            ("4", "می\u200cخوانم", "VERB", 0, "_")],  # the ZWNJ inside a word is removed, as XTREME does
           (("من", "کتابش", "میخوانم"), ("PRON", "NOUN", "VERB"))),
}


@pytest.mark.parametrize("lang", sorted(UD_MWT_CASES))
def test_multiword_tokens_become_one_word_with_xtremes_pos_in_languages_full_of_them(tmp_path, lang):
    rows, expected = UD_MWT_CASES[lang]
    ud_file(tmp_path, f"{lang}_x-ud-test.conllu", rows)
    assert ud_read(tmp_path, lang) == [expected]
    n_words = sum(len(r) == 5 for r in rows)
    assert len(ud_read(tmp_path, lang, "syntactic")[0][0]) == n_words  # the option keeps every syntactic word


def test_tied_multiword_token_uses_the_precedence_list_of_the_file_language(tmp_path):
    # a and b both hang on the verb: a tie. Spanish ranks AUX before PRON, the default list (German) PRON first.
    rows = [("1-2", "ab"), ("1", "a", "PRON", 3, "_"), ("2", "b", "AUX", 3, "_"), ("3", "c", "VERB", 0, "_")]
    ud_file(tmp_path, "es_x-ud-test.conllu", rows)
    ud_file(tmp_path, "de_x-ud-test.conllu", rows)
    assert ud_read(tmp_path, "es") == [(("ab", "c"), ("AUX", "VERB"))]
    assert ud_read(tmp_path, "de") == [(("ab", "c"), ("PRON", "VERB"))]


def test_enhanced_dependencies_count_as_ancestors_as_in_xtremes_graph(tmp_path):
    # x and y both hang on z in the basic tree (a tie: VERB wins), but x's DEPS add the parent w, so y is the one
    # highest word. XTREME's reader adds DEPS heads as graph edges; 17 sentences of real English EWT dev depend on it.
    rows = [("1-2", "xy"), ("1", "x", "VERB", 3, "3:conj|4:nsubj"), ("2", "y", "PRON", 3, "_"),
            ("3", "z", "NOUN", 0, "0:root"), ("4", "w", "VERB", 3, "_")]
    ud_file(tmp_path, "en_x-ud-test.conllu", rows)
    assert ud_read(tmp_path, "en") == [(("xy", "z", "w"), ("PRON", "NOUN", "VERB"))]


def test_pos_missing_from_xtremes_list_ranks_last_where_xtreme_would_crash(tmp_path):
    # Departure on purpose (read_conllu's docstring): fr's list has no NUM; XTREME's converter raises there and
    # drops the file. Here NUM ranks after every listed POS: DET wins in French, NUM (listed) wins by default.
    rows = [("1-2", "xy"), ("1", "x", "NUM", 3, "_"), ("2", "y", "DET", 3, "_"), ("3", "z", "NOUN", 0, "_")]
    ud_file(tmp_path, "fr_x-ud-test.conllu", rows)
    ud_file(tmp_path, "pt_x-ud-test.conllu", rows)
    assert ud_read(tmp_path, "fr") == [(("xy", "z"), ("DET", "NOUN"))]
    assert ud_read(tmp_path, "pt") == [(("xy", "z"), ("NUM", "NOUN"))]


def test_spaces_inside_words_are_removed_and_mostly_withheld_sentences_skipped_as_xtreme_does(tmp_path):
    w = lambda i, form: (str(i), form, "NOUN", 0 if i == 1 else 1, "_")  # noqa: E731
    ud_file(tmp_path, "vi_x-ud-test.conllu",
            [w(1, "học sinh"), w(2, "đi")],  # Vietnamese words hold spaces
            [w(1, "_"), w(2, "_"), w(3, "a")],  # all but one form withheld: XTREME drops it
            [w(1, "_"), w(2, "a")],  # likewise
            [w(1, "_"), w(2, "a"), w(3, "b")])  # one '_' of three: kept
    ex = get_task("udpos").read(tmp_path, "vi", "test")
    assert [e.words for e in ex] == [("họcsinh", "đi"), ("_", "a", "b")]
    assert ex.skipped == {"text withheld (every form '_', or all but one, as XTREME drops)": 2}


def test_multiword_token_range_must_cover_words_of_its_sentence(tmp_path):
    ud_file(tmp_path, "en_x-ud-test.conllu", [("1", "a", "NOUN", 0, "_"), ("2-1", "bc"), ("2", "b", "NOUN", 1, "_")])
    with pytest.raises(DataError, match=r"en_x-ud-test.conllu:3: multiword token id '2-1'; expected a range 2-N"):
        ud_read(tmp_path, "en")
    ud_file(tmp_path, "en_x-ud-test.conllu", [("1-3", "abc"), ("1", "a", "NOUN", 0, "_"), ("2", "b", "NOUN", 1, "_")])
    with pytest.raises(DataError, match=r"en_x-ud-test.conllu:2: multiword token 1-3 but the sentence has 2 words"):
        ud_read(tmp_path, "en")


# ---- bad input (issue 3 item 4): one test per case -------------------------------------------------------------
def test_wrong_column_count_names_file_line_and_expected_columns(tmp_path):
    write(tmp_path, "xnli/dev-en.tsv", "a\tb\tentailment\nc\td\tneutral\textra\n")
    with pytest.raises(DataError) as err:
        read("xnli", "en", "dev", data_dir=tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'xnli/dev-en.tsv'}:2: 4 tab-separated columns, expected 3")


def test_wrong_column_count_in_conllu(tmp_path):
    write(tmp_path, "udpos/ud-treebanks-v2.5/UD_X/en_x-ud-dev.conllu", "1\tDogs\t_\tNOUN\n")
    with pytest.raises(DataError, match=r"en_x-ud-dev.conllu:1: 4 tab-separated columns, expected 10"):
        read("udpos", "en", "dev", data_dir=tmp_path)


def test_unknown_label_names_file_line_and_the_label_set(tmp_path):
    write(tmp_path, "pawsx/x-final/de/test_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n2\tc\td\t2\n")
    with pytest.raises(DataError) as err:
        read("pawsx", "de", "test", data_dir=tmp_path)
    assert str(err.value) == f"{tmp_path / 'pawsx/x-final/de/test_2k.tsv'}:3: unknown label '2'; expected one of 0, 1"


def test_unknown_tag_in_panx(tmp_path):
    write(tmp_path, "panx/panx_dataset/de/dev", "de:Köln\tB-LOC\nde:Hallo\tB-MISC\n")
    with pytest.raises(DataError, match=r"panx_dataset/de/dev:2: unknown label 'B-MISC'; expected one of B-LOC"):
        read("panx", "de", "dev", data_dir=tmp_path)


def test_broken_json_line_names_file_line(tmp_path):
    write(tmp_path, "mnli/multinli_1.0/multinli_1.0_dev_matched.jsonl",
          '{"pairID": "1", "sentence1": "a", "sentence2": "b", "gold_label": "neutral"}\n{"pairID": "2", "sent\n')
    with pytest.raises(DataError, match=r"multinli_1.0_dev_matched.jsonl:2: broken JSON .*expected one JSON object "
                                        r"per line"):
        read("mnli", "en", "dev", data_dir=tmp_path)


def test_broken_json_document_names_file_line(tmp_path):
    write(tmp_path, "squad/dev-v1.1.json", '{"version": "1.1",\n "data": [\n  {"paragraphs": [}\n]}\n')
    with pytest.raises(DataError, match=r"dev-v1.1.json:3: broken JSON .*expected SQuAD-format JSON"):
        read("squad_v1", "en", "dev", data_dir=tmp_path)


def test_empty_file_names_file_and_expected_content(tmp_path):
    write(tmp_path, "panx/test-de.tsv", "\n\n")
    with pytest.raises(DataError) as err:
        read("panx", "de", "test", data_dir=tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'panx/test-de.tsv'}:1: empty file; expected token<TAB>tag")


def test_missing_language_file_lists_every_path_tried(tmp_path):
    shutil.copytree(FIX / "pawsx", tmp_path / "pawsx")
    with pytest.raises(MissingDataError) as err:
        read("pawsx", "fr", "test", data_dir=tmp_path)
    msg = str(err.value)
    assert "no pawsx file for lang=fr split=test" in msg
    assert ("pawsx/x-final/fr/test_2k.tsv; hub/google-research-datasets/paws-x/fr/test-*.parquet; pawsx/test-fr.tsv"
            in msg)


def test_missing_language_in_a_combined_file(tmp_path):
    shutil.copytree(FIX / "xnli/XNLI-1.0", tmp_path / "xnli/XNLI-1.0")
    with pytest.raises(MissingDataError, match=r"xnli.test.tsv: no rows with language 'fr'; expected one of de, en"):
        read("xnli", "fr", "test", data_dir=tmp_path)


def test_duplicate_id_names_file_and_id(tmp_path):
    qa = '{"id": "s1", "question": "Q?", "answers": [{"text": "A", "answer_start": 0}]}'
    write(tmp_path, "squad/dev-v1.1.json",
          f'{{"data": [{{"paragraphs": [{{"context": "A b.", "qas": [{qa}, {qa}]}}]}}]}}')
    with pytest.raises(DataError) as err:
        read("squad_v1", "en", "dev", data_dir=tmp_path)
    assert str(err.value) == f"{tmp_path / 'squad/dev-v1.1.json'}:s1: duplicate id; expected every id once"


def test_duplicate_sentence_id_in_bucc(tmp_path):
    for ext, text in [("de", "de-1\tA.\nde-1\tB.\n"), ("en", "en-1\tA.\n"), ("gold", "de-1\ten-1\n")]:
        write(tmp_path, f"bucc2018/de-en.dev.{ext}", text)
    with pytest.raises(DataError, match=r"de-en.dev.de:de-1: duplicate id"):
        read("bucc2018", "de", "dev", data_dir=tmp_path)


def test_gold_pair_naming_an_unknown_sentence(tmp_path):
    for ext, text in [("de", "de-1\tA.\n"), ("en", "en-1\tA.\n"), ("gold", "de-1\ten-9\n")]:
        write(tmp_path, f"bucc2018/de-en.dev.{ext}", text)
    with pytest.raises(DataError, match=r"de-en.dev.gold:1: target id 'en-9' is not in de-en.dev.en"):
        read("bucc2018", "de", "dev", data_dir=tmp_path)


def test_conllu_word_ids_must_count_up(tmp_path):
    row = "\t_\tNOUN\t_\t_\t0\t_\t_\t_\n"
    write(tmp_path, "udpos/ud-treebanks-v2.5/UD_X/en_x-ud-dev.conllu", f"1\tA{row}3\tB{row}\n")
    with pytest.raises(DataError, match=r"en_x-ud-dev.conllu:2: word id '3'; expected 2"):
        read("udpos", "en", "dev", data_dir=tmp_path)


def test_unaligned_tatoeba_files(tmp_path):
    write(tmp_path, "tatoeba/tatoeba.deu-eng.deu", "a\nb\n")
    write(tmp_path, "tatoeba/tatoeba.deu-eng.eng", "a\n")
    with pytest.raises(DataError, match=r"tatoeba.deu-eng.eng:1: 1 lines but tatoeba.deu-eng.deu has 2"):
        read("tatoeba", "de", "test", data_dir=tmp_path)


def test_ccg_tag_count_must_match_word_count(tmp_path):
    write(tmp_path, "ccg/tags_to_id.json", '{"N": 0, "NP": 1}')
    write(tmp_path, "ccg/ccg.dev.tsv", "a b\tN NP\nc d\tN\n")
    with pytest.raises(DataError, match=r"ccg.dev.tsv:2: 2 words but 1 supertags; expected one tag per word"):
        read("ccg", "en", "dev", data_dir=tmp_path)


def test_invalid_utf8_names_the_line(tmp_path):
    (tmp_path / "sst2/SST-2").mkdir(parents=True)
    (tmp_path / "sst2/SST-2/dev.tsv").write_bytes(b"sentence\tlabel\ngood\t1\nbad \xff\t0\n")
    with pytest.raises(DataError, match=r"dev.tsv:3: not valid UTF-8"):
        read("sst2", "en", "dev", data_dir=tmp_path)


def test_choice_label_out_of_range(tmp_path):
    write(tmp_path, "hellaswag/hellaswag_val.jsonl",
          '{"ind": 1, "ctx_a": "a", "ctx_b": "b", "endings": ["1", "2", "3", "4"], "label": 4}\n')
    with pytest.raises(DataError, match=r"hellaswag_val.jsonl:1: label 4; expected an integer 0..3"):
        read("hellaswag", "en", "dev", data_dir=tmp_path)


def test_qqp_rows_with_a_stray_tab_are_counted_not_fatal(tmp_path):
    # GLUE's QQP train file has such rows (nyu-mll/GLUE-baselines issue #5); they are skipped and counted
    write(tmp_path, "qqp/QQP/train.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                                         "1\t1\t2\tA?\tB?\t0\n\"\tWas it real?\t0\n2\t3\t4\tC?\tD?\t1\n")
    ex = read("qqp", "en", "train", data_dir=tmp_path)
    assert [e.id for e in ex] == ["1", "2"]
    assert ex.skipped == {"row with the wrong number of columns": 1}
