"""Tokenizer covariates per language, from a sentencepiece model and the tasks' test text: fertility and vocabulary
overlap with English.

Run:
    python correlate.py --spm xlmr-large/sentencepiece.bpe.model --data-dir datasets   # in the report's appendix
    python -m analysis.tokenization --spm MODEL --data-dir DIR [--tasks xquad xnli] [--split test]

Per (target task, language), on the task's text of the split (`test`; `dev` where the test file is absent -- the
`split` column says which), read through the registry's readers (data/tasks.py), each distinct text once (XQuAD's
contexts repeat across their questions):
- fertility = sentencepiece pieces / words. Words are whitespace-separated tokens, except for the languages written without them (zh, ja, th, ...;
  `spaces: no` in data/languages.tsv): there the unit is a non-space character (the `unit`
  column says which), so their fertility is pieces per character and is not comparable with the others' (Rust et
  al. 2021, "How Good is Your Tokenizer?", measure fertility per word; these three have no whitespace words).
  Pieces are every piece `encode` returns, the lone word-start piece included (what the model reads).
- overlap_types = share of the language's distinct pieces that also occur in the English text of the same task
  (split as for the language); overlap_tokens = share of its piece occurrences whose piece occurs in that English
  text. English itself has overlap 1 by construction.
Text fields: single text; both texts of a pair; the words of a tagging sentence joined by spaces; question and
context of a span example; context and choices of a multiple-choice example; the non-English side of a bitext (the
English side for English).
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import pandas as pd

from data.languages import need
from data.readers.common import MissingDataError
from data.examples import Bitext, ChoiceExample, PairExample, SingleExample, SpanExample, TagExample
from data.tasks import TASKS, target_tasks

def _unspaced(lang: str) -> bool:
    """Written without spaces between words (data/languages.tsv `spaces`): fertility per non-space character."""
    return need(lang, "spaces") == "no"
SPLITS = ("test", "dev")  # the text used: test, else dev
COLUMNS = ["task", "split", "lang", "texts", "units", "unit", "pieces", "fertility", "piece_types",
           "overlap_types", "overlap_tokens"]


def load_spm(path):
    """A SentencePieceProcessor; ValueError naming the file when it is missing or not a sentencepiece model."""
    import sentencepiece as spm

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such sentencepiece model file")
    try:
        return spm.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as e:
        raise ValueError(f"{path}: not a sentencepiece model ({e})") from None


def example_texts(ex, english: bool = False) -> list[str]:
    """The text an example holds (see the module docstring)."""
    if isinstance(ex, SingleExample):
        return [ex.text]
    if isinstance(ex, PairExample):
        return [ex.text_a, ex.text_b]
    if isinstance(ex, TagExample):
        return [" ".join(ex.words)]
    if isinstance(ex, SpanExample):
        return [ex.question, ex.context]
    if isinstance(ex, ChoiceExample):
        return [ex.context, *ex.choices]
    if isinstance(ex, Bitext):
        return list(ex.tgt if english else ex.src)
    raise TypeError(f"no text for a {type(ex).__name__}")


def units(text: str, lang: str) -> int:
    """Whitespace words, or non-space characters for languages written without spaces."""
    return len("".join(text.split())) if _unspaced(lang) else len(text.split())


def measure(sp, texts, lang: str) -> tuple[dict, Counter]:
    """Fertility counts of distinct texts and the piece counter (for the overlap)."""
    texts = list(dict.fromkeys(t for t in texts if t and t.strip()))
    counts = Counter()
    for pieces in sp.encode(texts, out_type=str):
        counts.update(pieces)
    n_units = sum(units(t, lang) for t in texts)
    n_pieces = sum(counts.values())
    return ({"texts": len(texts), "units": n_units, "unit": "character" if _unspaced(lang) else "word",
             "pieces": n_pieces, "fertility": n_pieces / n_units if n_units else float("nan"),
             "piece_types": len(counts)}, counts)


def overlap(counts: Counter, english: Counter) -> tuple[float, float]:
    """(share of types, share of tokens) of `counts` whose piece occurs in `english`."""
    shared = [p for p in counts if p in english]
    total = sum(counts.values())
    return (len(shared) / len(counts) if counts else float("nan"),
            sum(counts[p] for p in shared) / total if total else float("nan"))


def read_texts(task: str, data_dir, lang: str, splits=SPLITS) -> tuple[str, list[str]] | None:
    """(split, texts) of the first split whose file exists; None when no split has a file for the language."""
    t = TASKS[task]
    for split in splits:
        if split not in t.splits:
            continue
        try:
            out = t.read(data_dir, lang, split)
        except MissingDataError:
            continue
        items = [out] if isinstance(out, Bitext) else out
        return split, [s for ex in items for s in example_texts(ex, english=lang == "en")]
    return None


def tokenizer_covariates(spm_path, data_dir, tasks=None, splits=SPLITS) -> tuple[pd.DataFrame, list[str]]:
    """One row per (task, language) with text (COLUMNS), and notes on what had no text (English missing, ...)."""
    sp = load_spm(spm_path)
    tasks = list(tasks) if tasks else target_tasks()
    rows, notes = [], []
    for task in tasks:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}: expected one of {', '.join(target_tasks())}")
        found = {lang: r for lang in TASKS[task].langs if (r := read_texts(task, data_dir, lang, splits))}
        if not found:
            continue
        if "en" not in found:
            notes.append(f"{task}: no English text under {data_dir}: no overlap (fertility only)")
        en_counts = measure(sp, found["en"][1], "en")[1] if "en" in found else Counter()
        for lang, (split, texts) in found.items():
            row, counts = measure(sp, texts, lang)
            types, tokens = overlap(counts, en_counts) if en_counts else (float("nan"), float("nan"))
            rows.append({"task": task, "split": split, "lang": lang, **row, "overlap_types": types,
                         "overlap_tokens": tokens})
        missing = sorted(set(TASKS[task].langs) - set(found))
        if missing:
            notes.append(f"{task}: no text for {', '.join(missing)} under {data_dir}")
    return pd.DataFrame(rows, columns=COLUMNS), notes


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spm", required=True, help="sentencepiece model file (e.g. a checkpoint's sentencepiece.bpe.model)")
    p.add_argument("--data-dir", required=True, help="the data folder (data/tasks.py layout)")
    p.add_argument("--tasks", nargs="*", help="target tasks (default: every one with text under --data-dir)")
    args = p.parse_args(argv)
    try:
        table, notes = tokenizer_covariates(args.spm, args.data_dir, args.tasks)
    except ValueError as e:
        raise SystemExit(f"analysis.tokenization: {e}") from None
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for n in notes:
        print(f"note: {n}")


if __name__ == "__main__":
    main()
