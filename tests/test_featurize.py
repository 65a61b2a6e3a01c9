"""Featurization by kind, batching, tag stitching and span decoding.

Run: python -m pytest -q tests/test_featurize.py
"""
import logging
import random

import numpy as np
import pytest
import torch

from data.examples import (Answer, Bitext, ChoiceExample, PairExample, SingleExample, SpanExample,
                           TagExample)
from data.featurize import (IGNORE, collate, decode_spans, feature_length, featurize, plan_tag_windows,
                            stitch_tags)

BOS, PAD, EOS, UNK = 0, 1, 2, 3


@pytest.fixture()
def toy(toy_tokenizer):
    return toy_tokenizer


def ids_of(tok, *pieces):
    return [tok.piece_id(p) for p in pieces]


# --- classification -------------------------------------------------------------------------------------

def test_pair_cls_builds_pair_sequence_and_label_index(toy):
    exs = [PairExample("1", "de", "Der Hund.", "Ein Tier", "entailment"),
           PairExample("2", "zh", "北京", "首都", None)]
    f = featurize("pair_cls", exs, toy, max_len=16, labels=("entailment", "neutral", "contradiction"))
    assert f[0]["input_ids"] == [BOS, *ids_of(toy, "Der", "Hund", "."), EOS, EOS, *ids_of(toy, "Ein", "Tier"), EOS]
    assert f[1]["input_ids"] == [BOS, *ids_of(toy, "北京"), EOS, EOS, *ids_of(toy, "首都"), EOS]
    assert [x["label"] for x in f] == [0, IGNORE]
    assert [x["example_index"] for x in f] == [0, 1] and [x["feature_index"] for x in f] == [0, 1]


def test_pair_cls_truncates_longest_first_to_max_len(toy):
    ex = PairExample("1", "en", "one two three four five six", "seven", "a")
    f = featurize("pair_cls", [ex], toy, max_len=8, labels=("a",))[0]
    assert f["input_ids"] == [BOS, *ids_of(toy, "one", "two"), EOS, EOS, *ids_of(toy, "seve", "n"), EOS]


def test_single_cls_features(toy):
    f = featurize("single_cls", [SingleExample("s", "en", "Great film!", "1")], toy, 10, labels=("0", "1"))
    assert f[0]["input_ids"] == [BOS, *ids_of(toy, "Grea", "t", "film", "!"), EOS] and f[0]["label"] == 1


@pytest.mark.parametrize("kind, ex, labels, message", [
    ("pair_cls", PairExample("7", "en", "a", "b", "maybe"), ("yes", "no"), "example 7: unknown label 'maybe'"),
    ("pair_cls", PairExample("7", "en", "a", "b", "yes"), None, "no label set"),
    ("pair_cls", SingleExample("7", "en", "a", "yes"), ("yes",), "example 0 is a SingleExample"),
    ("tag", TagExample("t1", "en", ("a", "b"), ("X",)), ("X",), "example t1: 2 words but 1 tags"),
    ("tag", TagExample("t1", "en", ("a",), ("Y",)), ("X",), "example t1: unknown label 'Y'"),
    ("multiple_choice", ChoiceExample("c", "en", "q", ("a", "b"), 2), None, "label 2 is not a choice index"),
    ("multiple_choice", ChoiceExample("c", "en", "q", ("a",), 0), None, "needs at least 2"),
    ("retrieval", 3, None, "expected a str or a Bitext"),
    ("nli", PairExample("7", "en", "a", "b", "yes"), None, "unknown kind 'nli'"),
])
def test_bad_input_raises_value_error(toy, kind, ex, labels, message):
    with pytest.raises(ValueError) as err:
        featurize(kind, [ex], toy, max_len=16, labels=labels)
    assert message in str(err.value)


# --- tagging ---------------------------------------------------------------------------------------------

def test_tag_labels_first_sub_token_of_each_word(toy):
    ex = TagExample("t", "de", ("Das", "Übersetzungsprogramm", "läuft", ".", "北京大学"),
                    ("DET", "NOUN", "VERB", "PUNCT", "PROPN"))
    labels = ("DET", "NOUN", "VERB", "PUNCT", "PROPN")
    f = featurize("tag", [ex], toy, max_len=32, labels=labels)
    assert len(f) == 1
    assert f[0]["input_ids"] == [BOS, *ids_of(toy, "Das", "Über", "setz", "ungs", "prog", "ramm", "läuf", "t",
                                              ".", "北京大学"), EOS]
    I = IGNORE
    assert f[0]["label"] == [I, 0, 1, I, I, I, I, 2, I, 3, 4, I]
    assert f[0]["word_ids"] == [-1, 0, 1, -1, -1, -1, -1, 2, -1, 3, 4, -1]


