"""The XLM-R encoder (XLM-RoBERTa, Conneau et al. 2020) in plain PyTorch.

    from xlmr.model import XLMRConfig, XLMREncoder
    enc = XLMREncoder(XLMRConfig.base())
    hidden = enc(input_ids, attention_mask)                       # (B, T, H)
    states = enc(input_ids, attention_mask, output_hidden_states=True)  # L+1 tensors (B, T, H)

Load published weights with `xlmr.checkpoint.load_pretrained`; heads live in `xlmr/heads.py`.

XLM-R's quirks, the ones that break a "BERT-like" reimplementation:
- Position ids come from `input_ids`, fairseq style: the i-th non-pad token gets `pad_id + i` (so the first real
  position is 2), pads get `pad_id` itself. The table has `max_positions = 514` rows, so 512 tokens fit.
- One token-type row (`type_vocab_size = 1`) that Hugging Face checkpoints carry; it is added to every token.
  fairseq checkpoints have none (the loader puts zeros there).
- Post-LN: LayerNorm comes *after* each residual sum (x = LN(x + sublayer(x))), and once after the embeddings.
  GELU is the exact (erf) one; every LayerNorm has eps 1e-5.
- XL and XXL (Goyal et al. 2021, `pre_layer_norm=True`) are pre-LN instead: x = x + sublayer(LN(x)), **no**
  embedding LayerNorm, and one final LayerNorm after the last layer (fairseq `encoder_normalize_before`;
  transformers `XLMRobertaXLModel`). Their embedding table has 250,880 rows (250,002 ids padded to a multiple of
  1,024); the tokenizer never produces the extra rows.
- Hidden states of a pre-LN model: the intermediate ones are the un-normalised residual stream (as transformers'
  `hidden_states[:-1]` and fairseq's `inner_states[:-1]`); the last one has the final LayerNorm applied, so
  `states[-1]` is always what `forward` returns and what the heads read. `final_layer_norm(x)` applies it to
  any state (retrieval.py does this for every pooled layer of a pre-LN model).
- The sentence representation for classification is the hidden state of `<s>` (position 0), see heads.py.
- `attention_mask=None` means "every token that is not `pad_id`" (transformers would attend to pads).

No compute on padding: `forward` gathers the N real tokens of the (B, T) batch once and runs embeddings,
projections, FFN, LayerNorms and dropout on (N, H). Only attention goes back to the padded (B, T) layout, for one
scaled_dot_product_attention call per layer (the CPU kernels have no variable-length form; a Python loop over the
sequences was faster on an idle CPU but issues B times more small ops, which lose on a busy CPU and on GPUs).
The outputs come back as (B, T, H) with zeros at pad positions. On mixed lengths 16-128 that skips ~40% of the dense
work.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint


@dataclass
class XLMRConfig:
    vocab_size: int = 250002  # sentencepiece pieces + 2 (fairseq's 4 specials, <mask> last)
    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    ffn_size: int = 3072
    max_positions: int = 514  # 512 tokens + pad_id + 1 (positions start after pad_id)
    pad_id: int = 1
    dropout: float = 0.1  # after the embeddings and after each sublayer
    attn_dropout: float = 0.1  # on the attention probabilities
    layer_norm_eps: float = 1e-5
    activation_checkpointing: bool = False  # recompute each layer in backward: memory for time
    pre_layer_norm: bool = False  # XL/XXL: x + f(LN(x)), no embedding LN, a final LN (the loader reads it off the keys)

    @classmethod
    def base(cls) -> "XLMRConfig":
        return cls(hidden_size=768, num_layers=12, num_heads=12, ffn_size=3072)

    @classmethod
    def large(cls) -> "XLMRConfig":
        return cls(hidden_size=1024, num_layers=24, num_heads=16, ffn_size=4096)

    @classmethod
    def xl(cls) -> "XLMRConfig":  # Goyal et al. 2021; 3.5B parameters
        return cls(vocab_size=250880, hidden_size=2560, num_layers=36, num_heads=32, ffn_size=10240,
                   pre_layer_norm=True)

    @classmethod
    def xxl(cls) -> "XLMRConfig":  # 10.7B parameters
        return cls(vocab_size=250880, hidden_size=4096, num_layers=48, num_heads=32, ffn_size=16384,
                   pre_layer_norm=True)

    @classmethod
    def tiny(cls, vocab_size: int = 1000) -> "XLMRConfig":
        return cls(vocab_size=vocab_size, hidden_size=32, num_layers=2, num_heads=4, ffn_size=64)


def make_position_ids(input_ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """fairseq positions: pad_id + 1, pad_id + 2, ... over non-pad tokens; pad_id on pads. (B, T) -> (B, T)."""
    not_pad = input_ids.ne(pad_id).long()
    return torch.cumsum(not_pad, dim=1) * not_pad + pad_id


def _embedding(num: int, dim: int, padding_idx: int | None = None) -> nn.Embedding:
    """nn.Embedding; under `torch.device("meta")` without its N(0, 1) init, which has no values to set there and
    whose meta kernel imports torch._dynamo (~3 s on the first load_pretrained of an evaluate.py or retrieval.py
    process). On a real device the init runs as before (the same random stream for a seeded model)."""
    if torch.empty(0).is_meta:
        return nn.Embedding(num, dim, padding_idx=padding_idx, _weight=torch.empty(num, dim))
    return nn.Embedding(num, dim, padding_idx=padding_idx)


class Embeddings(nn.Module):
    def __init__(self, cfg: XLMRConfig):
        super().__init__()
        self.word_embeddings = _embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_id)
        self.position_embeddings = _embedding(cfg.max_positions, cfg.hidden_size, padding_idx=cfg.pad_id)
        self.token_type_embeddings = _embedding(1, cfg.hidden_size)  # one row, added to every token
        # pre-LN models (XL, XXL) have no LayerNorm here: the first layer normalises its own input
        self.layer_norm = None if cfg.pre_layer_norm else nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        x = self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        x = x + self.token_type_embeddings.weight[0]
        return self.dropout(x if self.layer_norm is None else self.layer_norm(x))


class PackedIndex:
    """Where the N real tokens of a (B, T) batch sit: gathered once; scattered back to (B, T, .) for attention and
    for the outputs."""

    def __init__(self, keep: torch.Tensor):
        self.shape = keep.shape  # (B, T)
        self.index = keep.flatten().nonzero().squeeze(1)  # (N,) positions of real tokens in the flattened batch
        self.attn_mask = keep[:, None, None, :]  # (B, 1, 1, T), True = may attend: broadcast over heads, queries

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (B, T, D) with zeros at pads."""
        B, T = self.shape
        return x.new_zeros(B * T, x.shape[1]).index_copy(0, self.index, x).view(B, T, -1)


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused Q/K/V projection (the loader concatenates the published three)."""

    def __init__(self, cfg: XLMRConfig):
        super().__init__()
        assert cfg.hidden_size % cfg.num_heads == 0, f"hidden_size {cfg.hidden_size} % num_heads {cfg.num_heads}"
        self.num_heads = cfg.num_heads
        self.qkv = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size)  # rows: [query; key; value]
        self.out = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.attn_dropout = cfg.attn_dropout

    def forward(self, x: torch.Tensor, packed: PackedIndex) -> torch.Tensor:
        """x: (N, H) real tokens -> (N, H). Attention is the one place that wants the padded (B, T) layout."""
        N, H = x.shape
        B, T = packed.shape
        nh, hd = self.num_heads, H // self.num_heads
        q, k, v = packed.pad(self.qkv(x)).view(B, T, 3, nh, hd).permute(2, 0, 3, 1, 4)  # each (B, nh, T, hd)
        dropout_p = self.attn_dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=packed.attn_mask, dropout_p=dropout_p)  # (B, nh, T, hd)
        y = y.transpose(1, 2).reshape(B * T, H)[packed.index]  # back to the real tokens: (N, H)
        return self.out(y)


class FeedForward(nn.Module):
    def __init__(self, cfg: XLMRConfig):
        super().__init__()
        self.up = nn.Linear(cfg.hidden_size, cfg.ffn_size)
        self.down = nn.Linear(cfg.ffn_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Layer(nn.Module):
    """Post-LN block: x = LN(x + drop(attn(x))); x = LN(x + drop(ffn(x))). x: (N, H) real tokens.
    Pre-LN (cfg.pre_layer_norm): x = x + drop(attn(LN(x))); x = x + drop(ffn(LN(x))); the same two LayerNorms,
    used before their sublayer. (fairseq drops out after both sublayers; transformers' XL port has no dropout
    after the FFN: a training-only difference.)"""

    def __init__(self, cfg: XLMRConfig):
        super().__init__()
        self.attn = SelfAttention(cfg)
        self.attn_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.ffn = FeedForward(cfg)
        self.ffn_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        self.pre_layer_norm = cfg.pre_layer_norm

    def forward(self, x: torch.Tensor, packed: PackedIndex) -> torch.Tensor:
        if self.pre_layer_norm:
            x = x + self.dropout(self.attn(self.attn_norm(x), packed))
            return x + self.dropout(self.ffn(self.ffn_norm(x)))
        x = self.attn_norm(x + self.dropout(self.attn(x, packed)))
        return self.ffn_norm(x + self.dropout(self.ffn(x)))


class XLMREncoder(nn.Module):
    def __init__(self, cfg: XLMRConfig):
        super().__init__()
        self.cfg = cfg
        self.embeddings = Embeddings(cfg)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.num_layers))
        # pre-LN: the residual stream grows unnormalised through the stack; one LayerNorm after the last layer
        self.final_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps) if cfg.pre_layer_norm else None
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """BERT/RoBERTa initialisation: N(0, 0.02) weights, zero biases, pad rows zero (for training from scratch).
        Nothing on the meta device (no values; see _embedding)."""
        if isinstance(module, (nn.Linear, nn.Embedding)) and module.weight.is_meta:
            return
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])

    def final_layer_norm(self, x: torch.Tensor) -> torch.Tensor:
        """The final LayerNorm of a pre-LN model applied to x (any hidden state, (..., H)); x itself when post-LN
        (every post-LN state is already normalised)."""
        return x if self.final_norm is None else self.final_norm(x)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                output_hidden_states: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """input_ids, attention_mask: (B, T), mask 1 = token, 0 = pad. Returns (B, T, H) (zeros at pads), or the
        embeddings output and each layer's output: L+1 such tensors (pre-LN: the last one after the final
        LayerNorm, the others un-normalised; see the module docstring)."""
        if attention_mask is None:
            attention_mask = input_ids.ne(self.cfg.pad_id)
        packed = PackedIndex(attention_mask.bool())
        positions = make_position_ids(input_ids, self.cfg.pad_id)
        x = self.embeddings(input_ids.flatten()[packed.index], positions.flatten()[packed.index])  # (N, H)
        states = [x]
        for layer in self.layers:
            if self.cfg.activation_checkpointing and self.training and torch.is_grad_enabled():
                x = checkpoint(layer, x, packed, use_reentrant=False)
            else:
                x = layer(x, packed)
            states.append(x)
        if self.final_norm is not None:
            x = states[-1] = self.final_norm(x)
        if output_hidden_states:
            return [packed.pad(s) for s in states]
        return packed.pad(x)
