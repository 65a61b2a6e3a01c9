"""CommonsenseQA 1.0 (Talmor et al. 2019), random split: 5 choices."""
from data import readers as R
from data.readers import hub as H
from data.task import EN, Download, Task, hub_sources, sources

TASK = Task(
    name="commonsenseqa", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev", description="CommonsenseQA (5 choices)",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("original", (split,), lambda s: [f"commonsenseqa/{s}_rand_split.jsonl"], R.read_commonsenseqa)
                  + hub_sources((split,), lambda s: f"tau/commonsense_qa/data/{s}-*.parquet", H.read_hub_commonsenseqa)),
    # URLs from fairseq examples/roberta/commonsense_qa/download_cqa_data.sh
    downloads=tuple(Download(f"https://s3.amazonaws.com/commensenseqa/{name}.jsonl", f"commonsenseqa/{name}.jsonl")
                    for name in ("train_rand_split", "dev_rand_split", "test_rand_split_no_answers")),
    default_source="upstream", default_source_why="the published JSONL",
    train_examples=9_741, mean_tokens=100,
)