def test_tag_word_without_pieces_gets_unk(toy, tokenizer):
    ex = TagExample("t", "en", ("a", "", "b"), None)  # toy: "" has no piece
    f = featurize("tag", [ex], toy, max_len=16)
    assert f[0]["input_ids"] == [BOS, *ids_of(toy, "a"), UNK, *ids_of(toy, "b"), EOS]
    assert f[0]["word_ids"] == [-1, 0, 1, 2, -1] and f[0]["label"] == [IGNORE] * 5
    # sentencepiece returns no piece for a zero-width space
    assert tokenizer.encode(["\u200b"]) == [[]]
    f = featurize("tag", [TagExample("z", "en", ("ab", "\u200b", "cd"), ("X", "Y", "X"))], tokenizer, 32,
                  labels=("X", "Y"))
    assert f[0]["word_ids"].count(1) == 1
    assert f[0]["input_ids"][f[0]["word_ids"].index(1)] == UNK
    assert [lab for lab in f[0]["label"] if lab != IGNORE] == [0, 1, 0]


def random_sentence(rng, n_words, vocab):
    words = tuple(rng.choice(vocab) for _ in range(n_words))
    tags = tuple(rng.choice(["NOUN", "VERB", "ADJ", "PUNCT"]) for _ in words)
    return words, tags


@pytest.mark.parametrize("tok_name, max_len", [("toy", 32), ("toy", 9), ("sentencepiece", 64)])
def test_thousand_word_sentence_round_trips_through_windows(request, tok_name, max_len):
    tok = request.getfixturevalue("toy_tokenizer" if tok_name == "toy" else "tokenizer")
    from tests.conftest import MULTILINGUAL_TEXT
    vocab = [w for line in MULTILINGUAL_TEXT for w in line.split()] + ["Übersetzungsprogramm", "\u200b", "."]
    rng = random.Random(0)
    labels = ("NOUN", "VERB", "ADJ", "PUNCT")
    words, tags = random_sentence(rng, 1000, vocab)
    short = random_sentence(rng, 3, vocab)
    exs = [TagExample("short1", "xx", *short), TagExample("long", "xx", words, tags),
           TagExample("short2", "xx", *short)]
    feats = featurize("tag", exs, tok, max_len=max_len, labels=labels)
    assert all(len(f["input_ids"]) <= max_len for f in feats)
    long = [f for f in feats if f["example_index"] == 1]
    assert len(long) > 1
    owned = sorted(w for f in long for w in f["word_ids"] if w >= 0)
    assert owned == list(range(1000))  # every word exactly once
    assert any(f["input_ids"].count(BOS) == 1 and f["word_ids"][1] == -1 for f in long[1:])  # left context
    # predicting each feature's own labels must give back the gold tags, word by word
    preds = [np.where(np.array(f["label"]) == IGNORE, 99, f["label"]) for f in feats]
    stitched = stitch_tags(exs, feats, preds)
    assert [[labels[i] for i in s] for s in stitched] == [list(ex.tags) for ex in exs]


def test_plan_tag_windows_partitions_words_with_context():
    windows = plan_tag_windows([1] * 10, budget=4)
    assert [(a, b) for _, a, b, _ in windows] == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    assert windows[1] == (1, 2, 4, 5)  # one context word on each side
    assert plan_tag_windows([3, 1, 1], budget=5) == [(0, 0, 3, 3)]  # fits: one window
    # a word longer than the window is cut to it and stands alone: no room for context next to it
    assert plan_tag_windows([9, 1], budget=4) == [(0, 0, 1, 1), (1, 1, 2, 2)]


def test_tag_word_longer_than_window_is_cut_but_labelled(toy):
    ex = TagExample("w", "en", ("x" * 40, "y"), ("A", "B"))
    f = featurize("tag", [ex], toy, max_len=5, labels=("A", "B"))
    assert [len(x["input_ids"]) for x in f] == [5, 3]  # 3 of the 10 pieces of word 0; word 1 alone
    assert stitch_tags([ex], f, [x["label"] for x in f]) == [[0, 1]]


