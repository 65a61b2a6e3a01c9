"""MultiNLI (Williams et al. 2018), an intermediate task; its English train set also trains XNLI and is part of ANLI+.

"dev" is dev_matched ("dev_matched" is accepted as a split name); dev_mismatched is kept as a split of its own.
"""
from data import readers as R
from data.readers import hub as H
from data.task import EN, NLI_LABELS, Download, Source, Task, hub_sources, p, sources

SPLIT_FILES = {"train": "train", "dev": "dev_matched", "dev_mismatched": "dev_mismatched"}
GLUE = sources("glue", SPLIT_FILES, lambda s: [f"mnli/MNLI/{SPLIT_FILES[s]}.tsv"], R.read_glue_mnli)
ORIGINAL = sources("original", SPLIT_FILES, lambda s: [f"mnli/multinli_1.0/multinli_1.0_{SPLIT_FILES[s]}.jsonl"],
                   R.read_nli_jsonl)
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
