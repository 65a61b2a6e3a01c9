"""Cosmos QA (Huang et al. 2019): commonsense reading comprehension, 4 choices; CSV or JSONL. test has no labels."""
from data import readers as R
from data.readers import hub as H
from data.task import EN, Download, Source, Task, hub_sources

TASK = Task(
    name="cosmosqa", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="Cosmos QA: commonsense reading comprehension (4 choices)",
    sources=tuple(s for split, name in (("train", "train"), ("dev", "valid")) for s in (
        Source("original", split, (f"cosmosqa/{name}.csv",), R.read_cosmosqa),
        Source("original", split, (f"cosmosqa/{name}.jsonl",), R.read_cosmosqa),
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
