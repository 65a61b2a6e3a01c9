"""A new target task takes a registry row, a reader and a target YAML — nothing else (issue 11).

The test adds a toy target task ("toynli": sentence pairs, 7 languages) to the registry at run time, writes its
files and its stage-2 recipe, trains it with train.py (tiny random model), and hands the results rows to
correlate.py, which must analyse it as a target task (a drop per language against distance), not set it aside as
English-only.

    python -m pytest -q tests/test_new_task.py
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import correlate
import train
from data.examples import PairExample
from data.readers import Examples
from data.tasks import BINARY_LABELS, TASKS, Source, Task, target_tasks

ROOT = Path(__file__).resolve().parents[1]
SPM = ROOT / "tests" / "fixtures" / "train" / "spm.model"
LANGS = ("en", "de", "fr", "es", "ru", "zh", "ar")
WORDS = "the a cat dog sat ran on under mat house red green big small quickly slowly".split()


def read_toy(paths, lang, split, labels) -> Examples:
    """The toy format: `s1<TAB>s2<TAB>label` per line."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        a, b, label = line.split("\t")
        out.append(PairExample(f"{path.name}:{lineno}", lang, a, b, label))
    return out


TOY = Task("toynli", "pair_cls", LANGS, ("train", "dev", "test"), BINARY_LABELS, "accuracy", ("accuracy",),
           tuple(Source("toy", split, (f"toynli/{split}-{{lang}}.tsv",), read_toy,
                        ("en",) if split == "train" else None) for split in ("train", "dev", "test")),
           target=True, train_task="toynli", display_name="ToyNLI", parallel_test=True)


def write_toy_data(root: Path) -> None:
    """Label 1 when the two sentences share their first word: learnable, so the scores are not all equal."""
    rng = np.random.default_rng(0)
    (root / "toynli").mkdir(parents=True)

    def rows(n):
        for _ in range(n):
            a, b = list(rng.choice(WORDS, 5)), list(rng.choice(WORDS, 5))
            if rng.random() < 0.5:
                b[0] = a[0]
            yield f"{' '.join(a)}\t{' '.join(b)}\t{int(a[0] == b[0])}"

    (root / "toynli" / "train-en.tsv").write_text("\n".join(rows(64)) + "\n", encoding="utf-8")
    for lang in LANGS:
        for split in ("dev", "test"):
            (root / "toynli" / f"{split}-{lang}.tsv").write_text("\n".join(rows(12)) + "\n", encoding="utf-8")


@pytest.fixture
def toy_task(monkeypatch):
    monkeypatch.setitem(TASKS, TOY.name, TOY)  # the registry row; removed after the test
    assert "toynli" in target_tasks()
    return TOY


@pytest.mark.slow
def test_a_new_target_task_needs_only_a_row_a_reader_and_a_recipe(tmp_path, toy_task):
    data_dir, run_dir = tmp_path / "data", tmp_path / "run"
    write_toy_data(data_dir)
    recipe = tmp_path / "toynli.yaml"  # what configs/target/toynli.yaml would hold
    recipe.write_text(f"""# python train.py --cfg configs/model/xlmr_large.yaml configs/target/toynli.yaml
model: {{path: "", size: tiny, spm_path: {SPM}}}
data: {{data_dir: {data_dir}}}
train: {{out_dir: {run_dir}, seed: 0, device: cpu}}
target: {{task: toynli, lr: 3.0e-3, epochs: 2, batch_size: 8, grad_accum: 1, max_len: 32, eval_every: 0,
          eval_examples: 0, patience: 0}}
eval: {{split: test, results: {run_dir / 'all_results.csv'}}}
""", encoding="utf-8")
    train.main(["--cfg", str(recipe)])

    rows = list(csv.DictReader((run_dir / "results.csv").open(encoding="utf-8")))
    assert sorted(r["lang"] for r in rows) == sorted(LANGS)
    assert {(r["target_task"], r["intermediate_task"], r["metric"]) for r in rows} == {("toynli", "none", "accuracy")}

    out = tmp_path / "correlation"
    correlate.main([str(run_dir / "results.csv"), "--out", str(out), "--no-plots", "--n-resamples", "99"])
    drops = list(csv.DictReader((out / "drops.csv").open(encoding="utf-8")))
    toy = [d for d in drops if d["target_task"] == "toynli"]
    assert sorted(d["lang"] for d in toy) == sorted(set(LANGS) - {"en"})  # a drop for every non-English language
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "toynli" in report and "English-only" not in report
