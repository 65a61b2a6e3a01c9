"""The registry: one file per task in this folder, listed in TASK_MODULES.

    python -m data.tasks            # list the tasks: name, kind, #langs, splits, metric
    python -m data.tasks --layout   # every file pattern the readers look for, by task, split and layout

Use: `task = get_task("xnli"); examples = task.read(data_dir, "de", "test")`; `task.has_gold(...)`;
`task.score(task.golds(examples), preds, "de")` (dispatches to data/metrics.py). What a row holds and how its files
are found: data/task.py.

Adding a task: a file `data/tasks/<name>.py` defining `TASK = Task(...)` (its languages, kind, labels, metric, file
layouts, downloads and default source with the reason, sizes; a reader of its own only when its format is new, the
shared formats being in data/readers/), its name in TASK_MODULES below, and, for a target task, a recipe
`configs/target/<name>.yaml` and test fixtures under `tests/fixtures/data/<name>/`. Every language it names needs a
row in data/languages.tsv. The suite's registry checks (tests/test_registry.py) walk this list and say what is
missing.
"""
from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from data.task import (BINARY_LABELS, DOWNLOADS, KINDS, LAYOUT_GROUPS, LAYOUT_ORDER, NLI_LABELS, READ_OPTIONS,
                       RETRIEVAL_KINDS, SOURCE_CHOICES, SPLIT_ALIASES, Download, Source, Task, examples_have_gold)

# Registry order: the targets (XTREME's as it lists them, then the many-language ones), then the intermediate tasks.
TASK_MODULES = ("xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa", "bucc2018", "tatoeba", "sib200", "flores",
                "tatoeba_all", "americasnli", "xcopa", "belebele", "panx_all", "udpos_all",
                "anli_plus", "mnli", "qqp", "sst2", "squad_v1", "squad_v2", "hellaswag", "cosmosqa", "commonsenseqa", "copa", "race",
                "belebele_assembled",
                "ccg")


def _load(modules: Sequence[str]) -> dict[str, Task]:
    out: dict[str, Task] = {}
    for module in modules:
        task = getattr(importlib.import_module(f"data.tasks.{module}"), "TASK", None)
        if not isinstance(task, Task):
            raise ValueError(f"data/tasks/{module}.py defines no TASK = Task(...)")
        if task.name != module:
            raise ValueError(f"data/tasks/{module}.py: TASK.name is {task.name!r}; expected the file's name {module!r}")
        out[task.name] = task
    return out


TASKS: dict[str, Task] = _load(TASK_MODULES)
PANX_LABELS = TASKS["panx"].labels


def target_tasks() -> tuple[str, ...]:
    """The XTREME target tasks, in registry order (read at call time: a row added to TASKS counts)."""
    return tuple(t.name for t in TASKS.values() if t.target)


def parse_langs(value: str) -> list[str]:
    """A command line's comma-separated languages: "de, fr" -> ["de", "fr"]."""
    return [x.strip() for x in value.split(",") if x.strip()]


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def layout_rows() -> list[tuple[str, str, str, str]]:
    """(task, split, layout, file patterns joined by ' + ') for every source, in the order they are tried."""
    return [(t.name, s.split, s.layout, " + ".join(s.files)) for t in TASKS.values() for s in t.sources]


def format_table(tasks: Sequence[Task]) -> str:
    rows = [("task", "kind", "#langs", "splits", "metric")]
    rows += [(t.name, t.kind, str(len(t.langs)), ",".join(t.splits), t.primary_metric) for t in tasks]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m data.tasks", description="List the tasks of the registry.")
    parser.add_argument("--layout", action="store_true", help="print every file pattern looked for under DATA_DIR")
    args = parser.parse_args(argv)
    if args.layout:
        for name, split, layout, files in layout_rows():
            print(f"{name:14} {split:15} {layout:9} {files}")
    else:
        print(format_table(list(TASKS.values())))
