"""Load and save XLM-R weights safely: Hugging Face and fairseq directories in, Hugging Face layout out.

    from xlmr.checkpoint import load_pretrained, save_pretrained
    encoder, tokenizer = load_pretrained("checkpoints/xlm-roberta-large")   # HF dir or fairseq dir
    save_pretrained(encoder, tokenizer, "runs/xnli/checkpoint")             # transformers can load this

Accepted directories:
- Hugging Face (as `huggingface-cli download FacebookAI/xlm-roberta-large` leaves it): `config.json`,
  `model.safetensors` or `pytorch_model.bin`, `sentencepiece.bpe.model`. Keys with or without the `roberta.` prefix;
  `lm_head.*` goes to the MLM head (`load_mlm_head`); pooler/classifier keys are reported and ignored.
- fairseq (as in `xlmr.large.tar.gz`): `model.pt`, `dict.txt`, `sentencepiece.bpe.model`. Old (`decoder.`,
  `emb_layer_norm`, fused `in_proj_weight`) and new (`encoder.`, `layernorm_embedding`, `q_proj/k_proj/v_proj`) key
  spellings; the config is read off the tensor shapes (heads from the stored `args` when present, else hidden/64).
  `dict.txt` is not read: ids come from the sentencepiece model with fairseq's offset (see xlmr/tokenizer.py).

XL and XXL (pre-LayerNorm, Goyal et al. 2021) load from either layout too: transformers' `XLMRobertaXLModel` names
(`attention.self_attn_layer_norm`, the layer's pre-FFN `LayerNorm`, the final `encoder.LayerNorm`; the Hub copies are
one fp32 `pytorch_model.bin`) and fairseq's `encoder_normalize_before` checkpoints (the encoder's final
`layer_norm`). The layout is read off the keys, never off config.json's model_type. Their 250,880 embedding rows
(250,002 ids padded to a multiple of 1,024) are accepted with the 250,002-id tokenizer: rows may exceed the ids by
that padding, not more. Weights are opened lazily: `torch.load(mmap=True, weights_only=True)` for .bin/.pt,
memory-mapped safetensors, and sharded folders (`model.safetensors.index.json` or `pytorch_model.bin.index.json`
with their shards); `save_pretrained(..., shard_bytes=...)` writes shards.

Every rename lives in the one table `RENAMES`. After renaming, no encoder key may be missing or unexpected.
A checkpoint folder (this module is the one place that knows its layout): the encoder files above, plus — for a
fine-tuned model — `head.json` (HEAD_META_KEYS: kind, labels, task, model, intermediate_task, target_task, seed) and
`head.safetensors`; a multi-task intermediate model keeps one head per task under `heads/<task>/`. A training run
folder (runs.py) holds such folders as `<phase>/best/`.
`check_checkpoint_dir`, `read_head_meta`, `find_head_meta`, `num_layers` answer questions about a folder cheaply
(no weights read).

Pickles are read only with `torch.load(weights_only=True)` (plus `argparse.Namespace`, which old fairseq checkpoints
store as `args`); anything else is refused with the reason. Broken files give a one-line CheckpointError naming them.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file as load_safetensors
from safetensors.torch import save_file as save_safetensors
from torch import nn

from common.io import atomic_path, atomic_write_text
from xlmr.heads import HEADS, MLMHead, make_head
from xlmr.model import XLMRConfig, XLMREncoder
from xlmr.tokenizer import XLMRTokenizer

SPM_FILE = "sentencepiece.bpe.model"  # the tokenizer file of every layout (fairseq's name, kept by Hugging Face)
HEAD_JSON, HEAD_WEIGHTS = "head.json", "head.safetensors"  # a fine-tuned task head (save_head / load_head)
HEADS_DIR = "heads"  # a multi-task model: one head folder per task, heads/<task>/

class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: missing, corrupt, unsafe, or not an XLM-R encoder."""


def torch_load_guarded(path) -> object:
    """What a .pt file holds, unpickled as the weights are (weights_only; CheckpointError naming the file when it
    is broken or unsafe). runs.load_training_state reads train.py's resume checkpoints through it."""
    return _torch_load(Path(path))


