"""MLQA v1 (Lewis et al. 2020): extractive QA, context and question in the same language; trains on squad_v1.

Scored with MLQA's own evaluation script's normalisation per language (data/metrics.py `mlqa_em_f1`).
"""
from data import readers as R
from data.readers import hub as H
from data.task import Download, Task, hub_sources, sources

LANGS = tuple("ar de en es hi vi zh".split())

TASK = Task(
    name="mlqa", kind="span", langs=LANGS, splits=("dev", "test"), labels=None, primary_metric="f1",
    metrics=("mlqa_em_f1",),
    description="MLQA: extractive QA, context and question in the same language; trains on squad_v1",
    target=True, train_task="squad_v1", display_name="MLQA", parallel_test=True,
    sources=tuple(s for split in ("dev", "test") for s in
                  sources("original", (split,), lambda s: [f"mlqa/MLQA_V1/{s}/{s}-context-{{lang}}-question-{{lang}}.json"],
                          R.read_squad_json)
                  + hub_sources((split,), lambda s: f"google/xtreme/MLQA.{{lang}}.{{lang}}/{s}-*.parquet",
                                H.read_hub_squad)),
    # MLQA_V1/{dev,test}/{dev,test}-context-L-question-L.json [TFDS mlqa.txt]. URL: XTREME, jiant.
    downloads=(Download("https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip", "mlqa", archive=True,
                        sha256="246e8089933d13007fe80684d5c5c0713d6834cf8b3b4a0ec7c66f0a0d2baac8"),),
    default_source="upstream",
    default_source_why="the published archive, checksummed; google/xtreme strips contexts and answers",
    train_examples=87_599, mean_tokens=180,  # SQuAD v1.1 train
)
