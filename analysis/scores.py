"""Scores and drops: results files -> one validated score per cell -> per-language dependent variables.

Use: `scores, set_aside, notes = load_scores(paths)`; `drops, left_out = compute_drops(scores)`;
`effects = seed_effects(raw)` (the after-intermediate design: one row per intermediate-task seed).

Task names: a target task is a registry row of data/tasks.py with `target=True` (target_tasks()); results may
use its `display_name` (XNLI, PAWS-X, ...). Other registry tasks are English-only: noted and not analysed. Each task
is analysed on `analysed_metric(task)` -- the registry's `primary_metric`, chosen in this one place. One cell =
(model, intermediate_task, target_task, split, metric, lang); where sources disagree on a cell, the first source in
SOURCE_PREFERENCE wins (your own runs, whose source is a run directory, come first) and the report lists what was set
aside; seeds of the winning source are averaged.

Dependent variables, per (model, intermediate_task, target_task, split) and non-English language L:
    abs_drop = score(en) - score(L);  rel_drop = 100 * (1 - score(L) / score(en))       (not for retrieval)
    score = score(L)                                                                     (retrieval: no English side)
    effect = score_after(L) - score_baseline(L);  drop_change = abs_drop_after - abs_drop_baseline
                                                   (intermediate_task != none, where the baseline run exists)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.design import many_language_tasks
from analysis.distances import URIEL_CODES
from data.examples import DataError
from data.results import read_results
from data.tasks import TASKS, target_tasks

# Which source wins a disputed cell: first match of these prefixes; a source matching none (your own run
# directory) ranks before all of them. Reasons in results/published/README.md.
SOURCE_PREFERENCE = ("google-deepmind/xquad", "facebookresearch/fairseq", "PaddlePaddle/ERNIE",
                     "tensorflow/tfhub.dev", "jiant-dev/jiant-dev", "google-research/bert", "microsoft/Litmus")
# Metric names the publications use -> the project's names; others (precision, f1_layer14, ...) pass through and are
# reported as not analysed unless they are the task's analysed metric.
METRIC_NAMES = {"F1": "f1", "EM": "exact_match", "F1 (assumed; unlabelled in data)": "f1"}
DV_DESCRIPTIONS = {
    "abs_drop": "absolute drop, score(en) - score(L), points",
    "rel_drop": "relative drop, 100 * (1 - score(L)/score(en)), percent",
    "score": "retrieval score of L (no English side)",
    "effect": "intermediate-task effect, score_after(L) - score_baseline(L), points",
    "drop_change": "change in absolute drop, drop_after - drop_baseline, points",
}
EXPERIMENT = ["model", "intermediate_task", "target_task", "split", "metric"]
CELL = [*EXPERIMENT, "lang"]


def analysed_metric(task: str) -> str:
    """The one metric each target task is analysed on: the registry's primary metric."""
    return TASKS[task].primary_metric


def task_names() -> dict[str, str]:
    """Name in a results file -> registry name: every registry name, and each target task's display name."""
    names = {name: name for name in TASKS}
    names.update({TASKS[t].display_name: t for t in target_tasks() if TASKS[t].display_name})
    return names


def display(task: str) -> str:
    return TASKS[task].display_name or task


def source_rank(source: str) -> int:
    """0 for a run of your own; 1.. for the publications in SOURCE_PREFERENCE order."""
    for i, prefix in enumerate(SOURCE_PREFERENCE):
        if source.startswith(prefix):
            return i + 1
    return 0


