"""BUCC 2018 parallel sentence mining (Zweigenbaum et al. 2018), L <-> English: margin scores, F1 at a threshold
tuned on dev. Dev = the BUCC "sample" files, test = the "training" files (public gold, which XTREME deletes).

No Hub copy: google/xtreme's bucc18.L rows are the gold pairs only, without the corpora to mine from.
"""
from data import readers as R
from data.task import Download, Source, Task

LANGS = tuple("de fr ru zh".split())
FILES = {"dev": "sample", "test": "training"}

TASK = Task(
    name="bucc2018", kind="retrieval", langs=LANGS, splits=("dev", "test"), labels=None, primary_metric="f1",
    metrics=("bucc_f1",), retrieval="mining", tune_split="dev",
    description="BUCC 2018 parallel sentence mining (margin score, F1 at a threshold tuned on dev)",
    target=True, train_task=None, display_name="BUCC", parallel_test=False,
    sources=(
        *[Source("original", s, tuple(f"bucc2018/{{lang}}-en/{{lang}}-en.{f}.{ext}" for ext in ("{lang}", "en", "gold")),
                 R.read_bucc) for s, f in FILES.items()],
        *[Source("xtreme", s, tuple(f"bucc2018/{{lang}}-en.{s}.{ext}" for ext in ("{lang}", "en", "gold")), R.read_bucc)
          for s in FILES],
        Source("xtreme", "test", ("bucc2018/{lang}-en.test.{lang}", "bucc2018/{lang}-en.test.en"), R.read_bucc),
    ),
    # Per language the "sample" and "training" sets, each with its gold file. URLs: XTREME download_data.sh, jiant.
    downloads=tuple(Download(f"https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{part}-gold.tar.bz2",
                             "bucc2018", archive=True, strip=1)
                    for lang in LANGS for part in ("sample", "training")),
    default_source="upstream",
    default_source_why="google/xtreme's bucc18.* holds only the gold pairs, not the corpora to mine from",
    train_examples=2_900_000, mean_tokens=35,  # sentences embedded: sample + training files, every language
)
