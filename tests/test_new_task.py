"""A new target task is a file, a line, a recipe and fixtures — nothing else (issue 19).

In a temporary copy of the repository the test adds a toy target task ("toynli": sentence pairs, 7 languages) the
way the README says: `data/tasks/toynli.py` (its row and, its format being new, its reader), its name in
`data/tasks/__init__.py`'s TASK_MODULES, `configs/target/toynli.yaml` and fixtures under `tests/fixtures/data/toynli/`.
Then the suite's registry checks (tests/test_registry.py) pass on it, train.py trains it (tiny random model),
evaluate.py scores the trained model, and correlate.py analyses its rows as a target task (a drop per language).
Leaving out any one of the four pieces fails a check that names it.

    python -m pytest -q tests/test_new_task.py
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("en", "de", "fr", "es", "ru", "zh", "ar")
WORDS = "the a cat dog sat ran on under mat house red green big small quickly slowly".split()

TASK_FILE = '''"""ToyNLI: does the second sentence start with the first one's first word? 7 languages, parallel test sets."""
from data.examples import PairExample
from data.readers import Examples
from data.task import BINARY_LABELS, EN, Download, Source, Task

LANGS = ("en", "de", "fr", "es", "ru", "zh", "ar")


def read_toy(paths, lang, split, labels) -> Examples:
    """The toy format: `s1<TAB>s2<TAB>label` per line."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        a, b, label = line.split("\\t")
        out.append(PairExample(f"{path.name}:{lineno}", lang, a, b, label))
    return out


TASK = Task(
    name="toynli", kind="pair_cls", langs=LANGS, splits=("train", "dev", "test"), labels=BINARY_LABELS,
    primary_metric="accuracy", metrics=("accuracy",), target=True, train_task="toynli", display_name="ToyNLI",
    parallel_test=True,
    sources=tuple(Source("original", s, (f"toynli/{s}-{{lang}}.tsv",), read_toy, EN if s == "train" else None)
                  for s in ("train", "dev", "test")),
    downloads=(Download("https://example.org/toynli.zip", "toynli", archive=True),),
    default_source="upstream", default_source_why="the only copy",
)
'''
RECIPE = """# Stage 2 on toynli: python train.py --cfg configs/model/xlmr_large.yaml configs/target/toynli.yaml
target:
  task: toynli
"""
PIECES = {"task file": "data/tasks/toynli.py", "registry line": "data/tasks/__init__.py",
          "recipe": "configs/target/toynli.yaml", "fixtures": "tests/fixtures/data/toynli"}


def write_fixtures(root: Path) -> None:
    """Label 1 when the two sentences share their first word: learnable, so the scores are not all equal."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)

    def rows(n):
        for _ in range(n):
            a, b = list(rng.choice(WORDS, 5)), list(rng.choice(WORDS, 5))
            if rng.random() < 0.5:
                b[0] = a[0]
            yield f"{' '.join(a)}\t{' '.join(b)}\t{int(a[0] == b[0])}"

    (root / "train-en.tsv").write_text("\n".join(rows(64)) + "\n", encoding="utf-8")
    for lang in LANGS:
        for split in ("dev", "test"):
            (root / f"{split}-{lang}.tsv").write_text("\n".join(rows(12)) + "\n", encoding="utf-8")


def add_toy_task(repo: Path) -> None:
    (repo / PIECES["task file"]).write_text(TASK_FILE, encoding="utf-8")
    init = repo / PIECES["registry line"]
    text = init.read_text(encoding="utf-8")
    assert '"ccg")' in text, "TASK_MODULES's last line changed: update this test's one-line edit"
    init.write_text(text.replace('"ccg")', '"ccg",\n                "toynli")', 1), encoding="utf-8")
    (repo / PIECES["recipe"]).write_text(RECIPE, encoding="utf-8")
    write_fixtures(repo / PIECES["fixtures"])


def run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("copy") / "xstilts"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".git", ".venv", ".ci-venv", "__pycache__", "runs",
                                                              "datasets", "checkpoints", ".pytest_cache"))
    add_toy_task(repo)
    return repo