def read_target_rows(paths) -> tuple[pd.DataFrame, list[str]]:
    """Validated rows of the target tasks on their analysed metric, names mapped; notes on what was not analysed."""
    df = read_results(paths)
    notes = []
    many = df["target_task"].isin(many_language_tasks())
    if many.any():  # analysed by analysis/many.py (pre-registered in analysis/design.py), not in the XTREME tables
        counts = df[many].groupby("target_task").size()
        notes.append("Analysed in the many-language section, not in these tables: "
                     + ", ".join(f"{t} ({n} rows)" for t, n in counts.items()) + ".")
        df = df[~many].reset_index(drop=True)
    names = task_names()
    for _, row in df.iterrows():
        where = f"line {row['line']}"
        if row["target_task"] not in names:
            raise DataError(row["file"], where, f"unknown target_task {row['target_task']!r}: expected one of "
                            f"{', '.join(target_tasks())} (or their published display names), or another task of "
                            "data/tasks.py (English-only: noted and skipped)")
        if row["lang"] not in URIEL_CODES:
            raise DataError(row["file"], where, f"unknown language code {row['lang']!r}: expected an ISO 639-1 "
                            f"code of an XTREME language ({', '.join(sorted(URIEL_CODES))})")
    df["target_task"] = df["target_task"].map(names)
    for _, row in df[df["target_task"].isin(target_tasks())].iterrows():
        langs = TASKS[row["target_task"]].langs
        # A run of your own can only score the task's own languages: anything else is a mislabelled row. A published
        # table may report a language of the dataset that XTREME does not use (XQuAD's ro): left out, listed in A7.
        if row["lang"] not in langs and source_rank(row["source"]) == 0:
            raise DataError(row["file"], f"line {row['line']}", f"language {row['lang']!r} is not a language of "
                            f"{row['target_task']} (data/tasks.py: {', '.join(langs)})")
    english_only = ~df["target_task"].isin(target_tasks())  # e.g. mnli dev scores from evaluate.py
    if english_only.any():
        counts = df[english_only].groupby("target_task").size()
        notes.append("Not analysed (English-only tasks, no zero-shot languages): "
                     + ", ".join(f"{t} ({n} rows)" for t, n in counts.items()) + ".")
        df = df[~english_only].reset_index(drop=True)
    assumed = df["metric"].str.contains("assumed")
    if assumed.any():
        notes.append(f"{int(assumed.sum())} rows have a metric the source does not name (taken as F1): "
                     f"{', '.join(sorted(set(df.loc[assumed, 'file'].map(lambda f: Path(f).name))))}.")
    df["metric"] = df["metric"].map(lambda m: METRIC_NAMES.get(m, m))
    analysed = df["target_task"].map(analysed_metric)
    secondary = df[df["metric"] != analysed]
    if len(secondary):
        counts = secondary.groupby(["target_task", "metric"]).size()
        notes.append("Not analysed (secondary metrics): " + ", ".join(f"{t} {m} ({n} rows)"
                                                                       for (t, m), n in counts.items()) + ".")
    return df[df["metric"] == analysed].copy(), notes


def load_scores(paths, screen=None) -> tuple[pd.DataFrame, pd.DataFrame, list[str], pd.DataFrame]:
    """Validated, name-mapped scores on each task's analysed metric, one row per cell.

    `screen`: a function rows -> rows applied before anything is averaged (analysis/run.py passes the diverged-run
    check of analysis/after.py).

    Returns (scores, set_aside, notes, kept): scores has CELL + value, n_seeds, source, file, line; set_aside has
    the rows a preferred source overruled; kept has one row per (cell, seed) of the winning source.
    """
    df, notes = read_target_rows(paths)
    if screen is not None:
        df = screen(df)
    df["rank"] = df["source"].map(source_rank)
    best = df.groupby(CELL)["rank"].transform("min")
    kept = df[df["rank"] == best]
    overruled = df[df["rank"] > best]
    # An overruled row that repeats the used value is a confirmation, not a dispute.
    used_values = kept.groupby(CELL)["value"].agg(lambda v: set(v))
    agrees = np.array([r["value"] in used_values[tuple(r[CELL])] for _, r in overruled.iterrows()], dtype=bool)
    set_aside = overruled[~agrees].copy()
    if agrees.any():
        notes.append(f"{int(agrees.sum())} cells are given with the same value by a second source (not disputes).")
    # Within the winning source rank: one value per seed (two sources disagreeing on a seed is an error).
    clash = kept[kept.duplicated([*CELL, "seed"], keep=False)]
    for _, group in clash.groupby([*CELL, "seed"]):
        if group["value"].nunique() > 1:
            a, b = group.iloc[0], group.iloc[1]
            raise DataError(b["file"], f"line {b['line']}",
                            f"value {b['value']} contradicts {a['value']} ({a['file']}:line {a['line']}) for the "
                            f"same cell {dict(zip(CELL, group.iloc[0][CELL]))} and seed {a['seed']!r}")
    kept = kept.drop_duplicates([*CELL, "seed"])
    scores = (kept.groupby(CELL, sort=False)
              .agg(value=("value", "mean"), n_seeds=("seed", "size"), source=("source", "first"),
                   file=("file", "first"), line=("line", "first"))
              .reset_index())
    for key, g in kept.groupby(EXPERIMENT, sort=False):
        pubs = sorted({src.split(":")[0].split("@")[0] for src, r in zip(g["source"], g["rank"]) if r > 0})
        if len(pubs) > 1:
            notes.append(f"{' | '.join(map(str, key))} takes languages from more than one source ({', '.join(pubs)}):"
                         " its drops compare numbers from different runs.")
    return scores, set_aside, notes, kept.reset_index(drop=True)


