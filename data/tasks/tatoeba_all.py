"""Tatoeba sentence retrieval over all 112 languages of LASER's set (Artetxe & Schwenk 2019), scored as XTREME scores
its 36 (data/tasks/tatoeba.py: English queries, top-1 accuracy). XTREME uses 36 of them, XTREME-R 41.

Not parallel: each language's pairs are different sentences, up to 1000 of them (LASER's data/tatoeba/v1/README.md
says so), so per-language differences mix transfer with test difficulty, as for PAN-X. Files by LASER's code, the
language's `laser` field in data/languages.tsv.
"""
from data import languages
from data import readers as R
from data.task import Source, Task
from data.tasks import tatoeba

# LASER's 112 file codes (data/tatoeba/v1/tatoeba.<code>-eng.*), as languages tags
LANGS = tuple(sorted(tag for tag, row in languages.languages().items() if row.laser and row.laser != "eng"))

TASK = Task(
    name="tatoeba_all", kind="retrieval", langs=LANGS, splits=("test",), labels=None, primary_metric="accuracy",
    metrics=("retrieval_accuracy",), retrieval="aligned",
    description="Tatoeba retrieval over LASER's 112 languages (English queries, top-1 accuracy; not parallel)",
    target=True, train_task=None, display_name="Tatoeba-112", parallel_test=False,
    sources=(Source("original", "test", ("tatoeba/tatoeba.{lang3}-eng.{lang3}", "tatoeba/tatoeba.{lang3}-eng.eng"),
                    R.read_tatoeba_aligned),),
    downloads=tatoeba.downloads(LANGS),
    default_source="upstream", default_source_why="LASER's files: google/xtreme's tatoeba.* holds only XTREME's 36",
    train_examples=2 * 112 * 1_000, mean_tokens=15,  # sentences embedded: up to 1,000 pairs a language
)
