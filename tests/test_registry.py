"""The checklist of a task and a language, as tests that walk the registry and the folders (issue 19): a new task
file or language row meets every check here without being named in any test.

- every file in data/tasks/ is listed in TASK_MODULES and defines its row under its own name;
- every target task has its recipe configs/target/<task>.yaml (which resolves to that task) and fixtures under
  tests/fixtures/data/<task>/ that its readers accept, with gold labels, for its evaluation split;
- every task has a download source: upstream files (a URL or manual instructions) or a Hub copy;
- every language of every task has a data/languages.tsv row with the facts its file patterns need, and every
  language of a target task the facts the analysis needs (script, CC-100 size or "not in CC-100", spaces);
- every configs/study/*.yaml plans.

    python -m pytest -q tests/test_registry.py
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from data import languages as L
from data import tasks as tasks_module
from data.readers import MissingDataError
from data.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "data"
TARGETS = [t for t in TASKS.values() if t.target]
ANALYSIS_FACTS = ("script", "cc100_gib", "spaces")  # what correlate.py needs of every language of a target task


def test_every_task_file_is_listed_and_defines_its_row():
    files = {p.stem for p in (ROOT / "data" / "tasks").glob("*.py") if not p.stem.startswith("_")}
    unlisted = sorted(files - set(tasks_module.TASK_MODULES))
    assert not unlisted, f"data/tasks/{unlisted[0]}.py is not listed in TASK_MODULES (data/tasks/__init__.py)"
    assert list(TASKS) == list(tasks_module.TASK_MODULES)


@pytest.mark.parametrize("task", TARGETS, ids=lambda t: t.name)
def test_every_target_has_its_recipe(task):
    from config import load_config

    recipe = ROOT / "configs" / "target" / f"{task.name}.yaml"
    assert recipe.is_file(), f"target task {task.name} has no recipe: expected configs/target/{task.name}.yaml"
    stage1 = [ROOT / "configs" / "xstilts" / "mnli.yaml"] if task.train_task is None else []  # retrieval: no training
    cfg = load_config([ROOT / "configs" / "model" / "xlmr_large.yaml", *stage1, recipe])
    assert cfg.target.task == task.name, f"configs/target/{task.name}.yaml trains {cfg.target.task!r}"


@pytest.mark.parametrize("task", TARGETS, ids=lambda t: t.name)
def test_every_target_has_fixtures_its_readers_accept(task):
    top = task.sources[0].files[0].split("/")[0]  # the task's folder under DATA_DIR (FLORES reads SIB-200's)
    folder = FIX / top
    assert folder.is_dir(), f"target task {task.name} has no test fixtures: expected tests/fixtures/data/{top}/"
    read = []
    for lang in task.langs:
        try:
            read.append(task.has_gold(FIX, lang, task.eval_split))
        except MissingDataError:
            continue
    assert read, (f"tests/fixtures/data/{top}/ holds no {task.eval_split} file of any {task.name} language "
                  f"(python -m data.tasks --layout shows the patterns)")
    assert any(read), f"tests/fixtures/data/{top}/: no {task.eval_split} file with gold labels"


@pytest.mark.parametrize("task", list(TASKS.values()), ids=lambda t: t.name)
def test_every_task_has_a_download_source(task):
    hub = [s for s in task.sources if s.layout == "hub"]
    assert task.downloads or hub, f"task {task.name}: no downloads and no hub source in data/tasks/{task.name}.py"
    for d in task.downloads:
        assert d.url.startswith("https://") or d.manual, f"task {task.name}: {d.dest} has no https URL or manual step"
        assert d.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", d.sha256), f"task {task.name}: bad sha256 {d.sha256}"
    assert task.default_source_why, f"task {task.name}: say why its default source is {task.default_source}"


@pytest.mark.parametrize("task", list(TASKS.values()), ids=lambda t: t.name)
def test_every_language_of_every_task_has_the_facts_its_task_needs(task):
    missing = []
    for lang in task.langs:
        needs = {fact for s in task.sources if s.langs is None or lang in s.langs for fact in s.needs()}
        needs |= set(ANALYSIS_FACTS) if task.target else set()
        for fact in sorted(needs):
            try:
                L.need(lang, fact)
            except ValueError as e:
                missing.append(str(e))
    assert not missing, f"task {task.name}: " + "; ".join(missing)


@pytest.mark.parametrize("study_file", sorted((ROOT / "configs" / "study").glob("*.yaml")), ids=lambda p: p.name)
@pytest.mark.slow
def test_every_study_config_plans(study_file):
    import study

    jobs = study.build_jobs(study.load_study(study_file))
    assert jobs, f"{study_file.name} plans no job"
