"""The official metrics of the study's tasks, as pure functions `(golds, preds) -> dict[str, float]` on 0-100.

    accuracy              XNLI, PAWS-X, classification and multiple-choice tasks
    span_f1               PAN-X and UD-POS: seqeval's default (conlleval-compatible) micro F1, reimplemented
    tag_accuracy          token accuracy, UD-POS's secondary number
    squad_em_f1           SQuAD v1.1 EM/F1 (XQuAD, TyDiQA-GoldP, SQuAD v1.1)
    squad_v2_em_f1        SQuAD v2.0 EM/F1 with unanswerable questions, and the has-answer/no-answer breakdown
    mlqa_em_f1            MLQA's language-aware EM/F1
    bucc_f1               BUCC mining F1, with the F1-maximizing threshold or a given one
    retrieval_accuracy    Tatoeba: share of (English) queries whose retrieved neighbour is the gold one

Definitions follow the reference scripts (xtreme's evaluate.py, the official SQuAD v1.1/v2.0 and MLQA
scripts, seqeval); see ../shared/REFERENCE.md. Quirks kept on purpose so that numbers are comparable:
- span_f1 splits every tag into a one-character prefix and a type, as seqeval does. For prefix-less tags
  (UD-POS "NOUN") the prefix is "N" and the type "OUN": runs of equal tags form one chunk, and tags that
  start with B/I/E/S (e.g. "SCONJ", "INTJ") act as those prefixes. By default the sentences are scored the way
  `seqeval.metrics.f1_score` scores the list XTREME passes it: joined into one sequence with an "O" between
  sentences. A sentence that opens with a tag of no type ("X": type "_", like the "O" before it) then continues
  the previous sentence's last chunk: its chunk is counted from where that chunk began (seqeval 1.2.2,
  metrics/sequence_labeling.get_entities). `boundaries="sentence"` scores each sentence apart instead.
- MLQA's Arabic article removal replaces *every* "ال" in the text with a space (the official regular
  expression's anchored branch can never match), not only the word-initial one.
- BUCC: candidates are extracted when score >= threshold, so tied scores are kept or dropped together, as in
  XTREME's bucc_extract. Departure on purpose in *choosing* the threshold (see bucc_f1): XTREME's bucc_optimize
  scores every prefix of the ranked candidates, also one that ends inside a group of tied scores, and then
  extracts the whole group, so with ties its chosen threshold can give a lower F1 than the best one reachable and
  depends on the order of tied candidates in its file (an unstable argsort). Here only thresholds that can be
  realized (between groups of equal scores) compete. Without ties at the chosen cut, which is the rule for
  real-valued margin scores, both give the same threshold and F1.

No module import does any work; run the tests with `python -m pytest -q tests/test_metrics.py`.
"""
from __future__ import annotations

import functools
import math
import numbers
import re
import string
import sys
import unicodedata
from collections import Counter
from typing import Hashable, Sequence


def _check_lengths(golds: Sequence, preds: Sequence, what: str = "examples") -> None:
    if len(golds) != len(preds):
        raise ValueError(f"golds and preds differ in length: {len(golds)} golds vs {len(preds)} preds ({what})")
    if len(golds) == 0:
        raise ValueError(f"golds and preds are empty (0 {what}): nothing to score")


def _percent(num: float, den: float) -> float:
    return 100.0 * num / den if den else 0.0


# --- classification and tagging ---------------------------------------------------------------------

def accuracy(golds: Sequence[Hashable], preds: Sequence[Hashable]) -> dict[str, float]:
    """Share of predictions equal to the gold label -> {"accuracy"}."""
    _check_lengths(golds, preds)
    return {"accuracy": _percent(sum(g == p for g, p in zip(golds, preds)), len(golds))}


def retrieval_accuracy(golds: Sequence[Hashable], preds: Sequence[Hashable]) -> dict[str, float]:
    """Tatoeba: share of queries whose retrieved id is the gold one -> {"accuracy"}. XTREME and jiant query with
    the English sentences (golds: Task.golds)."""
    _check_lengths(golds, preds, "retrieved sentences")
    return accuracy(golds, preds)