# The one rename table. Columns: our name, transformers' name (after the optional `roberta.` prefix), fairseq's
# spellings (after `encoder.sentence_encoder.` or `decoder.sentence_encoder.`), and the layout the row belongs to:
# "post" (Base, Large: transformers `XLMRobertaModel`), "pre" (XL, XXL: `XLMRobertaXLModel`, fairseq
# `encoder_normalize_before`) or "" (both). `{i}` = layer index, `{p}` = weight|bias. Our attention has one fused
# `qkv` projection: `attn.query/key/value` are the published three, concatenated on load (`fuse_qkv`) and split on
# save; fairseq's fused `in_proj` already is `qkv`. Published names never collide across layouts, so reading applies
# every row and the layout is then read off the keys (`is_pre_layer_norm`); writing uses the model's layout's rows.
# Pre-LN names [V, transformers models/xlm_roberta_xl/modeling_xlm_roberta_xl.py: `attention.self_attn_layer_norm`
# before attention, the layer's `LayerNorm` before the FFN, `encoder.LayerNorm` at the end, no `embeddings.LayerNorm`;
# fairseq models/transformer/transformer_encoder.py + transformer_layer.py: `self_attn_layer_norm`,
# `final_layer_norm` in each layer, the encoder's `layer_norm` when `encoder.normalize_before`].
RENAMES = [
    ("embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight", ["embed_tokens.weight"], ""),
    ("embeddings.position_embeddings.weight", "embeddings.position_embeddings.weight", ["embed_positions.weight"],
     ""),
    ("embeddings.token_type_embeddings.weight", "embeddings.token_type_embeddings.weight", [], ""),  # fairseq: none
    ("embeddings.layer_norm.{p}", "embeddings.LayerNorm.{p}", ["layernorm_embedding.{p}", "emb_layer_norm.{p}"],
     "post"),
    ("layers.{i}.attn.query.{p}", "encoder.layer.{i}.attention.self.query.{p}", ["layers.{i}.self_attn.q_proj.{p}"],
     ""),
    ("layers.{i}.attn.key.{p}", "encoder.layer.{i}.attention.self.key.{p}", ["layers.{i}.self_attn.k_proj.{p}"], ""),
    ("layers.{i}.attn.value.{p}", "encoder.layer.{i}.attention.self.value.{p}", ["layers.{i}.self_attn.v_proj.{p}"],
     ""),
    ("layers.{i}.attn.qkv.{p}", None, ["layers.{i}.self_attn.in_proj_{p}"], ""),
    ("layers.{i}.attn.out.{p}", "encoder.layer.{i}.attention.output.dense.{p}", ["layers.{i}.self_attn.out_proj.{p}"],
     ""),
    ("layers.{i}.attn_norm.{p}", "encoder.layer.{i}.attention.output.LayerNorm.{p}",
     ["layers.{i}.self_attn_layer_norm.{p}"], "post"),  # post-LN: after attention + residual
    ("layers.{i}.ffn.up.{p}", "encoder.layer.{i}.intermediate.dense.{p}", ["layers.{i}.fc1.{p}"], ""),
    ("layers.{i}.ffn.down.{p}", "encoder.layer.{i}.output.dense.{p}", ["layers.{i}.fc2.{p}"], ""),
    ("layers.{i}.ffn_norm.{p}", "encoder.layer.{i}.output.LayerNorm.{p}", ["layers.{i}.final_layer_norm.{p}"],
     "post"),
    # pre-LN (XL, XXL): the same two LayerNorms per layer, before their sublayer, and one after the last layer
    ("layers.{i}.attn_norm.{p}", "encoder.layer.{i}.attention.self_attn_layer_norm.{p}",
     ["layers.{i}.self_attn_layer_norm.{p}"], "pre"),
    ("layers.{i}.ffn_norm.{p}", "encoder.layer.{i}.LayerNorm.{p}", ["layers.{i}.final_layer_norm.{p}"], "pre"),
    ("final_norm.{p}", "encoder.LayerNorm.{p}", ["layer_norm.{p}"], "pre"),
    # MLM head (names of xlmr.heads.MLMHead; its decoder weight is tied to the word embeddings, so not stored)
    ("mlm.dense.{p}", "lm_head.dense.{p}", ["lm_head.dense.{p}"], ""),
    ("mlm.layer_norm.{p}", "lm_head.layer_norm.{p}", ["lm_head.layer_norm.{p}"], ""),
    ("mlm.bias", "lm_head.bias", ["lm_head.bias"], ""),
]
PRE_LN_MARKERS = (r"^final_norm\.", )  # a renamed key only a pre-LN checkpoint has (its final encoder LayerNorm)
PRE_LN_HF_MARKERS = (r"\.attention\.self_attn_layer_norm\.", r"^encoder\.LayerNorm\.")  # transformers' pre-LN names
# Keys that are not weights of the encoder or MLM head: reported and ignored (prefix match after prefix removal).
IGNORED_PREFIXES = {
    "hf": ["pooler.", "classifier.", "lm_head.decoder.", "embeddings.position_ids", "embeddings.token_type_ids"],
    "fairseq": ["classification_heads.", "lm_head.weight", "version"],  # lm_head.weight is the tied embedding
}


def _to_regex(pattern: str) -> re.Pattern:
    body = re.escape(pattern).replace(r"\{i\}", r"(?P<i>\d+)").replace(r"\{p\}", r"(?P<p>weight|bias)")
    return re.compile(body + "$")


def _fill(pattern: str, match: re.Match) -> str:
    return pattern.format(**match.groupdict())


