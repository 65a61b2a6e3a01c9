"""Check a DATA_DIR: for every task x language x split, is it there, how many examples, labelled or not, the label
distribution, and every format error found (reading goes on after a bad row, up to 50 errors per file).

    python -m data.check DATA_DIR [--tasks xnli,udpos] [--langs en,de] [--layout auto|upstream|hub|xtreme] [--json]

Exit status 1 when something required is missing or any file is malformed, else 0.

What is required, per task checked:
  * English train and dev, where the task has those splits and English (xnli, pawsx, udpos, panx, tydiqa and
    every intermediate task; mnli's dev is dev_matched);
  * every language's evaluation split (`Task.eval_split`: test for most target tasks, dev for tydiqa and the
    intermediate tasks), and for bucc2018 also every language's dev split (the mining threshold is tuned on it).
  Other splits (another language's dev, mnli dev_mismatched, anli_plus test, ccg test) are reported when found
  and listed as missing otherwise, without failing the check.
  --langs restricts the languages checked (and so required).
  A task that is not named with --tasks and has no file at all is reported as "not downloaded", not as an error;
  a task named with --tasks must be complete.
An evaluation split without gold labels (XTREME's download removes the test labels) is not an error, but the
report says "unlabelled": per-language scores then need the dev split or the original files (data/tasks.py).

Layout: every entry says which layout it read (original/glue = upstream, hub, xtreme) and whether that split is
labelled. By default the first layout found is read, in the registry's order (upstream, hub, xtreme; data/tasks.py);
--layout reads only that one (a split it lacks is then missing).

`check(data_dir, tasks=None, langs=None, layout="auto") -> dict` is the same check as a function (data/download.py calls it).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from common.paths import default_data_dir
from data.examples import Bitext, DataError
from data.readers.common import MissingDataError, collect_errors
from data.tasks import LAYOUT_GROUPS, LAYOUT_ORDER, TASKS, Task, examples_have_gold, get_task


def required_pairs(task: Task, langs: Sequence[str]) -> set[tuple[str, str]]:
    """The (lang, split) pairs without which `task` counts as incomplete (see the module docstring)."""
    req = {(lang, task.eval_split) for lang in langs}
    if "en" in langs:
        req |= {("en", s) for s in ("train", "dev") if s in task.splits and task.candidates("en", s)}
    if task.tune_split:  # a threshold tuned there (BUCC: dev) before eval_split is scored
        req |= {(lang, task.tune_split) for lang in langs}
    return req


def describe_labels(task: Task, examples) -> dict[str, int]:
    """Label distribution: label counts (classification, choice index), tag counts (tagging), answer kinds (span),
    sentence and gold-pair counts (retrieval). Unlabelled examples count under "(none)"."""
    if isinstance(examples, Bitext):
        return {"src_sentences": len(examples.src), "tgt_sentences": len(examples.tgt),
                "gold_pairs": None if examples.gold is None else len(examples.gold)}
    if task.kind == "tag":
        counts = Counter()
        for e in examples:
            if e.tags is None:
                counts["(none)"] += len(e.words)
            else:
                counts.update(e.tags)
        return dict(counts.most_common())
    if task.kind == "span":
        counts = Counter("(none)" if e.answers is None else "unanswerable" if e.is_impossible else "answerable"
                         for e in examples)
        return dict(counts.most_common())
    return dict(Counter("(none)" if e.label is None else str(e.label) for e in examples).most_common())


def check_entry(task: Task, data_dir, lang: str, split: str, required: bool, layout: str = "auto") -> dict:
    """Read one (task, lang, split), collecting errors; a JSON-ready dict."""
    entry = {"lang": lang, "split": split, "required": required, "status": "ok", "layout": None, "paths": [],
             "n_examples": 0, "labelled": None, "labels": {}, "skipped": {}, "tokenization": "",
             "errors": []}
    try:
        source, paths = task.locate(data_dir, lang, split, layout)
    except ValueError as e:  # MissingDataError, or a split without a file of the forced layout
        if isinstance(e, DataError) and not isinstance(e, MissingDataError):  # a folder or a dangling link
            entry.update(status="malformed", errors=[str(e)])  # where a file belongs
            return entry
        if not isinstance(e, MissingDataError) and layout == "auto":
            raise
        entry.update(status="missing", errors=[str(e)] if required else [])
        return entry
    entry.update(layout=source.layout, paths=[str(p) for p in paths])
    with collect_errors() as errors:
        try:
            examples = task.read(data_dir, lang, split, layout=source.layout)
        except MissingDataError as e:  # a combined file without this language (XNLI-1.0, TyDiQA-GoldP)
            entry.update(status="missing", errors=[str(e)] if required else [])
            return entry
        except (DataError, OSError) as e:
            errors.append(e)
            examples = None
    if examples is not None:
        entry["n_examples"] = len(examples.src) if isinstance(examples, Bitext) else len(examples)
        entry["labelled"] = examples_have_gold(examples)
        entry["labels"] = describe_labels(task, examples)
        entry["skipped"] = dict(getattr(examples, "skipped", {}))
        entry["tokenization"] = getattr(examples, "tokenization", "")  # e.g. UD-POS: ud_words=fused
    if errors:
        entry["status"] = "malformed"
        entry["errors"] = list(dict.fromkeys(str(e) for e in errors))  # each message once, in order
    return entry


def check(data_dir, tasks: Sequence[str] | None = None, langs: Sequence[str] | None = None,
          layout: str = "auto") -> dict:
    """The report of every task (or those named) x language x split; report["ok"] is False when something
    required is missing or malformed. JSON-serializable."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"DATA_DIR {data_dir} is not a directory")
    named = tasks is not None
    task_objs = [get_task(t) for t in tasks] if named else list(TASKS.values())
    if layout != "auto" and layout not in LAYOUT_GROUPS:
        raise ValueError(f"layout {layout!r}; expected auto or one of {', '.join(LAYOUT_GROUPS)}")
    report = {"data_dir": str(data_dir), "ok": True, "tasks": [], "errors": [],
              "layout": "auto: the first found, in registry order (" + ", ".join(LAYOUT_ORDER) + ")" if layout == "auto" else f"{layout} only"}
    for task in task_objs:
        task_langs = [l for l in task.langs if langs is None or l in langs]
        required = required_pairs(task, task_langs)
        entries = []
        for split in task.splits:
            for lang in task_langs:
                if task.candidates(lang, split):  # e.g. xnli has train files for English only
                    entries.append(check_entry(task, data_dir, lang, split, (lang, split) in required, layout))
        found = any(e["status"] != "missing" for e in entries)
        if not found and not named:
            status = "not downloaded"
            for e in entries:
                e["errors"] = []
        else:
            bad = [e for e in entries if e["status"] == "malformed" or (e["required"] and e["status"] == "missing")]
            status = "errors" if bad else "ok"
            for e in bad:
                report["errors"].extend(f"{task.name} {e['lang']} {e['split']}: {msg}" for msg in e["errors"])
        report["tasks"].append({"task": task.name, "status": status, "entries": entries})
    report["ok"] = not report["errors"]
    return report


