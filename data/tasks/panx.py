"""WikiANN / PAN-X named entities (Pan et al. 2017; the splits of Rahimi et al. 2019): PER, ORG, LOC in IOB2.

The upstream file is AmazonPhotos.zip (a manual download), holding panx_dataset/L.tar.gz per language, each with
train/dev/test as `L:token<TAB>tag` lines; jiant's downloader reads the same zip the same way.
"""

from pathlib import Path

from data import readers as R
from data.examples import DataError
from data.readers import hub as H
from data.readers.common import Examples
from data.readers.tagging import read_tag_lines
from data.task import Download, Task, hub_sources, p, sources


def read_panx_original(paths, lang, split, labels) -> Examples:
    """WikiANN/PAN-X `panx_dataset/L/{train,dev,test}`: `L:token\\ttag` per line, blank line between sentences. L is
    the Wikipedia code the folder is named by (the tag for XTREME's 40; data/tasks/panx_all.py: `als` for gsw)."""
    (path,) = paths
    prefix = f"{Path(path).parent.name}:"

    def strip_prefix(p, lineno, token):
        if not token.startswith(prefix):
            raise DataError(p, lineno, f"token {token!r}; expected the language prefix {prefix!r}")
        return token[len(prefix):]

    rows = read_tag_lines(path, lang, labels, f"{prefix}token<TAB>tag per line, blank line between sentences",
                           strip_prefix, columns=(2,))
    return Examples(rows, paths=paths)


LANGS = tuple("af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th "
              "tl tr ur vi yo zh".split())
LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")  # XTREME's order
SPLITS = ("train", "dev", "test")
MANUAL = (
    "PAN-X (WikiANN, Pan et al. 2017, the splits of Rahimi et al. 2019) is shared as AmazonPhotos.zip from\n"
    "  https://www.amazon.com/clouddrive/share/d3KGCRCIYwhKJF0H3eWA26hjg2ZCRhjpEQtDL70FSBN\n"
    "  (the link in XTREME's scripts/download_data.sh). Download it in a browser, then run\n"
    "  python -m data.download --tasks panx --out {data_dir} --from-file panx=PATH/TO/AmazonPhotos.zip\n"
    "  or save it as {data_dir}/downloads/AmazonPhotos.zip and rerun.")

TASK = Task(
    name="panx", kind="tag", langs=LANGS, splits=SPLITS, labels=LABELS, primary_metric="f1", metrics=("span_f1",),
    description="WikiANN / PAN-X named entities (PER, ORG, LOC)",
    target=True, train_task="panx", display_name="PAN-X", parallel_test=False,
    sources=(
        *[s for split in SPLITS for s in
          sources("original", (split,), lambda s: [f"panx/panx_dataset/{{lang}}/{s}"], read_panx_original)
          + hub_sources((split,), lambda s: f"google/xtreme/PAN-X.{{lang}}/{s}-*.parquet",
                        p(H.read_hub_tags, tags="ner_tags", names=H.PANX_NAMES))],
        *sources("xtreme", SPLITS, lambda s: [f"panx/{s}-{{lang}}.tsv"], R.read_xtreme_tags),
    ),
    downloads=(Download("", "panx", archive=True, file_name="AmazonPhotos.zip", manual=MANUAL,
                        nested=tuple((f"panx_dataset/{lang}.tar.gz", f"panx/panx_dataset/{lang}") for lang in LANGS)),),
    default_source="hub",
    default_source_why="the upstream AmazonPhotos.zip is a manual download from a dead link; google/xtreme PAN-X.* "
                       "keeps the three splits and the test labels",
    train_examples=20_000, mean_tokens=12,  # PAN-X English train
)
