"""Task heads: the shapes their docstrings promise, what they read, the tied MLM decoder, make_head.

Run: python -m pytest -q tests/test_heads.py
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from xlmr.heads import (HEADS, ClassificationHead, MLMHead, MultipleChoiceHead, SpanHead, TokenClassificationHead,
                        make_head)

B, T, H = 3, 7, 32


@pytest.fixture
def hidden():
    return torch.randn(B, T, H, generator=torch.Generator().manual_seed(0))


def test_classification_head_gives_one_row_per_sequence_from_s_only(hidden):
    head = ClassificationHead(H, num_labels=3).eval()
    logits = head(hidden)
    assert logits.shape == (B, 3)
    changed = hidden.clone()
    changed[:, 1:] = 0  # everything but <s>
    torch.testing.assert_close(head(changed), logits, atol=0, rtol=0)


def test_classification_head_matches_transformers():
    transformers = pytest.importorskip("transformers")  # requirements-dev.txt: never skips in CI
    cfg = transformers.XLMRobertaConfig(hidden_size=H, num_labels=3)
    ref = transformers.models.xlm_roberta.modeling_xlm_roberta.XLMRobertaClassificationHead(cfg).eval()
    ours = ClassificationHead(H, 3).eval()
    ours.load_state_dict(ref.state_dict())  # same parameter names
    x = torch.randn(2, 5, H)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-6, rtol=0)


def test_token_classification_head_gives_labels_per_token(hidden):
    assert TokenClassificationHead(H, num_labels=5)(hidden).shape == (B, T, 5)


def test_span_head_gives_start_and_end_per_token(hidden):
    start, end = SpanHead(H)(hidden)
    assert start.shape == (B, T) and end.shape == (B, T)
    assert not torch.equal(start, end)


def test_multiple_choice_head_gives_one_score_per_choice():
    head = MultipleChoiceHead(H).eval()
    hidden = torch.randn(2 * 4, T, H)  # 2 examples x 4 choices
    scores = head(hidden, num_choices=4)
    assert scores.shape == (2, 4)
    # choice j of example i is row i*4 + j, scored from its <s>
    single = head.classifier(hidden[5, 0])
    torch.testing.assert_close(scores[1, 1], single[0], atol=1e-6, rtol=0)
    with pytest.raises(AssertionError, match="not a multiple"):
        head(torch.randn(7, T, H), num_choices=4)


def test_mlm_head_decodes_with_the_word_embeddings(hidden):
    emb = nn.Embedding(50, H)
    head = MLMHead(H, 50, emb).eval()
    logits = head(hidden)
    assert logits.shape == (B, T, 50)
    x = head.layer_norm(torch.nn.functional.gelu(head.dense(hidden)))
    torch.testing.assert_close(logits, x @ emb.weight.T + head.bias, atol=1e-5, rtol=0)
    # tied: training the head moves the embeddings; the head does not own them
    logits.sum().backward()
    assert emb.weight.grad is not None and emb.weight.grad.abs().sum() > 0
    assert {n for n, _ in head.named_parameters()} == {"dense.weight", "dense.bias", "layer_norm.weight",
                                                      "layer_norm.bias", "bias"}
    with torch.no_grad():
        emb.weight.add_(1.0)
    assert not torch.allclose(head(hidden), logits)


def test_make_head_builds_each_kind_and_refuses_unknown_ones(hidden):
    assert set(HEADS) == {"single_cls", "pair_cls", "tag", "span", "multiple_choice"}
    assert make_head("pair_cls", H, 3)(hidden).shape == (B, 3)
    assert make_head("single_cls", H, 2)(hidden).shape == (B, 2)
    assert make_head("tag", H, 17)(hidden).shape == (B, T, 17)
    assert isinstance(make_head("span", H, 2), SpanHead)
    assert make_head("multiple_choice", H, 1)(hidden, num_choices=3).shape == (1, 3)
    with pytest.raises(ValueError, match="unknown head kind 'retrieval'"):
        make_head("retrieval", H, 2)