def rename_keys(state: dict[str, torch.Tensor], fmt: str) -> tuple[dict[str, torch.Tensor], list[str], list[str]]:
    """Published names -> ours, via RENAMES. fmt: "hf" or "fairseq". Returns (renamed, ignored keys, unknown keys)."""
    column = 1 if fmt == "hf" else 2
    rules = []
    for row in RENAMES:  # all layouts: no published name means different things in the two
        spellings = [row[1]] if column == 1 else row[2]
        rules += [(_to_regex(s), row[0]) for s in spellings if s is not None]
    renamed, ignored, unknown = {}, [], []
    for key, tensor in state.items():
        if any(key.startswith(p) for p in IGNORED_PREFIXES[fmt]):
            ignored.append(key)
            continue
        for regex, ours in rules:
            match = regex.match(key)
            if match:
                renamed[_fill(ours, match)] = tensor
                break
        else:
            unknown.append(key)
    return renamed, ignored, unknown


def is_pre_layer_norm(state: dict[str, torch.Tensor], raw_keys=()) -> bool:
    """Whether renamed keys (plus, for transformers, the raw keys) are those of a pre-LN model (XL, XXL): read off
    the weights, never off config.json's model_type (early XXL uploads say `xlm-roberta`)."""
    return (any(re.search(m, k) for m in PRE_LN_MARKERS for k in state)
            or any(re.search(m, k) for m in PRE_LN_HF_MARKERS for k in raw_keys))


def fuse_qkv(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Concatenate attn.query/key/value (each (H, H) or (H,)) into attn.qkv ((3H, H) or (3H,)), rows q; k; v."""
    out = {k: v for k, v in state.items() if not re.search(r"\.attn\.(query|key|value)\.", k)}
    for key in state:
        match = re.match(r"(layers\.\d+\.attn)\.query\.(weight|bias)$", key)
        if match:
            base, p = match.groups()
            parts = [f"{base}.{name}.{p}" for name in ("query", "key", "value")]
            missing = [k for k in parts if k not in state]
            if missing:
                raise CheckpointError(f"attention projections incomplete: missing {missing}")
            out[f"{base}.qkv.{p}"] = torch.cat([state[k] for k in parts], dim=0)
    return out


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()).split(". ")[0]  # the first sentence says what went wrong
    return f"{type(exc).__name__}: {text[:200]}"


def _torch_load(path: Path, mmap: bool = False):
    """torch.load with weights_only=True; refuse anything that would run code, name broken files in one line.
    mmap=True: tensors are views of the memory-mapped file, read from disk only when used (a 43 GB XXL
    pytorch_model.bin costs no RAM to open); files in torch's legacy (pre-1.6, non-zip) format cannot be mapped and
    are read whole, with a note."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            try:
                return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
            except RuntimeError as exc:
                if not (mmap and "mmap can only be used with files saved with" in str(exc)):
                    raise
                print(f"{path}: torch's legacy (non-zip) format cannot be memory-mapped: read whole into RAM "
                      "(convert it once: python -m xlmr.download SIZE --out DIR --safetensors)", file=sys.stderr)
                return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler raises UnpicklingError; torch wraps some cases in RuntimeError
        message = str(exc)
        if "Weights only load failed" in message and "GLOBAL" in message:  # else: not a pickle at all
            # torch names the offending global on its own line ("... unsupported GLOBAL posix.system ...")
            culprit = [line.strip() for line in message.splitlines() if "unsupported" in line.lower()]
            why = culprit[0].rstrip(".") if culprit else _one_line(exc)
            raise CheckpointError(
                f"{path}: refused to unpickle: {why}; only tensors and allow-listed types are loaded "
                "(torch.load weights_only=True), because a pickle can run arbitrary code") from None
        raise CheckpointError(f"{path}: cannot read the checkpoint (truncated or corrupt?): {_one_line(exc)}") from None


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from model.safetensors, pytorch_model.bin (or .pt), or a shard index
    (`*.safetensors.index.json` / `*.bin.index.json`: {"weight_map": {key: shard file}}, shards beside it).
    Lazy: safetensors tensors and torch.load(mmap=True) tensors are views of memory-mapped files, so nothing is
    read until a tensor is used (copied to the GPU, cast, or computed with)."""
    if path.name.endswith(".index.json"):
        return _load_shards(path)
    if path.suffix == ".safetensors":
        try:
            return load_safetensors(str(path))  # safetensors maps the file: tensors are read when touched
        except Exception as exc:
            raise CheckpointError(f"{path}: cannot read safetensors (truncated or corrupt?): {_one_line(exc)}") from None
    state = _torch_load(path, mmap=True)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors, got {type(state).__name__}")
    return state


def _load_shards(index: Path) -> dict[str, torch.Tensor]:
    """The tensors of a sharded checkpoint, as its index lists them: every listed key must be in its shard, and a
    shard is a plain file name in the index's folder."""
    weight_map = _read_json(index).get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()):
        raise CheckpointError(f"{index}: 'weight_map' must be a non-empty object of key -> shard file name")
    state = {}
    for shard in sorted(set(weight_map.values())):
        if Path(shard).name != shard or not shard.endswith((".safetensors", ".bin", ".pt")):
            raise CheckpointError(f"{index}: shard {shard!r} is not a weights file name in this folder")
        if not (index.parent / shard).is_file():
            raise CheckpointError(f"{index}: shard {shard} not found beside it")
        tensors = _load_tensors(index.parent / shard)
        wanted = [k for k, v in weight_map.items() if v == shard]
        missing = [k for k in wanted if k not in tensors]
        if missing:
            raise CheckpointError(f"{index.parent / shard}: lacks {len(missing)} keys its index lists: {missing[:3]}")
        state.update((k, tensors[k]) for k in wanted)
    return state


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: cannot read JSON: {_one_line(exc)}") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: a JSON {type(value).__name__}; expected an object")
    return value


