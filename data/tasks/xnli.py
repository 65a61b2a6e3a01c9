"""XNLI (Conneau et al. 2018): natural language inference in 15 languages; the English train set is MNLI's.

Dev and test with gold labels for every language come in XNLI-1.0.zip (one file, a `language` column); XTREME's
copies are per language (its test files have no label column).
"""
from data import readers as R
from data.readers import hub as H
from data.task import EN, NLI_LABELS, Download, Source, Task, hub_sources, p, sources
from data.tasks import mnli

LANGS = tuple("ar bg de el en es fr hi ru sw th tr ur vi zh".split())
HUB_READ = p(H.read_hub_pair, text_a="premise", text_b="hypothesis", names=H.NLI_NAMES)

TASK = Task(
    name="xnli", kind="pair_cls", langs=LANGS, splits=("train", "dev", "test"), labels=NLI_LABELS,
    primary_metric="accuracy", metrics=("accuracy",),
    description="XNLI: natural language inference, 15 languages; English train = MNLI",
    target=True, train_task="xnli", display_name="XNLI", parallel_test=True,
    sources=(
        *[s for split in ("dev", "test") for s in
          sources("original", (split,), lambda s: [f"xnli/XNLI-1.0/xnli.{s}.tsv"], R.read_xnli_original)
          + hub_sources((split,), lambda s: f"facebook/xnli/{{lang}}/{s}-*.parquet", HUB_READ)],
        *sources("xtreme", ("dev", "test"), lambda s: [f"xnli/{s}-{{lang}}.tsv"], R.read_xtreme_pair_tsv),
        Source("xtreme", "train", ("xnli/train-en.tsv",), R.read_xtreme_pair_tsv, EN),
        Source("original", "train", ("xnli/XNLI-MT-1.0/multinli/multinli.train.en.tsv",), R.read_xnli_mt_train, EN),
        *[Source(s.layout, "train", s.files, s.read, EN) for s in mnli.TRAIN_SOURCES],
        Source("hub", "train", ("hub/facebook/xnli/en/train-*.parquet",), HUB_READ, EN),
    ),
    # XNLI 1.0 dev/test with gold labels for 15 languages [HF xnli checksums]; URL: XTREME scripts/download_data.sh.
    # XNLI trains on MNLI: GLUE's MNLI is fetched rather than XNLI-MT-1.0.zip (466 MB; the same English data).
    downloads=(Download("https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip", "xnli", archive=True,
                        sha256="4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1",
                        include=("XNLI-1.0/xnli.*.tsv",)),
               mnli.DOWNLOAD),
    default_source="upstream",
    default_source_why="XNLI-1.0.zip keeps the pairIDs; facebook/xnli has none (ids become shard:row)",
    train_examples=392_702, mean_tokens=45,  # MNLI train
)
