"""Benchmark: our XLM-R encoder against transformers' XLMRobertaModel, same weights, same batch, same run.

    python bench/bench_encoder.py                  # base size, fp32, 16 sequences of 16-128 tokens, 3 repeats
    python bench/bench_encoder.py --repeats 5 --seed 1
    python bench/bench_encoder.py --size tiny      # a smoke run in seconds

What it measures (median over --repeats after one warm-up, on this machine's threads):
- The two models alternate within each repeat, so both see the same machine load.
- forward: eval mode under torch.no_grad; forward+backward: train mode (dropout on), loss = mean square of the
  non-pad outputs, parameter gradients included. Throughput in *useful* (non-pad) tokens per second.
- peak memory: the rise of the process's peak RSS over one step, with glibc told to mmap every allocation of 64 KiB
  or more (so freed tensors leave RSS and the peak is the step's own); measured after all timing.
- GFLOP/s: model FLOPs / time. "useful" counts only what unpadded sequences need (dense layers on real tokens,
  attention over each sequence's own length); "executed" counts what the implementation computes (transformers:
  every padded token; ours: dense on the real tokens, attention on the padded (B, T, T) block). The matmul peak is
  the best of torch.matmul on fp32 matrices of the FFN's shape and 2048^3, measured before and after the timing.
  "dense part": FLOPs of the projections and FFN over the median forward time less the share spent inside
  scaled_dot_product_attention (from torch.profiler), so GEMMs plus LayerNorm, GELU, gathers, residual adds.
- --threads 1 takes the OpenMP barriers out of the picture: on a busy 2-core machine they cost milliseconds per op.
The batch lengths come from --seed, so runs compare. Other processes on the machine make numbers noisy: run it
two or three times and report the median.
Needs transformers (requirements-dev.txt); runtime code never imports it.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import re
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from xlmr.checkpoint import fuse_qkv, rename_keys  # noqa: E402
from xlmr.model import XLMRConfig, XLMREncoder  # noqa: E402


def make_batch(batch_size: int, min_len: int, max_len: int, vocab_size: int, seed: int):
    """Random tokens `<s> w... </s>` with lengths uniform in [min_len, max_len], padded to the longest."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_len, max_len + 1, (batch_size,), generator=gen).tolist()
    ids = torch.full((batch_size, max(lengths)), 1, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(4, vocab_size, (n,), generator=gen)
        ids[b, 0], ids[b, n - 1] = 0, 2
        mask[b, :n] = 1
    return ids, mask, lengths


def count_flops(cfg: XLMRConfig, tokens: int, attn_pairs: int) -> float:
    """Forward FLOPs: dense (Q/K/V/out projections + FFN) per token, attention (QK^T and PV) per (query, key) pair."""
    H, F, L = cfg.hidden_size, cfg.ffn_size, cfg.num_layers
    return L * (2 * (4 * H * H + 2 * H * F) * tokens + 2 * 2 * H * attn_pairs)


def make_matmul_step(n: int, k: int, m: int):
    """A step of torch.matmul (n, k) @ (k, m) in fp32 and its FLOPs: the peak the model's GEMMs could reach."""
    a, b = torch.randn(n, k), torch.randn(k, m)

    def step():
        for _ in range(5):
            torch.matmul(a, b)
    return step, 5 * 2 * n * k * m


def time_interleaved(steps: dict, repeats: int) -> dict:
    """Median seconds per step; the steps alternate within each repeat so both see the same machine load."""
    for step in steps.values():
        step()  # warm-up
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def measure_attention_share(step) -> float:
    """Share of one step's time spent inside scaled_dot_product_attention, from torch.profiler."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        step()
        wall = time.perf_counter() - t0
    attention = sum(e.cpu_time_total for e in prof.key_averages() if e.key == "aten::scaled_dot_product_attention")
    return attention / 1e6 / wall


def read_status_mib(field: str) -> float:
    return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def measure_peak_mib(step) -> float:
    """Rise of peak RSS over one call of `step` (Linux: /proc/self/clear_refs resets the peak)."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    before = read_status_mib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    step()
    return read_status_mib("VmHWM") - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=["base", "large", "tiny"], default="base")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--min-len", type=int, default=16)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0, help="fixes the sequence lengths and tokens")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per measurement (median reported)")
    ap.add_argument("--ref-attn", choices=["sdpa", "eager"], default="sdpa", help="transformers' attention")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory pass")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import transformers  # test/bench-only reference

    torch.manual_seed(0)
    cfg = {"base": XLMRConfig.base, "large": XLMRConfig.large}.get(args.size, lambda: XLMRConfig.tiny(1000))()
    hf_cfg = transformers.XLMRobertaConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads, intermediate_size=cfg.ffn_size, max_position_embeddings=cfg.max_positions,
        type_vocab_size=1, layer_norm_eps=cfg.layer_norm_eps, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        attn_implementation=args.ref_attn)
    ref = transformers.XLMRobertaModel(hf_cfg, add_pooling_layer=False)
    ours = XLMREncoder(cfg)
    state, _, unknown = rename_keys(ref.state_dict(), "hf")
    assert not unknown, unknown
    ours.load_state_dict(fuse_qkv(state), strict=True)
    del state

    ids, mask, lengths = make_batch(args.batch_size, args.min_len, args.max_len, cfg.vocab_size, args.seed)
    B, T = ids.shape
    useful = sum(lengths)
    keep = mask.bool()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
          f"size {args.size}, fp32, batch {B} x {T} ({useful} useful of {B * T} tokens, seed {args.seed}), "
          f"reference attention {args.ref_attn}, repeats {args.repeats}")

    with torch.no_grad():  # same weights, same answers (atol generous: base-size fp32 sums)
        diff = (ours.eval()(ids, mask) - ref.eval()(input_ids=ids, attention_mask=mask).last_hidden_state)[keep]
    print(f"max |ours - transformers| on real tokens: {diff.abs().max().item():.2e}")

    def forward(model, is_ref):
        model.eval()

        def step():
            with torch.no_grad():
                model(input_ids=ids, attention_mask=mask) if is_ref else model(ids, mask)
        return step

    def forward_backward(model, is_ref):
        model.train()

        def step():
            model.zero_grad(set_to_none=True)
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state if is_ref else model(ids, mask)
            out[keep].square().mean().backward()
        return step

    flops_useful = count_flops(cfg, useful, sum(n * n for n in lengths))
    flops_exec = {"transformers": count_flops(cfg, B * T, B * T * T), "ours": count_flops(cfg, useful, B * T * T)}
    print(f"forward FLOPs: useful {flops_useful / 1e9:.1f} G, executed by transformers "
          f"{flops_exec['transformers'] / 1e9:.1f} G, by ours {flops_exec['ours'] / 1e9:.1f} G")

    # the matmul peak is timed between the models' steps, so it sees the same machine load
    matmul_ffn, matmul_ffn_flops = make_matmul_step(B * T, cfg.hidden_size, cfg.ffn_size)
    matmul_cube, matmul_cube_flops = make_matmul_step(2048, 2048, 2048)
    steps = {"transformers": forward(ref, True), "ours": forward(ours, False)}
    fwd = time_interleaved({**steps, "matmul_ffn": matmul_ffn, "matmul_cube": matmul_cube}, args.repeats)
    fb = time_interleaved({"transformers": forward_backward(ref, True), "ours": forward_backward(ours, False)},
                          args.repeats)
    peak_ffn, peak_cube = matmul_ffn_flops / fwd["matmul_ffn"] / 1e9, matmul_cube_flops / fwd["matmul_cube"] / 1e9
    peak = max(peak_ffn, peak_cube)
    print(f"torch.matmul peak: {peak:.1f} GFLOP/s (fp32; ({B * T}, {cfg.hidden_size}) @ ({cfg.hidden_size}, "
          f"{cfg.ffn_size}): {peak_ffn:.1f}, 2048^3: {peak_cube:.1f}); percentages below are of {peak:.1f}")
    results = {name: {"fwd": fwd[name], "fb": fb[name]} for name in steps}
    dense_flops = {"transformers": count_flops(cfg, B * T, 0), "ours": count_flops(cfg, useful, 0)}
    for name in steps:
        t_fwd, t_fb = fwd[name], fb[name]
        share = measure_attention_share(steps[name])
        dense = t_fwd * (1 - share)  # the median forward time, less attention's share of a profiled forward
        print(f"{name:>12}: forward {useful / t_fwd:6.0f} tok/s ({t_fwd * 1e3:5.0f} ms; GFLOP/s useful "
              f"{flops_useful / t_fwd / 1e9:5.1f} = {flops_useful / t_fwd / 1e9 / peak:4.0%} of peak, executed "
              f"{flops_exec[name] / t_fwd / 1e9:5.1f} = {flops_exec[name] / t_fwd / 1e9 / peak:4.0%}) | "
              f"forward+backward {useful / t_fb:6.0f} tok/s ({t_fb * 1e3:5.0f} ms, {t_fb / t_fwd:.1f}x forward)")
        print(f"{'':>12}  dense part (the forward less attention, {share:.0%} of it per torch.profiler): "
              f"{dense_flops[name] / dense / 1e9:5.1f} GFLOP/s = {dense_flops[name] / dense / 1e9 / peak:4.0%} of peak")

    if not args.no_memory:
        ctypes.CDLL("libc.so.6").mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD: big allocations leave RSS when freed
        for name, model in (("transformers", ref), ("ours", ours)):
            is_ref = name == "transformers"
            forward_backward(model, is_ref)()  # warm caches outside the measurement
            model.zero_grad(set_to_none=True)
            results[name]["mem_fwd"] = measure_peak_mib(forward(model, is_ref))
            results[name]["mem_fb"] = measure_peak_mib(forward_backward(model, is_ref))
            model.zero_grad(set_to_none=True)
            print(f"{name:>12}: peak memory over the step: forward {results[name]['mem_fwd']:7.0f} MiB, "
                  f"forward+backward {results[name]['mem_fb']:7.0f} MiB (gradients included)")

    r, o = results["transformers"], results["ours"]
    print(f"ratio ours/transformers (tokens/s): forward {r['fwd'] / o['fwd']:.2f}x, "
          f"forward+backward {r['fb'] / o['fb']:.2f}x")
    if not args.no_memory:
        print(f"ratio ours/transformers (peak memory): forward {o['mem_fwd'] / r['mem_fwd']:.2f}, "
              f"forward+backward {o['mem_fb'] / r['mem_fb']:.2f}")


if __name__ == "__main__":
    main()