def _field(path: Path, obj: dict, key: str, kind: str, default=None, low=None, high=None):
    """obj[key] (or `default` when absent and a default is given) checked: kind "int" (not a bool, not a string)
    or "float" (an int or float, finite); low <= value (< high when given). CheckpointError naming file and key."""
    if key not in obj:
        if default is not None:
            return default
        raise CheckpointError(f"{path}: lacks {key!r}")
    value = obj[key]
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value >= low and (high is None or value < high)
    if not ok:
        rng = "" if low is None else f" >= {low}" + ("" if high is None else f" and < {high}")
        raise CheckpointError(f"{path}: {key} = {value!r} ({type(value).__name__}); expected "
                              f"{'an integer' if kind == 'int' else 'a finite number'}{rng}")
    return value


def _as_dtype(state: dict, device=None, dtype=None) -> dict:
    """Floating tensors moved and cast one at a time (device, dtype; dtype None = float32), so a memory-mapped
    checkpoint streams to the GPU or to bf16 without a full fp32 copy in RAM; a tensor already there is kept as is
    (still memory-mapped). Other values pass (see _as_float32)."""
    dtype = dtype or torch.float32
    return {k: v.to(device=device, dtype=dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
            for k, v in state.items()}


def _as_float32(state: dict) -> dict:
    """Floating tensors in float32, the dtype this code computes in: fp16 / bf16 / fp64 files (as some Hub uploads
    are) are cast explicitly, here, not left to fail in F.linear. Other values pass (integer buffers such as
    transformers' position_ids are ignored later; an integer tensor where a weight belongs is refused by
    _check_weight_dtypes)."""
    return {k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() and v.dtype != torch.float32
            else v for k, v in state.items()}


def _check_weight_dtypes(path: Path, state: dict[str, torch.Tensor]) -> None:
    bad = [f"{k} ({v.dtype})" for k, v in state.items() if not v.is_floating_point()]
    if bad:
        raise CheckpointError(f"{path}: {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}: expected "
                              "floating-point weights")


def _config_from_hf(path: Path) -> XLMRConfig:
    hf = _read_json(path)
    if hf.get("model_type") not in ("xlm-roberta", "roberta", "xlm-roberta-xl"):
        raise CheckpointError(f"{path}: model_type {hf.get('model_type')!r} is not an XLM-R encoder")
    for field, want in (("hidden_act", "gelu"), ("type_vocab_size", 1), ("position_embedding_type", "absolute")):
        if hf.get(field, want) != want:
            raise CheckpointError(f"{path}: {field} = {hf[field]!r}, this encoder supports only {want!r}")
    vocab_size = _field(path, hf, "vocab_size", "int", low=1)
    hidden = _field(path, hf, "hidden_size", "int", low=1)
    heads = _field(path, hf, "num_attention_heads", "int", low=1)
    if hidden % heads:
        raise CheckpointError(f"{path}: num_attention_heads {heads} does not divide hidden_size {hidden}")
    max_positions = _field(path, hf, "max_position_embeddings", "int", low=3)
    pad_id = _field(path, hf, "pad_token_id", "int", default=1, low=0, high=vocab_size)
    if pad_id + 2 > max_positions:
        raise CheckpointError(f"{path}: max_position_embeddings {max_positions} leaves no position after "
                              f"pad_token_id {pad_id} (positions start at pad_token_id + 1)")
    return XLMRConfig(
        vocab_size=vocab_size, hidden_size=hidden, num_layers=_field(path, hf, "num_hidden_layers", "int", low=1),
        num_heads=heads, ffn_size=_field(path, hf, "intermediate_size", "int", low=1), max_positions=max_positions,
        pad_id=pad_id, dropout=_field(path, hf, "hidden_dropout_prob", "float", default=0.1, low=0, high=1),
        attn_dropout=_field(path, hf, "attention_probs_dropout_prob", "float", default=0.1, low=0, high=1),
        layer_norm_eps=_field(path, hf, "layer_norm_eps", "float", default=1e-5, low=1e-12))


def _config_from_shapes(state: dict[str, torch.Tensor], args, path: Path) -> XLMRConfig:
    """fairseq stores no config.json: read sizes off the renamed tensors; heads from `args` (else hidden/64)."""
    try:
        vocab_size, hidden = state["embeddings.word_embeddings.weight"].shape
        num_layers = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("layers."))
        ffn_size = state["layers.0.ffn.up.weight"].shape[0]
        max_positions = state["embeddings.position_embeddings.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: not an XLM-R encoder state dict (cannot infer the config: {exc})") from None
    num_heads = getattr(args, "encoder_attention_heads", None) or hidden // 64
    return XLMRConfig(vocab_size=vocab_size, hidden_size=hidden, num_layers=num_layers, num_heads=num_heads,
                      ffn_size=ffn_size, max_positions=max_positions, pre_layer_norm=is_pre_layer_norm(state))


