"""Cosmos QA (Huang et al. 2019): commonsense reading comprehension, 4 choices; CSV or JSONL. test has no labels."""
import csv
import io
from pathlib import Path

from data.examples import ChoiceExample, DataError
from data.readers.common import (Examples, check_choice_label, check_unique_ids, get_key, iter_json_lines, read_text, row_scope)
from data.readers import hub as H
from data.task import EN, Download, Source, Task, hub_sources


_COSMOS_KEYS = ["id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label"]


def _cosmos_example(path, where, row: dict, lang, from_csv: bool) -> ChoiceExample:
    for key in _COSMOS_KEYS[:-1]:
        get_key(path, where, row, key)
    label = row.get("label")
    if from_csv and label is not None:
        label = int(label) if label.strip().isascii() and label.strip().isdigit() else label  # "²".isdigit()
    label = None if label is None else check_choice_label(path, where, label, 4)
    return ChoiceExample(row["id"], lang, f"{row['context']} {row['question']}",
                         tuple(row[f"answer{i}"] for i in range(4)), label)


def read_cosmosqa(paths, lang, split, labels=None) -> Examples:
    """Cosmos QA `{train,valid}.csv` (header id, context, question, answer0..3, label) or the same as JSONL.
    First segment: context then question; the four answers are the choices."""
    (path,) = paths
    out = Examples(paths=paths)
    if Path(path).suffix == ".csv":
        expected = "Cosmos QA CSV with header id, context, question, answer0..answer3, label"
        reader = csv.DictReader(io.StringIO(read_text(path, expected), newline=""))
        missing = [k for k in _COSMOS_KEYS if k not in (reader.fieldnames or [])]
        if missing:
            raise DataError(path, 1, f"header lacks column(s) {', '.join(missing)}; expected {expected}")
        start = 2
        try:
            for row in reader:
                lineno, start = start, reader.line_num + 1
                with row_scope():
                    if None in row or None in row.values():  # DictReader's marks of extra / missing fields
                        n = len(row) - (None in row) + len(row.get(None) or []) - list(row.values()).count(None)
                        raise DataError(path, lineno, f"{n} columns; expected {len(reader.fieldnames)} ({expected})")
                    out.append(_cosmos_example(path, lineno, row, lang, from_csv=True))
        except csv.Error as e:
            raise DataError(path, reader.line_num, f"malformed CSV ({e}); expected {expected}") from None
    else:
        for lineno, obj in iter_json_lines(path, "Cosmos QA JSONL with id, context, question, answer0..3, label"):
            with row_scope():
                out.append(_cosmos_example(path, lineno, obj, lang, from_csv=False))
    check_unique_ids(path, (e.id for e in out))
    return out


TASK = Task(
    name="cosmosqa", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="Cosmos QA: commonsense reading comprehension (4 choices)",
    sources=tuple(s for split, name in (("train", "train"), ("dev", "valid")) for s in (
        Source("original", split, (f"cosmosqa/{name}.csv",), read_cosmosqa),
        Source("original", split, (f"cosmosqa/{name}.jsonl",), read_cosmosqa),
        *hub_sources((split,), lambda s: f"allenai/cosmos_qa/default/{s}/*.parquet", H.read_hub_cosmosqa,
                     revision="refs/convert/parquet"))),
    downloads=tuple(  # [TFDS cosmos_qa.txt]
        Download(f"https://raw.githubusercontent.com/wilburOne/cosmosqa/master/data/{name}", f"cosmosqa/{name}",
                 sha256=sha)
        for name, sha in (("train.csv", "d8d5ca1f9f6534b6530550718591af89372d976a8fc419360fab4158dee4d0b2"),
                          ("valid.csv", "a6a94fc1463ca82bb10f98ef68ed535405e6f5c36e044ff8e136b5c19dea63f3"),
                          ("test.jsonl", "70005196dc2588b95de34f1657b25e2c1a4810cfe55b5bb0c0e15580c37b3ed0"))),
    default_source="upstream", default_source_why="the published CSV, checksummed",
    train_examples=25_262, mean_tokens=400,
)
