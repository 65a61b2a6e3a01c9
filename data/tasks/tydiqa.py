"""TyDiQA-GoldP v1.1 (Clark et al. 2020): QA with the gold passage, 9 languages; its own English train set.

The upstream files hold every language in one file: a question's language is its id prefix ("arabic-..."), the
language's `tydiqa_name` in data/languages.tsv. Scored on dev (the test set is not public).
"""
from data import readers as R
from data.readers import hub as H
from data.task import Download, Source, Task, p

LANGS = tuple("ar bn en fi id ko ru sw te".split())
BY_PREFIX = p(R.read_squad_json, id_prefix_langs=True)
BASE = "https://storage.googleapis.com/tydiqa/v1.1"

TASK = Task(
    name="tydiqa", kind="span", langs=LANGS, splits=("train", "dev"), labels=None, primary_metric="f1",
    metrics=("squad_em_f1",), eval_split="dev",
    description="TyDiQA-GoldP: QA with the gold passage; English train set",
    target=True, train_task="tydiqa", display_name="TyDiQA-GoldP", parallel_test=False,
    sources=(
        Source("original", "train", ("tydiqa/tydiqa-goldp-v1.1-train.json",), BY_PREFIX),
        Source("original", "train", ("tydiqa/tydiqa-goldp-v1.1-train/tydiqa-goldp-v1.1-train.json",), BY_PREFIX),
        Source("hub", "train", ("hub/google/xtreme/tydiqa/train-*.parquet",),
               p(H.read_hub_squad, id_prefix_langs=True)),
        Source("xtreme", "train", ("tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.{lang}.train.json",),
               R.read_squad_json),
        Source("original", "dev", ("tydiqa/tydiqa-goldp-v1.1-dev.json",), BY_PREFIX),
        Source("original", "dev", ("tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{langname}.json",), BY_PREFIX),
        Source("hub", "dev", ("hub/google/xtreme/tydiqa/validation-*.parquet",),
               p(H.read_hub_squad, id_prefix_langs=True)),
        Source("xtreme", "dev", ("tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json",), R.read_squad_json),
    ),
    # train and dev, all languages in one file each [TFDS tydi_qa.txt].
    downloads=(
        Download(f"{BASE}/tydiqa-goldp-v1.1-train.json", "tydiqa/tydiqa-goldp-v1.1-train.json",
                 sha256="cefc8e09ff2548d9b10a678d3a6bbbe5bc036be543f92418819ea676c97be23b"),
        Download(f"{BASE}/tydiqa-goldp-v1.1-dev.json", "tydiqa/tydiqa-goldp-v1.1-dev.json",
                 sha256="b286e0f34bc7f52259359989716f369b160565bd12ad8f3a3e311f9b0dbad1c0"),
    ),
    default_source="upstream",
    default_source_why="the published JSON, checksummed; google/xtreme strips contexts and answers",
    train_examples=3_696, mean_tokens=200,  # TyDiQA-GoldP English train
)
