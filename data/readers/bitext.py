"""Readers of retrieval data: BUCC 2018 (`id\\tsentence` files and gold pairs) and Tatoeba (line-aligned files).

Each reader returns one Bitext: the `lang` side as src, English as tgt, gold pairs or None. Sentences are kept as
in the file, repeats included; how retrieval.py treats a sentence repeated under several BUCC ids (XTREME's rule)
is said there.
"""
from __future__ import annotations

from pathlib import Path

from data.examples import Bitext, DataError
from data.readers.common import check_unique_ids, iter_lines, row_scope, split_row


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