def compute_drops(scores: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """One row per (experiment, non-English language) with the dependent variables; plus the languages left out."""
    rows, left_out = [], []
    by_exp = {k: g for k, g in scores.groupby(EXPERIMENT, sort=False)}
    for key, group in by_exp.items():
        exp = dict(zip(EXPERIMENT, key))
        task = TASKS[exp["target_task"]]
        retrieval = task.kind == "retrieval"
        values = dict(zip(group["lang"], group["value"]))
        if not retrieval and "en" not in values:
            first = group.iloc[0]
            raise DataError(first["file"], f"line {first['line']}",
                            f"no English score for model={exp['model']!r}, intermediate_task="
                            f"{exp['intermediate_task']!r}, target_task={exp['target_task']!r}, split="
                            f"{exp['split']!r}, metric={exp['metric']!r}: the drop needs score(en)")
        base = None
        if exp["intermediate_task"] != "none":
            base = by_exp.get((exp["model"], "none", exp["target_task"], exp["split"], exp["metric"]))
            base = None if base is None else dict(zip(base["lang"], base["value"]))
        for _, r in group.iterrows():
            lang = r["lang"]
            if lang == "en":
                if retrieval:
                    left_out.append({**exp, "lang": lang, "reason": "English is the retrieval pivot, not a target"})
                continue
            if lang not in task.langs:
                left_out.append({**exp, "lang": lang, "reason": f"not an XTREME {task.name} language"})
                continue
            row = {**exp, "lang": lang, "score": r["value"], "n_seeds": r["n_seeds"], "source": r["source"]}
            if not retrieval:
                en = values["en"]  # rel_drop is undefined when score(en) is 0 (NaN, noted in the report)
                row.update(score_en=en, abs_drop=en - r["value"],
                           rel_drop=100 * (1 - r["value"] / en) if en != 0 else np.nan)
            if base is not None and lang in base:
                row["score_baseline"] = base[lang]
                row["effect"] = r["value"] - base[lang]
                if not retrieval and "en" in base:
                    row["drop_change"] = (values["en"] - r["value"]) - (base["en"] - base[lang])
            elif exp["intermediate_task"] != "none":
                left_out.append({**exp, "lang": lang, "reason": "no baseline (intermediate_task=none) score: "
                                 "no effect or drop change"})
            rows.append(row)
    cols = [*EXPERIMENT, "lang", "score_en", "score", "abs_drop", "rel_drop", "score_baseline", "effect",
            "drop_change", "n_seeds", "source"]
    drops = pd.DataFrame(rows).reindex(columns=cols)
    zero = drops[(drops["score_en"] == 0)].groupby(EXPERIMENT, sort=False).size()
    for key in zero.index:
        left_out.append({**dict(zip(EXPERIMENT, key)), "lang": "en",
                         "reason": "score(en) = 0: rel_drop undefined (NaN); abs_drop is analysed"})
    return drops, left_out


def dependent_variables(exp_rows: pd.DataFrame) -> list[str]:
    """The dependent variables an experiment has (in DV_DESCRIPTIONS order)."""
    retrieval = TASKS[exp_rows["target_task"].iloc[0]].kind == "retrieval"
    dvs = ["score"] if retrieval else ["abs_drop", "rel_drop"]
    return dvs + [dv for dv in ("effect", "drop_change") if exp_rows[dv].notna().any()]


def seed_effects(kept: pd.DataFrame) -> pd.DataFrame:
    """The after-intermediate design's data: one row per intermediate-task run (model, intermediate_task,
    target_task, split, lang, seed) with effect = score_after(seed) - mean over seeds of score_baseline.

    Only non-English languages of the task with a baseline score enter; every seed of the intermediate-task runs is
    a row (the model's residual absorbs seed noise; the shared baseline mean is a cell-level variance component).
    """
    if kept.empty:
        return pd.DataFrame(columns=[*EXPERIMENT, "lang", "seed", "effect", "score", "score_baseline"])
    base = (kept[kept["intermediate_task"] == "none"]
            .groupby(["model", "target_task", "split", "metric", "lang"])["value"].mean().rename("score_baseline"))
    after = kept[kept["intermediate_task"] != "none"]
    after = after[after["lang"] != "en"]
    after = after[np.array([lang in TASKS[t].langs for t, lang in zip(after["target_task"], after["lang"])],
                           dtype=bool)]
    out = after.join(base, on=["model", "target_task", "split", "metric", "lang"], how="inner")
    out = out.rename(columns={"value": "score"})
    out["effect"] = out["score"] - out["score_baseline"]
    return out[[*EXPERIMENT, "lang", "seed", "effect", "score", "score_baseline"]].reset_index(drop=True)