def _check_tag_lists(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]]) -> None:
    _check_lengths(golds, preds, "sentences")
    for i, (g, p) in enumerate(zip(golds, preds)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags vs {len(p)} predicted tags")


def tag_accuracy(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Token accuracy over all words of all sentences -> {"accuracy"}."""
    _check_tag_lists(golds, preds)
    n = sum(len(g) for g in golds)
    if n == 0:
        raise ValueError(f"all {len(golds)} sentences are empty: no tags to score")
    correct = sum(a == b for g, p in zip(golds, preds) for a, b in zip(g, p))
    return {"accuracy": _percent(correct, n)}


def _split_tag(tag: str) -> tuple[str, str]:
    """seqeval's (non-suffix) reading of a tag: first character = prefix, the rest after one '-' = type."""
    rest = tag[1:]
    kind = rest.split("-", 1)[-1]
    return tag[:1], kind or "_"


def extract_chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Chunks (type, first, last) of one tag sequence under seqeval's default conlleval-style rules."""
    chunks = []
    prev_prefix, prev_type, begin = "O", "", 0  # seqeval starts from prefix "O" and the empty type
    for i, tag in enumerate([*tags, "O"]):  # the sentinel "O" closes a chunk at the sequence end
        prefix, kind = _split_tag(tag)
        typed_prev = prev_prefix not in ("O", ".")
        ends = (
            prev_prefix in ("E", "S")
            or (prev_prefix in ("B", "I") and prefix in ("B", "S", "O"))
            or (typed_prev and prev_type != kind)
        )
        starts = (
            prefix in ("B", "S")
            or (prefix in ("E", "I") and prev_prefix in ("E", "S", "O"))
            or (prefix not in ("O", ".") and prev_type != kind)
        )
        if ends:
            chunks.append((prev_type, begin, i - 1))
        if starts:
            begin = i
        prev_prefix, prev_type = prefix, kind
    return chunks


SPAN_BOUNDARIES = ("seqeval", "sentence")


def span_f1(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]],
            boundaries: str = "seqeval") -> dict[str, float]:
    """Micro-averaged chunk F1 -> {"f1", "precision", "recall"}.

    boundaries="seqeval" (default) equals `seqeval.metrics.f1_score(golds, preds)` on the list of sentences, as
    XTREME calls it: the sentences are joined with an "O" between them (see the module docstring for the one
    case where a chunk then crosses a sentence boundary). boundaries="sentence" scores every sentence apart, so
    no chunk crosses one. A zero denominator gives 0, as seqeval's zero_division="warn" does.
    """
    if boundaries not in SPAN_BOUNDARIES:
        raise ValueError(f"span_f1: boundaries must be one of {', '.join(SPAN_BOUNDARIES)}, got {boundaries!r}")
    _check_tag_lists(golds, preds)
    if boundaries == "seqeval":
        def joined(sentences):  # seqeval 1.2.2 get_entities: `item for sublist in seq for item in sublist + ['O']`
            return [tag for sentence in sentences for tag in [*sentence, "O"]]
        gold_chunks, pred_chunks = set(extract_chunks(joined(golds))), set(extract_chunks(joined(preds)))
    else:
        gold_chunks, pred_chunks = set(), set()
        for i, (g, p) in enumerate(zip(golds, preds)):
            gold_chunks.update((i, *c) for c in extract_chunks(g))
            pred_chunks.update((i, *c) for c in extract_chunks(p))
    tp = len(gold_chunks & pred_chunks)
    precision = tp / len(pred_chunks) if pred_chunks else 0.0
    recall = tp / len(gold_chunks) if gold_chunks else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": 100.0 * f1, "precision": 100.0 * precision, "recall": 100.0 * recall}


# --- extractive QA ------------------------------------------------------------------------------------

_ASCII_PUNCT = frozenset(string.punctuation)


