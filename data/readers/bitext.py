"""Readers of retrieval data: BUCC 2018 (`id\\tsentence` files and gold pairs) and Tatoeba (line-aligned files).

Each reader returns one Bitext: the `lang` side as src, English as tgt, gold pairs or None. Sentences are kept as
in the file, repeats included; how retrieval.py treats a sentence repeated under several BUCC ids (XTREME's rule)
is said there.
"""
from __future__ import annotations

from pathlib import Path

from data.examples import Bitext, DataError
from data.readers.common import iter_lines


def _read_sentences(path, expected: str) -> tuple[str, ...]:
    return tuple(line for _, line in iter_lines(path, expected))


def read_tatoeba_aligned(paths, lang, split, labels=None) -> Bitext:
    """LASER's `tatoeba.{lang3}-eng.{lang3}` and `.eng`: line i of one translates line i of the other.
    Ids are line numbers from 0; gold = {(i, i)}."""
    src_path, tgt_path = paths
    src = _read_sentences(src_path, "one sentence per line, aligned with the English file")
    tgt = _read_sentences(tgt_path, "one sentence per line, aligned with the other language's file")
    if len(src) != len(tgt):
        raise DataError(tgt_path, len(tgt), f"{len(tgt)} lines but {Path(src_path).name} has {len(src)}; "
                                            "expected line-aligned files of equal length")
    ids = tuple(str(i) for i in range(len(src)))
    return Bitext(f"tatoeba-{lang}-{split}", lang, ids, src, ids, tgt, frozenset(zip(ids, ids)))


def read_tatoeba_xtreme(paths, lang, split, labels=None) -> Bitext:
    """XTREME's `L-en.L` and `L-en.en`: the English side was sorted, so alignment (the gold) is lost → gold None."""
    src_path, tgt_path = paths
    src = _read_sentences(src_path, "one sentence per line")
    tgt = _read_sentences(tgt_path, "one sentence per line")
    return Bitext(f"tatoeba-{lang}-{split}", lang, tuple(str(i) for i in range(len(src))), src,
                  tuple(str(i) for i in range(len(tgt))), tgt, None)
