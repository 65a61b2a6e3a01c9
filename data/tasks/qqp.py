"""Quora Question Pairs as GLUE ships it (QQP/{train,dev}.tsv)."""

from data.examples import PairExample
from data.readers.classification import BAD_ROW, read_headed_tsv
from data.readers.common import (Examples, check_label,
                                 check_unique_ids, row_scope)
from data.readers import hub as H
from data.task import BINARY_LABELS, EN, Download, Task, hub_sources, p, sources


def read_glue_qqp(paths, lang, split, labels) -> Examples:
    """GLUE `QQP/{train,dev}.tsv`: header `id qid1 qid2 question1 question2 is_duplicate`.

    GLUE's QQP train file is known to hold rows with a stray tab or a missing field (nyu-mll/GLUE-baselines
    issue #5; transformers' reader drops them too): those rows are skipped and counted, not fatal.
    """
    (path,) = paths
    out, skipped, lines = Examples(paths=paths), {BAD_ROW: 0}, []
    for lineno, row in read_headed_tsv(path, ["id", "question1", "question2", "is_duplicate"],
                                        "GLUE QQP TSV with columns id, question1, question2, is_duplicate",
                                        bad_rows=skipped):
        with row_scope():
            out.append(PairExample(row["id"], lang, row["question1"], row["question2"],
                                   check_label(path, lineno, row["is_duplicate"], labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    out.add_skips(skipped, path)
    return out


TASK = Task(
    name="qqp", kind="pair_cls", langs=EN, splits=("train", "dev"), labels=BINARY_LABELS, primary_metric="accuracy",
    metrics=("accuracy",), eval_split="dev", description="Quora Question Pairs (GLUE)",
    sources=tuple(s for split in ("train", "dev") for s in
                  sources("glue", (split,), lambda s: [f"qqp/QQP/{s}.tsv"], read_glue_qqp)
                  + hub_sources((split,), lambda s: f"nyu-mll/glue/qqp/{s}-*.parquet",
                                p(H.read_hub_pair, text_a="question1", text_b="question2", names=H.QQP_NAMES,
                                  id_column="idx"))),
    # the "clean" archive is the one GLUE's download script now fetches
    downloads=(Download("https://dl.fbaipublicfiles.com/glue/data/QQP-clean.zip", "qqp", archive=True),),
    default_source="upstream", default_source_why="GLUE's TSVs keep the pair ids; nyu-mll/glue has row indices (idx)",
    train_examples=363_846, mean_tokens=30,
)
