"""ANLI+ (jiant's "adversarial_nli" with MNLI and SNLI added, as Phang et al. 2020 train it): train = ANLI R1-R3 +
SNLI + MNLI train; dev and test = ANLI R1-R3 (the ANLI test sets are labelled)."""
from pathlib import Path

from data.examples import DataError, PairExample
from data.readers.common import (Examples, check_label,
                                 check_unique_ids, get_key, iter_json_lines, row_scope)
from data.readers import hub as H
from data.task import EN, NLI_LABELS, Download, Source, Task, sources
from data.tasks import mnli
from data.tasks.mnli import read_glue_mnli, read_nli_jsonl


_ANLI_LABELS = {"e": "entailment", "n": "neutral", "c": "contradiction"}


def read_anli_jsonl(paths, lang, split, labels) -> Examples:
    """ANLI v1.0 `R{1,2,3}/{train,dev,test}.jsonl`: keys uid, context, hypothesis, label (e/n/c)."""
    (path,) = paths
    out = Examples(paths=paths)
    for lineno, obj in iter_json_lines(path, "ANLI JSONL with uid, context, hypothesis, label"):
        with row_scope():
            short = get_key(path, lineno, obj, "label")
            if short not in _ANLI_LABELS:
                raise DataError(path, lineno, f"unknown label {short!r}; expected one of e, n, c")
            out.append(PairExample(get_key(path, lineno, obj, "uid"), lang, get_key(path, lineno, obj, "context"),
                                   get_key(path, lineno, obj, "hypothesis"),
                                   check_label(path, lineno, _ANLI_LABELS[short], labels)))
    check_unique_ids(path, (e.id for e in out))
    return out


def read_anli_plus(paths, lang, split, labels) -> Examples:
    """ANLI+: each file by its own format (ANLI rounds, SNLI/MultiNLI JSONL, GLUE MNLI TSV), concatenated
    in the order given; ids prefixed with their source so that they stay unique."""
    out = Examples(paths=paths)
    for path in paths:
        path = Path(path)
        if path.suffix == ".tsv":
            part, source = read_glue_mnli([path], lang, split, labels), "mnli"
        elif path.parent.name in ("R1", "R2", "R3"):
            part, source = read_anli_jsonl([path], lang, split, labels), f"anli_{path.parent.name.lower()}"
        else:
            part = read_nli_jsonl([path], lang, split, labels)
            source = "snli" if path.name.startswith("snli") else "mnli"
        out.extend(PairExample(f"{source}:{e.id}", e.lang, e.text_a, e.text_b, e.label) for e in part)
        out.add_skips({f"{source}: {k}": v for k, v in part.skipped.items()})
    return out


ROUNDS = ("R1", "R2", "R3")
HUB_ANLI = {s: [f"hub/facebook/anli/plain_text/{s}_{r.lower()}-*.parquet" for r in ROUNDS] for s in ("train", "dev", "test")}

TASK = Task(
    name="anli_plus", kind="pair_cls", langs=EN, splits=("train", "dev", "test"), labels=NLI_LABELS,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="ANLI R1-R3 + MNLI + SNLI (train); ANLI R1-R3 dev/test",
    sources=(
        *[Source("original", "train", (*[f"anli_plus/anli_v1.0/{r}/train.jsonl" for r in ROUNDS],
                                       "anli_plus/snli_1.0/snli_1.0_train.jsonl", *m.files), read_anli_plus)
          for m in mnli.TRAIN_SOURCES],
        Source("hub", "train", (*HUB_ANLI["train"], "hub/stanfordnlp/snli/plain_text/train-*.parquet",
                                "hub/nyu-mll/glue/mnli/train-*.parquet"), H.read_hub_anli_plus),
        *[s for split in ("dev", "test") for s in
          sources("original", (split,), lambda s: [f"anli_plus/anli_v1.0/{r}/{s}.jsonl" for r in ROUNDS],
                  read_anli_plus)
          + [Source("hub", split, tuple(HUB_ANLI[split]), H.read_hub_anli_plus)]],
    ),
    # ANLI v1.0 (anli_v1.0/R{1,2,3}/{train,dev,test}.jsonl, labelled test): URL from the ANLI README.
    # SNLI 1.0 (snli_1.0/snli_1.0_{train,dev,test}.jsonl) [TFDS snli.txt].
    downloads=(
        Download("https://dl.fbaipublicfiles.com/anli/anli_v1.0.zip", "anli_plus", archive=True,
                 include=("anli_v1.0/R*/*.jsonl",)),
        Download("https://nlp.stanford.edu/projects/snli/snli_1.0.zip", "anli_plus", archive=True,
                 sha256="afb3d70a5af5d8de0d9d81e2637e0fb8c22d1235c2749d83125ca43dab0dbd3e",
                 include=("snli_1.0/snli_1.0_*.jsonl",)),
        mnli.DOWNLOAD,
    ),
    default_source="upstream", default_source_why="the ANLI and SNLI originals keep their ids; stanfordnlp/snli has none",
    train_examples=1_105_719, mean_tokens=40,  # ANLI R1-R3 162,865 + SNLI 550,152 + MNLI 392,702
)