def test_stitch_tags_rejects_missing_and_mismatched_predictions(toy):
    ex = TagExample("t", "en", ("a", "b"), None)
    f = featurize("tag", [ex], toy, max_len=8)
    with pytest.raises(ValueError, match="1 features but 0 prediction rows"):
        stitch_tags([ex], f, [])
    with pytest.raises(ValueError, match="2 predictions for 4 tokens"):
        stitch_tags([ex], f, [[0, 0]])
    with pytest.raises(ValueError, match="example t: word 0 predicted twice"):
        stitch_tags([ex], f + f, [[0] * 4, [0] * 4])
    with pytest.raises(ValueError, match=r"example u: 1 word\(s\) without a prediction"):
        stitch_tags([ex, TagExample("u", "en", ("c",), None)], f, [[0] * 4])


# --- spans -----------------------------------------------------------------------------------------------

CONTEXT = "Die Donau fließt durch Wien und Budapest. Sie mündet ins Schwarze Meer bei Sulina."


def test_span_features_exact_for_a_short_context(toy):
    ex = SpanExample("q1", "de", "Wo mündet sie?", "Sie mündet ins Meer.", (Answer("Meer", 15),))
    f = featurize("span", [ex], toy, max_len=32)
    assert len(f) == 1
    q = ids_of(toy, "Wo", "münd", "et", "sie", "?")
    c = ids_of(toy, "Sie", "münd", "et", "ins", "Meer", ".")
    assert f[0]["input_ids"] == [BOS, *q, EOS, EOS, *c, EOS]
    assert f[0]["offsets"] == [None] * 8 + [(0, 3), (4, 8), (8, 10), (11, 14), (15, 19), (19, 20)] + [None]
    assert f[0]["context_mask"] == [0] * 8 + [1] * 6 + [0]
    assert (f[0]["start_position"], f[0]["end_position"]) == (12, 12)


@pytest.mark.parametrize("tok_name", ["toy", "sentencepiece"])
def test_span_windows_recover_gold_answer_from_positions(request, tok_name):
    tok = request.getfixturevalue("toy_tokenizer" if tok_name == "toy" else "tokenizer")
    cases = [("Budapest", CONTEXT.index("Budapest")), ("Schwarze Meer", CONTEXT.index("Schwarze")),
             ("Die Donau", 0), ("Sulina", CONTEXT.index("Sulina"))]
    exs = [SpanExample(f"q{k}", "de", "Wohin fließt die Donau?", CONTEXT, (Answer(t, s),))
           for k, (t, s) in enumerate(cases)]
    feats = featurize("span", exs, tok, max_len=24, doc_stride=3, max_query_len=6)
    for k, (text, _) in enumerate(cases):
        windows = [f for f in feats if f["example_index"] == k]
        assert len(windows) > 2 and all(len(f["input_ids"]) <= 24 for f in windows)
        hits = [f for f in windows if f["start_position"] > 0]
        assert hits, f"no window holds {text!r}"
        for f in hits:
            s, e = f["start_position"], f["end_position"]
            assert f["context_mask"][s] == f["context_mask"][e] == 1
            assert CONTEXT[f["offsets"][s][0]:f["offsets"][e][1]] == text
        assert all(f["end_position"] == 0 for f in windows if f["start_position"] == 0)
        # the windows start doc_stride context tokens apart and the last reaches the end of the context
        all_offsets = tok.encode_with_offsets([CONTEXT])[0][1]
        firsts = [f["offsets"][f["context_mask"].index(1)] for f in windows]
        assert firsts == [all_offsets[3 * w] for w in range(len(windows))]
        assert windows[-1]["offsets"][-2] == all_offsets[-1] and all_offsets[-1][1] == len(CONTEXT)


def test_span_question_is_cut_to_max_query_len(toy):
    ex = SpanExample("q", "en", "a b c d e f g h", "x y z", (Answer("y", 2),))
    f = featurize("span", [ex], toy, max_len=32, max_query_len=3)[0]
    assert f["input_ids"][:6] == [BOS, *ids_of(toy, "a", "b", "c"), EOS, EOS]
    assert f["start_position"] == f["end_position"] == 7


