"""Per-item scores of one evaluation: which test items the model got right, per language -- what a paired analysis
of the drop needs (on a parallel test set English and L share their items; analysis/many.py paired_noise).

Written by `evaluate.py --item-scores DIR`, and by train.py for its target into the run's `items/` (which
`study.py collect` hands to correlate.py): one CSV per (checkpoint, task, split), `DIR/items.<task>.<split>.<10 hex
digits of the source>.csv`, columns ITEM_COLUMNS, one row per (language, item); `score` is 100 (right) or 0 (wrong),
in points like the results rows, so a language's mean is its accuracy row exactly. `item` is the example's id (for
SIB-200 the FLORES index_id, the same in every language); `position` its place in the language's test file (XNLI's
ids name the file: the position pairs them). Written atomically; a rerun of the same checkpoint replaces its file.

Only tasks scored by accuracy over single items have item scores (ITEM_KINDS): an F1 over spans or tags, or a
retrieval accuracy over a ranking, is not a mean of per-item right/wrong values.
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd

from common.io import atomic_path
from data.examples import DataError

ITEM_COLUMNS = ("model", "intermediate_task", "target_task", "seed", "split", "lang", "item", "position", "score",
                "source")
ITEM_KINDS = ("single_cls", "pair_cls", "multiple_choice")


def has_item_scores(task) -> bool:
    """Whether `task` is scored by accuracy over single items (the tasks that have item scores)."""
    return task.kind in ITEM_KINDS and task.primary_metric == "accuracy"


def check_item_task(task) -> None:
    """ValueError unless `task` is scored by accuracy over single items (before any compute)."""
    if not has_item_scores(task):
        raise ValueError(f"--item-scores: {task.name} is scored by {task.primary_metric} over {task.kind} examples; "
                         f"per-item scores exist for accuracy tasks ({', '.join(ITEM_KINDS)})")


def item_rows(examples, golds, preds, lang: str, meta: dict, split: str, source: str) -> list[dict]:
    """One row per example: 100 where the prediction equals the gold, else 0."""
    seed = meta.get("seed")
    run = {"model": meta["model"], "intermediate_task": meta.get("intermediate_task") or "none",
           "target_task": meta["target_task"], "seed": "" if seed is None else seed}
    return [{**run, "split": split, "lang": lang, "item": e.id, "position": i, "score": 100 if p == g else 0,
             "source": source} for i, (e, g, p) in enumerate(zip(examples, golds, preds))]


def item_scores_path(folder, task: str, split: str, source: str) -> Path:
    return Path(folder) / f"items.{task}.{split}.{hashlib.sha1(source.encode()).hexdigest()[:10]}.csv"


def check_item_folder(folder) -> Path:
    """Before any compute: `folder` is (or can be made) a writable folder."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--item-scores {folder}: is a file; expected a folder for the item-score files")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"--item-scores {folder}: cannot write there ({e.strerror})") from None
    return folder


def write_item_scores(folder, rows: list[dict], task: str, split: str, source: str) -> Path:
    """The rows as one CSV (atomic; replaces an earlier file of the same checkpoint, task and split)."""
    path = item_scores_path(folder, task, split, source)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, ITEM_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def read_item_scores(paths) -> pd.DataFrame:
    """Every item-score CSV named (or below a named folder), with `file` and `line` columns; DataError naming the
    file and line for a wrong header, a score other than 0 or 100, a bad position, or one item twice."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.rglob("items.*.csv"))
        elif p.is_file():
            files.append(p)
        else:
            raise ValueError(f"--item-scores {p}: no such file or folder")
    frames = []
    for path in files:
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
        if header != list(ITEM_COLUMNS):
            raise DataError(path, "line 1", f"header {','.join(header)}; expected {','.join(ITEM_COLUMNS)}")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df["file"], df["line"] = str(path), range(2, len(df) + 2)
        for col, ok, what in (("score", df["score"].isin(["0", "100"]), "a score of 0 or 100"),
                              ("position", df["position"].str.isdigit(), "a position 0, 1, 2, ...")):
            if not ok.all():
                bad = df[~ok].iloc[0]
                raise DataError(path, f"line {bad['line']}", f"{col} {bad[col]!r}; expected {what}")
        twice = df.duplicated(["source", "target_task", "split", "lang", "item"])
        if twice.any():
            bad = df[twice].iloc[0]
            raise DataError(path, f"line {bad['line']}", f"item {bad['item']!r} of {bad['lang']} a second time")
        frames.append(df)
    if not frames:
        raise ValueError(f"--item-scores {', '.join(map(str, paths))}: no items.*.csv file")
    out = pd.concat(frames, ignore_index=True)
    out["score"] = out["score"].astype(float)
    out["position"] = out["position"].astype(int)
    return out
