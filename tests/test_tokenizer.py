"""XLMRTokenizer against transformers' XLM-R tokenizer and sentencepiece itself.

Run: python -m pytest -q tests/test_tokenizer.py

XLM-R's `sentencepiece.bpe.model` is a unigram model despite its name (XLM-R paper, §3), so parity
with transformers is checked on a unigram model trained here. On a BPE model transformers' converted
tokenizer does not reproduce sentencepiece's segmentation; there the reference is sentencepiece with
fairseq's id shift, which is what fairseq itself runs.
"""
import os

import pytest
import sentencepiece as spm
import torch

from tests.conftest import MULTILINGUAL_TEXT, train_sentencepiece
from xlmr.tokenizer import XLMRTokenizer

EXTRA = ["  leading and   inner spaces ", "ﬁne ligature", "snowman ☃ unknown", "x", "Ölçü 🙂🙃"]
TEXTS = MULTILINGUAL_TEXT + EXTRA


@pytest.fixture(scope="module")
def hf_tokenizer(spm_path):
    from transformers import XLMRobertaTokenizer

    return XLMRobertaTokenizer.from_pretrained(os.path.dirname(spm_path))


def test_special_ids_and_vocab_size_match_transformers(tokenizer, hf_tokenizer):
    assert (tokenizer.bos_id, tokenizer.pad_id, tokenizer.eos_id, tokenizer.unk_id) == (
        hf_tokenizer.bos_token_id, hf_tokenizer.pad_token_id, hf_tokenizer.eos_token_id, hf_tokenizer.unk_token_id)
    assert tokenizer.vocab_size == len(hf_tokenizer)
    assert tokenizer.mask_id == hf_tokenizer.mask_token_id == tokenizer.vocab_size - 1


def test_single_sentence_ids_match_transformers(tokenizer, hf_tokenizer):
    ours = tokenizer(TEXTS)
    ref = hf_tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert torch.equal(ours["input_ids"], ref["input_ids"])
    assert torch.equal(ours["attention_mask"], ref["attention_mask"])


def test_pair_ids_match_transformers(tokenizer, hf_tokenizer):
    a, b = TEXTS[:-1], TEXTS[1:]
    ours = tokenizer(a, pairs=b)
    ref = hf_tokenizer(a, b, padding=True, return_tensors="pt")
    assert torch.equal(ours["input_ids"], ref["input_ids"])
    assert torch.equal(ours["attention_mask"], ref["attention_mask"])


@pytest.mark.parametrize("max_len", [5, 8, 13, 20, 40])
def test_truncation_matches_transformers_longest_first(tokenizer, hf_tokenizer, max_len):
    a, b = TEXTS[:-1], TEXTS[1:]
    ours = tokenizer(a, pairs=b, max_len=max_len)["input_ids"]
    ref = hf_tokenizer(a, b, truncation="longest_first", max_length=max_len, padding=True, return_tensors="pt")
    assert torch.equal(ours, ref["input_ids"])
    ours1 = tokenizer(a, max_len=max_len)["input_ids"]
    ref1 = hf_tokenizer(a, truncation=True, max_length=max_len, padding=True, return_tensors="pt")
    assert torch.equal(ours1, ref1["input_ids"])


def test_offsets_match_transformers_except_bare_word_boundary_pieces(tokenizer, hf_tokenizer):
    ref = hf_tokenizer(TEXTS, return_offsets_mapping=True)
    for text, (ids, offsets), ref_ids, ref_offsets in zip(
        TEXTS, tokenizer.encode_with_offsets(TEXTS), ref["input_ids"], ref["offset_mapping"]
    ):
        assert ids == ref_ids[1:-1]
        for i, ((s, e), (rs, re_)) in enumerate(zip(offsets, ref_offsets[1:-1])):
            if s == e:  # a lone "▁" covers only whitespace: ours is empty, transformers borrows the next char
                assert s == rs
            else:
                assert (s, e) == tuple((rs, re_)), (text, i)
                assert text[s:e].strip() == text[s:e]


def test_word_ids_match_transformers_split_into_words(tokenizer, hf_tokenizer):
    words = [t.split() for t in TEXTS]
    ref = hf_tokenizer(words, is_split_into_words=True)
    for i, (ids, word_ids) in enumerate(tokenizer.encode_words(words)):
        assert ids == ref["input_ids"][i][1:-1]
        assert word_ids == ref.word_ids(i)[1:-1]


def test_word_without_pieces_still_gets_a_token(tokenizer):
    ids, word_ids = tokenizer.encode_words([["a", "\u200b", "b"]])[0]
    assert sorted(set(word_ids)) == [0, 1, 2]
    assert ids[word_ids.index(1)] == tokenizer.unk_id


def test_bpe_model_ids_are_sentencepiece_ids_shifted_by_one(tmp_path):
    path = train_sentencepiece(tmp_path / "sentencepiece.bpe.model", model_type="bpe")
    tok = XLMRTokenizer(path)
    sp = spm.SentencePieceProcessor(model_file=path)
    for text in TEXTS:
        expected = [0] + [i + 1 if i else 3 for i in sp.encode(text)] + [2]
        assert tok([text])["input_ids"][0].tolist() == expected


def test_unknown_piece_maps_to_fairseq_unk(tokenizer):
    ids = tokenizer.encode(["☃"])[0]
    assert tokenizer.unk_id in ids and 0 not in ids


def test_batch_encoding_calls_sentencepiece_once(tokenizer, monkeypatch):
    calls = []
    real = tokenizer.sp.encode
    monkeypatch.setattr(tokenizer.sp, "encode", lambda *a, **k: calls.append(1) or real(*a, **k))
    out = tokenizer.encode(TEXTS * 500)
    assert len(out) == len(TEXTS) * 500 and len(calls) == 1


def test_pad_builds_mask_and_pads_with_pad_id(tokenizer):
    ids, mask = tokenizer.pad([[0, 5, 2], [0, 2]])
    assert ids.tolist() == [[0, 5, 2], [0, 2, 1]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]


def test_max_len_shorter_than_specials_is_an_error(tokenizer):
    with pytest.raises(ValueError, match="max_len=3"):
        tokenizer.build_inputs([5], [6], max_len=3)


def test_missing_or_corrupt_model_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.model"):
        XLMRTokenizer(tmp_path / "nope.model")
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="bad.model"):
        XLMRTokenizer(bad)


@pytest.mark.slow
def test_pair_truncation_lengths_match_transformers_on_a_grid(tokenizer, hf_tokenizer):
    word = next(w for w in "a e i o the".split() if len(tokenizer.encode([" ".join([w] * 5)])[0]) == 5)
    for la in range(1, 10):
        for lb in range(1, 10):
            for max_len in range(4, 22):
                a, b = " ".join([word] * la), " ".join([word] * lb)
                ours = tokenizer([a], pairs=[b], max_len=max_len)["input_ids"][0].tolist()
                ref = hf_tokenizer(a, b, truncation="longest_first", max_length=max_len)["input_ids"]
                assert ours == ref, (la, lb, max_len)


def test_offsets_skip_characters_normalized_to_a_word_boundary(tokenizer):
    text = "a\u200b b"
    ids, offsets = tokenizer.encode_with_offsets([text])[0]
    assert [text[s:e] for s, e in offsets if s < e] == ["a", "b"]
    assert all(s <= e for s, e in offsets)
