"""Zero-shot evaluation of a fine-tuned checkpoint on every language of a task; merging runs into one table.

    python evaluate.py --ckpt runs/xnli_mnli_s1/target/best --task xnli --all-langs   # data: datasets/ (or --data-dir)
    python evaluate.py --ckpt runs/panx_s1/target/best --task panx --langs de,fr --split dev --results my.csv
    python evaluate.py --collect runs/xnli_mnli_s1 runs/xnli_mnli_s2 results/results.csv   # mean/std/n over seeds

A checkpoint directory holds xlmr.checkpoint.save_pretrained's files (config.json, model.safetensors,
sentencepiece.bpe.model) and save_head's (head.safetensors, head.json); head.json's meta gives model,
intermediate_task, target_task and seed, which label the results rows (REFERENCE.md, "The results schema").

Inference: features sorted by length and batched (little padding), torch.inference_mode, bf16 autocast on CUDA.
Larger models (XL, XXL): `--dtype bf16` casts the weights at load (XXL: 21 GB instead of 43 GB, on one GPU).
Without --batch-size the batch comes from the GPU memory left after loading (xlmr.memory.pick_batch_size: the
formula is in xlmr/memory.py), or is the fixed default on CPU.
QA: n-best span decoding (max answer length 30) over every window of an example, mapped back to the context
through the offsets (data.featurize.decode_spans). Tagging: one prediction per word (data.featurize.stitch_tags).
A per-language table is printed, then every score goes to the results CSV (data.results: atomic, validated); when
the file cannot take them, the rows are written to a new CSV beside it and the error says where. Everything about the
input (checkpoint files, task, languages, gold labels, the results file) is checked before any compute; outputs
that are not finite (a model with NaN weights) stop the evaluation instead of scoring their argmax.

train.py uses predict / evaluate_langs / result_rows for English-dev model selection and the final evaluation.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import torch

from common.device import pick_device
from common.io import atomic_write_text
from config import DATA_LAYOUTS, DataConfig, EvalConfig, PhaseConfig, default_max_len
from data.featurize import collate, decode_spans, feature_length, featurize, stitch_tags
from data.items import check_item_folder, check_item_task, item_rows, write_item_scores
from data.results import append_or_save_aside, check_results_path, collect, format_table, result_rows
from data.tasks import SPLIT_ALIASES, get_task, parse_langs
from xlmr.checkpoint import check_checkpoint_dir, load_head, load_pretrained, read_head_meta
from xlmr.memory import pick_batch_size

EVAL, DATA, PHASE = EvalConfig(), DataConfig(), PhaseConfig()  # the command line's defaults are train.py's
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}  # --dtype: the weights' dtype at inference


# --- inference --------------------------------------------------------------------------------------------

N_BEST, MAX_ANSWER_LEN = 20, 30  # QA decoding (XTREME / transformers' run_squad defaults)


class NonFiniteError(ValueError):
    """A model produced NaN or inf: scoring the argmax of such outputs would give a number that means nothing."""


def run_features(encoder, head, features: Sequence[dict], kind: str, pad_id: int, batch_size: int,
                 device) -> list:
    """Encoder + head over features in length-sorted batches; per-feature float32 CPU outputs, in feature order.

    Outputs: (C,) logits for classification and multiple choice (C = choices); (T, C) for tagging; a pair
    of (T,) start / end logits for spans; T = the feature's own length (padding cut off).
    """
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
                cpu = tuple(x.float().cpu() for x in logits) if kind == "span" else (logits.float().cpu(),)
                if not all(bool(torch.isfinite(x).all()) for x in cpu):
                    raise NonFiniteError("the model's outputs are not finite (NaN or inf) on a batch of "
                                         f"{len(idx)} features: its weights are broken (or overflowed in "
                                         "reduced precision); no score is computed from them")
                if kind == "span":
                    start, end = cpu
                    for j, i in enumerate(idx):
                        T = len(features[i]["input_ids"])
                        outputs[i] = (start[j, :T], end[j, :T])
                else:
                    logits = cpu[0]
                    for j, i in enumerate(idx):
                        outputs[i] = logits[j, :len(features[i]["input_ids"])] if kind == "tag" else logits[j]
    finally:
        for m, t in zip(modules, was_training):
            m.train(t)
    return outputs


def predict(encoder, head, tokenizer, task, examples: Sequence, max_len: int, batch_size: int, device, *,
            features: Sequence[dict] | None = None, doc_stride: int = PHASE.doc_stride, labels: Sequence[str] | None = None) -> list:
    """Predictions for `examples`, one per example, in the form task.score takes:

    pair_cls / single_cls: label strings; tag: a list of tag strings per example; span: answer text ("" =
    abstain, SQuAD v2 only); multiple_choice: the chosen index. Gold labels are not needed.
    features: data.featurize.featurize's output for these examples, if already made (train.py's dev set);
    else they are made here with max_len (and doc_stride for spans). labels: the label set when the
    registry has none (ccg's comes from its data dir: task.get_labels(data_dir)); default task.labels.
    """
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
                            n_best=N_BEST, max_answer_len=MAX_ANSWER_LEN, allow_null=task.allow_null)
    if kind == "tag":
        per_word = stitch_tags(examples, features, [o.argmax(dim=-1) for o in outputs])
        return [[labels[t] for t in words] for words in per_word]
    preds: list = [None] * len(examples)
    for f, o in zip(features, outputs):  # one feature per example
        choice = int(o.argmax())
        preds[f["example_index"]] = choice if kind == "multiple_choice" else labels[choice]
    assert all(p is not None for p in preds), "an example without a feature"
    return preds


def evaluate_langs(encoder, head, tokenizer, task, data_dir, langs: Sequence[str], split: str, max_len: int,
                   batch_size: int, device, *, doc_stride: int = PHASE.doc_stride,
                   layout: str | None = None, ud_words: str = DATA.ud_words,
                   layouts: dict | None = None, items: dict | None = None) -> dict[str, dict[str, float]]:
    """Scores {lang: {metric: value 0-100}} of encoder + head on each language's `split` of `task`.

    layouts: when given, filled with the layout each language was read from ({lang: "original" | "hub" | ...}),
    which row_sources writes into the results rows. items: when given, filled with {lang: (examples, golds,
    preds)} (data/items.py turns them into per-item scores).

    Languages and gold labels are checked first (task.check_gold), so a bad request fails before any compute.
    """
    langs = task.select_langs(langs, all_langs=False)
    task.check_gold(data_dir, langs, split, layout, ud_words=ud_words)
    labels = task.get_labels(data_dir)
    scores = {}
    for lang in langs:
        examples = task.read(data_dir, lang, split, layout, ud_words=ud_words)
        if layouts is not None:
            layouts[lang] = getattr(examples, "layout", "") or "unknown"
        examples = list(examples)
        golds = task.golds(examples)
        preds = predict(encoder, head, tokenizer, task, examples, max_len, batch_size, device,
                        doc_stride=doc_stride, labels=labels)
        scores[lang] = {m: float(v) for m, v in task.score(golds, preds, lang).items()}
        if items is not None:
            items[lang] = (examples, golds, preds)
    return scores


def row_sources(base: str, task, layouts: dict, **options) -> dict[str, str]:
    """The results rows' `source` per language: where the model came from, how the words were read
    (";ud_words=fused", Task.read_note) and the layout read (";layout=original" | "hub" | "xtreme"): Hub and
    upstream UD-POS give different test sets under the same options."""
    note = task.read_note(**options)
    return {lang: f"{base}{note};layout={layout}" for lang, layout in layouts.items()}


# --- the command line -------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", help="fine-tuned checkpoint directory (save_pretrained + save_head files)")
    p.add_argument("--task", help="task to score (default: the head's target_task)")
    p.add_argument("--all-langs", action="store_true", help="every language of the task")
    p.add_argument("--langs", type=parse_langs, default=None, help="comma-separated languages, e.g. de,fr")
    p.add_argument("--split", default=None,
                   help="split to score (default: the task's eval_split, test for most; XTREME's test files lack labels)")
    p.add_argument("--data-dir", default=DATA.data_dir, help=f"task files (default: {DATA.data_dir}; env XSTILTS_DATA_DIR)")
    p.add_argument("--layout", default=DATA.layout, choices=DATA_LAYOUTS, help="data layout read (data.layout)")
    p.add_argument("--results", default=EVAL.results, help=f"results CSV to append to ({EVAL.results})")
    p.add_argument("--item-scores", metavar="DIR", default=None,
                   help="also write each item's score (right/wrong) per language to a CSV in DIR (data/items.py; "
                        "accuracy tasks): correlate.py --item-scores pairs English's and L's items")
    p.add_argument("--ud-words", choices=("fused", "syntactic"), default=DATA.ud_words,
                   help=f"UD-POS .conllu words (default {DATA.ud_words}: XTREME's; see data/readers/tagging.py)")
    p.add_argument("--max-len", type=int, default=None, help="default: by kind (config.MAX_LEN_BY_KIND)")
    p.add_argument("--doc-stride", type=int, default=PHASE.doc_stride,
                   help=f"QA window stride in sub-tokens (default {PHASE.doc_stride})")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"default: from the free GPU memory on CUDA (xlmr/memory.py), {EVAL.batch_size} on CPU")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="fp32",
                   help="weights' dtype: fp32 (default) or bf16 (XL/XXL on one GPU: half the memory)")
    p.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    p.add_argument("--collect", nargs="+", metavar="DIR", help="merge results CSVs (files or dirs) into one table")
    p.add_argument("--out", default=None, help="with --collect: also write the table to this CSV")
    return p.parse_args(argv)


def check_head_fits(meta: dict, task, ckpt: Path, data_dir) -> None:
    """The saved head must be of the task's kind, predict the task's labels in the same order, and have been trained
    on the task (head.json's `task`) or on the same English data (the task's train_task: a SQuAD head scores XQuAD
    and MLQA); a QQP head does not score PAWS-X, though kind and labels fit."""
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
    trained = meta.get("task")
    if trained not in (None, "", task.name):  # a head scores its own task, or one trained on the same English data
        try:
            same_data = task.train_task is not None and task.train_task in (trained, get_task(trained).train_task)
        except (ValueError, KeyError):
            same_data = False
        if not same_data:
            raise ValueError(f"{ckpt / 'head.json'}: the head was trained on {trained!r}, which is not "
                             f"{task.name} nor trained on {task.name}'s English data ({task.train_task or 'none'}); "
                             f"a {trained} head cannot score {task.name}")


def run(argv=None) -> dict:
    """The command line's work; returns {lang: {metric: value}} (or the --collect table)."""
    args = parse_args(argv)
    if args.collect:
        if args.ckpt:
            raise ValueError("--collect merges results files; it takes no --ckpt")
        table = collect(args.collect)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if args.out:
            atomic_write_text(args.out, table.to_csv(index=False))
        return table
    if not args.ckpt:
        raise ValueError("give --ckpt (a fine-tuned checkpoint directory) or --collect")

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
    langs = task.select_langs(args.langs, args.all_langs)
    split = SPLIT_ALIASES.get(args.split, args.split) if args.split else task.eval_split
    task.check_gold(args.data_dir, langs, split, args.layout, ud_words=args.ud_words)
    max_len = args.max_len or default_max_len(task.kind)
    if max_len < 3 or (args.batch_size is not None and args.batch_size < 1) or args.doc_stride < 1:
        raise ValueError(f"--max-len {max_len}, --batch-size {args.batch_size}, --doc-stride {args.doc_stride}: "
                         "must be positive (max len at least 3)")
    check_results_path(args.results)  # a folder, a malformed or unwritable file: said now, not after the compute
    if args.item_scores:
        check_item_task(task)
        check_item_folder(args.item_scores)

    device = pick_device(args.device)
    dtype = DTYPES[args.dtype]
    encoder, tokenizer = load_pretrained(ckpt, device=device, dtype=dtype)
    if args.batch_size is None:  # from the free GPU memory (xlmr/memory.py); the fixed default on CPU
        args.batch_size = pick_batch_size(encoder.cfg, device, max_len, EVAL.batch_size,
                                          dtype_bytes=2 if device.type == "cuda" else dtype.itemsize)
    head = load_head(ckpt)[0].to(dtype=dtype)
    head.to(device)
    layouts, items = {}, ({} if args.item_scores else None)
    scores = evaluate_langs(encoder, head, tokenizer, task, args.data_dir, langs, split, max_len,
                            args.batch_size, device, doc_stride=args.doc_stride, layout=args.layout,
                            ud_words=args.ud_words, layouts=layouts, items=items)
    row_meta = {"model": meta["model"], "intermediate_task": meta["intermediate_task"], "target_task": task.name,
                "seed": meta["seed"]}
    sources = row_sources(str(ckpt), task, layouts, ud_words=args.ud_words)
    rows = result_rows(scores, row_meta, split, sources)
    print(f"{task.name} {split}: {meta['model']} after {meta['intermediate_task']} (seed {meta['seed']})")
    print(format_table(scores), flush=True)  # first: whatever happens to the results file, the scores are shown
    if items is not None:  # before the results file: a failed append must not lose them
        per_item = [r for lang, (ex, golds, preds) in items.items()
                    for r in item_rows(ex, golds, preds, lang, row_meta, split, sources[lang])]
        path = write_item_scores(args.item_scores, per_item, task.name, split, str(ckpt))
        print(f"{len(per_item)} item scores written to {path}")
    append_or_save_aside(args.results, rows)
    print(f"{len(rows)} rows appended to {args.results}")
    return scores


def main(argv=None) -> None:
    try:
        run(argv)
    except ValueError as e:  # bad input: one clear line, no traceback
        sys.exit(f"evaluate.py: error: {e}")


if __name__ == "__main__":
    main()
