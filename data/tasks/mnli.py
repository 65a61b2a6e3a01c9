"""MultiNLI (Williams et al. 2018), an intermediate task; its English train set also trains XNLI and is part of ANLI+.

"dev" is dev_matched ("dev_matched" is accepted as a split name); dev_mismatched is kept as a split of its own.
"""

from data.examples import PairExample
from data.readers.classification import read_headed_tsv
from data.readers.common import (Examples, check_label,
                                 check_unique_ids, get_key, iter_json_lines, row_scope)
from data.readers import hub as H
from data.task import EN, NLI_LABELS, Download, Source, Task, p, sources


def read_glue_mnli(paths, lang, split, labels) -> Examples:
    """GLUE `MNLI/{train,dev_matched,dev_mismatched}.tsv`: header with pairID, sentence1, sentence2, gold_label."""
    (path,) = paths
    out, skipped, lines = Examples(paths=paths), {"gold_label '-'": 0}, []
    for lineno, row in read_headed_tsv(path, ["pairID", "sentence1", "sentence2", "gold_label"],
                                        "GLUE MNLI TSV with columns pairID, sentence1, sentence2, gold_label"):
        if row["gold_label"] == "-":  # annotators did not agree
            skipped["gold_label '-'"] += 1
            continue
        with row_scope():
            out.append(PairExample(row["pairID"], lang, row["sentence1"], row["sentence2"],
                                   check_label(path, lineno, row["gold_label"], labels)))
            lines.append(lineno)
    check_unique_ids(path, (e.id for e in out), lines)
    out.add_skips(skipped, path)
    return out


def read_nli_jsonl(paths, lang, split, labels) -> Examples:
    """MultiNLI 1.0 / SNLI 1.0 JSONL: keys pairID, sentence1, sentence2, gold_label ("-": no consensus, skipped
    and counted)."""
    (path,) = paths
    out, skipped = Examples(paths=paths), {"gold_label '-'": 0}
    for lineno, obj in iter_json_lines(path, "MultiNLI/SNLI JSONL with pairID, sentence1, sentence2, gold_label"):
        with row_scope():
            label = get_key(path, lineno, obj, "gold_label")
            if label == "-":  # annotators did not agree
                skipped["gold_label '-'"] += 1
                continue
            out.append(PairExample(get_key(path, lineno, obj, "pairID"), lang, get_key(path, lineno, obj, "sentence1"),
                                   get_key(path, lineno, obj, "sentence2"), check_label(path, lineno, label, labels)))
    check_unique_ids(path, (e.id for e in out))
    out.add_skips(skipped, path)
    return out


SPLIT_FILES = {"train": "train", "dev": "dev_matched", "dev_mismatched": "dev_mismatched"}
GLUE = sources("glue", SPLIT_FILES, lambda s: [f"mnli/MNLI/{SPLIT_FILES[s]}.tsv"], read_glue_mnli)
ORIGINAL = sources("original", SPLIT_FILES, lambda s: [f"mnli/multinli_1.0/multinli_1.0_{SPLIT_FILES[s]}.jsonl"],
                   read_nli_jsonl)
HUB_READ = p(H.read_hub_pair, text_a="premise", text_b="hypothesis", names=H.NLI_NAMES, id_column="idx")
HUB = [Source("hub", s, (f"hub/nyu-mll/glue/mnli/{f.replace('dev', 'validation')}-*.parquet",), HUB_READ)
       for s, f in SPLIT_FILES.items()]
TRAIN_SOURCES = [s for s in GLUE + ORIGINAL if s.split == "train"]  # what XNLI and ANLI+ read as MNLI's train set
# GLUE's copy (MNLI/{train,dev_matched,dev_mismatched}.tsv); URL as in GLUE's download script.
DOWNLOAD = Download("https://dl.fbaipublicfiles.com/glue/data/MNLI.zip", "mnli", archive=True)

TASK = Task(
    name="mnli", kind="pair_cls", langs=EN, splits=tuple(SPLIT_FILES), labels=NLI_LABELS,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev", description="MultiNLI; dev = dev_matched",
    sources=(*GLUE, *[s for split in SPLIT_FILES for s in ORIGINAL + HUB if s.split == split]),
    downloads=(DOWNLOAD,),
    default_source="upstream", default_source_why="GLUE's TSVs keep the pairIDs; nyu-mll/glue has row indices (idx)",
    train_examples=392_702, mean_tokens=45,  # MNLI train (Williams et al. 2018); mean length a rough estimate
)
