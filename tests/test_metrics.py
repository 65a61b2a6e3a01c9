"""Metrics: parity with seqeval, hand-worked SQuAD/MLQA/BUCC cases, error paths.

Run: python -m pytest -q tests/test_metrics.py
"""
import random
import warnings

import pytest
from seqeval import metrics as seqeval_metrics

from data.metrics import (accuracy, bucc_f1, extract_chunks, mlqa_em_f1, normalize_mlqa_answer,
                          retrieval_accuracy, span_f1, squad_em_f1, squad_v2_em_f1, tag_accuracy)

BIO = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
IOBES = BIO + ["E-PER", "S-PER", "E-LOC", "S-LOC"]
# UD-POS tags as seqeval reads them: "SCONJ"/"SYM" look like S-, "INTJ" like I-, "X" has no type.
PREFIXLESS = ["NOUN", "VERB", "ADJ", "ADP", "DET", "PUNCT", "SCONJ", "SYM", "INTJ", "X", "O", "B", "I", "."]


def random_corpus(rng, pool, n_sent):
    """Gold and predicted tag lists of equal shape; predictions are gold with some tags resampled."""
    golds, preds = [], []
    for _ in range(n_sent):
        gold = [rng.choice(pool) for _ in range(rng.randint(0, 12))]
        golds.append(gold)
        preds.append([t if rng.random() < 0.6 else rng.choice(pool) for t in gold])
    return golds, preds


