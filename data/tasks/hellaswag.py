"""HellaSwag (Zellers et al. 2019): choose the ending of a context, 4 choices. The test file has no labels."""

from data.examples import ChoiceExample, DataError
from data.readers.common import (Examples, check_choice_label, check_unique_ids, get_key, iter_json_lines, row_scope)
from data.readers import hub as H
from data.task import EN, Download, Source, Task, hub_sources


def read_hellaswag(paths, lang, split, labels=None) -> Examples:
    """HellaSwag `hellaswag_{train,val}.jsonl`: ind, ctx_a, ctx_b, endings (4), label. First segment ctx_a; each
    choice is ctx_b followed by the ending (as SWAG models read it)."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, obj in iter_json_lines(path, "HellaSwag JSONL with ind, ctx_a, ctx_b, endings, label"):
        with row_scope():
            endings = get_key(path, lineno, obj, "endings", list)
            if len(endings) != 4 or not all(isinstance(e, str) for e in endings):
                raise DataError(path, lineno, f"{len(endings)} endings; expected 4 strings")
            ctx_b = get_key(path, lineno, obj, "ctx_b")
            choices = tuple(f"{ctx_b} {e}".strip() for e in endings)
            label = obj.get("label")
            label = None if label is None else check_choice_label(path, lineno, label, 4)
            out.append(ChoiceExample(str(get_key(path, lineno, obj, "ind", int)), lang,
                                     get_key(path, lineno, obj, "ctx_a"), choices, label))
    check_unique_ids(path, (e.id for e in out))
    return out


TASK = Task(
    name="hellaswag", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="HellaSwag: choose the ending (4 choices)",
    sources=(
        Source("original", "train", ("hellaswag/hellaswag_train.jsonl",), read_hellaswag),
        *hub_sources(("train",), lambda s: f"Rowan/hellaswag/default/{s}/*.parquet", H.read_hub_hellaswag,
                     revision="refs/convert/parquet"),
        Source("original", "dev", ("hellaswag/hellaswag_val.jsonl",), read_hellaswag),
        *hub_sources(("dev",), lambda s: f"Rowan/hellaswag/default/{s}/*.parquet", H.read_hub_hellaswag,
                     revision="refs/convert/parquet"),
    ),
    downloads=tuple(  # [TFDS hellaswag.txt]
        Download(f"https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_{split}.jsonl",
                 f"hellaswag/hellaswag_{split}.jsonl", sha256=sha)
        for split, sha in (("train", "dae5e69249868cb9fe4e23ff925c60b66169564cfb7072d793cd7356a2b69f8d"),
                           ("val", "0aa3b88843990f3f10a97b9575c94d7b71fb2205240ba04ae4884d9e9c992588"),
                           ("test", "da082b00543e422b8d25394614d102944586986def4de5cd1bd36d86bcb76261"))),
    default_source="upstream", default_source_why="the published JSONL, checksummed",
    train_examples=39_905, mean_tokens=280,
)
