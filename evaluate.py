"""Zero-shot evaluation of a fine-tuned checkpoint on every language of a task; merging runs into one table.

    python evaluate.py --ckpt runs/xnli_mnli_s1/target/best --task xnli --all-langs --data-dir data
    python evaluate.py --ckpt runs/panx_s1/target/best --task panx --langs de,fr --split dev --results my.csv
    python evaluate.py --collect runs/xnli_mnli_s1 runs/xnli_mnli_s2 results/results.csv   # mean/std/n over seeds

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

DEFAULT_RESULTS = "results/results.csv"  # train.py's eval.results default too
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
    from data.tasks import SPLIT_ALIASES

    split = SPLIT_ALIASES.get(split, split)
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


# --- inference --------------------------------------------------------------------------------------------

N_BEST, MAX_ANSWER_LEN = 20, 30  # QA decoding (XTREME / transformers' run_squad defaults)


def run_features(encoder, head, features: Sequence[dict], kind: str, pad_id: int, batch_size: int,
                 device) -> list:
    """Encoder + head over features in length-sorted batches; per-feature float32 CPU outputs, in feature order.

    Outputs: (C,) logits for classification and multiple choice (C = choices); (T, C) for tagging; a pair
    of (T,) start / end logits for spans; T = the feature's own length (padding cut off).
    """
    import torch

    from data.featurize import collate, feature_length

    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be positive")
    # multiple choice: a batch holds one choice count, so group by it first
    n_choices = [len(f["input_ids"]) if kind == "multiple_choice" else 0 for f in features]
    order = sorted(range(len(features)), key=lambda i: (n_choices[i], -feature_length(features[i]), i))
    batches, current = [], []
    for i in order:
        if current and (len(current) == batch_size or n_choices[i] != n_choices[current[0]]):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)

    device = torch.device(device)
    outputs: list = [None] * len(features)
    modules = (encoder, head)
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            for idx in batches:
                batch = collate([features[i] for i in idx], pad_id)
                ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
                if kind == "multiple_choice":
                    B, N, T = ids.shape
                    logits = head(encoder(ids.view(B * N, T), mask.view(B * N, T)), num_choices=N)  # (B, N)
                else:
                    logits = head(encoder(ids, mask))  # (B, C) | (B, T, C) | ((B, T), (B, T))
                if kind == "span":
                    start, end = (x.float().cpu() for x in logits)
                    for j, i in enumerate(idx):
                        T = len(features[i]["input_ids"])
                        outputs[i] = (start[j, :T], end[j, :T])
                else:
                    logits = logits.float().cpu()
                    for j, i in enumerate(idx):
                        outputs[i] = logits[j, :len(features[i]["input_ids"])] if kind == "tag" else logits[j]
    finally:
        for m, t in zip(modules, was_training):
            m.train(t)
    return outputs


def predict(encoder, head, tokenizer, task, examples: Sequence, max_len: int, batch_size: int, device, *,
            features: Sequence[dict] | None = None, doc_stride: int = 128, labels: Sequence[str] | None = None) -> list:
    """Predictions for `examples`, one per example, in the form task.score takes:

    pair_cls / single_cls: label strings; tag: a list of tag strings per example; span: answer text ("" =
    abstain, SQuAD v2 only); multiple_choice: the chosen index. Gold labels are not needed.
    features: data.featurize.featurize's output for these examples, if already made (train.py's dev set);
    else they are made here with max_len (and doc_stride for spans). labels: the label set when the
    registry has none (ccg's comes from its data dir: task.get_labels(data_dir)); default task.labels.
    """
    from data.featurize import decode_spans, featurize, stitch_tags

    kind = task.kind
    labels = tuple(labels) if labels is not None else task.labels
    if kind in ("pair_cls", "single_cls", "tag") and not labels:
        raise ValueError(f"task {task.name}: no label set (pass labels=task.get_labels(data_dir))")
    if kind == "retrieval":
        raise ValueError(f"task {task.name} is a retrieval task: score it with retrieval.py")
    examples = list(examples)
    if not examples:
        raise ValueError(f"task {task.name}: no examples to predict")
    if features is None:
        features = featurize(kind, examples, tokenizer, max_len, labels=labels, doc_stride=doc_stride)
    outputs = run_features(encoder, head, features, kind, tokenizer.pad_id, batch_size, device)
    if kind == "span":
        return decode_spans(examples, features, [o[0] for o in outputs], [o[1] for o in outputs],
                            n_best=N_BEST, max_answer_len=MAX_ANSWER_LEN, allow_null=task.name == "squad_v2")
    if kind == "tag":
        per_word = stitch_tags(examples, features, [o.argmax(dim=-1) for o in outputs])
        return [[labels[t] for t in words] for words in per_word]
    preds: list = [None] * len(examples)
    for f, o in zip(features, outputs):  # one feature per example
        choice = int(o.argmax())
        preds[f["example_index"]] = choice if kind == "multiple_choice" else labels[choice]
    assert all(p is not None for p in preds), "an example without a feature"
    return preds


def golds_of(task, examples: Sequence) -> list:
    """Gold labels in the form task.score takes (task.golds); ValueError when an example has none."""
    return task.golds(examples)


def evaluate_langs(encoder, head, tokenizer, task, data_dir, langs: Sequence[str], split: str, max_len: int,
                   batch_size: int, device, *, doc_stride: int = 128) -> dict[str, dict[str, float]]:
    """Scores {lang: {metric: value 0-100}} of encoder + head on each language's `split` of `task`.

    Languages and gold labels are checked first (check_gold), so a bad request fails before any compute.
    """
    langs = resolve_langs(task, langs, all_langs=False)
    check_gold(task, data_dir, langs, split)
    labels = task.get_labels(data_dir)
    scores = {}
    for lang in langs:
        examples = list(task.read(data_dir, lang, split))
        golds = golds_of(task, examples)
        preds = predict(encoder, head, tokenizer, task, examples, max_len, batch_size, device,
                        doc_stride=doc_stride, labels=labels)
        scores[lang] = {m: float(v) for m, v in task.score(golds, preds, lang).items()}
    return scores


# --- merging runs ---------------------------------------------------------------------------------------

GROUP = ["model", "intermediate_task", "target_task", "split", "metric", "lang"]


def results_files(paths: Sequence[str]) -> list[Path]:
    """CSV files named directly, or every *.csv below a named directory; ValueError when there are none."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("*.csv"))
            if not found:
                raise ValueError(f"{p}: no results CSV below this directory")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise ValueError(f"{p}: no such file or directory")
    return list(dict.fromkeys(files))


def collect(paths: Sequence[str]):
    """One table over runs: mean, std (over seeds, ddof 1; empty for one seed) and n per cell.

    A cell is (model, intermediate_task, target_task, split, metric, lang); rows of every source and seed
    in it are pooled. Returns a pandas DataFrame with GROUP + mean, std, n.
    """
    from data.results import read_results

    df = read_results(results_files(paths))
    if df.empty:
        raise ValueError(f"no results rows in {', '.join(map(str, paths))}")
    table = df.groupby(GROUP, sort=True)["value"].agg(mean="mean", std="std", n="count").reset_index()
    return table


# --- the command line -------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", help="fine-tuned checkpoint directory (save_pretrained + save_head files)")
    p.add_argument("--task", help="task to score (default: the head's target_task)")
    p.add_argument("--all-langs", action="store_true", help="every language of the task")
    p.add_argument("--langs", type=split_langs, default=None, help="comma-separated languages, e.g. de,fr")
    p.add_argument("--split", default=None,
                   help="split to score (default: the task's eval_split, test for most; XTREME's test files lack labels)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"task files (default: {DEFAULT_DATA_DIR})")
    p.add_argument("--results", default=DEFAULT_RESULTS, help=f"results CSV to append to ({DEFAULT_RESULTS})")
    p.add_argument("--max-len", type=int, default=None, help="default: 384 for QA, else 256")
    p.add_argument("--doc-stride", type=int, default=128, help="QA window stride in sub-tokens")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    p.add_argument("--collect", nargs="+", metavar="DIR", help="merge results CSVs (files or dirs) into one table")
    p.add_argument("--out", default=None, help="with --collect: also write the table to this CSV")
    return p.parse_args(argv)


def check_head_fits(meta: dict, task, ckpt: Path, data_dir) -> None:
    """The saved head must be of the task's kind and predict the task's labels, in the same order."""
    for key in ("kind", "labels", "model", "intermediate_task", "seed"):
        if key not in meta:
            raise ValueError(f"{ckpt / 'head.json'}: lacks {key!r}")
    if meta["kind"] != task.kind:
        raise ValueError(f"{ckpt / 'head.json'}: a {meta['kind']!r} head cannot score {task.name} "
                         f"(kind {task.kind!r})")
    labels = task.get_labels(data_dir) if task.kind in ("pair_cls", "single_cls", "tag") else None
    if labels is not None and list(meta["labels"] or []) != list(labels):
        raise ValueError(f"{ckpt / 'head.json'}: head labels {meta['labels']} differ from {task.name}'s "
                         f"{list(labels)}")


def run(argv=None) -> dict:
    """The command line's work; returns {lang: {metric: value}} (or the --collect table)."""
    args = parse_args(argv)
    if args.collect:
        if args.ckpt:
            raise ValueError("--collect merges results files; it takes no --ckpt")
        table = collect(args.collect)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if args.out:
            from common.io import atomic_write_text

            atomic_write_text(args.out, table.to_csv(index=False))
        return table
    if not args.ckpt:
        raise ValueError("give --ckpt (a fine-tuned checkpoint directory) or --collect")

    from data.results import append_results
    from data.tasks import get_task

    # every input check before any compute
    ckpt = check_checkpoint_dir(args.ckpt, need_head=True)
    meta = read_head_meta(ckpt)
    saved_target = meta.get("target_task")
    if saved_target in (None, "", "none"):  # an intermediate-task checkpoint: its own task
        saved_target = meta.get("task")
    task = get_task(args.task or saved_target or "")
    check_head_fits(meta, task, ckpt, args.data_dir)
    if task.kind == "retrieval":
        raise ValueError(f"task {task.name} is a retrieval task: use retrieval.py")
    langs = resolve_langs(task, args.langs, args.all_langs)
    from data.tasks import SPLIT_ALIASES

    split = SPLIT_ALIASES.get(args.split, args.split) if args.split else task.eval_split
    check_gold(task, args.data_dir, langs, split)
    max_len = args.max_len or (384 if task.kind == "span" else 256)
    if max_len < 3 or args.batch_size < 1 or args.doc_stride < 1:
        raise ValueError(f"--max-len {max_len}, --batch-size {args.batch_size}, --doc-stride {args.doc_stride}: "
                         "must be positive (max len at least 3)")

    from xlmr.checkpoint import load_head, load_pretrained

    device = pick_device(args.device)
    encoder, tokenizer = load_pretrained(ckpt, device=device)
    head, _ = load_head(ckpt)
    head.to(device)
    scores = evaluate_langs(encoder, head, tokenizer, task, args.data_dir, langs, split, max_len,
                            args.batch_size, device, doc_stride=args.doc_stride)
    row_meta = {"model": meta["model"], "intermediate_task": meta["intermediate_task"], "target_task": task.name,
                "seed": meta["seed"]}
    rows = result_rows(scores, row_meta, split, str(ckpt))
    append_results(args.results, rows)
    print(f"{task.name} {split}: {meta['model']} after {meta['intermediate_task']} (seed {meta['seed']})")
    print(format_table(scores))
    print(f"{len(rows)} rows appended to {args.results}")
    return scores


def main(argv=None) -> None:
    try:
        run(argv)
    except ValueError as e:  # bad input: one clear line, no traceback
        sys.exit(f"evaluate.py: error: {e}")


if __name__ == "__main__":
    main()