@pytest.mark.parametrize("pool_name", ["bio", "iobes", "prefixless", "mixed"])
def test_span_f1_equals_seqeval_on_random_sequences(pool_name):
    pool = {"bio": BIO, "iobes": IOBES, "prefixless": PREFIXLESS, "mixed": BIO + PREFIXLESS}[pool_name]
    rng = random.Random(1234 + len(pool_name))
    for _ in range(60):  # 4 pools x 60 = 240 random corpora
        golds, preds = random_corpus(rng, pool, rng.randint(1, 6))
        ours = span_f1(golds, preds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns on tags that are not NE tags and on 0/0
            ref = {"f1": seqeval_metrics.f1_score(golds, preds),
                   "precision": seqeval_metrics.precision_score(golds, preds),
                   "recall": seqeval_metrics.recall_score(golds, preds)}
        for key in ref:
            assert ours[key] == pytest.approx(100 * ref[key], abs=1e-9), (golds, preds, key)


def test_span_f1_merges_runs_of_prefixless_tags_like_seqeval():
    # Gold chunks: NOUN NOUN (one chunk, type "OUN") and VERB; prediction: NOUN, ADJ, VERB.
    assert extract_chunks(["NOUN", "NOUN", "VERB"]) == [("OUN", 0, 1), ("ERB", 2, 2)]
    out = span_f1([["NOUN", "NOUN", "VERB"]], [["NOUN", "ADJ", "VERB"]])
    assert out["precision"] == pytest.approx(100 / 3)
    assert out["recall"] == pytest.approx(50.0)
    assert out["f1"] == pytest.approx(40.0)


def test_span_f1_per_sentence_option_never_joins_chunks_across_sentences():
    out = span_f1([["B-PER"], ["I-PER"]], [["B-PER", ], ["I-PER"]], boundaries="sentence")
    assert extract_chunks(["B-PER", "I-PER"]) == [("PER", 0, 1)]
    assert out == {"f1": 100.0, "precision": 100.0, "recall": 100.0}
    assert span_f1([["O"]], [["O"]]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    with pytest.raises(ValueError, match="boundaries must be one of seqeval, sentence, got 'words'"):
        span_f1([["O"]], [["O"]], boundaries="words")


def test_span_f1_continues_a_chunk_into_a_sentence_opening_with_a_typeless_tag_like_seqeval():
    # XTREME: seqeval.f1_score on the list of sentences, joined with an "O"; "X" (type "_") after that "O" does not
    # start a chunk, so its chunk begins where the previous sentence's last chunk began.
    golds, preds = [["NOUN", "VERB"], ["X", "NOUN"]], [["NOUN", "NOUN"], ["X", "NOUN"]]
    assert span_f1(golds, preds)["f1"] == pytest.approx(28.5714, abs=1e-4)
    assert span_f1(golds, preds, boundaries="sentence")["f1"] == pytest.approx(57.1429, abs=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert 100 * seqeval_metrics.f1_score(golds, preds) == pytest.approx(28.5714, abs=1e-4)


def test_span_f1_equals_seqeval_on_many_sentences_opening_with_typeless_tags():
    rng = random.Random(7)
    pool = ["NOUN", "VERB", "X", "B", "I", "O", ".", "B-PER", "I-PER", "SYM"]
    for _ in range(40):
        golds, preds = random_corpus(rng, pool, rng.randint(8, 20))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = [100 * f(golds, preds) for f in (seqeval_metrics.f1_score, seqeval_metrics.precision_score,
                                                 seqeval_metrics.recall_score)]
        ours = span_f1(golds, preds)
        assert [ours["f1"], ours["precision"], ours["recall"]] == pytest.approx(ref, abs=1e-9), (golds, preds)


def test_tag_accuracy_counts_words_over_all_sentences():
    assert tag_accuracy([["A", "B"], ["C"]], [["A", "X"], ["C"]]) == {"accuracy": pytest.approx(200 / 3)}


def test_accuracy_and_retrieval_accuracy_on_hand_case():
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "a", "b"]) == {"accuracy": 50.0}
    assert retrieval_accuracy([3, 1, 2], [3, 1, 1]) == {"accuracy": pytest.approx(200 / 3)}


def test_squad_v1_em_f1_hand_worked():
    golds = [["The cat"], ["Paris, France", "Paris"], ["the quick brown fox"]]
    preds = ["cat", "paris", "quick fox jumps"]  # EM 1, 1, 0; F1 1, 1, 2/3
    out = squad_em_f1(golds, preds)
    assert out["exact_match"] == pytest.approx(200 / 3)
    assert out["f1"] == pytest.approx(100 * (1 + 1 + 2 / 3) / 3)


def test_squad_v1_ascii_only_punctuation_and_empty_normalized_answers():
    # v1.1 quirk: both sides normalize to "" -> EM 1 but F1 0. Guillemets are not ASCII punctuation.
    assert squad_em_f1([["the"]], ["a"]) == {"exact_match": 100.0, "f1": 0.0}
    assert squad_em_f1([["Paris"]], ["«Paris»"])["exact_match"] == 0.0


def test_squad_v2_scores_abstentions_and_breakdown():
    golds = [[], ["Denver Broncos"], [], ["the"]]  # "the" normalizes to nothing: unanswerable
    preds = ["", "Broncos", "something", "a"]  # (1, 1), (0, 2/3), (0, 0), (1, 1)
    out = squad_v2_em_f1(golds, preds)
    assert out["exact_match"] == pytest.approx(50.0)
    assert out["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0 + 1) / 4)
    assert out["has_ans_exact_match"] == 0.0 and out["has_ans_f1"] == pytest.approx(200 / 3)
    assert out["no_ans_exact_match"] == pytest.approx(200 / 3)
    assert out["no_ans_f1"] == pytest.approx(200 / 3)
    assert set(squad_v2_em_f1([["x"]], ["x"])) == {"exact_match", "f1", "has_ans_exact_match", "has_ans_f1"}


@pytest.mark.parametrize("lang, gold, pred, em, f1", [
    ("en", "the Eiffel Tower", "Eiffel Tower.", 100.0, 100.0),
    ("en", "Paris", "«Paris»", 100.0, 100.0),  # Unicode P* punctuation is removed
    ("en", "Tour — Eiffel", "tour eiffel", 100.0, 100.0),  # em dash (Pd)
    ("es", "los Estados Unidos", "Estados Unidos", 100.0, 100.0),
    ("es", "los Estados Unidos", "¿unidos?", 0.0, 200 / 3),
    ("de", "der Rhein", "Rhein", 100.0, 100.0),
    ("de", "Rhein", "die Donau", 0.0, 0.0),
    ("vi", "những con mèo", "con mèo", 100.0, 100.0),
    ("ar", "الكتاب", "كتاب", 100.0, 100.0),
    ("ar", "فالكتاب", "كتاب", 0.0, 200 / 3),  # official quirk: "ف كتاب", two tokens
    ("hi", "नई दिल्ली", "नई दिल्ली।", 100.0, 100.0),  # danda U+0964 is punctuation
    ("zh", "北京大学", "北京", 0.0, 200 / 3),  # characters are tokens: 2 of 4 shared
    ("zh", "北京大学", "北京。大学", 100.0, 100.0),
])
def test_mlqa_em_f1_per_language(lang, gold, pred, em, f1):
    out = mlqa_em_f1([[gold, "something else entirely"]], [pred], lang)
    assert out["exact_match"] == pytest.approx(em)
    assert out["f1"] == pytest.approx(f1)


def test_mlqa_chinese_segmentation_and_article_rules():
    assert normalize_mlqa_answer("2008年 北京，奥运会", "zh") == "2008 年 北 京 奥 运 会"
    assert normalize_mlqa_answer("iPhone手机", "zh") == "iphone 手 机"
    assert normalize_mlqa_answer("The cat", "es") == "the cat"  # English articles only for en
    assert normalize_mlqa_answer("Das Haus", "de") == "haus"
    assert normalize_mlqa_answer("la casa de las flores", "es") == "casa de flores"


def test_mlqa_means_over_questions():
    out = mlqa_em_f1([["the cat"], ["a dog"]], ["cat", "bird"], "en")
    assert out == {"exact_match": 50.0, "f1": 50.0}


# Candidates by score: correct, wrong, correct, correct, wrong, wrong; 3 gold pairs.
BUCC_GOLD = {("de1", "en1"), ("de2", "en2"), ("de3", "en3")}
BUCC_CANDS = [("de1", "en1", 0.9), ("de2", "en9", 0.8), ("de2", "en2", 0.7),
              ("de3", "en3", 0.6), ("de4", "en4", 0.5), ("de5", "en5", 0.3)]


def test_bucc_threshold_maximizes_f1_at_midpoint():
    # Keeping the top 4: P = 3/4, R = 1, F1 = 6/7; threshold midway between 0.6 and 0.5.
    out = bucc_f1(BUCC_GOLD, BUCC_CANDS)
    assert out["threshold"] == pytest.approx(0.55)
    assert out["f1"] == pytest.approx(600 / 7)
    assert out["precision"] == pytest.approx(75.0) and out["recall"] == pytest.approx(100.0)
    assert bucc_f1(BUCC_GOLD, BUCC_CANDS, threshold=out["threshold"]) == out


def test_bucc_given_threshold_keeps_scores_at_or_above_it():
    out = bucc_f1(BUCC_GOLD, BUCC_CANDS, threshold=0.7)  # keeps 0.9, 0.8, 0.7: P 2/3, R 2/3
    assert out == pytest.approx({"f1": 200 / 3, "precision": 200 / 3, "recall": 200 / 3, "threshold": 0.7})


def test_bucc_tied_scores_are_kept_or_dropped_together():
    cands = BUCC_CANDS + [("de6", "en6", 0.6)]  # a wrong pair tied with the last correct one
    out = bucc_f1(BUCC_GOLD, cands)
    assert out["f1"] == pytest.approx(75.0) and out["threshold"] == pytest.approx(0.55)  # P 3/5, R 1
    assert bucc_f1(BUCC_GOLD, cands, threshold=out["threshold"])["f1"] == pytest.approx(out["f1"])


def test_bucc_tie_choice_departs_from_xtremes_prefix_scan_on_purpose():
    # Ranked: a correct pair at 0.9, then four pairs tied at 0.8 of which one is correct; 2 gold pairs.
    gold = {("a1", "b1"), ("a2", "b2")}
    cands = [("a1", "b1", 0.9), ("a2", "b2", 0.8), ("x3", "y3", 0.8), ("x4", "y4", 0.8), ("x5", "y5", 0.8)]
    # Here: keep 0.9 only (P 1, R 1/2, F1 2/3) rather than the tie group (P 2/5, R 1, F1 4/7).
    out = bucc_f1(gold, cands)
    assert out["threshold"] == pytest.approx(0.85) and out["f1"] == pytest.approx(200 / 3)
    # XTREME's bucc_optimize, with (a2, b2) first among the ties, sees F1 1 after it, sets the threshold to
    # (0.8 + 0.8) / 2 and bucc_extract keeps all four: it reports F1 4/7 = 57.14 (likewise with (a2, b2) second;
    # third or fourth: 66.67). Its answer depends on the order of the tied candidates; this one does not.
    assert bucc_f1(gold, cands, threshold=0.8)["f1"] == pytest.approx(400 / 7)


def test_bucc_keeps_every_candidate_when_that_is_best():
    out = bucc_f1({("a", "b"), ("c", "d")}, [("x", "y", 2.0), ("a", "b", 1.0), ("c", "d", 0.5)])
    assert out["threshold"] == 0.5 and out["f1"] == pytest.approx(80.0)


def test_bucc_without_any_correct_candidate_scores_zero():
    out = bucc_f1({("a", "b")}, [("x", "y", 1.0)])
    assert out["f1"] == 0.0 and out["precision"] == 0.0 and out["recall"] == 0.0


@pytest.mark.parametrize("call, message", [
    (lambda: accuracy([1, 2], [1]), "2 golds vs 1 preds"),
    (lambda: accuracy([], []), "empty"),
    (lambda: span_f1([["O"]], [["O"], ["O"]]), "1 golds vs 2 preds"),
    (lambda: span_f1([["O", "O"]], [["O"]]), "sentence 0: 2 gold tags vs 1 predicted"),
    (lambda: tag_accuracy([[]], [[]]), "no tags"),
    (lambda: squad_em_f1([["a"]], ["a", "b"]), "1 golds vs 2 preds"),
    (lambda: squad_em_f1([[]], [""]), "question 0: no gold answer"),
    (lambda: squad_em_f1(["abc"], ["abc"]), "question 0: gold must be a list"),
    (lambda: squad_v2_em_f1([], []), "empty"),
    (lambda: mlqa_em_f1([["a"]], ["a"], "fr"), "unknown language 'fr'"),
    (lambda: mlqa_em_f1([["a"], []], ["a", "b"], "en"), "question 1: no gold answer"),
    (lambda: bucc_f1(set(), BUCC_CANDS), "gold set is empty"),
    (lambda: bucc_f1(BUCC_GOLD, []), "no candidate"),
    (lambda: bucc_f1(BUCC_GOLD, BUCC_CANDS + [("de1", "en1", 0.1)]), "duplicate pair (de1, en1)"),
    (lambda: bucc_f1(BUCC_GOLD, [("a", "b", float("nan"))]), "score must be a number"),
    (lambda: bucc_f1(BUCC_GOLD, [("a", "b")]), "expected (src_id, tgt_id, score)"),
])
def test_bad_input_raises_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)
