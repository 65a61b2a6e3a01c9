"""The encoder on its own: position ids, padding invariance, hidden-state list, dropout, activation checkpointing.

Run: python -m pytest -q tests/test_model.py
(Parity with transformers lives in tests/test_checkpoint.py, which goes through the loader.)
"""
from __future__ import annotations

import pytest
import torch

from xlmr.model import XLMRConfig, XLMREncoder, make_position_ids


def tiny(**overrides) -> XLMREncoder:
    torch.manual_seed(0)
    cfg = XLMRConfig.tiny(vocab_size=50)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return XLMREncoder(cfg).eval()


def test_presets_have_the_published_sizes():
    base, large, small = XLMRConfig.base(), XLMRConfig.large(), XLMRConfig.tiny(vocab_size=77)
    assert (base.vocab_size, base.hidden_size, base.num_layers, base.num_heads, base.ffn_size) == (
        250002, 768, 12, 12, 3072)
    assert (large.hidden_size, large.num_layers, large.num_heads, large.ffn_size) == (1024, 24, 16, 4096)
    assert (small.vocab_size, small.hidden_size, small.num_layers, small.num_heads, small.ffn_size) == (
        77, 32, 2, 4, 64)
    assert (base.max_positions, base.pad_id, base.layer_norm_eps, base.dropout) == (514, 1, 1e-5, 0.1)


def test_position_ids_start_after_pad_and_pads_keep_pad_id():
    ids = torch.tensor([[0, 9, 8, 2, 1, 1], [0, 7, 2, 1, 1, 1]])
    assert make_position_ids(ids, pad_id=1).tolist() == [[2, 3, 4, 5, 1, 1], [2, 3, 4, 1, 1, 1]]


def test_hidden_states_are_embeddings_then_one_per_layer():
    model = tiny()
    ids = torch.tensor([[0, 5, 6, 2]])
    states = model(ids, output_hidden_states=True)
    assert len(states) == model.cfg.num_layers + 1
    assert all(s.shape == (1, 4, 32) for s in states)
    torch.testing.assert_close(states[-1], model(ids), atol=0, rtol=0)


def test_extra_padding_changes_no_real_token_output():
    model = tiny()
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]])
    mask = ids.ne(1).long()
    padded_ids = torch.cat([ids, torch.ones(2, 6, dtype=torch.long)], dim=1)  # 6 more pads
    padded_mask = torch.cat([mask, torch.zeros(2, 6, dtype=torch.long)], dim=1)
    with torch.no_grad():
        short = model(ids, mask, output_hidden_states=True)
        long = model(padded_ids, padded_mask, output_hidden_states=True)
        alone = model(ids[1:, :3], mask[1:, :3])  # the short row without any padding
    for a, b in zip(short, long):
        torch.testing.assert_close(a[mask.bool()], b[:, :5][mask.bool()], atol=1e-6, rtol=0)
    torch.testing.assert_close(short[-1][1, :3], alone[0], atol=1e-6, rtol=0)


def test_no_attention_mask_means_every_non_pad_token():
    model = tiny()
    ids = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]])
    with torch.no_grad():
        keep = ids.ne(1)
        torch.testing.assert_close(model(ids)[keep], model(ids, ids.ne(1).long())[keep], atol=0, rtol=0)


def test_dropout_acts_in_training_only():
    model = tiny()
    ids = torch.tensor([[0, 5, 6, 7, 8, 9, 2]])
    with torch.no_grad():
        assert torch.equal(model(ids), model(ids))
        model.train()
        assert not torch.equal(model(ids), model(ids))


def test_activation_checkpointing_gives_the_same_gradients():
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]])
    grads = []
    for flag in (False, True):
        model = tiny(activation_checkpointing=flag, dropout=0.0, attn_dropout=0.0).train()
        model(ids).pow(2).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 10
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-6, rtol=0, msg=name)


@pytest.mark.parametrize("dtype", [torch.bfloat16])
def test_runs_in_reduced_precision(dtype):
    model = tiny().to(dtype)
    ids = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]])
    out = model(ids)
    assert out.dtype == dtype and torch.isfinite(out).all()


@pytest.mark.slow
def test_a_meta_device_build_has_the_layout_and_initialises_nothing():
    """load_pretrained builds on the meta device; nn.Embedding's init there would import torch._dynamo (~3 s in
    every evaluate.py or retrieval.py process). The meta build skips it and keeps the real build's layout."""
    code = ("import sys, torch\n"
            "from xlmr.model import XLMRConfig, XLMREncoder\n"
            "with torch.device('meta'):\n"
            "    m = XLMREncoder(XLMRConfig.tiny(vocab_size=50))\n"
            "print('torch._dynamo' in sys.modules, m.embeddings.word_embeddings.padding_idx,\n"
            "      m.embeddings.position_embeddings.padding_idx, all(p.is_meta for p in m.parameters()))\n")
    import subprocess
    import sys
    from pathlib import Path
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.split() == ["False", "1", "1", "True"]
    with torch.device("meta"):
        meta = XLMREncoder(XLMRConfig.tiny(vocab_size=50))
    real = tiny()
    assert {k: v.shape for k, v in meta.state_dict().items()} == {k: v.shape for k, v in real.state_dict().items()}
    assert real.embeddings.word_embeddings.weight[1].abs().sum() == 0  # the pad row, on a real device