def normalize_squad_answer(text: str) -> str:
    """SQuAD v1.1/v2.0 normalization: lower case, drop ASCII punctuation and English articles, squeeze spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _token_f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _check_qa(golds: Sequence[Sequence[str]], preds: Sequence[str]) -> None:
    _check_lengths(golds, preds, "questions")
    for i, (g, p) in enumerate(zip(golds, preds)):
        if isinstance(g, str):
            raise ValueError(f"question {i}: gold must be a list of answer strings, got the string {g!r}")
        if not isinstance(p, str):
            raise ValueError(f"question {i}: prediction must be a string, got {type(p).__name__}")


def squad_em_f1(golds: Sequence[Sequence[str]], preds: Sequence[str]) -> dict[str, float]:
    """SQuAD v1.1 EM/F1, each the max over the gold answers of a question -> {"exact_match", "f1"}."""
    _check_qa(golds, preds)
    em = f1 = 0.0
    for i, (answers, pred) in enumerate(zip(golds, preds)):
        if len(answers) == 0:
            raise ValueError(f"question {i}: no gold answer (SQuAD v1.1 has none unanswerable; use squad_v2_em_f1)")
        p = normalize_squad_answer(pred)
        em += max(float(p == normalize_squad_answer(a)) for a in answers)
        f1 += max(_token_f1(p.split(), normalize_squad_answer(a).split()) for a in answers)
    return {"exact_match": _percent(em, len(golds)), "f1": _percent(f1, len(golds))}


def squad_v2_em_f1(golds: Sequence[Sequence[str]], preds: Sequence[str]) -> dict[str, float]:
    """SQuAD v2.0 EM/F1: an empty gold list means unanswerable, the prediction "" means abstain.

    Returns {"exact_match", "f1"} over all questions, plus "has_ans_exact_match"/"has_ans_f1" and
    "no_ans_exact_match"/"no_ans_f1" for the questions of each group that occurs.
    """
    _check_qa(golds, preds)
    scores = {True: [], False: []}  # has an answer -> [(em, f1)]
    for answers, pred in zip(golds, preds):
        # The official script drops gold answers that normalize to nothing; none left = unanswerable.
        gold_norm = [n for n in (normalize_squad_answer(a) for a in answers) if n] or [""]
        p = normalize_squad_answer(pred)
        em = max(float(p == g) for g in gold_norm)
        # v2.0: when either side is empty, F1 is 1 if both are, else 0.
        f1 = max(_token_f1(p.split(), g.split()) if p and g else float(p == g) for g in gold_norm)
        scores[gold_norm != [""]].append((em, f1))
    everything = scores[True] + scores[False]
    out = {"exact_match": _percent(sum(e for e, _ in everything), len(everything)),
           "f1": _percent(sum(f for _, f in everything), len(everything))}
    for has, name in ((True, "has_ans"), (False, "no_ans")):
        if scores[has]:
            out[f"{name}_exact_match"] = _percent(sum(e for e, _ in scores[has]), len(scores[has]))
            out[f"{name}_f1"] = _percent(sum(f for _, f in scores[has]), len(scores[has]))
    return out


# MLQA: punctuation = every Unicode P* character plus ASCII punctuation; articles per language.
@functools.cache
def _unicode_punct() -> frozenset[str]:
    """Built on first use (a scan of all code points, ~0.3 s), not at import."""
    return frozenset(
        chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)).startswith("P")
    ) | _ASCII_PUNCT


_MLQA_ARTICLES = {
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "ar": r"ال",  # every occurrence, as the official script does (see the module docstring)
    "hi": None,
    "zh": None,
}
MLQA_LANGS = tuple(_MLQA_ARTICLES)
_CJK = re.compile(r"[\u4e00-\u9fa5]")  # the official script's range of CJK ideographs


def _segment_mixed(text: str) -> list[str]:
    """zh: every CJK character and punctuation mark is a token; other runs split on whitespace."""
    punct = _unicode_punct()
    tokens, run = [], []
    for ch in text:
        if _CJK.match(ch) or ch in punct:
            tokens.extend("".join(run).split())
            run = []
            tokens.append(ch)
        else:
            run.append(ch)
    tokens.extend("".join(run).split())
    return tokens


def normalize_mlqa_answer(text: str, lang: str) -> str:
    """MLQA normalization: lower case, drop Unicode punctuation, drop `lang`'s articles, re-tokenize."""
    if lang not in _MLQA_ARTICLES:
        raise ValueError(f"MLQA normalization has no rules for language {lang!r}; known: {', '.join(MLQA_LANGS)}")
    punct = _unicode_punct()
    text = "".join(ch for ch in text.lower() if ch not in punct)
    if _MLQA_ARTICLES[lang]:
        text = re.sub(_MLQA_ARTICLES[lang], " ", text)
    tokens = _segment_mixed(text) if lang == "zh" else text.split()
    return " ".join(t for t in tokens if t.strip())


