"""Benchmark of train.py's training loop: its overhead over a bare loop, and what length-grouped padding buys.

    python bench/bench_train.py                 # ~3 minutes on one CPU core
    python bench/bench_train.py --steps 30 --repeats 1     # quick look

CPU only, no download: a small random XLM-R-shaped encoder (4 layers, hidden 256, 4 heads, FFN 1024) with the
fixture tokenizer's vocabulary, on synthetic pair-classification features whose lengths follow XNLI-like pairs
(log-normal, median ~45 sub-tokens with a tail to max_len 256; [R] approximate, as in bench_data.py).

Times are the CPU time of the main thread (time.thread_time, with 1 torch thread by default) for both loops, so
other processes on a shared machine do not skew the comparison; train.py's own clock is swapped for it here.
Printed (medians over --repeats runs):
1. Training tokens/s of train.py's `train_phase` (batch sampling, collate, device transfer, AdamW with clipping,
   per-task loss bookkeeping, tqdm, metrics.jsonl) against a bare forward/backward/AdamW-step loop over the same
   pre-collated batches, same model and optimizer, measured in the same run: the loop's overhead (target <= 10%).
2. Useful (non-pad) training tokens/s of the bare loop with length-grouped dynamic padding (the sampler
   train.py uses) against random batches padded to max_len (XTREME scripts' habit) and random batches with
   dynamic padding: the ratio grouped / pad-to-max (target >= 1.5x). xlmr/model.py runs its dense parts on the
   packed real tokens and only attention on the padded block, so padding costs less here than in a fully
   padded encoder (transformers'): the ratio understates what grouping saves there.
GPU figures (XLM-R Large bf16 tokens/s, peak memory, MFU) need a GPU: this script runs on CPU only.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import train  # noqa: E402
from config import load_config  # noqa: E402
from data.featurize import collate, featurize  # noqa: E402
from data.sampler import BatchStream  # noqa: E402
from data.tasks import get_task  # noqa: E402
from xlmr.heads import make_head  # noqa: E402
from xlmr.model import XLMRConfig, XLMREncoder  # noqa: E402
from xlmr.tokenizer import XLMRTokenizer  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "train"
MAX_LEN = 256
CLOCK = time.thread_time  # CPU seconds of this thread: robust to other processes competing for the cores


def synthetic_features(n: int, vocab_size: int, seed: int) -> list[dict]:
    """`<s> a </s></s> b </s>` features with XNLI-like total lengths (log-normal, median ~45, capped at MAX_LEN)."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.exp(torch.randn(n, generator=g) * 0.5 + math.log(45)).round().clamp(8, MAX_LEN).long()
    feats = []
    for i, length in enumerate(lengths.tolist()):
        ids = torch.randint(4, vocab_size - 1, (length,), generator=g).tolist()
        ids[0], ids[-1] = 0, 2
        feats.append({"input_ids": ids, "label": int(torch.randint(2, (1,), generator=g)), "example_index": i})
    return feats


def build_model(vocab_size: int, seed: int) -> train.MultiTaskModel:
    torch.manual_seed(seed)
    enc = XLMREncoder(XLMRConfig(vocab_size=vocab_size, hidden_size=256, num_layers=4, num_heads=4, ffn_size=1024))
    return train.MultiTaskModel(enc, {"pawsx": make_head("pair_cls", 256, 2)}, {"pawsx": "pair_cls"})


def run_train_phase(model, td, tok, steps: int, batch_size: int, out_dir: Path) -> float:
    """train.py's loop for `steps` steps; tokens/s over the logged windows after the first (warm-up) one."""
    train.time = types.SimpleNamespace(perf_counter=CLOCK, time=time.time)  # train.py's windows in thread CPU time
    cfg = load_config(FIXTURES.parents[2] / "configs" / "smoke.yaml", [
        f"train.out_dir={out_dir}", "data.mlm_files=[]", f"target.max_steps={steps}", "target.eval_every=0",
        f"target.batch_size={batch_size}", "target.grad_accum=1", f"target.max_len={MAX_LEN}", "train.log_every=10"])
    run = train.Run(cfg, out_dir, 0, 1, torch.device("cpu"), "fp32")
    meta = {"pawsx": {"kind": "pair_cls", "num_labels": 2, "labels": ["0", "1"], "task": "pawsx", "model": "bench",
                      "intermediate_task": "none", "target_task": "pawsx", "seed": 0}}
    train.train_phase(run, train.Phase("target", cfg.target, {"pawsx": td}, model, tok, meta))
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in records if "tokens_per_s" in r]
    tokens, seconds, prev = 0, 0.0, records[0]["tokens"]
    for r in records[1:]:  # skip the first window (allocator and thread-pool warm-up)
        window = r["tokens"] - prev
        tokens, seconds, prev = tokens + window, seconds + window / r["tokens_per_s"], r["tokens"]
    return tokens / seconds


