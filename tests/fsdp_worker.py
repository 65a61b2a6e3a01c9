"""One training step of the tiny encoder, FSDP2-sharded over the ranks of torchrun (gloo on CPU), against the same
step unsharded in each process; then the exported full model against the sharded one. Run by tests/test_fsdp.py:

    python -m torch.distributed.run --nproc_per_node=2 tests/fsdp_worker.py OUT.json

For each of VARIANTS (post-LN, with activation checkpointing, pre-LN as XL/XXL), rank 0 writes to OUT.json the
largest |difference| of every parameter and gradient after the step, and of the logits of the exported checkpoint
folder (train.save_selected, loaded back with load_pretrained/load_head) against the sharded model's.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import train  # noqa: E402
from xlmr.checkpoint import load_head, load_pretrained  # noqa: E402
from xlmr.fsdp import full_state_dict, shard  # noqa: E402
from xlmr.heads import make_head  # noqa: E402
from xlmr.model import XLMRConfig, XLMREncoder  # noqa: E402
from xlmr.tokenizer import XLMRTokenizer  # noqa: E402

SPM = Path(__file__).resolve().parent / "fixtures" / "train" / "spm.model"
META = {"kind": "pair_cls", "num_labels": 3, "labels": ["a", "b", "c"], "task": "t", "model": "tiny",
        "intermediate_task": "none", "target_task": "t", "seed": 0}


def build(vocab_size: int, checkpointing: bool, pre_ln: bool) -> train.MultiTaskModel:
    torch.manual_seed(0)
    cfg = XLMRConfig.tiny(vocab_size=vocab_size)
    cfg.pre_layer_norm = pre_ln  # XL / XXL's layout: LayerNorm before each sublayer, a final one, none on embeddings
    cfg.dropout = cfg.attn_dropout = 0.0  # each rank would draw its own dropout masks
    cfg.activation_checkpointing = checkpointing
    encoder = XLMREncoder(cfg)
    head = make_head("pair_cls", cfg.hidden_size, 3)
    train.set_head_dropout(head, 0.0)
    return train.MultiTaskModel(encoder, {"t": head}, {"t": "pair_cls"})


def batch(vocab_size: int, pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(4, vocab_size - 1, (8, 12), generator=g)
    mask = torch.ones_like(ids)
    for i, n in enumerate([12, 9, 5, 12, 7, 3, 10, 6]):  # padded rows on both ranks' halves
        ids[i, n:], mask[i, n:] = pad_id, 0
    ids[:, 0] = 0
    return ids, mask, torch.randint(3, (8,), generator=g)


def step(model, ids, mask, labels) -> None:
    # eps above the rounding noise of the attention key bias, whose true gradient is exactly 0 (tests/test_train.py)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, eps=1e-6, weight_decay=0.01)
    F.cross_entropy(model("t", ids, mask), labels).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


VARIANTS = {"post-LN": (False, False), "post-LN, activation checkpointing": (True, False),
            "pre-LN, activation checkpointing": (True, True)}  # (checkpointing, pre-LN)


def compare(tok, ids, mask, labels, checkpointing: bool, pre_ln: bool, rank: int, world: int) -> dict:
    """One variant: the sharded step against the unsharded one, then the exported folder (rank 0's report)."""
    reference = build(tok.vocab_size, checkpointing, pre_ln)  # unsharded: the whole batch in this process
    reference.train()
    step(reference, ids, mask, labels)
    ref_grads = {n: p.grad.clone() for n, p in reference.named_parameters()}

    model = build(tok.vocab_size, checkpointing, pre_ln)
    shard(model, model.encoder, "cpu", world)
    model.train()
    share = slice(rank * 8 // world, (rank + 1) * 8 // world)  # each rank its part; FSDP averages the gradients
    step(model, ids[share], mask[share], labels[share])
    grads = {n: p.grad.full_tensor().detach() for n, p in model.named_parameters()}
    params = {n: p.full_tensor().detach() for n, p in model.named_parameters()}

    model.eval()
    with torch.no_grad():
        logits = model("t", ids, mask)  # every rank the whole batch: the sharded model's own scores
    full = full_state_dict(model)
    report = {}
    if rank == 0:
        ref_params = {n: p.detach() for n, p in reference.named_parameters()}
        report["params"] = len(params)
        report["max_abs_param_diff"] = max(float((params[n] - ref_params[n]).abs().max()) for n in params)
        report["max_abs_grad_diff"] = max(float((grads[n] - ref_grads[n]).abs().max()) for n in grads)
        report["max_abs_update"] = max(float((params[n] - p0).abs().max())
                                       for n, p0 in build(tok.vocab_size, False, pre_ln).state_dict().items())
        phase = train.Phase("target", None, {}, model, tok, {"t": META})
        with tempfile.TemporaryDirectory() as tmp:
            train.save_selected(Path(tmp) / "best", train.unsharded_copy(phase, full), tok, {"t": META})
            encoder, _ = load_pretrained(Path(tmp) / "best")
            head, _ = load_head(Path(tmp) / "best")
            encoder.eval(), head.eval()
            with torch.no_grad():
                exported = head(encoder(ids, mask))
        report["max_abs_logit_diff_exported"] = float((exported - logits).abs().max())
        report["same_predictions"] = bool(torch.equal(exported.argmax(-1), logits.argmax(-1)))
    return report


def main() -> None:
    out = Path(sys.argv[1])
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    tok = XLMRTokenizer(str(SPM))
    ids, mask, labels = batch(tok.vocab_size, tok.pad_id)
    reports = {name: compare(tok, ids, mask, labels, *options, rank, world) for name, options in VARIANTS.items()}
    if rank == 0:
        out.write_text(json.dumps(reports, indent=1))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