def test_span_null_unlabelled_and_mismatched_answers(toy, caplog):
    exs = [SpanExample("null", "en", "q", CONTEXT, (), is_impossible=True),
           SpanExample("test", "en", "q", CONTEXT, None),
           SpanExample("bad", "en", "q", CONTEXT, (Answer("Budapest", 3),))]
    with caplog.at_level(logging.WARNING, logger="data.featurize"):
        feats = featurize("span", exs, toy, max_len=16, doc_stride=4)
    by_ex = {k: [(f["start_position"], f["end_position"]) for f in feats if f["example_index"] == k]
             for k in range(3)}
    assert set(by_ex[0]) == {(0, 0)}
    assert set(by_ex[1]) == set(by_ex[2]) == {(IGNORE, IGNORE)}
    assert "1 answer(s)" in caplog.text and "bad" in caplog.text


def test_span_answer_without_start_is_located_in_context(toy):
    ex = SpanExample("q", "en", "q", "alpha beta gamma", (Answer("gamma", -1),))
    f = featurize("span", [ex], toy, max_len=16)[0]
    assert "alpha beta gamma"[f["offsets"][f["start_position"]][0]:f["offsets"][f["end_position"]][1]] == "gamma"


def test_span_max_len_too_short_for_question(toy):
    with pytest.raises(ValueError, match="leaves no room for context"):
        featurize("span", [SpanExample("q", "en", "a b c d", "x", None)], toy, max_len=8)


def hand_logits(feature, start_at, end_at, base=-10.0):
    s = np.full(len(feature["input_ids"]) + 3, base)  # + 3: padded rows are accepted
    e = s.copy()
    for pos, v in start_at.items():
        s[pos] = v
    for pos, v in end_at.items():
        e[pos] = v
    return s, e


def test_decode_spans_picks_best_span_across_windows(toy):
    ex = SpanExample("q", "de", "Wo?", CONTEXT, (Answer("Wien", CONTEXT.index("Wien")),))
    feats = featurize("span", [ex], toy, max_len=14, doc_stride=4)
    assert len(feats) > 3
    ctx = [[i for i, m in enumerate(f["context_mask"]) if m] for f in feats]
    rows = [hand_logits(f, {c[0]: 1.0}, {c[0]: 1.0}) for f, c in zip(feats, ctx)]
    # in window 2, a two-token span scoring 5 + 4 = 9 beats every single-token span (2)
    f2, c2 = feats[2], ctx[2]
    rows[2] = hand_logits(f2, {c2[1]: 5.0, 0: 50.0, 1: 60.0}, {c2[2]: 4.0, 1: 70.0})  # question/<s> ignored
    want = CONTEXT[f2["offsets"][c2[1]][0]:f2["offsets"][c2[2]][1]]
    got = decode_spans([ex], feats, [r[0] for r in rows], [r[1] for r in rows])
    assert got == [want] and want.strip()
    # torch rows work the same
    assert decode_spans([ex], feats, [torch.tensor(r[0]) for r in rows], [torch.tensor(r[1]) for r in rows]) == [want]


def test_decode_spans_respects_order_and_max_answer_len(toy):
    ctx_text = "a b c d e f"
    ex = SpanExample("q", "en", "q", ctx_text, None)
    f = featurize("span", [ex], toy, max_len=32)[0]
    c = [i for i, m in enumerate(f["context_mask"]) if m]  # tokens a..f
    # best start "e" with best end "b" would score 17 but ends before it starts; then "a b" 11 > "e f" 10
    s, e = hand_logits(f, {c[4]: 9.0, c[0]: 3.0}, {c[1]: 8.0, c[5]: 1.0})
    assert decode_spans([ex], [f], [s], [e]) == ["a b"]
    s, e = hand_logits(f, {c[0]: 9.0}, {c[5]: 9.0, c[1]: 1.0})
    assert decode_spans([ex], [f], [s], [e], max_answer_len=6) == ["a b c d e f"]
    assert decode_spans([ex], [f], [s], [e], max_answer_len=5) == ["a b"]


def test_decode_spans_null_answer_for_squad_v2(toy):
    ex = SpanExample("q", "en", "q", "a b c", None)
    f = featurize("span", [ex], toy, max_len=32)[0]
    c = [i for i, m in enumerate(f["context_mask"]) if m]
    s, e = hand_logits(f, {0: 3.0, c[1]: 2.0}, {0: 3.0, c[1]: 2.0})  # null 6 > span 4
    assert decode_spans([ex], [f], [s], [e], allow_null=True) == [""]
    assert decode_spans([ex], [f], [s], [e]) == ["b"]
    s, e = hand_logits(f, {0: 1.0, c[1]: 2.0}, {0: 1.0, c[1]: 2.0})  # span 4 > null 2
    assert decode_spans([ex], [f], [s], [e], allow_null=True) == ["b"]


