"""FLORES-200 sentence retrieval against English, over SIB-200's sentences (Adelani et al. 2024): for each English
sentence, the top-1 nearest neighbour among the other variant's sentences, scored like Tatoeba (English queries,
XTREME's and jiant's direction). No target training: the intermediate encoder is scored directly.

The sentences are SIB-200's dev and test files (303 FLORES sentences a variant), aligned with English by `index_id`
(the FLORES sentence's id) — ungated, where the FLORES+ Hub repo is gated. Parallel: the same sentences in every
variant. The files and their download are SIB-200's (data/tasks/sib200.py), upstream or its Hub copy.
"""
from data.examples import Bitext, DataError
from data.task import Source, Task
from data.tasks import sib200

SPLITS = ("dev", "test")


def read_flores_bitext(paths, lang, split, labels=None) -> Bitext:
    """The variant's and English's SIB-200 dev + test files -> one line-aligned Bitext (the English side put in the
    variant's order of index_ids); gold = the same index_id."""
    half = len(paths) // 2
    src = [e for path in paths[:half] for e in sib200.read_sib_tsv([path], lang, split, sib200.LABELS)]
    tgt = [e for path in paths[half:] for e in sib200.read_sib_tsv([path], "en", split, sib200.LABELS)]
    src_ids, tgt_ids = [e.id for e in src], [e.id for e in tgt]
    if sorted(src_ids) != sorted(tgt_ids):
        extra = sorted(set(src_ids) ^ set(tgt_ids))[:5]
        raise DataError(paths[0], None, f"index_ids differ from English's ({paths[half]}): {extra}; expected the same "
                                        "FLORES sentences in every variant")
    english = {e.id: e.text for e in tgt}  # line i of each side is the same FLORES sentence, as in LASER's Tatoeba
    return Bitext(f"flores-{lang}", lang, tuple(src_ids), tuple(e.text for e in src), tuple(src_ids),
                  tuple(english[i] for i in src_ids), frozenset(zip(src_ids, src_ids)))


FILES = tuple(f"sib200/data/annotated/{{flores}}/{s}.tsv" for s in SPLITS)
HUB_FILES = tuple(f"hub/Davlan/sib200/data/{{flores}}/{s}.tsv" for s in SPLITS)  # SIB-200's Hub copy, the same TSVs

TASK = Task(
    name="flores", kind="retrieval", langs=tuple(t for t in sib200.LANGS if t != "en"), splits=("test",),
    labels=None, primary_metric="accuracy", metrics=("retrieval_accuracy",), retrieval="aligned",
    description="FLORES-200 retrieval: top-1 nearest neighbour of each English sentence among the variant's (SIB-200's "
                "303 dev + test sentences, aligned by index_id)",
    target=True, train_task=None, display_name="FLORES", parallel_test=True,
    sources=tuple(Source(layout, "test", (*files, *[f.replace("{flores}", "eng_Latn") for f in files]),
                         read_flores_bitext) for layout, files in (("original", FILES), ("hub", HUB_FILES))),
    downloads=tuple(d for d in sib200.TASK.downloads if not d.dest.endswith(("train.tsv", "labels.txt"))),
    default_source="upstream", default_source_why="SIB-200's files (FLORES+ on the Hub is gated)",
    train_examples=2 * 204 * 303, mean_tokens=35,  # sentences embedded: both sides, every variant
)