# Hugging Face weights files, in the order looked for: one file, or shards with their index.
HF_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def _read_checkpoint(path) -> tuple[str, Path, dict[str, torch.Tensor], list[str], list[str], XLMRConfig]:
    """Find the format, open the weights lazily (memory-mapped), strip prefixes, rename. Returns fmt, weights file,
    state (attention still as query/key/value where published so; dtypes as stored), ignored, unknown, config.
    Prefix-stripped keys that belong to no known part land in `unknown`. The layout (pre-LN or post-LN) is read
    off the keys."""
    root = Path(path)
    if not root.is_dir():
        raise CheckpointError(f"{root}: not a directory (expected a Hugging Face or fairseq XLM-R directory)")
    if (root / "config.json").exists():
        fmt, cfg_file = "hf", root / "config.json"
        weights = next((root / name for name in HF_WEIGHTS if (root / name).exists()), None)
        if weights is None:
            raise CheckpointError(f"{root}: has config.json but no weights ({', '.join(HF_WEIGHTS)})")
        raw = {k.removeprefix("roberta."): v for k, v in _load_tensors(weights).items()}
        state, ignored, unknown = rename_keys(raw, "hf")
        cfg = _config_from_hf(cfg_file)
        cfg.pre_layer_norm = is_pre_layer_norm(state, raw)
        architectures = _read_json(cfg_file).get("architectures") or []
        if any("XLMRobertaXL" in str(a) for a in architectures) and not cfg.pre_layer_norm:
            raise CheckpointError(f"{cfg_file}: architectures {architectures} name a pre-LN XL model, but "
                                  f"{weights.name} has post-LN keys (no encoder.LayerNorm, no self_attn_layer_norm)")
    elif (root / "model.pt").exists():
        fmt, weights = "fairseq", root / "model.pt"
        ckpt = _torch_load(weights, mmap=True)
        if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
            raise CheckpointError(f"{weights}: expected a fairseq checkpoint (a dict with a 'model' state dict)")
        raw = {}
        for key, tensor in ckpt["model"].items():
            for prefix in ("encoder.sentence_encoder.", "decoder.sentence_encoder.", "encoder.", "decoder."):
                if key.startswith(prefix):
                    key = key[len(prefix):]
                    break
            raw[key] = tensor
        state, ignored, unknown = rename_keys(raw, "fairseq")
        # fairseq has no token-type embedding; transformers' single row is the same model with zeros there.
        if "embeddings.word_embeddings.weight" in state:
            hidden = state["embeddings.word_embeddings.weight"].shape[1]
            state["embeddings.token_type_embeddings.weight"] = torch.zeros(1, hidden)
        cfg = _config_from_shapes(state, ckpt.get("args"), weights)
    else:
        raise CheckpointError(f"{root}: neither config.json (Hugging Face) nor model.pt (fairseq) found")
    return fmt, weights, state, ignored, unknown, cfg


# Embedding rows beyond the tokenizer's ids: XL/XXL pad 250,002 ids to 250,880 rows (a multiple of 1,024). More rows
# than that padding means the tokenizer belongs to another model.
ROW_PADDING = 1024


def read_config(path) -> XLMRConfig:
    """The architecture of a checkpoint folder without loading its weights: config.json (pre-LN when it names
    the XL architecture; load_pretrained decides from the keys), or a fairseq model.pt's tensor shapes (memory-
    mapped: no weights read). For planning (study.py plan's memory estimate)."""
    root = Path(path)
    if (root / "config.json").is_file():
        cfg = _config_from_hf(root / "config.json")
        hf = _read_json(root / "config.json")
        cfg.pre_layer_norm = hf.get("model_type") == "xlm-roberta-xl" or any(
            "XLMRobertaXL" in str(a) for a in hf.get("architectures") or [])
        return cfg
    return _read_checkpoint(root)[5]


