"""How much GPU memory an XLM-R encoder needs: parameter count, a training job's bytes per GPU, and the inference
batch that fits the memory left. Pure arithmetic on an XLMRConfig; nothing here touches a GPU.

    from xlmr.memory import param_count, training_memory, inference_batch_size
    param_count(XLMRConfig.xl())                                              # 3.48e9
    training_memory(XLMRConfig.xxl(), batch_size=4, max_len=256, gpus=8, fsdp=True, checkpointing=True)
    inference_batch_size(encoder.cfg, free_bytes=torch.cuda.mem_get_info()[0], max_len=256, dtype_bytes=2)

Training, per GPU (study.py plan prints it; the README's "Larger models" quotes it):
    states      = 16 B x P           fp32 weights 4 + fp32 gradients 4 + AdamW's two fp32 moments 8 (bf16 autocast
                                      keeps fp32 master weights); divided by the GPU count under FSDP (fully sharded:
                                      weights, gradients and moments), whole on every GPU under DDP
    gathered    = 2 x 2 B x P_layer  FSDP only: bf16 copies of the layer being computed and the one prefetched
    activations = L x b x T x H x A  A = 34 B per token and hidden unit without checkpointing (Korthikanti et al.
                                      2022, arXiv 2205.05198, eq. 2 with 16-bit activations, FFN = 4H, fused
                                      attention so no T^2 score term); with activation checkpointing each layer keeps
                                      only its fp32 input (A = 4 B) and one layer is recomputed at a time (+ 34 B x b
                                      x T x H)
    total       = (states + gathered + activations) x 1.15 + 2 GiB   (allocator fragmentation; CUDA context, cuBLAS
                                      workspaces)
b = sequences per GPU per micro-batch, T = max_len (the padded length: the worst case), P = parameters,
L = layers, H = hidden size. Estimates, not measurements: bench/bench_gpu.py measures the peak on a GPU.

Inference (evaluate.py, retrieval.py): weights are already on the GPU; the batch is
    floor(0.8 x free / per_sequence),  per_sequence = T x d x (8H + 2F + heads x T) [+ (L+1) x T x H x d kept hidden
    states, retrieval], d = bytes per activation (2 in bf16)
8H covers the residual stream, Q/K/V, attention output and LayerNorm output of one layer, 2F the FFN's up
projection and its GELU, heads x T the attention scores of the unfused (math) kernel: a bound, since the fused
kernels store none. Capped to [1, 1024].
"""
from __future__ import annotations

from dataclasses import dataclass

from xlmr.model import XLMRConfig

STATE_BYTES = 16  # per parameter: fp32 weight, gradient, AdamW exp_avg and exp_avg_sq
ACT_BYTES = 34  # per token x hidden unit x layer, 16-bit activations, no checkpointing (Korthikanti et al. 2022)
CKPT_BYTES = 4  # per token x hidden unit x layer with checkpointing: the layer's fp32 input
OVERHEAD_FACTOR, OVERHEAD_BYTES = 1.15, 2 * 2**30  # fragmentation; CUDA context + workspaces
INFERENCE_HEADROOM, MAX_INFERENCE_BATCH = 0.8, 1024


def layer_params(cfg: XLMRConfig) -> int:
    """One encoder layer: Q/K/V and output projections 4H^2 + 4H, FFN 2HF + F + H, two LayerNorms 4H."""
    H, F = cfg.hidden_size, cfg.ffn_size
    return 4 * H * H + 4 * H + 2 * H * F + F + H + 4 * H


def param_count(cfg: XLMRConfig) -> int:
    """Encoder parameters (no task head): embeddings (vocab rows + positions + one token-type row) x H, the
    embedding LayerNorm (post-LN) or the final one (pre-LN), and the layers."""
    H = cfg.hidden_size
    return (cfg.vocab_size + cfg.max_positions + 1) * H + 2 * H + cfg.num_layers * layer_params(cfg)


