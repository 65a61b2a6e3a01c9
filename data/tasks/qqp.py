"""Quora Question Pairs as GLUE ships it (QQP/{train,dev}.tsv)."""
from data import readers as R
from data.readers import hub as H
from data.task import BINARY_LABELS, EN, Download, Task, hub_sources, p, sources

TASK = Task(
    name="qqp", kind="pair_cls", langs=EN, splits=("train", "dev"), labels=BINARY_LABELS, primary_metric="accuracy",
    metrics=("accuracy",), eval_split="dev", description="Quora Question Pairs (GLUE)",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("glue", (split,), lambda s: [f"qqp/QQP/{s}.tsv"], R.read_glue_qqp)
                  + hub_sources((split,), lambda s: f"nyu-mll/glue/qqp/{s}-*.parquet",
                                p(H.read_hub_pair, text_a="question1", text_b="question2", names=H.QQP_NAMES,
                                  id_column="idx"))),
    # the "clean" archive is the one GLUE's download script now fetches
    downloads=(Download("https://dl.fbaipublicfiles.com/glue/data/QQP-clean.zip", "qqp", archive=True),),
    default_source="upstream", default_source_why="GLUE's TSVs keep the pair ids; nyu-mll/glue has row indices (idx)",
    train_examples=363_846, mean_tokens=30,
)
