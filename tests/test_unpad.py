"""The unpadded encoder equals the plain padded computation: every head's outputs and all gradients.

Run: python -m pytest -q tests/test_unpad.py

The reference below runs the same modules on the padded (B, T, H) layout, with attention over the whole padded
block and a key mask: the textbook computation the packed path of xlmr/model.py replaces.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from xlmr.heads import MLMHead, make_head
from xlmr.model import XLMRConfig, XLMREncoder, make_position_ids


def padded_forward(model: XLMREncoder, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, T) -> (B, T, H), computing every position, pads included."""
    B, T = ids.shape
    keep = mask.bool()
    x = model.embeddings(ids, make_position_ids(ids, model.cfg.pad_id))  # (B, T, H)
    for layer in model.layers:
        H, nh = x.shape[-1], layer.attn.num_heads
        q, k, v = layer.attn.qkv(x).view(B, T, 3, nh, H // nh).permute(2, 0, 3, 1, 4)  # each (B, nh, T, hd)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
        x = layer.attn_norm(x + layer.attn.out(y.transpose(1, 2).reshape(B, T, H)))
        x = layer.ffn_norm(x + layer.ffn(x))
    return x


def make_model(seed: int = 0) -> XLMREncoder:
    torch.manual_seed(seed)
    model = XLMREncoder(XLMRConfig.tiny(vocab_size=60))
    with torch.no_grad():  # LayerNorm gains and biases away from 1 and 0, so a misplaced one shows
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.3)
    return model.eval()  # dropout off: both paths must then agree exactly


def make_batch(lengths, T, left=False):
    gen = torch.Generator().manual_seed(sum(lengths))
    ids = torch.full((len(lengths), T), 1, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for b, n in enumerate(lengths):
        span = slice(T - n, T) if left else slice(0, n)
        ids[b, span] = torch.randint(4, 60, (n,), generator=gen)
        ids[b, span.start], ids[b, span.stop - 1] = 0, 2
        mask[b, span] = 1
    return ids, mask


BATCHES = {
    "heavy_padding": dict(lengths=(3, 37, 2, 9), T=40),  # 51 of 160 tokens are real
    "no_padding": dict(lengths=(12, 12, 12, 12), T=12),
    "left_padding": dict(lengths=(5, 11, 8, 2), T=11, left=True),
}
HEAD_KINDS = ["single_cls", "pair_cls", "tag", "span", "multiple_choice", "mlm"]


def run_head(kind, head, hidden, keep):
    """The head's outputs at the positions that mean something (pads excluded), flattened into one tensor."""
    if kind == "multiple_choice":
        return head(hidden, num_choices=2).flatten()  # 4 sequences = 2 examples x 2 choices
    out = head(hidden)
    if kind == "span":
        return torch.cat([out[0][keep], out[1][keep]])
    if kind in ("tag", "mlm"):
        return out[keep].flatten()
    return out.flatten()  # sequence classification reads <s>


def outputs_and_gradients(path: str, batch_name: str) -> dict:
    """{head kind: (outputs, {parameter name: gradient})} for one forward of the encoder on `path`."""
    ids, mask = make_batch(**BATCHES[batch_name])
    keep = mask.bool()
    model = make_model()
    torch.manual_seed(1)
    heads = {kind: make_head(kind, 32, 5).eval() for kind in HEAD_KINDS if kind != "mlm"}
    heads["mlm"] = MLMHead(32, 60, model.embeddings.word_embeddings)
    hidden = model(ids, mask) if path == "packed" else padded_forward(model, ids, mask)
    results = {}
    for kind, head in heads.items():
        if batch_name == "left_padding" and kind in ("single_cls", "pair_cls", "multiple_choice"):
            continue  # these read <s> at position 0: right padding only, as the tokenizer pads
        out = run_head(kind, head, hidden, keep)
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        names, params = zip(*[*model.named_parameters(), *[("head." + n, p) for n, p in head.named_parameters()]])
        grads = torch.autograd.grad((out * weights).sum(), params, retain_graph=True, allow_unused=True)
        results[kind] = (out.detach(), dict(zip(names, grads)))
    return results


@pytest.mark.parametrize("batch_name", sorted(BATCHES))
def test_every_head_and_gradient_equals_the_padded_computation(batch_name):
    packed, padded = outputs_and_gradients("packed", batch_name), outputs_and_gradients("padded", batch_name)
    assert packed.keys() == padded.keys() and len(packed) >= 3
    for kind in packed:
        (out_a, grads_a), (out_b, grads_b) = packed[kind], padded[kind]
        torch.testing.assert_close(out_a, out_b, atol=1e-5, rtol=0, msg=f"{kind} head outputs")
        assert grads_a.keys() == grads_b.keys()
        for name in grads_a:
            a, b = grads_a[name], grads_b[name]
            assert (a is None) == (b is None), name
            if a is not None:
                # rtol: bias and token-type gradients are sums over every token (|g| ~ 60 here), where fp32
                # summation order alone moves the 7th significant digit
                torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=f"{kind}: gradient of {name}")


@pytest.mark.parametrize("batch_name", sorted(BATCHES))
def test_every_hidden_state_equals_the_padded_computation_and_pads_are_zero(batch_name):
    model = make_model()
    ids, mask = make_batch(**BATCHES[batch_name])
    keep = mask.bool()
    with torch.no_grad():
        states = model(ids, mask, output_hidden_states=True)
        reference = padded_forward(model, ids, mask)
    torch.testing.assert_close(states[-1][keep], reference[keep], atol=1e-5, rtol=0)
    for s in states:
        assert s.shape == (*ids.shape, 32) and not s[~keep].any()


def test_an_empty_row_gives_zeros_and_leaves_the_others_alone():
    model = make_model()
    ids, mask = make_batch((4, 6), T=6)
    ids_empty = torch.cat([ids[:1], torch.ones(1, 6, dtype=torch.long), ids[1:]])
    mask_empty = torch.cat([mask[:1], torch.zeros(1, 6, dtype=torch.long), mask[1:]])
    with torch.no_grad():
        out, out_empty = model(ids, mask), model(ids_empty, mask_empty)
    assert not out_empty[1].any()
    torch.testing.assert_close(out_empty[[0, 2]], out, atol=1e-6, rtol=0)