def mlqa_em_f1(golds: Sequence[Sequence[str]], preds: Sequence[str], lang: str) -> dict[str, float]:
    """MLQA EM/F1 in the context language `lang`, max over gold answers -> {"exact_match", "f1"}."""
    if lang not in _MLQA_ARTICLES:
        raise ValueError(f"mlqa_em_f1: unknown language {lang!r}; known: {', '.join(MLQA_LANGS)}")
    _check_qa(golds, preds)
    em = f1 = 0.0
    for i, (answers, pred) in enumerate(zip(golds, preds)):
        if len(answers) == 0:
            raise ValueError(f"question {i}: no gold answer (MLQA questions are all answerable)")
        p = normalize_mlqa_answer(pred, lang)
        gold_norm = [normalize_mlqa_answer(a, lang) for a in answers]
        em += max(float(p == g) for g in gold_norm)
        f1 += max(_token_f1(p.split(), g.split()) for g in gold_norm)
    return {"exact_match": _percent(em, len(golds)), "f1": _percent(f1, len(golds))}


# --- bitext mining --------------------------------------------------------------------------------------

def _prf(n_correct: int, n_extracted: int, n_gold: int) -> tuple[float, float, float]:
    if n_correct == 0:
        return 0.0, 0.0, 0.0
    precision, recall = n_correct / n_extracted, n_correct / n_gold
    return precision, recall, 2 * precision * recall / (precision + recall)


def bucc_f1(gold: set[tuple[str, str]], candidates: Sequence[tuple[str, str, float]],
            threshold: float | None = None) -> dict[str, float]:
    """BUCC F1 of the candidate pairs whose score >= threshold -> {"f1", "precision", "recall", "threshold"}.

    threshold=None picks the F1-maximizing one: sweep the candidates by decreasing score and, after each
    group of equal scores, put the threshold midway to the next lower score (or at the lowest score when
    every candidate is kept; XTREME's bucc_optimize fails there with an IndexError). The first best F1 wins
    (the highest threshold), as in XTREME. Ties: see the module docstring. Tuning on the split you score is
    optimistic; tune on dev and pass the value.

    Which candidates reach this function is the caller's rule: XTREME's (retrieval.py) leaves out every pair
    with a sentence text that occurs under several ids (utils_retrieve.read_sent2id), while `gold` keeps all.
    """
    if not gold:
        raise ValueError("bucc_f1: the gold set is empty (recall is undefined)")
    if not candidates:
        raise ValueError("bucc_f1: no candidate pairs (0 candidates) to score")
    seen = set()
    for i, cand in enumerate(candidates):
        if len(cand) != 3:
            raise ValueError(f"candidate {i}: expected (src_id, tgt_id, score), got {cand!r}")
        src, tgt, score = cand
        if not isinstance(score, numbers.Real) or math.isnan(score):
            raise ValueError(f"candidate {i} ({src}, {tgt}): score must be a number, got {score!r}")
        if (src, tgt) in seen:
            raise ValueError(f"candidate {i}: duplicate pair ({src}, {tgt})")
        seen.add((src, tgt))
    gold = set(gold)
    if threshold is not None:
        kept = [(s, t) for s, t, score in candidates if score >= threshold]
        p, r, f = _prf(sum(pair in gold for pair in kept), len(kept), len(gold))
        return {"f1": 100 * f, "precision": 100 * p, "recall": 100 * r, "threshold": float(threshold)}

    ranked = sorted(candidates, key=lambda c: -c[2])
    best = (0.0, 0.0, 0.0, float(ranked[0][2]))  # (f1, p, r, threshold); no correct pair: F1 is 0 anywhere
    n_correct = 0
    for i, (src, tgt, score) in enumerate(ranked):
        n_correct += (src, tgt) in gold
        if i + 1 < len(ranked) and ranked[i + 1][2] == score:
            continue  # a threshold cannot separate tied scores
        p, r, f = _prf(n_correct, i + 1, len(gold))
        if f > best[0]:
            cut = (score + ranked[i + 1][2]) / 2 if i + 1 < len(ranked) else float(score)
            best = (f, p, r, cut)
    f, p, r, cut = best
    return {"f1": 100 * f, "precision": 100 * p, "recall": 100 * r, "threshold": cut}