@pytest.mark.slow
def test_a_new_target_task_is_a_file_a_line_a_recipe_and_fixtures(repo, tmp_path):
    checks = run(repo, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "tests/test_registry.py", "-k", "toynli or listed")
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert "toynli" in run(repo, "-m", "data.tasks").stdout

    run_dir, results = tmp_path / "run", tmp_path / "results.csv"
    spm = repo / "tests" / "fixtures" / "train" / "spm.model"
    trained = run(repo, "train.py", "--cfg", "configs/target/toynli.yaml", "model.size=tiny", "model.path=",
                  f"model.spm_path={spm}", "data.data_dir=tests/fixtures/data", f"train.out_dir={run_dir}",
                  "train.device=cpu", "train.seed=0", "target.lr=3e-3", "target.batch_size=8", "target.grad_accum=1",
                  "target.max_len=32", "target.eval_every=0", "target.eval_examples=0", "target.patience=0",
                  f"eval.results={results}")
    assert trained.returncode == 0, trained.stderr[-3000:]
    rows = list(csv.DictReader((run_dir / "results.csv").open(encoding="utf-8")))
    assert sorted(r["lang"] for r in rows) == sorted(LANGS)
    assert {(r["target_task"], r["intermediate_task"], r["metric"]) for r in rows} == {("toynli", "none", "accuracy")}

    scored = run(repo, "evaluate.py", "--ckpt", str(run_dir / "target" / "best"), "--task", "toynli", "--all-langs",
                 "--data-dir", "tests/fixtures/data", "--results", str(tmp_path / "evaluated.csv"))
    assert scored.returncode == 0, scored.stderr[-3000:]
    again = list(csv.DictReader((tmp_path / "evaluated.csv").open(encoding="utf-8")))
    assert {r["lang"]: r["value"] for r in again} == {r["lang"]: r["value"] for r in rows}  # the same model, the same scores

    out = tmp_path / "correlation"
    analysed = run(repo, "correlate.py", str(run_dir / "results.csv"), "--out", str(out), "--no-plots",
                   "--n-resamples", "99")
    assert analysed.returncode == 0, analysed.stderr[-3000:]
    drops = list(csv.DictReader((out / "drops.csv").open(encoding="utf-8")))
    assert sorted(d["lang"] for d in drops if d["target_task"] == "toynli") == sorted(set(LANGS) - {"en"})
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "toynli" in report and "English-only" not in report


PRIMARY_CHECK = """
import pandas as pd
from analysis import design, report, run as R, simulate
from data.tasks import TASKS, target_tasks
assert "toynli" in target_tasks() and TASKS["toynli"].parallel_test
assert design.PRIMARY["pool"] == ("xnli", "pawsx", "xquad", "mlqa")
assert R.primary_tasks() == design.primary_tasks() == ["xnli", "pawsx", "xquad", "mlqa"]
ctx = {"primary": {"coef_per_0.1": float("nan"), "note": "x"}, "primary_model": "XLM-R Large", "model_note": ""}
text = report.baseline_paragraph(ctx)[0]
assert "pooled over the parallel test sets (XNLI, PAWS-X, XQuAD, MLQA)" in text and "ToyNLI" not in text, text
dist = pd.DataFrame({"lang": ["de", "fr", "ru"], "syntactic": [0.4, 0.45, 0.5]})
assert set(simulate.xtreme_design(dist).tasks) == {"xnli", "pawsx", "xquad", "mlqa"}
print("primary unchanged")
"""


@pytest.mark.slow
def test_a_new_parallel_target_file_leaves_the_pre_registered_primary_test_unchanged(repo):
    """Issue 19: the pool is written down by name in analysis/design.py, not derived from `parallel_test` flags: the
    toy task on disk is a parallel target, and the primary test, its wording and the simulated design ignore it."""
    checked = run(repo, "-c", PRIMARY_CHECK)
    assert checked.returncode == 0 and "primary unchanged" in checked.stdout, checked.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("piece", list(PIECES))
def test_leaving_out_a_piece_fails_a_check_that_names_it(repo, tmp_path, piece):
    path = repo / PIECES[piece]
    saved = tmp_path / "saved"
    shutil.move(path, saved)
    try:
        if piece == "registry line":  # the file stays; only the line goes
            shutil.copy(saved, path)
            path.write_text(path.read_text(encoding="utf-8").replace(',\n                "toynli")', ")"),
                            encoding="utf-8")
        checks = run(repo, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "tests/test_registry.py", "-x")
    finally:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        shutil.move(saved, path)
    assert checks.returncode != 0, f"the registry checks pass without the {piece}"
    named = {"task file": "data.tasks.toynli", "registry line": "data/tasks/toynli.py is not listed",
             "recipe": "configs/target/toynli.yaml", "fixtures": "tests/fixtures/data/toynli/"}[piece]
    assert named in checks.stdout + checks.stderr, (checks.stdout + checks.stderr)[-3000:]