def load_pretrained(path, device="cpu", dtype=None) -> tuple[XLMREncoder, XLMRTokenizer]:
    """Encoder + tokenizer from a Hugging Face or fairseq XLM-R directory; strict: every encoder key must match.

    dtype: the weights' dtype (None = float32; torch.bfloat16 for XL/XXL inference on one GPU). Memory: the file is
    memory-mapped and each tensor goes to (device, dtype) on its own, so a CPU fp32 load keeps the weights
    file-backed (read on first use) and a GPU or bf16 load never holds a full fp32 copy in RAM. The one copy made
    is the fused attention projection (query, key, value concatenated into `qkv`, 3H^2 per layer, ~20% of XL),
    made on the target device."""
    root = Path(path)
    fmt, weights, state, ignored, unknown, cfg = _read_checkpoint(root)
    spm = root / SPM_FILE
    if not spm.exists():
        raise CheckpointError(f"{root}: {SPM_FILE} not found (the tokenizer model ships with the weights)")
    try:
        tokenizer = XLMRTokenizer(str(spm))
    except ValueError as exc:  # names the file already
        raise CheckpointError(str(exc)) from None
    padded = -(-tokenizer.vocab_size // ROW_PADDING) * ROW_PADDING
    if not tokenizer.vocab_size <= cfg.vocab_size <= padded:
        raise CheckpointError(f"{spm}: gives {tokenizer.vocab_size} ids but {weights} has {cfg.vocab_size} "
                              f"embedding rows (expected {tokenizer.vocab_size}, or up to {padded} when padded to a "
                              f"multiple of {ROW_PADDING}): tokenizer and weights do not belong together")
    encoder_state = {k: v for k, v in state.items() if not k.startswith("mlm.")}
    _check_weight_dtypes(weights, encoder_state)
    encoder_state = fuse_qkv(_as_dtype(encoder_state, device, dtype))
    with torch.device("meta"):  # no random init of weights about to be replaced (seconds and GBs for large)
        model = XLMREncoder(cfg)
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - set(encoder_state)), sorted(set(encoder_state) - expected) + unknown
    if missing or unexpected:
        print(f"load_pretrained({weights}):\n  missing keys: {missing}\n  unexpected keys: {unexpected}",
              file=sys.stderr)
        raise CheckpointError(f"{weights}: {len(missing)} missing and {len(unexpected)} unexpected encoder keys; "
                              f"missing: {missing[:5]}{' ...' if len(missing) > 5 else ''}; "
                              f"unexpected: {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
    try:
        model.load_state_dict(encoder_state, strict=True, assign=True)  # the loaded tensors become the parameters
    except RuntimeError as exc:  # shape mismatch
        raise CheckpointError(f"{weights}: {_one_line(exc)}") from None
    if ignored:
        print(f"load_pretrained: ignored {len(ignored)} keys of {weights.name} that are not encoder weights: "
              f"{ignored[:8]}{' ...' if len(ignored) > 8 else ''}", file=sys.stderr)
    return model, tokenizer


def load_mlm_head(path, encoder: XLMREncoder) -> MLMHead:
    """The pretrained MLM head of the checkpoint at `path`, its decoder tied to `encoder`'s word embeddings."""
    fmt, weights, state, _, _, cfg = _read_checkpoint(path)
    head_state = {k.removeprefix("mlm."): v for k, v in state.items() if k.startswith("mlm.")}
    if not head_state:
        raise CheckpointError(f"{weights}: has no MLM head (no lm_head.* keys); load a pretraining checkpoint, "
                              "not a fine-tuned encoder")
    emb = encoder.embeddings.word_embeddings
    head = MLMHead(cfg.hidden_size, cfg.vocab_size, emb, layer_norm_eps=cfg.layer_norm_eps)
    if (emb.num_embeddings, emb.embedding_dim) != (cfg.vocab_size, cfg.hidden_size):
        raise CheckpointError(f"{weights}: MLM head is for ({cfg.vocab_size}, {cfg.hidden_size}), the encoder has "
                              f"({emb.num_embeddings}, {emb.embedding_dim})")
    try:
        head.load_state_dict(_as_float32(head_state), strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{weights}: MLM head: {_one_line(exc)}") from None
    return head.to(device=emb.weight.device, dtype=emb.weight.dtype)


def _hf_state(model: XLMREncoder) -> dict[str, torch.Tensor]:
    """Our state dict in transformers' names: qkv split into query/key/value, then RENAMES backwards."""
    state = {}
    for key, tensor in model.state_dict().items():
        match = re.match(r"(layers\.\d+\.attn)\.qkv\.(weight|bias)$", key)
        if match:
            for name, part in zip(("query", "key", "value"), tensor.chunk(3, dim=0)):
                state[f"{match.group(1)}.{name}.{match.group(2)}"] = part
        else:
            state[key] = tensor
    layout = "pre" if model.cfg.pre_layer_norm else "post"
    rules = [(_to_regex(ours), hf) for ours, hf, _, rows_layout in RENAMES
             if hf is not None and rows_layout in ("", layout)]
    out = {}
    for key, tensor in state.items():
        match = next(((m, hf) for regex, hf in rules if (m := regex.match(key))), None)
        assert match is not None, f"no transformers name for {key}"
        out[_fill(match[1], match[0])] = tensor.detach().to("cpu", torch.float32).contiguous()
    return out


SHARD_INDEX = "model.safetensors.index.json"


def save_pretrained(model: XLMREncoder, tokenizer: XLMRTokenizer, dir, shard_bytes: int | None = None) -> None:
    """Write config.json, the weights and sentencepiece.bpe.model in the Hugging Face layout (fp32): transformers'
    `XLMRobertaModel` (post-LN) or `XLMRobertaXLModel` (pre-LN) loads the folder. shard_bytes: write
    model-0000i-of-0000n.safetensors files of at most that many bytes (one tensor larger than it gets a shard of
    its own) plus model.safetensors.index.json, as transformers does for large models: each shard is serialised
    on its own, so writing never holds more than one shard's bytes beside the weights."""
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    config = {
        "architectures": ["XLMRobertaXLModel" if cfg.pre_layer_norm else "XLMRobertaModel"],
        "model_type": "xlm-roberta-xl" if cfg.pre_layer_norm else "xlm-roberta",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads, "intermediate_size": cfg.ffn_size, "hidden_act": "gelu",
        "hidden_dropout_prob": cfg.dropout, "attention_probs_dropout_prob": cfg.attn_dropout,
        "max_position_embeddings": cfg.max_positions, "type_vocab_size": 1, "layer_norm_eps": cfg.layer_norm_eps,
        "initializer_range": 0.02, "position_embedding_type": "absolute",
        "pad_token_id": cfg.pad_id, "bos_token_id": tokenizer.bos_id, "eos_token_id": tokenizer.eos_id,
    }
    state = _hf_state(model)
    stale = [out / n for n in HF_WEIGHTS] + sorted(out.glob("model-*-of-*.safetensors"))
    if shard_bytes is None:
        with atomic_path(out / "model.safetensors") as tmp:
            save_safetensors(state, str(tmp), metadata={"format": "pt"})
        written = {out / "model.safetensors"}
    else:
        shards, size = [[]], 0
        for key, tensor in state.items():
            nbytes = tensor.numel() * tensor.element_size()
            if shards[-1] and size + nbytes > shard_bytes:
                shards.append([])
                size = 0
            shards[-1].append(key)
            size += nbytes
        weight_map = {}
        for n, keys in enumerate(shards, 1):
            name = f"model-{n:05d}-of-{len(shards):05d}.safetensors"
            with atomic_path(out / name) as tmp:
                save_safetensors({k: state[k] for k in keys}, str(tmp), metadata={"format": "pt"})
            weight_map.update((k, name) for k in keys)
        total = sum(t.numel() * t.element_size() for t in state.values())
        atomic_write_text(out / SHARD_INDEX, json.dumps({"metadata": {"total_size": total},
                                                         "weight_map": weight_map}, indent=2) + "\n")
        written = {out / name for name in set(weight_map.values())} | {out / SHARD_INDEX}
    for path in stale:  # weights of an earlier save in another layout would be read first (HF_WEIGHTS order)
        if path not in written and path.is_file():
            path.unlink()
    atomic_write_text(out / "config.json", json.dumps(config, indent=2) + "\n")
    if Path(tokenizer.spm_path).resolve() != (out / SPM_FILE).resolve():
        with atomic_path(out / SPM_FILE) as tmp:
            shutil.copyfile(tokenizer.spm_path, tmp)


HEAD_META_KEYS = ("kind", "num_labels", "labels", "task", "model", "intermediate_task", "target_task", "seed")


def save_head(dir, head: nn.Module, meta: dict) -> None:
    """Write head.safetensors and head.json (meta + hidden_size). meta needs at least HEAD_META_KEYS."""
    missing = [k for k in HEAD_META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"save_head: meta lacks {missing} (needs {list(HEAD_META_KEYS)})")
    if meta["kind"] not in HEADS:
        raise ValueError(f"save_head: unknown head kind {meta['kind']!r}; known: {sorted(HEADS)}")
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in head.state_dict().items()}
    hidden_size = next(v for k, v in state.items() if k.endswith("weight")).shape[1]
    with atomic_path(out / HEAD_WEIGHTS) as tmp:
        save_safetensors(state, str(tmp), metadata={"format": "pt"})
    atomic_write_text(out / HEAD_JSON, json.dumps({**meta, "hidden_size": hidden_size}, indent=2) + "\n")


def check_head_meta(meta: dict, meta_file) -> dict:
    """Types and ranges of the head.json fields present (load_head also requires them all): kind one of HEADS,
    num_labels and hidden_size integers, labels a list of strings (as many as num_labels when given), seed an
    integer or null, the names strings. CheckpointError naming the file and the field; `meta` back."""
    def bad(key, expected):
        return CheckpointError(f"{meta_file}: {key} = {meta[key]!r} ({type(meta[key]).__name__}); expected {expected}")

    if "kind" in meta and meta["kind"] not in HEADS:
        raise bad("kind", f"one of {', '.join(sorted(HEADS))}")
    for key, low in (("num_labels", 0), ("hidden_size", 1)):
        if key in meta:
            _field(Path(meta_file), meta, key, "int", low=low)
    if "labels" in meta and meta["labels"] is not None:
        labels = meta["labels"]
        if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
            raise bad("labels", "a list of label strings (or null)")
        if labels and "num_labels" in meta and len(labels) != meta["num_labels"]:
            raise CheckpointError(f"{meta_file}: {len(labels)} labels but num_labels = {meta['num_labels']}")
    if "seed" in meta and meta["seed"] is not None and (isinstance(meta["seed"], bool)
                                                        or not isinstance(meta["seed"], int)):
        raise bad("seed", "an integer (or null when unknown)")
    for key in ("task", "model", "intermediate_task", "target_task"):
        if key in meta and not isinstance(meta[key], str):
            raise bad(key, "a string")
    return meta


def load_head(dir) -> tuple[nn.Module, dict]:
    """(head, meta) from save_head's files; the head is rebuilt with make_head and loaded strictly."""
    root = Path(dir)
    meta_file, weights = root / HEAD_JSON, root / HEAD_WEIGHTS
    if not meta_file.exists() or not weights.exists():
        raise CheckpointError(f"{root}: no task head here (expected head.json and head.safetensors)")
    meta = _read_json(meta_file)
    missing = [k for k in (*HEAD_META_KEYS, "hidden_size") if k not in meta]
    if missing:
        raise CheckpointError(f"{meta_file}: lacks {missing}")
    check_head_meta(meta, meta_file)
    try:
        head = make_head(meta["kind"], meta["hidden_size"], meta["num_labels"])
    except ValueError as exc:
        raise CheckpointError(f"{meta_file}: {exc}") from None
    try:
        head.load_state_dict(_load_tensors(weights), strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{weights}: does not fit a {meta['kind']!r} head: {_one_line(exc)}") from None
    return head, meta


# --- questions about a checkpoint folder, answered without reading weights --------------------------------------

def check_checkpoint_dir(path, need_head: bool = True) -> Path:
    """Cheap check (no weights read) that `path` is a checkpoint directory; ValueError naming what is missing."""
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root}: checkpoint directory not found")
    hf = (root / "config.json").is_file() and any((root / f).is_file() for f in HF_WEIGHTS)
    fairseq = (root / "model.pt").is_file()
    if not (hf or fairseq):
        raise ValueError(f"{root}: no encoder weights (expected config.json with {' or '.join(HF_WEIGHTS)}, "
                         "as save_pretrained writes, or a fairseq model.pt)")
    if not (root / SPM_FILE).is_file():
        raise ValueError(f"{root}: {SPM_FILE} not found (the tokenizer ships with the weights)")
    if need_head and not ((root / HEAD_JSON).is_file() and (root / HEAD_WEIGHTS).is_file()):
        raise ValueError(f"{root}: no task head (expected {HEAD_JSON} and {HEAD_WEIGHTS}, as save_head writes); "
                         "evaluate.py scores fine-tuned checkpoints")
    return root


def read_head_meta(path) -> dict | None:
    """head.json of a checkpoint directory as a dict, or None when there is none."""
    meta_file = Path(path) / HEAD_JSON
    if not meta_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{meta_file}: not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_file}: expected a JSON object")
    return check_head_meta(meta, meta_file)


def find_head_meta(path) -> dict:
    """The head meta that describes a checkpoint: its own head.json, else (a multi-task intermediate model) the
    first heads/<task>/head.json, else {} (a pretrained model)."""
    root = Path(path)
    meta = read_head_meta(root)
    if meta is None:
        per_task = [read_head_meta(d) for d in sorted((root / HEADS_DIR).glob("*")) if (d / HEAD_JSON).is_file()]
        meta = per_task[0] if per_task else {}
    return meta


def num_layers(path) -> int | None:
    """The encoder's layer count from a Hugging Face config.json (None for a fairseq folder: known only from the
    weights). Lets a caller check a layer index before loading gigabytes."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return None
    value = _read_json(config).get("num_hidden_layers")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise CheckpointError(f"{config}: num_hidden_layers {value!r}; expected a positive integer")
    return value
