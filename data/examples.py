"""The examples every reader returns, one dataclass per task kind, and the data error.

Every example carries its `id` (as in the source file, or `file:line` where the file has none) and its
`lang`. A label of `None` means the file has no gold label for it (XTREME's test sets): scoring such
an example is an error, never a silent zero.
"""
from __future__ import annotations

from dataclasses import dataclass


class DataError(ValueError):
    """Bad input data. The message names the file, the line (or id) and what was expected."""

    def __init__(self, path, where, message: str):
        self.path, self.where = str(path), where
        loc = f"{path}:{where}" if where not in (None, "") else str(path)
        super().__init__(f"{loc}: {message}")


@dataclass(frozen=True)
class SingleExample:  # kind "single_cls": SST-2
    id: str
    lang: str
    text: str
    label: str | None


@dataclass(frozen=True)
class PairExample:  # kind "pair_cls": XNLI, PAWS-X, MNLI, ANLI+, QQP
    id: str
    lang: str
    text_a: str
    text_b: str
    label: str | None


@dataclass(frozen=True)
class TagExample:  # kind "tag": UD-POS, PAN-X, CCG; one tag per word
    id: str
    lang: str
    words: tuple[str, ...]
    tags: tuple[str, ...] | None


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offset of the answer in the context; -1 when the file gives none


@dataclass(frozen=True)
class SpanExample:  # kind "span": SQuAD, XQuAD, MLQA, TyDiQA-GoldP
    id: str
    lang: str
    question: str
    context: str
    answers: tuple[Answer, ...] | None  # None: unlabelled; () with is_impossible: a SQuAD v2 null answer
    is_impossible: bool = False


@dataclass(frozen=True)
class ChoiceExample:  # kind "multiple_choice": HellaSwag, Cosmos QA, CommonsenseQA
    id: str
    lang: str
    context: str  # first segment of every choice's input (context and/or question)
    choices: tuple[str, ...]  # second segment, one per choice
    label: int | None  # index into choices


@dataclass(frozen=True)
class Bitext:  # kind "retrieval": BUCC (mining) and Tatoeba (aligned lines)
    id: str
    lang: str  # the non-English side
    src_ids: tuple[str, ...]  # sentences in `lang`
    src: tuple[str, ...]
    tgt_ids: tuple[str, ...]  # English sentences
    tgt: tuple[str, ...]
    gold: frozenset[tuple[str, str]] | None  # (src_id, tgt_id) pairs; None when the split has no gold