@dataclass
class TrainingMemory:
    params: int
    states: float  # bytes per GPU
    gathered: float
    activations: float
    total: float

    @property
    def total_gb(self) -> float:
        return self.total / 1e9


def training_memory(cfg: XLMRConfig, batch_size: int, max_len: int, gpus: int = 1, fsdp: bool = False,
                    checkpointing: bool = False) -> TrainingMemory:
    """Bytes per GPU of fine-tuning `cfg` with AdamW in bf16 autocast; the formula is the module docstring's."""
    if batch_size < 1 or max_len < 1 or gpus < 1:
        raise ValueError(f"training_memory: batch_size {batch_size}, max_len {max_len}, gpus {gpus} must be >= 1")
    P = param_count(cfg)
    states = STATE_BYTES * P / (gpus if fsdp else 1)
    gathered = 2 * 2 * layer_params(cfg) if fsdp else 0
    tokens_x_hidden = batch_size * max_len * cfg.hidden_size
    if checkpointing:
        activations = cfg.num_layers * tokens_x_hidden * CKPT_BYTES + tokens_x_hidden * ACT_BYTES
    else:
        activations = cfg.num_layers * tokens_x_hidden * ACT_BYTES
    total = (states + gathered + activations) * OVERHEAD_FACTOR + OVERHEAD_BYTES
    return TrainingMemory(P, states, gathered, activations, total)


def inference_batch_size(cfg: XLMRConfig, free_bytes: float, max_len: int, dtype_bytes: int = 2,
                         keep_hidden_states: bool = False) -> int:
    """Sequences per inference batch that fit `free_bytes` (torch.cuda.mem_get_info()[0] with the weights loaded);
    the formula is the module docstring's."""
    H, F, T = cfg.hidden_size, cfg.ffn_size, max_len
    per_sequence = T * dtype_bytes * (8 * H + 2 * F + cfg.num_heads * T)
    if keep_hidden_states:
        per_sequence += (cfg.num_layers + 1) * T * H * dtype_bytes
    return max(1, min(MAX_INFERENCE_BATCH, int(INFERENCE_HEADROOM * free_bytes // per_sequence)))


def flops_per_token(cfg: XLMRConfig, seq_len: float, training: bool = True, checkpointing: bool = False) -> float:
    """Model FLOPs per token (PaLM appendix B): 6 x non-embedding parameters + 12 x layers x hidden x seq_len for a
    training step (forward 1/3 of it); activation checkpointing adds one more forward (x 4/3)."""
    train = 6 * cfg.num_layers * layer_params(cfg) + 12 * cfg.num_layers * cfg.hidden_size * seq_len
    if not training:
        return train / 3
    return train * (4 / 3 if checkpointing else 1)


PRESETS = {"tiny": XLMRConfig.tiny, "base": XLMRConfig.base, "large": XLMRConfig.large, "xl": XLMRConfig.xl,
           "xxl": XLMRConfig.xxl}


def planned_config(path: str, size: str) -> XLMRConfig | None:
    """The architecture a run will have: the checkpoint folder's own (xlmr.checkpoint.read_config) when it is
    there, else the preset named by the model block's `size` (a random init, or a checkpoint not downloaded yet);
    None when neither says (a path not downloaded and size left at "tiny")."""
    from pathlib import Path

    from xlmr.checkpoint import read_config

    if path and Path(path).is_dir():
        return read_config(path)
    if path and size == "tiny":
        return None
    return PRESETS[size]()


def pick_batch_size(cfg: XLMRConfig, device, max_len: int, default: int, dtype_bytes: int = 2,
                    keep_hidden_states: bool = False) -> int:
    """The inference batch for `device`: from the free memory on CUDA (inference_batch_size), `default` elsewhere
    (CPU memory is rarely the limit, and a fixed batch keeps CPU runs reproducible)."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return default
    free, _ = torch.cuda.mem_get_info(device)
    return inference_batch_size(cfg, free, max_len, dtype_bytes, keep_hidden_states)
