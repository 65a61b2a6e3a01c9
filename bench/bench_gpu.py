"""GPU benchmark: XLM-R Large training throughput, MFU and peak memory per task kind, and FAISS kNN on GPU vs CPU.

    python bench/bench_gpu.py                    # on a GPU machine: ~3 minutes; writes bench/gpu_throughput.json
                                                 # (study.py plan reads it) and appends a row to bench/RESULTS.md
    python bench/bench_gpu.py --steps 5 --faiss-n 50000 --no-write     # a quicker look, nothing written
    python bench/bench_gpu.py --check            # the code path on CPU with a tiny model (seconds; writes nothing)

No download: a randomly initialised XLM-R Large (24 x 1024, 16 heads, 250,002-word vocabulary) with train.py's
MultiTaskModel, loss and fused AdamW, bf16 autocast (fp32 master weights), one optimizer step per micro-batch.
Batches are synthetic, shaped like the study's tasks after length-grouped batching (lengths log-normal around the
registry's mean length, each batch padded to its longest sequence): pair_cls (32 pairs), tag (32 sentences), span
(32 windows of 384), multiple_choice (8 questions x 4 choices of 128). Measured per kind after --warmup steps:
useful (non-pad) training tokens/s, MFU = model FLOPs/s over the GPU's bf16 dense peak (6 x non-embedding
parameters + 12 x layers x hidden x sequence length per token, the PaLM appendix B count; peak from PEAK_TFLOPS by
device name, or --peak-tflops), and peak allocated memory. FAISS: exact inner-product kNN (k=4) of --faiss-n
queries against --faiss-n vectors of 1024 dims, IndexFlatIP on the CPU against the same index on every GPU, with the
share of identical top-1 neighbours. On a machine without a CUDA GPU it exits with a message (except --check).

XL (3.5B, pre-LN, 36 x 2560), for the scale study (configs/study/scale.yaml):
    python bench/bench_gpu.py --model xl         # ~5 minutes on an 80 GB GPU; a row under "GPU, XL" in RESULTS.md
    python bench/bench_gpu.py --model xl --check # the code path on CPU with a tiny pre-LN model
Training steps of the pair_cls and span kinds (micro-batch 4, as configs/target/*.yaml: grad_accum makes the
effective batch) in bf16 autocast with fp32 master weights and fused AdamW (16 B a parameter: 56 GB of state),
each with activation checkpointing off and on: useful tokens/s, MFU and peak allocated memory, beside the
xlmr/memory.py estimate study.py plan uses, so the estimate can be checked. No FAISS part, no
gpu_throughput.json (study.py scales Large's measured throughput by FLOPs per token). Not yet run on a GPU.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import train  # noqa: E402
from data.tasks import get_task  # noqa: E402
from xlmr.heads import make_head  # noqa: E402
from xlmr.model import XLMRConfig, XLMREncoder  # noqa: E402

RESULTS_MD = ROOT / "bench" / "RESULTS.md"
THROUGHPUT_JSON = ROOT / "bench" / "gpu_throughput.json"
SECTION = "## GPU — `python bench/bench_gpu.py`"
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A6000": 155.0, "A10": 125.0,
               "L4": 121.0, "4090": 165.0}  # dense bf16 tensor-core peaks from the vendors' data sheets (SXM parts)
# (task kind, registry task giving its mean length, sequences per micro-batch, max_len, choices)
KINDS = (("pair_cls", "xnli", 32, 256, 1), ("tag", "udpos", 32, 256, 1), ("span", "squad_v1", 32, 384, 1),
         ("multiple_choice", "cosmosqa", 8, 128, 4))


def synthetic_batch(kind: str, mean_len: int, n: int, max_len: int, choices: int, vocab: int,
                    g: torch.Generator) -> dict:
    """One padded micro-batch: lengths log-normal around mean_len, sorted (length-grouped), padded to the longest."""
    per_seq = max(8, mean_len // choices)
    lengths = torch.exp(torch.randn(n * choices, generator=g) * 0.4 + math.log(per_seq)).round().clamp(8, max_len)
    lengths = lengths.long().sort().values
    T = int(lengths.max())
    ids = torch.randint(4, vocab - 1, (n * choices, T), generator=g)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    ids = ids * mask + 1 * (1 - mask)  # pad id 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if kind == "multiple_choice":
        batch = {k: v.view(n, choices, T) for k, v in batch.items()}
        batch["label"] = torch.randint(choices, (n,), generator=g)
    elif kind == "tag":
        batch["label"] = torch.where(mask.bool(), torch.randint(17, (n, T), generator=g), train.IGNORE)
    elif kind == "span":
        batch["start_position"] = torch.randint(1, 8, (n,), generator=g)
        batch["end_position"] = batch["start_position"] + 2
    else:
        batch["label"] = torch.randint(3, (n,), generator=g)
    return batch


def model_flops_per_token(cfg: XLMRConfig, seq_len: float) -> float:
    """Training FLOPs per token: 6 x non-embedding parameters + 12 x layers x hidden x sequence length."""
    per_layer = 4 * cfg.hidden_size ** 2 + 2 * cfg.hidden_size * cfg.ffn_size  # attention projections + FFN
    return 6 * cfg.num_layers * per_layer + 12 * cfg.num_layers * cfg.hidden_size * seq_len


def peak_flops(device_name: str, given: float | None) -> float | None:
    if given:
        return given * 1e12
    for key, tflops in PEAK_TFLOPS.items():
        if key in device_name:
            return tflops * 1e12
    return None


def bench_kind(kind, mean_len, n, max_len, choices, mcfg, device, steps, warmup, dtype) -> dict:
    """Useful tokens/s, mean padded sequence length and peak memory of `steps` training steps of one kind."""
    torch.manual_seed(0)
    encoder = XLMREncoder(mcfg).to(device)
    labels = {"pair_cls": 3, "tag": 17, "span": 0, "multiple_choice": 0}[kind]
    model = train.MultiTaskModel(encoder, {kind: make_head(kind, mcfg.hidden_size, labels)}, {kind: kind}).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=device.type == "cuda")
    g = torch.Generator().manual_seed(0)
    batches = [synthetic_batch(kind, mean_len, n, max_len, choices, mcfg.vocab_size, g) for _ in range(steps + warmup)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    tokens, seq, t0 = 0, [], None
    for i, b in enumerate(batches):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
        b = {k: v.to(device, non_blocking=True) for k, v in b.items()}
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = train.compute_loss(kind, model(kind, b["input_ids"], b["attention_mask"]), b)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            tokens += int(b["attention_mask"].sum())
            seq.append(b["input_ids"].shape[-1])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    del model, encoder, opt
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return {"tokens_per_s": tokens / seconds, "mean_seq_len": statistics.mean(seq), "peak_gib": peak}


def bench_faiss(n: int, dim: int = 1024, k: int = 4) -> dict:
    """Seconds of exact IndexFlatIP kNN on the CPU and on the GPUs (None without faiss GPU support)."""
    import faiss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    y = rng.standard_normal((n, dim), dtype=np.float32)
    faiss.normalize_L2(x)
    faiss.normalize_L2(y)
    cpu = faiss.IndexFlatIP(dim)
    cpu.add(y)
    t0 = time.perf_counter()
    _, ids_cpu = cpu.search(x, k)
    out = {"n": n, "cpu_s": time.perf_counter() - t0, "gpu_s": None, "top1_agree": None}
    if getattr(faiss, "get_num_gpus", lambda: 0)() > 0:
        gpu = faiss.index_cpu_to_all_gpus(cpu)
        gpu.search(x[:1024], k)  # warm-up
        t0 = time.perf_counter()
        _, ids_gpu = gpu.search(x, k)
        out["gpu_s"] = time.perf_counter() - t0
        out["top1_agree"] = float((ids_gpu[:, 0] == ids_cpu[:, 0]).mean())
    return out


XL_KINDS = (("pair_cls", "xnli", 4, 256, 1), ("span", "squad_v1", 4, 384, 1))  # micro-batch 4, as the recipes
XL_SECTION = "## GPU, XL — `python bench/bench_gpu.py --model xl`"


def bench_xl(mcfg, device, dtype, args, device_name: str) -> dict:
    """XL training steps per kind, activation checkpointing off and on; the measured peak beside the estimate."""
    from xlmr.memory import training_memory

    peak = peak_flops(device_name, args.peak_tflops)
    rows = {}
    for kind, task, n, max_len, choices in XL_KINDS:
        mean_len = min(get_task(task).mean_tokens, max_len)
        for ckpt in (False, True):
            mcfg.activation_checkpointing = ckpt
            try:
                r = bench_kind(kind, mean_len, n, max_len, choices, mcfg, device, args.steps, args.warmup, dtype)
            except torch.cuda.OutOfMemoryError:
                r = {"tokens_per_s": float("nan"), "mean_seq_len": float("nan"), "peak_gib": float("inf")}
                torch.cuda.empty_cache()
            flops = r["tokens_per_s"] * model_flops_per_token(mcfg, r["mean_seq_len"]) * (4 / 3 if ckpt else 1)
            r["mfu"] = f"{flops / peak:.1%}" if peak and r["tokens_per_s"] == r["tokens_per_s"] else "n/a"
            r["estimate_gib"] = training_memory(mcfg, n, max_len, checkpointing=ckpt).total / 2**30
            rows[f"{kind}, checkpointing {'on' if ckpt else 'off'}"] = r
            print(f"{kind:9} ckpt {'on ' if ckpt else 'off'} {r['tokens_per_s']:>10,.0f} useful tok/s  MFU "
                  f"{r['mfu']:>7}  peak {r['peak_gib']:.1f} GiB (estimate {r['estimate_gib']:.1f} GiB)", flush=True)
    return rows


def write_xl_results(rows: dict, device_name: str, args) -> None:
    """One row under XL_SECTION in bench/RESULTS.md."""
    date = time.strftime("%Y-%m-%d")
    cells = "; ".join(f"{k}: {r['tokens_per_s']:,.0f} tok/s, MFU {r['mfu']}, {r['peak_gib']:.1f} GiB "
                      f"(est. {r['estimate_gib']:.1f})" for k, r in rows.items())
    row = f"| {date} | {device_name} | torch {torch.__version__} | {cells} |\n"
    text = RESULTS_MD.read_text(encoding="utf-8")
    if XL_SECTION not in text:
        text += (f"\n{XL_SECTION}\nXLM-R XL (3.5B, pre-LN), random init, bf16 autocast, fp32 AdamW state, micro-batch 4, "
                 f"{args.steps} steps after {args.warmup} warm-up steps; estimate = xlmr/memory.py (study.py plan).\n\n"
                 "| date | device | software | useful tokens/s, MFU, peak memory (estimate) per kind and checkpointing |\n"
                 "|---|---|---|---|\n") + row
    else:
        head, _, tail = text.partition(XL_SECTION)
        lines = tail.splitlines(keepends=True)
        last = max(i for i, line in enumerate(lines) if line.startswith("|"))
        text = head + XL_SECTION + "".join(lines[:last + 1]) + row + "".join(lines[last + 1:])
    RESULTS_MD.write_text(text, encoding="utf-8")
    print(f"wrote a row in {RESULTS_MD}")


def write_results(rows: dict, faiss_res: dict, device_name: str, args) -> None:
    """bench/gpu_throughput.json for study.py's plan, and one row under SECTION in bench/RESULTS.md."""
    date = time.strftime("%Y-%m-%d")
    overall = statistics.median(r["tokens_per_s"] for r in rows.values())
    THROUGHPUT_JSON.write_text(json.dumps({
        "train_tokens_per_s": round(overall), "per_kind": {k: round(r["tokens_per_s"]) for k, r in rows.items()},
        "device": device_name, "date": date, "torch": torch.__version__, "precision": "bf16",
        "model": "XLM-R Large (random init)"}, indent=1) + "\n")
    cells = "; ".join(f"{k} {r['tokens_per_s']:,.0f} tok/s, MFU {r['mfu']}, {r['peak_gib']:.1f} GiB"
                      for k, r in rows.items())
    if faiss_res["gpu_s"] is not None:
        fa = (f"{faiss_res['n']:,}²: CPU {faiss_res['cpu_s']:.2f} s, GPU {faiss_res['gpu_s']:.2f} s "
              f"({faiss_res['cpu_s'] / faiss_res['gpu_s']:.1f}x; top-1 agree {faiss_res['top1_agree']:.4f})")
    else:
        fa = f"{faiss_res['n']:,}²: CPU {faiss_res['cpu_s']:.2f} s; GPU: faiss without GPU support"
    row = f"| {date} | {device_name} | torch {torch.__version__} | {cells} | {fa} |\n"
    text = RESULTS_MD.read_text(encoding="utf-8")
    if SECTION not in text:
        text += (f"\n{SECTION}\nXLM-R Large, random init, bf16 autocast, fused AdamW, {args.steps} steps per kind after "
                 f"{args.warmup} warm-up steps (medians feed `study.py plan` through bench/gpu_throughput.json).\n\n"
                 "| date | device | software | training: useful tokens/s, MFU, peak memory per kind | FAISS kNN |\n"
                 "|---|---|---|---|---|\n")
        text += row
    else:  # append after the section's last table row
        head, _, tail = text.partition(SECTION)
        lines = tail.splitlines(keepends=True)
        last = max(i for i, line in enumerate(lines) if line.startswith("|"))
        text = head + SECTION + "".join(lines[:last + 1]) + row + "".join(lines[last + 1:])
    RESULTS_MD.write_text(text, encoding="utf-8")
    print(f"wrote {THROUGHPUT_JSON} and a row in {RESULTS_MD}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="XLM-R Large training throughput and FAISS kNN on a GPU.")
    p.add_argument("--steps", type=int, default=20, help="timed steps per task kind")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (allocator, kernels)")
    p.add_argument("--faiss-n", type=int, default=200_000, help="queries and database vectors for FAISS")
    p.add_argument("--peak-tflops", type=float, default=None, help="the GPU's dense bf16 peak, if not in PEAK_TFLOPS")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--check", action="store_true", help="tiny model on CPU, 2 steps, nothing written")
    p.add_argument("--model", choices=("large", "xl"), default="large",
                   help="large (default: every kind + FAISS) or xl (pre-LN 3.5B: checkpointing off/on)")
    args = p.parse_args(argv)
    if args.check:
        device, dtype, mcfg, device_name = torch.device("cpu"), None, XLMRConfig.tiny(1000), "cpu (check)"
        mcfg.pre_layer_norm = args.model == "xl"
        args.steps, args.warmup, args.faiss_n, args.no_write = 2, 1, 2000, True
    else:
        if not torch.cuda.is_available():
            sys.exit("bench_gpu.py: no CUDA GPU visible (torch.cuda.is_available() is False); run it on a GPU "
                     "machine. study.py plan keeps its labelled throughput assumption until then.")
        device, dtype = torch.device("cuda"), torch.bfloat16
        mcfg = XLMRConfig.xl() if args.model == "xl" else XLMRConfig.large()
        device_name = torch.cuda.get_device_name(device)
    if args.model == "xl":
        rows = bench_xl(mcfg, device, dtype, args, device_name)
        if not args.no_write:
            write_xl_results(rows, device_name, args)
        return
    peak = peak_flops(device_name, args.peak_tflops)
    rows = {}
    for kind, task, n, max_len, choices in KINDS:
        n = max(1, n // 8) if args.check else n
        mean_len = min(get_task(task).mean_tokens, max_len * choices)
        r = bench_kind(kind, mean_len, n, max_len, choices, mcfg, device, args.steps, args.warmup, dtype)
        flops = r["tokens_per_s"] * model_flops_per_token(mcfg, r["mean_seq_len"])
        r["mfu"] = f"{flops / peak:.1%}" if peak else "n/a (give --peak-tflops)"
        rows[kind] = r
        print(f"{kind:16} {r['tokens_per_s']:>12,.0f} useful tok/s  MFU {r['mfu']:>8}  "
              f"peak {r['peak_gib']:.2f} GiB  (mean padded length {r['mean_seq_len']:.0f})", flush=True)
    fa = bench_faiss(args.faiss_n)
    print(f"faiss kNN {fa['n']:,} x {fa['n']:,} x 1024: CPU {fa['cpu_s']:.2f} s, "
          + (f"GPU {fa['gpu_s']:.2f} s ({fa['cpu_s'] / fa['gpu_s']:.1f}x), top-1 agree {fa['top1_agree']:.4f}"
             if fa["gpu_s"] is not None else "GPU: faiss has no GPU support here (faiss-gpu not installed)"))
    if not args.no_write:
        write_results(rows, fa, device_name, args)


if __name__ == "__main__":
    main()
