"""HellaSwag (Zellers et al. 2019): choose the ending of a context, 4 choices. The test file has no labels."""
from data import readers as R
from data.readers import hub as H
from data.task import EN, Download, Source, Task, hub_sources

TASK = Task(
    name="hellaswag", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="HellaSwag: choose the ending (4 choices)",
    sources=(
        Source("original", "train", ("hellaswag/hellaswag_train.jsonl",), R.read_hellaswag),
        *hub_sources(("train",), lambda s: f"Rowan/hellaswag/default/{s}/*.parquet", H.read_hub_hellaswag,
                     revision="refs/convert/parquet"),
        Source("original", "dev", ("hellaswag/hellaswag_val.jsonl",), R.read_hellaswag),
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
