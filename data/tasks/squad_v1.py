"""SQuAD v1.1 (Rajpurkar et al. 2016): an intermediate task, and the English train set of XQuAD and MLQA."""
from data import readers as R
from data.readers import hub as H
from data.task import EN, Download, Task, hub_sources, sources

BASE = "https://rajpurkar.github.io/SQuAD-explorer/dataset"  # URLs as in jiant's downloader

TASK = Task(
    name="squad_v1", kind="span", langs=EN, splits=("train", "dev"), labels=None, primary_metric="f1",
    metrics=("squad_em_f1",), eval_split="dev",
    description="SQuAD v1.1; also the target-task train set of xquad and mlqa",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("original", (split,), lambda s: [f"squad/{s}-v1.1.json"], R.read_squad_json)
                  + hub_sources((split,), lambda s: f"rajpurkar/squad/plain_text/{s}-*.parquet", H.read_hub_squad)),
    downloads=(  # checksums [TFDS squad.txt]
        Download(f"{BASE}/train-v1.1.json", "squad/train-v1.1.json",
                 sha256="3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955"),
        Download(f"{BASE}/dev-v1.1.json", "squad/dev-v1.1.json",
                 sha256="95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"),
    ),
    default_source="hub",
    default_source_why="rajpurkar/squad keeps contexts and answer offsets verbatim (its script does not strip)",
    train_examples=87_599, mean_tokens=180,
)
