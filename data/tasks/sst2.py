"""Stanford Sentiment Treebank, binary, as GLUE ships it (SST-2/{train,dev}.tsv)."""

from data.examples import SingleExample
from data.readers.classification import read_headed_tsv
from data.readers.common import (Examples, check_label,
                                 file_line_id, row_scope)
from data.readers import hub as H
from data.task import BINARY_LABELS, EN, Download, Task, hub_sources, p, sources


def read_glue_sst2(paths, lang, split, labels) -> Examples:
    """GLUE `SST-2/{train,dev}.tsv`: header `sentence label`, no ids."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, row in read_headed_tsv(path, ["sentence", "label"], "GLUE SST-2 TSV with header sentence, label"):
        with row_scope():
            out.append(SingleExample(file_line_id(path, lineno), lang, row["sentence"],
                                     check_label(path, lineno, row["label"], labels)))
    return out


TASK = Task(
    name="sst2", kind="single_cls", langs=EN, splits=("train", "dev"), labels=BINARY_LABELS,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="Stanford Sentiment Treebank, binary (GLUE)",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("glue", (split,), lambda s: [f"sst2/SST-2/{s}.tsv"], read_glue_sst2)
                  + hub_sources((split,), lambda s: f"nyu-mll/glue/sst2/{s}-*.parquet",
                                p(H.read_hub_single, text="sentence", names=H.SST2_NAMES, id_column="idx"))),
    downloads=(Download("https://dl.fbaipublicfiles.com/glue/data/SST-2.zip", "sst2", archive=True),),
    default_source="upstream", default_source_why="GLUE's TSVs, as every GLUE reference reads them",
    train_examples=67_349, mean_tokens=13,
)
