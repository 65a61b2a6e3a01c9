"""SQuAD v2.0 (Rajpurkar et al. 2018): SQuAD with unanswerable questions (null answers; decoding may abstain)."""
from data import readers as R
from data.readers import hub as H
from data.task import EN, Download, Task, hub_sources, p, sources
from data.tasks.squad_v1 import BASE

TASK = Task(
    name="squad_v2", kind="span", langs=EN, splits=("train", "dev"), labels=None, primary_metric="f1",
    metrics=("squad_v2_em_f1",), eval_split="dev", allow_null=True,
    description="SQuAD v2.0 (unanswerable questions: null answers)",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("original", (split,), lambda s: [f"squad/{s}-v2.0.json"], p(R.read_squad_json, version2=True))
                  + hub_sources((split,), lambda s: f"rajpurkar/squad_v2/squad_v2/{s}-*.parquet",
                                p(H.read_hub_squad, version2=True))),
    downloads=(Download(f"{BASE}/train-v2.0.json", "squad/train-v2.0.json"),
               Download(f"{BASE}/dev-v2.0.json", "squad/dev-v2.0.json")),
    default_source="hub",
    default_source_why="rajpurkar/squad_v2 keeps contexts and answer offsets verbatim (its script does not strip)",
    train_examples=130_319, mean_tokens=180,
)
