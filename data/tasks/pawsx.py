"""PAWS-X (Yang et al. 2019): paraphrase identification on adversarial pairs, 7 languages; English train set."""

from data.examples import PairExample
from data.readers.classification import read_headed_tsv
from data.readers.common import (Examples, check_label,
                                 check_unique_ids, row_scope)
from data import readers as R
from data.readers import hub as H
from data.task import BINARY_LABELS, EN, Download, Source, Task, hub_sources, p, sources


def read_pawsx_original(paths, lang, split, labels) -> Examples:
    """PAWS-X `x-final/L/{train,dev_2k,test_2k}.tsv`: header `id sentence1 sentence2 label`."""
    (path,) = paths
    out, lines = Examples(paths=paths), []
    for lineno, row in read_headed_tsv(path, ["id", "sentence1", "sentence2", "label"],
                                        "PAWS-X TSV with header id, sentence1, sentence2, label"):
        with row_scope():
            out.append(PairExample(row["id"], lang, row["sentence1"], row["sentence2"],
                                   check_label(path, lineno, row["label"], labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    return out


LANGS = tuple("de en es fr ja ko zh".split())
FILES = {"train": "train", "dev": "dev_2k", "test": "test_2k"}
HUB_READ = p(H.read_hub_pair, text_a="sentence1", text_b="sentence2", names=H.PAWSX_NAMES, id_column="id")
HUB = "google-research-datasets/paws-x"

TASK = Task(
    name="pawsx", kind="pair_cls", langs=LANGS, splits=("train", "dev", "test"), labels=BINARY_LABELS,
    primary_metric="accuracy", metrics=("accuracy",),
    description="PAWS-X: paraphrase identification (adversarial pairs)",
    target=True, train_task="pawsx", display_name="PAWS-X", parallel_test=True,
    sources=(
        Source("original", "train", ("pawsx/x-final/en/train.tsv",), read_pawsx_original, EN),
        Source("hub", "train", (f"hub/{HUB}/en/train-*.parquet",), HUB_READ, EN),
        Source("xtreme", "train", ("pawsx/train-en.tsv",), R.read_xtreme_pair_tsv, EN),
        *[s for split in ("dev", "test") for s in
          sources("original", (split,), lambda s: [f"pawsx/x-final/{{lang}}/{FILES[s]}.tsv"], read_pawsx_original)
          + hub_sources((split,), lambda s: f"{HUB}/{{lang}}/{s}-*.parquet", HUB_READ)],
        *sources("xtreme", ("dev", "test"), lambda s: [f"pawsx/{s}-{{lang}}.tsv"], R.read_xtreme_pair_tsv),
    ),
    # x-final/L/{train (en only), dev_2k, test_2k}.tsv with labels. URL: XTREME download_data.sh, jiant.
    downloads=(Download("https://storage.googleapis.com/paws/pawsx/x-final.tar.gz", "pawsx", archive=True),),
    default_source="upstream", default_source_why="x-final is one checksummed archive with every language",
    train_examples=49_401, mean_tokens=60,  # PAWS-X English train (Yang et al. 2019)
)