def bare_loop(model, batches: list[dict], lr: float = 1e-4, skip: int = 10) -> float:
    """Forward, cross-entropy, backward, AdamW step over pre-collated batches; useful tokens/s after `skip`."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    tokens, t0 = 0, None
    for i, b in enumerate(batches):
        if i == skip:
            t0 = CLOCK()
        logits = model("pawsx", b["input_ids"], b["attention_mask"])
        F.cross_entropy(logits, b["label"]).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= skip:
            tokens += int(b["attention_mask"].sum())
    return tokens / (CLOCK() - t0)


def stream_batches(features, batch_size: int, steps: int, seed: int) -> list[list[dict]]:
    stream = BatchStream(features, batch_size, seed, 0, 1)  # the order train_phase sees
    return [stream.next() for _ in range(steps)]


def random_batches(features, batch_size: int, steps: int, seed: int) -> list[list[dict]]:
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(features), generator=g).tolist()
    return [[features[j] for j in order[i * batch_size:(i + 1) * batch_size]] for i in range(steps)]


def pad_to(batch: dict, length: int, pad_id: int) -> dict:
    extra = length - batch["input_ids"].shape[1]
    return {**batch, "input_ids": F.pad(batch["input_ids"], (0, extra), value=pad_id),
            "attention_mask": F.pad(batch["attention_mask"], (0, extra), value=0)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=60, help="optimizer steps per measurement")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: on a shared machine spinning OpenMP threads swamp the timings)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tok = XLMRTokenizer(FIXTURES / "spm.model")
    pawsx = get_task("pawsx")
    features = synthetic_features(args.steps * args.batch_size * 2, tok.vocab_size, seed=0)
    dev = pawsx.read(FIXTURES / "data", "en", "dev")[:16]
    td = train.TaskData("pawsx", "pair_cls", pawsx.labels, features, len(features), dev,
                        featurize("pair_cls", dev, tok, MAX_LEN, labels=pawsx.labels), pawsx)
    grouped = [collate(b, tok.pad_id) for b in stream_batches(features, args.batch_size, args.steps, seed=0)]
    rand = [collate(b, tok.pad_id) for b in random_batches(features, args.batch_size, args.steps, seed=0)]
    padded = [pad_to(b, MAX_LEN, tok.pad_id) for b in rand]
    useful = sum(int(b["attention_mask"].sum()) for b in rand)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.steps} steps x batch "
          f"{args.batch_size}; mean {useful / len(rand) / args.batch_size:.1f} real tokens per sequence, "
          f"max_len {MAX_LEN}; medians of {args.repeats} runs")

    results = {k: [] for k in ("loop", "bare", "grouped", "random", "pad_to_max")}
    for r in range(args.repeats):
        base = build_model(tok.vocab_size, seed=r)
        with tempfile.TemporaryDirectory() as tmp:
            results["loop"].append(run_train_phase(copy.deepcopy(base), td, tok, args.steps, args.batch_size,
                                                   Path(tmp) / "run"))
        results["bare"].append(bare_loop(copy.deepcopy(base), grouped))
        results["grouped"].append(results["bare"][-1])  # the same measurement: grouped batches, dynamic padding
        results["random"].append(bare_loop(copy.deepcopy(base), rand))
        results["pad_to_max"].append(bare_loop(copy.deepcopy(base), padded))
        print(f"  run {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in results.items() if k != "grouped"),
              file=sys.stderr)
    med = {k: statistics.median(v) for k, v in results.items()}
    overhead = 1 - med["loop"] / med["bare"]
    print(f"1. training tokens/s   train.py loop {med['loop']:,.0f}   bare loop {med['bare']:,.0f}   "
          f"ratio {med['loop'] / med['bare']:.3f}  (overhead {100 * overhead:.1f}%, target <= 10%)")
    print(f"2. useful tokens/s     length-grouped {med['grouped']:,.0f}   random+dynamic {med['random']:,.0f}   "
          f"pad-to-max {med['pad_to_max']:,.0f}")
    print(f"   grouped / pad-to-max {med['grouped'] / med['pad_to_max']:.2f}x (target >= 1.5x); "
          f"random+dynamic / pad-to-max {med['random'] / med['pad_to_max']:.2f}x")
    print("GPU figures (XLM-R Large bf16 tokens/s, peak memory, MFU): not measured, no GPU in this run.")


if __name__ == "__main__":
    main()
