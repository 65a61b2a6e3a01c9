"""BUCC 2018 parallel sentence mining (Zweigenbaum et al. 2018), L <-> English: margin scores, F1 at a threshold
tuned on dev. Dev = the BUCC "sample" files, test = the "training" files (public gold, which XTREME deletes).

No Hub copy: google/xtreme's bucc18.L rows are the gold pairs only, without the corpora to mine from.
"""
from pathlib import Path

from data.examples import Bitext, DataError
from data.readers.common import (check_unique_ids, iter_lines, row_scope, split_row)
from data.task import Download, Source, Task


def _read_id_sentences(path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    expected = "id<TAB>sentence per line"
    ids, sents = [], []
    for lineno, line in iter_lines(path, expected):
        with row_scope():
            id_, sent = split_row(path, lineno, line, 2, expected)
            ids.append(id_)
            sents.append(sent)
    check_unique_ids(path, ids)
    return tuple(ids), tuple(sents)


def read_bucc(paths, lang, split, labels=None) -> Bitext:
    """BUCC 2018 `L-en.{split}.L`, `L-en.{split}.en` (`id\\tsentence`) and, where present, `.gold` (`L-id\\ten-id`).
    Every gold id must name a sentence of its side."""
    src_path, tgt_path, *gold_path = paths
    src_ids, src = _read_id_sentences(src_path)
    tgt_ids, tgt = _read_id_sentences(tgt_path)
    gold = None
    if gold_path:
        (gold_path,) = gold_path
        known_src, known_tgt, pairs = set(src_ids), set(tgt_ids), set()
        expected = f"{lang}-id<TAB>en-id per line"
        for lineno, line in iter_lines(gold_path, expected):
            with row_scope():
                s, t = split_row(gold_path, lineno, line, 2, expected)
                if s not in known_src:
                    raise DataError(gold_path, lineno, f"source id {s!r} is not in {Path(src_path).name}; expected a "
                                                       "sentence id of that file")
                if t not in known_tgt:
                    raise DataError(gold_path, lineno, f"target id {t!r} is not in {Path(tgt_path).name}; expected a "
                                                       "sentence id of that file")
                if (s, t) in pairs:
                    raise DataError(gold_path, lineno, f"duplicate pair ({s}, {t}); expected every pair once")
                pairs.add((s, t))
        gold = frozenset(pairs)
    return Bitext(f"bucc2018-{lang}-{split}", lang, src_ids, src, tgt_ids, tgt, gold)


LANGS = tuple("de fr ru zh".split())
FILES = {"dev": "sample", "test": "training"}

TASK = Task(
    name="bucc2018", kind="retrieval", langs=LANGS, splits=("dev", "test"), labels=None, primary_metric="f1",
    metrics=("bucc_f1",), retrieval="mining", tune_split="dev",
    description="BUCC 2018 parallel sentence mining (margin score, F1 at a threshold tuned on dev)",
    target=True, train_task=None, display_name="BUCC", parallel_test=False,
    sources=(
        *[Source("original", s, tuple(f"bucc2018/{{lang}}-en/{{lang}}-en.{f}.{ext}" for ext in ("{lang}", "en", "gold")),
                 read_bucc) for s, f in FILES.items()],
        *[Source("xtreme", s, tuple(f"bucc2018/{{lang}}-en.{s}.{ext}" for ext in ("{lang}", "en", "gold")), read_bucc)
          for s in FILES],
        Source("xtreme", "test", ("bucc2018/{lang}-en.test.{lang}", "bucc2018/{lang}-en.test.en"), read_bucc),
    ),
    # Per language the "sample" and "training" sets, each with its gold file. URLs: XTREME download_data.sh, jiant.
    downloads=tuple(Download(f"https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{part}-gold.tar.bz2",
                             "bucc2018", archive=True, strip=1)
                    for lang in LANGS for part in ("sample", "training")),
    default_source="upstream",
    default_source_why="google/xtreme's bucc18.* holds only the gold pairs, not the corpora to mine from",
    train_examples=2_900_000, mean_tokens=35,  # sentences embedded: sample + training files, every language
)
