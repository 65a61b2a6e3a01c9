"""Zero-shot evaluation of a fine-tuned checkpoint on every language of a task; merging runs into one table.

    python evaluate.py --ckpt runs/xnli_mnli_s1/checkpoint --task xnli --all-langs --data-dir data/xtreme
    python evaluate.py --ckpt runs/panx_s1/checkpoint --task panx --langs de,fr --split test --results results/runs.csv
    python evaluate.py --collect runs/xnli_mnli_s1 runs/xnli_mnli_s2 results/runs.csv    # mean/std/n over seeds

A checkpoint directory holds xlmr.checkpoint.save_pretrained's files (config.json, model.safetensors,
sentencepiece.bpe.model) and save_head's (head.safetensors, head.json); head.json's meta gives model,
intermediate_task, target_task and seed, which label the results rows (REFERENCE.md, "The results schema").

Inference: features sorted by length and batched (little padding), torch.inference_mode, bf16 autocast on CUDA.
QA: n-best span decoding (max answer length 30) over every window of an example, mapped back to the context
through the offsets (data.featurize.decode_spans). Tagging: one prediction per word (data.featurize.stitch_tags).
Every score goes to the results CSV (data.results.append_results: atomic, validated) and a per-language table is
printed. Everything about the input (checkpoint files, task, languages, gold labels) is checked before any compute.

train.py uses predict / evaluate_langs / result_rows for English-dev model selection and the final evaluation.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_RESULTS = "results/runs.csv"
DEFAULT_DATA_DIR = "data"
SPM_FILE = "sentencepiece.bpe.model"


# --- checkpoint directories and their meta ----------------------------------------------------------------

def check_checkpoint_dir(path, need_head: bool = True) -> Path:
    """Cheap check (no weights read) that `path` is a checkpoint directory; ValueError naming what is missing."""
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root}: checkpoint directory not found")
    hf = (root / "config.json").is_file() and any((root / f).is_file()
                                                  for f in ("model.safetensors", "pytorch_model.bin"))
    fairseq = (root / "model.pt").is_file()
    if not (hf or fairseq):
        raise ValueError(f"{root}: no encoder weights (expected config.json with model.safetensors or "
                         "pytorch_model.bin, as save_pretrained writes, or a fairseq model.pt)")
    if not (root / SPM_FILE).is_file():
        raise ValueError(f"{root}: {SPM_FILE} not found (the tokenizer ships with the weights)")
    if need_head and not ((root / "head.json").is_file() and (root / "head.safetensors").is_file()):
        raise ValueError(f"{root}: no task head (expected head.json and head.safetensors, as save_head writes); "
                         "evaluate.py scores fine-tuned checkpoints")
    return root


def read_head_meta(path) -> dict | None:
    """head.json of a checkpoint directory as a dict, or None when there is none."""
    meta_file = Path(path) / "head.json"
    if not meta_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{meta_file}: not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_file}: expected a JSON object")
    return meta


def result_rows(scores: dict, meta: dict, split: str, source: str) -> list[dict]:
    """Results-schema rows, one per (lang, metric): scores {lang: {metric: value 0-100}}.

    meta needs model, intermediate_task, target_task; seed may be missing or None (unknown).
    """
    missing = [k for k in ("model", "intermediate_task", "target_task") if meta.get(k) in (None, "")]
    if missing:
        raise ValueError(f"result_rows: meta lacks {missing}")
    seed = meta.get("seed")
    rows = []
    for lang, metrics in scores.items():
        for metric, value in metrics.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 100):
                raise ValueError(f"result_rows: {lang} {metric} = {value!r} is not a score on 0-100")
            rows.append({"model": meta["model"], "intermediate_task": meta["intermediate_task"] or "none",
                         "target_task": meta["target_task"], "seed": "" if seed is None else seed, "lang": lang,
                         "split": split, "metric": metric, "value": float(value), "source": source})
    return rows


def format_table(scores: dict) -> str:
    """A per-language table (languages as rows, metrics as columns) with the mean over languages last."""
    metrics = list(dict.fromkeys(m for per_lang in scores.values() for m in per_lang))
    width = max([len(m) for m in metrics] + [8])
    lines = ["lang  " + "".join(f"{m:>{width + 2}}" for m in metrics)]
    for lang, per_lang in scores.items():
        lines.append(f"{lang:<6}" + "".join(
            f"{per_lang[m]:>{width + 2}.2f}" if m in per_lang else " " * (width + 2) for m in metrics))
    if len(scores) > 1:
        means = [[v[m] for v in scores.values() if m in v] for m in metrics]
        lines.append("mean  " + "".join(f"{sum(v) / len(v):>{width + 2}.2f}" for v in means))
    return "\n".join(lines)


def resolve_langs(task, langs: Sequence[str] | None, all_langs: bool) -> list[str]:
    """The languages to score: all of the task's, or the given ones (each must be one of the task's)."""
    if all_langs == bool(langs):
        raise ValueError("give exactly one of --all-langs and --langs")
    if all_langs:
        return list(task.langs)
    unknown = [lang for lang in langs if lang not in task.langs]
    if unknown:
        raise ValueError(f"task {task.name} has no language(s) {', '.join(unknown)}; "
                         f"its languages: {' '.join(task.langs)}")
    return list(dict.fromkeys(langs))


def check_gold(task, data_dir, langs: Sequence[str], split: str) -> None:
    """Every (lang, split) must have gold labels; one error listing all that lack them."""
    if split not in task.splits:
        raise ValueError(f"task {task.name} has no split {split!r}; its splits: {', '.join(task.splits)}")
    lacking = [lang for lang in langs if not task.has_gold(data_dir, lang, split)]
    if lacking:
        raise ValueError(f"task {task.name}, split {split}: no gold labels under {data_dir} for "
                         f"{', '.join(lacking)} (XTREME's download strips test labels; use --split dev "
                         "or the original upstream files)")


def pick_device(name: str | None = None):
    import torch

    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def split_langs(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]
