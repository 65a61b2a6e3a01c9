"""Tatoeba sentence retrieval (LASER, Artetxe & Schwenk 2019), the 36 languages of XTREME: the top-1 nearest
neighbour of each English sentence among the other language's (XTREME's and jiant's direction), up to 1000 pairs a
language. LASER's files are line-aligned (the gold: line i <-> line i); XTREME's copy sorts the English side (no gold).
Files are named by LASER's code, the language's `laser` field in data/languages.tsv.
"""
from data import languages
from data import readers as R
from data.readers import hub as H
from data.task import Download, Source, Task

LANGS = tuple("af ar bg bn de el es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr nl pt ru sw ta te th tl tr ur "
              "vi zh".split())
LASER = "https://raw.githubusercontent.com/facebookresearch/LASER/master/data/tatoeba/v1"


def downloads(langs) -> tuple[Download, ...]:
    """LASER's line-aligned tatoeba.XXX-eng.{XXX,eng}, file by file (XTREME and jiant fetch the repository's
    master.zip for these)."""
    codes = [languages.need(lang, "laser") for lang in langs]
    return tuple(Download(f"{LASER}/tatoeba.{code}-eng.{side}", f"tatoeba/tatoeba.{code}-eng.{side}")
                 for code in codes for side in (code, "eng"))


SOURCES = (
    Source("original", "test", ("tatoeba/tatoeba.{lang3}-eng.{lang3}", "tatoeba/tatoeba.{lang3}-eng.eng"),
           R.read_tatoeba_aligned),
    Source("hub", "test", ("hub/google/xtreme/tatoeba.{lang3}/validation-*.parquet",), H.read_hub_tatoeba),
    Source("xtreme", "test", ("tatoeba/{lang}-en.{lang}", "tatoeba/{lang}-en.en"), R.read_tatoeba_xtreme),
)

TASK = Task(
    name="tatoeba", kind="retrieval", langs=LANGS, splits=("test",), labels=None, primary_metric="accuracy",
    metrics=("retrieval_accuracy",), retrieval="aligned",
    description="Tatoeba sentence retrieval: top-1 nearest neighbour of each English sentence among the other "
                "language's (XTREME's and jiant's direction), up to 1000 pairs per language",
    target=True, train_task=None, display_name="Tatoeba", parallel_test=True,
    sources=SOURCES, downloads=downloads(LANGS),
    default_source="hub",
    default_source_why="google/xtreme tatoeba.* keeps LASER's line alignment (the gold): 36 files instead of 72",
    train_examples=72_000, mean_tokens=15,  # sentences embedded: 36 x 1,000 pairs
)