def test_decode_spans_errors(toy):
    ex = SpanExample("q", "en", "q", "a b c", None)
    f = featurize("span", [ex], toy, max_len=32)
    s, e = hand_logits(f[0], {}, {})
    with pytest.raises(ValueError, match="1 features, 0 start and 1 end rows"):
        decode_spans([ex], f, [], [e])
    with pytest.raises(ValueError, match="without any feature, first \\['r'\\]"):
        decode_spans([ex, SpanExample("r", "en", "q", "x", None)], f, [s], [e])
    with pytest.raises(ValueError, match="logits shorter"):
        decode_spans([ex], f, [s[:3]], [e])


# --- multiple choice, retrieval, batches ----------------------------------------------------------------

def test_multiple_choice_one_feature_with_n_sequences_and_collate_shape(toy):
    exs = [ChoiceExample("c1", "en", "Where do fish live?", ("water", "trees", "sky"), 0),
           ChoiceExample("c2", "en", "2 + 2 =", ("four", "five hundred", "x"), None)]
    feats = featurize("multiple_choice", exs, toy, max_len=16)
    assert feats[0]["input_ids"][1] == [BOS, *ids_of(toy, "Wher", "e", "do", "fish", "live", "?"), EOS, EOS,
                                        *ids_of(toy, "tree", "s"), EOS]
    assert [f["label"] for f in feats] == [0, IGNORE]
    assert feature_length(feats[0]) == 12
    batch = collate(feats, pad_id=PAD)
    assert batch["input_ids"].shape == (2, 3, 12) and batch["attention_mask"].shape == (2, 3, 12)
    assert batch["input_ids"][1, 2].tolist() == [BOS, *ids_of(toy, "2", "+", "2", "="), EOS, EOS,
                                                 *ids_of(toy, "x"), EOS, PAD, PAD, PAD]
    assert batch["attention_mask"][1, 2].tolist() == [1] * 9 + [0] * 3
    assert batch["label"].tolist() == [0, IGNORE]
    with pytest.raises(ValueError, match="mixes choice counts"):
        collate([feats[0], featurize("multiple_choice", [ChoiceExample("c", "en", "q", ("a", "b"), 1)],
                                     toy, 16)[0]], PAD)


def test_retrieval_features_for_bitext_and_strings(toy):
    bt = Bitext("de-en", "de", ("d1", "d2"), ("Hallo Welt", "Danke"), ("e1",), ("Hello world",), None)
    feats = featurize("retrieval", [bt], toy, max_len=16)
    assert [(f["side"], f["sentence_index"]) for f in feats] == [(0, 0), (0, 1), (1, 0)]
    assert feats[2]["input_ids"] == [BOS, *ids_of(toy, "Hell", "o", "worl", "d"), EOS]
    assert featurize("retrieval", ["Danke"], toy, max_len=3)[0]["input_ids"] == [BOS, toy.piece_id("Dank"), EOS]


def test_collate_pads_to_longest_with_kind_specific_values(toy):
    exs = [TagExample("a", "en", ("one",), ("X",)), TagExample("b", "en", ("three", "words", "here"), ("X",) * 3)]
    feats = featurize("tag", exs, toy, max_len=16, labels=("X",))
    batch = collate(feats, pad_id=PAD)
    T = max(len(f["input_ids"]) for f in feats)
    assert set(batch) == {"input_ids", "attention_mask", "label", "word_ids", "example_index", "feature_index"}
    assert all(v.dtype == torch.long for v in batch.values())
    assert batch["input_ids"].shape == (2, T) == batch["label"].shape == batch["word_ids"].shape
    assert batch["input_ids"][0].tolist() == [BOS, toy.piece_id("one"), EOS] + [PAD] * (T - 3)
    assert batch["attention_mask"][0].tolist() == [1, 1, 1] + [0] * (T - 3)
    assert batch["label"][0].tolist() == [IGNORE, 0, IGNORE] + [IGNORE] * (T - 3)
    assert batch["word_ids"][0].tolist() == [-1, 0, -1] + [-1] * (T - 3)
    span = featurize("span", [SpanExample("q", "en", "q", "a b", (Answer("b", 2),))], toy, max_len=16)
    sb = collate(span, PAD)
    assert "offsets" not in sb and sb["start_position"].tolist() == [5] and sb["context_mask"].sum() == 2
    with pytest.raises(ValueError, match="at least one feature"):
        collate([], PAD)