def _format_labels(labels: dict[str, int], top: int = 6) -> str:
    items = list(labels.items())
    text = " ".join(f"{k}={v}" for k, v in items[:top])
    return text + (f" (+{len(items) - top} more)" if len(items) > top else "")


def format_report(report: dict) -> str:
    lines = [f"DATA_DIR {report['data_dir']}", f"layout: {report.get('layout', '-')}"]
    for t in report["tasks"]:
        lines.append(f"\n{t['task']}: {t['status']}")
        if t["status"] == "not downloaded":
            continue
        for e in t["entries"]:
            if e["status"] == "missing" and not e["required"]:
                continue
            labelled = {True: "labelled", False: "unlabelled", None: "-"}[e["labelled"]]
            req = "required" if e["required"] else "optional"
            lines.append(f"  {e['lang']:3} {e['split']:15} {e['status']:9} {req:8} {e['layout'] or '-':8} "
                         f"{e['n_examples']:>8}  {labelled:10} {_format_labels(e['labels'])}")
            if e.get("tokenization"):
                lines.append(f"      words: {e['tokenization']}")
            for reason, n in e["skipped"].items():
                lines.append(f"      skipped {n}: {reason}")
            for msg in e["errors"]:
                lines.append(f"      ERROR {msg}")
        missing = [f"{e['lang']}/{e['split']}" for e in t["entries"] if e["status"] == "missing" and not e["required"]]
        if missing:
            lines.append(f"  not present (optional): {' '.join(missing)}")
    lines.append("")
    lines.append("OK" if report["ok"] else f"FAILED: {len(report['errors'])} error(s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Check the task files under DATA_DIR (see data/tasks.py).")
    parser.add_argument("data_dir", nargs="?", default=default_data_dir(),
                        help=f"the data folder (default: {default_data_dir()}; env XSTILTS_DATA_DIR)")
    parser.add_argument("--tasks", help="comma-separated task names (default: all; absent ones are 'not downloaded')")
    parser.add_argument("--langs", help="comma-separated languages to check (default: every language of each task)")
    parser.add_argument("--layout", default="auto", help="read only this layout: upstream | hub | xtreme "
                                                         "(default auto: the first found, in that order)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = check(args.data_dir, args.tasks.split(",") if args.tasks else None,
                       args.langs.split(",") if args.langs else None, args.layout)
    except ValueError as e:
        parser.error(str(e))
    print(json.dumps(report, indent=1, ensure_ascii=False) if args.json else format_report(report))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
