"""Featurization by task kind: examples -> token-id features, batches, and predictions back to examples.

    feats = featurize("pair_cls", examples, tokenizer, max_len=128, labels=task.labels)
    batch = collate([feats[i] for i in idx], pad_id=tokenizer.pad_id)   # dict of padded tensors

Kinds and their features (every feature has "input_ids", "example_index" and "feature_index", its
position in the returned list; labels of unlabelled examples are -100, the loss's ignore index):
- pair_cls / single_cls: `<s> a </s></s> b </s>` / `<s> a </s>` (longest-first truncation); "label" int.
- tag: one word -> its sub-tokens (a word with no sub-token gets `<unk>`: sentencepiece drops e.g. a lone
  zero-width space). The label sits on a word's first sub-token, -100 elsewhere. A sentence too long for
  `max_len` is split into windows, never truncated: the words are cut into consecutive owned chunks of at
  most half the window, and each chunk is padded out with context words on both sides. "word_ids" holds
  the word index at the first sub-token of each *owned* word, -1 elsewhere, so every word is labelled and
  predicted in exactly one feature (`stitch_tags`).
- span: `<s> question </s></s> context window </s>`; the question is cut to `max_query_len` sub-tokens and
  the context covered by windows `doc_stride` sub-tokens apart. "offsets" gives each token's (start, end)
  characters in the context (None outside it), "context_mask" 1 on context tokens; "start_position"/
  "end_position" are the answer's tokens, 0 (`<s>`) when the window misses the answer or the question is
  unanswerable, -100 when unlabelled or when the gold text is not found at its `start` (logged by id).
- multiple_choice: one feature per example; "input_ids" is a list of N sequences `<s> context </s></s>
  choice </s>`; "label" the gold choice. `collate` gives input_ids (B, N, T): flatten to (B*N, T).
- retrieval: `<s> sentence </s>` per sentence; for a Bitext, its source sentences then its target ones,
  with "side" (0 source, 1 target) and "sentence_index".

Run the tests: python -m pytest -q tests/test_featurize.py
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import torch

from data.examples import Bitext, ChoiceExample, PairExample, SingleExample, SpanExample, TagExample

log = logging.getLogger(__name__)

KINDS = ("pair_cls", "single_cls", "tag", "span", "multiple_choice", "retrieval")
IGNORE = -100  # label of tokens/examples the loss skips (torch's cross_entropy ignore_index)


# --- kinds -----------------------------------------------------------------------------------------------

def _label_id(label, labels, ex_id: str) -> int:
    if label is None:
        return IGNORE
    if labels is None:
        raise ValueError(f"example {ex_id}: has label {label!r} but no label set was given (labels=None)")
    try:
        return labels.index(label)
    except ValueError:
        raise ValueError(f"example {ex_id}: unknown label {label!r}; expected one of {list(labels)}") from None


def _check_type(examples, cls, kind):
    for i, ex in enumerate(examples):
        if not isinstance(ex, cls):
            raise ValueError(f"{kind}: example {i} is a {type(ex).__name__}, expected {cls.__name__}")


def featurize_cls(examples, tokenizer, max_len, labels, pair: bool) -> list[dict]:
    """pair_cls / single_cls: one feature per example, truncated to max_len."""
    _check_type(examples, PairExample if pair else SingleExample, "pair_cls" if pair else "single_cls")
    labels = list(labels) if labels is not None else None
    if pair:
        a = tokenizer.encode([ex.text_a for ex in examples])
        b = tokenizer.encode([ex.text_b for ex in examples])
    else:
        a = tokenizer.encode([ex.text for ex in examples])
        b = [None] * len(examples)
    return [{"input_ids": tokenizer.build_inputs(x, y, max_len),
             "label": _label_id(ex.label, labels, ex.id), "example_index": i}
            for i, (ex, x, y) in enumerate(zip(examples, a, b))]


def encode_words(tokenizer, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Sub-token ids of every word, each word encoded on its own (one batched call); never empty."""
    flat = tokenizer.encode([w for words in sentences for w in words])
    out, k = [], 0
    for words in sentences:
        out.append([ids or [tokenizer.unk_id] for ids in flat[k:k + len(words)]])
        k += len(words)
    return out


def plan_tag_windows(n_pieces: Sequence[int], budget: int) -> list[tuple[int, int, int, int]]:
    """Windows (left, own_start, own_end, right) over words with `n_pieces` sub-tokens each.

    Words [own_start, own_end) are owned (predicted) by the window, [left, right) are its tokens; the
    owned ranges partition all words. A sentence that fits in `budget` is one window. Otherwise owned
    chunks take at most budget // 2 sub-tokens (at least one word), and context words are added on
    both sides, alternately, while they fit. A word longer than `budget` is cut (see featurize_tag).
    """
    n = len(n_pieces)
    sizes = [min(c, budget) for c in n_pieces]
    if sum(sizes) <= budget:
        return [(0, 0, n, n)]
    chunk_budget = max(1, budget // 2)
    windows, start = [], 0
    while start < n:
        end, used = start + 1, sizes[start]
        while end < n and used + sizes[end] <= chunk_budget:
            used += sizes[end]
            end += 1
        left, right = start, end
        grew = True
        while grew:  # add one context word per side per round, nearest first, while it fits
            grew = False
            if left > 0 and used + sizes[left - 1] <= budget:
                left, used, grew = left - 1, used + sizes[left - 1], True
            if right < n and used + sizes[right] <= budget:
                right, used, grew = right + 1, used + sizes[right], True
        windows.append((left, start, end, right))
        start = end
    return windows


def featurize_tag(examples, tokenizer, max_len, labels) -> list[dict]:
    """tag: windows of whole words; label (and word index) on the first sub-token of each owned word."""
    _check_type(examples, TagExample, "tag")
    budget = max_len - 2  # <s> ... </s>
    if budget < 1:
        raise ValueError(f"tag: max_len={max_len} leaves no room for a word between <s> and </s>")
    labels = list(labels) if labels is not None else None
    features = []
    for i, (ex, pieces) in enumerate(zip(examples, encode_words(tokenizer, [ex.words for ex in examples]))):
        if ex.tags is not None and len(ex.tags) != len(ex.words):
            raise ValueError(f"example {ex.id}: {len(ex.words)} words but {len(ex.tags)} tags")
        tag_ids = ([_label_id(t, labels, ex.id) for t in ex.tags] if ex.tags is not None
                   else [IGNORE] * len(ex.words))
        pieces = [p[:budget] for p in pieces]  # a single word longer than a window keeps its first pieces
        for left, own_start, own_end, right in plan_tag_windows([len(p) for p in pieces], budget):
            ids, word_ids, label = [tokenizer.bos_id], [-1], [IGNORE]
            for w in range(left, right):
                owned = own_start <= w < own_end
                ids += pieces[w]
                word_ids += [w if owned else -1] + [-1] * (len(pieces[w]) - 1)
                label += [tag_ids[w] if owned else IGNORE] + [IGNORE] * (len(pieces[w]) - 1)
            ids.append(tokenizer.eos_id)
            word_ids.append(-1)
            label.append(IGNORE)
            features.append({"input_ids": ids, "word_ids": word_ids, "label": label, "example_index": i})
    return features


def _answer_tokens(ex: SpanExample, offsets: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Context-token range (first, last) of the example's first answer; None when it is not in the text."""
    ans = ex.answers[0]
    start = ans.start if ans.start >= 0 else ex.context.find(ans.text)
    end = start + len(ans.text)
    if start < 0 or not ans.text or ex.context[start:end] != ans.text:
        return None
    first = next((k for k, (s, e) in enumerate(offsets) if e > start), None)
    last = next((k for k in range(len(offsets) - 1, -1, -1) if offsets[k][0] < end), None)
    if first is None or last is None or first > last:
        return None
    return first, last


def featurize_span(examples, tokenizer, max_len, doc_stride, max_query_len) -> list[dict]:
    """span: sliding windows over the context, doc_stride sub-tokens apart, each with the question."""
    _check_type(examples, SpanExample, "span")
    if doc_stride < 1 or max_query_len < 1:
        raise ValueError(f"span: doc_stride ({doc_stride}) and max_query_len ({max_query_len}) must be >= 1")
    questions = tokenizer.encode([ex.question for ex in examples])
    contexts = tokenizer.encode_with_offsets([ex.context for ex in examples])
    features, mismatched = [], []
    for i, (ex, q, (c_ids, c_offsets)) in enumerate(zip(examples, questions, contexts)):
        q = q[:max_query_len]
        budget = max_len - len(q) - 4  # <s> q </s></s> window </s>
        if budget < 1:
            raise ValueError(f"span: max_len={max_len} leaves no room for context after a "
                             f"{len(q)}-token question (example {ex.id})")
        if ex.answers is None:
            gold = "unlabelled"
        elif ex.is_impossible or len(ex.answers) == 0:
            gold = "null"
        else:
            gold = _answer_tokens(ex, c_offsets)
            if gold is None:
                mismatched.append(ex.id)
                gold = "unlabelled"
        start = 0
        while True:
            length = min(budget, len(c_ids) - start)
            prefix = [tokenizer.bos_id, *q, tokenizer.eos_id, tokenizer.eos_id]
            ids = prefix + c_ids[start:start + length] + [tokenizer.eos_id]
            offsets = [None] * len(prefix) + c_offsets[start:start + length] + [None]
            if gold == "unlabelled":
                s_pos = e_pos = IGNORE
            elif gold == "null" or not (start <= gold[0] and gold[1] < start + length):
                s_pos = e_pos = 0  # <s>: no answer in this window
            else:
                s_pos, e_pos = gold[0] - start + len(prefix), gold[1] - start + len(prefix)
            features.append({"input_ids": ids, "offsets": offsets,
                             "context_mask": [int(o is not None) for o in offsets],
                             "start_position": s_pos, "end_position": e_pos, "example_index": i})
            if start + length >= len(c_ids):
                break
            start += min(length, doc_stride)
    if mismatched:
        log.warning("span: %d answer(s) whose text is not in the context at their start, left "
                    "unlabelled (positions -100): %s", len(mismatched), ", ".join(mismatched[:20]))
    return features


def featurize_choice(examples, tokenizer, max_len, labels=None) -> list[dict]:
    """multiple_choice: N sequences (context, choice) per example, one feature."""
    _check_type(examples, ChoiceExample, "multiple_choice")
    contexts = tokenizer.encode([ex.context for ex in examples])
    choices = tokenizer.encode([c for ex in examples for c in ex.choices])
    features, k = [], 0
    for i, (ex, ctx) in enumerate(zip(examples, contexts)):
        n = len(ex.choices)
        if n < 2:
            raise ValueError(f"example {ex.id}: {n} choice(s); multiple choice needs at least 2")
        if ex.label is not None and not 0 <= ex.label < n:
            raise ValueError(f"example {ex.id}: label {ex.label} is not a choice index in [0, {n})")
        seqs = [tokenizer.build_inputs(ctx, c, max_len) for c in choices[k:k + n]]
        k += n
        features.append({"input_ids": seqs, "label": IGNORE if ex.label is None else ex.label,
                         "example_index": i})
    return features


def featurize_retrieval(examples, tokenizer, max_len) -> list[dict]:
    """retrieval: one `<s> sentence </s>` per sentence (strings, or both sides of each Bitext)."""
    features = []
    for i, ex in enumerate(examples):
        if isinstance(ex, str):
            sides = [(None, [ex])]
        elif isinstance(ex, Bitext):
            sides = [(0, list(ex.src)), (1, list(ex.tgt))]
        else:
            raise ValueError(f"retrieval: example {i} is a {type(ex).__name__}, expected a str or a Bitext")
        for side, sents in sides:
            for j, ids in enumerate(tokenizer.encode(sents)):
                f = {"input_ids": tokenizer.build_inputs(ids, max_len=max_len), "example_index": i}
                if side is not None:
                    f.update(side=side, sentence_index=j)
                features.append(f)
    return features


def featurize(kind: str, examples: Sequence, tokenizer, max_len: int, labels: Sequence[str] | None = None,
              doc_stride: int = 128, max_query_len: int = 64) -> list[dict]:
    """Features of `examples` for a task of `kind` (see the module docstring for each kind's keys)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    if not isinstance(max_len, int) or max_len < 3:
        raise ValueError(f"max_len must be an int >= 3, got {max_len!r}")
    examples = list(examples)
    if kind in ("pair_cls", "single_cls"):
        features = featurize_cls(examples, tokenizer, max_len, labels, pair=kind == "pair_cls")
    elif kind == "tag":
        features = featurize_tag(examples, tokenizer, max_len, labels)
    elif kind == "span":
        features = featurize_span(examples, tokenizer, max_len, doc_stride, max_query_len)
    elif kind == "multiple_choice":
        features = featurize_choice(examples, tokenizer, max_len)
    else:
        features = featurize_retrieval(examples, tokenizer, max_len)
    for k, f in enumerate(features):
        f["feature_index"] = k
    return features


def feature_length(feature: dict) -> int:
    """Tokens of a feature (its longest choice for multiple choice): the sampler groups by this."""
    ids = feature["input_ids"]
    return max(len(s) for s in ids) if ids and isinstance(ids[0], list) else len(ids)


# --- batches ---------------------------------------------------------------------------------------------

_PAD_VALUES = {"label": IGNORE, "word_ids": -1, "context_mask": 0}
_SCALAR_KEYS = ("label", "start_position", "end_position", "example_index", "feature_index", "side",
                "sentence_index")


def _pad_2d(rows: list[list[int]], value: int, T: int) -> torch.Tensor:
    out = torch.full((len(rows), T), value, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
    return out


def collate(features: Sequence[dict], pad_id: int) -> dict[str, torch.Tensor]:
    """Stack features into int64 tensors, padded to the longest sequence in the batch.

    input_ids/attention_mask (B, T), or (B, N, T) for multiple choice; per-token keys (label lists,
    word_ids, context_mask) (B, T) padded with -100 / -1 / 0; scalar keys (B,). "offsets" is not a
    tensor and stays with the features (decode_spans reads it there).
    """
    if not features:
        raise ValueError("collate() needs at least one feature")
    first = features[0]
    if isinstance(first["input_ids"][0], list):  # multiple choice
        n = {len(f["input_ids"]) for f in features}
        if len(n) != 1:
            raise ValueError(f"multiple choice batch mixes choice counts {sorted(n)}; batch equal counts only")
        T = max(feature_length(f) for f in features)
        rows = [s for f in features for s in f["input_ids"]]
        ids = _pad_2d(rows, pad_id, T).view(len(features), n.pop(), T)
        mask = _pad_2d([[1] * len(s) for s in rows], 0, T).view_as(ids)
    else:
        T = max(len(f["input_ids"]) for f in features)
        ids = _pad_2d([f["input_ids"] for f in features], pad_id, T)
        mask = _pad_2d([[1] * len(f["input_ids"]) for f in features], 0, T)
    batch = {"input_ids": ids, "attention_mask": mask}
    for key in first:
        if key in ("input_ids", "offsets"):
            continue
        if isinstance(first[key], list):
            batch[key] = _pad_2d([f[key] for f in features], _PAD_VALUES.get(key, 0), T)
        elif key in _SCALAR_KEYS:
            batch[key] = torch.tensor([f[key] for f in features], dtype=torch.long)
    return batch


# --- predictions back to examples -----------------------------------------------------------------------

def stitch_tags(examples: Sequence[TagExample], features: Sequence[dict],
                pred_ids_per_feature: Sequence) -> list[list[int]]:
    """Predicted label ids per word of each example, read at the owned first sub-tokens of its windows.

    pred_ids_per_feature[k] holds one id per token of features[k] (longer rows, e.g. padded, are fine).
    Raises ValueError unless every word is predicted exactly once.
    """
    if len(features) != len(pred_ids_per_feature):
        raise ValueError(f"{len(features)} features but {len(pred_ids_per_feature)} prediction rows")
    out: list[list[int | None]] = [[None] * len(ex.words) for ex in examples]
    for f, preds in zip(features, pred_ids_per_feature):
        preds = np.asarray(preds.cpu() if isinstance(preds, torch.Tensor) else preds)
        if len(preds) < len(f["word_ids"]):
            raise ValueError(f"feature {f.get('feature_index')}: {len(preds)} predictions for "
                             f"{len(f['word_ids'])} tokens")
        words = out[f["example_index"]]
        for pos, w in enumerate(f["word_ids"]):
            if w >= 0:
                if words[w] is not None:
                    raise ValueError(f"example {examples[f['example_index']].id}: word {w} predicted twice")
                words[w] = int(preds[pos])
    for ex, words in zip(examples, out):
        missing = [w for w, p in enumerate(words) if p is None]
        if missing:
            raise ValueError(f"example {ex.id}: {len(missing)} word(s) without a prediction, first {missing[:5]}")
    return out


def decode_spans(examples: Sequence[SpanExample], features: Sequence[dict], start_logits: Sequence,
                 end_logits: Sequence, n_best: int = 20, max_answer_len: int = 30,
                 allow_null: bool = False) -> list[str]:
    """Best answer text per example over all of its windows ("" when nothing valid, or null wins).

    start_logits[k] / end_logits[k]: one score per token of features[k] (padded rows are fine). Per
    window, the n_best start and end tokens inside the context give candidates with start <= end and
    at most max_answer_len tokens, scored start + end logit; the best over all windows wins, mapped to
    the context through the offsets. allow_null (SQuAD v2): "" when the null score (the lowest over the
    windows of start + end logit at `<s>`) beats the best span.
    """
    if not len(features) == len(start_logits) == len(end_logits):
        raise ValueError(f"{len(features)} features, {len(start_logits)} start and {len(end_logits)} end rows")
    best: list[tuple[float, str]] = [(-np.inf, "")] * len(examples)
    null: list[float] = [np.inf] * len(examples)
    for f, s_row, e_row in zip(features, start_logits, end_logits):
        T = len(f["input_ids"])
        s = np.asarray(s_row.float().cpu() if isinstance(s_row, torch.Tensor) else s_row, dtype=np.float64)[:T]
        e = np.asarray(e_row.float().cpu() if isinstance(e_row, torch.Tensor) else e_row, dtype=np.float64)[:T]
        if len(s) < T or len(e) < T:
            raise ValueError(f"feature {f.get('feature_index')}: logits shorter than its {T} tokens")
        i = f["example_index"]
        null[i] = min(null[i], s[0] + e[0])
        ctx = np.flatnonzero(np.asarray(f["context_mask"]))
        if len(ctx) == 0:
            continue
        starts = ctx[np.argsort(-s[ctx], kind="stable")[:n_best]]
        ends = ctx[np.argsort(-e[ctx], kind="stable")[:n_best]]
        for a in starts:
            for b in ends:
                if b < a or b - a + 1 > max_answer_len:
                    continue
                score = s[a] + e[b]
                if score > best[i][0]:
                    (c0, _), (_, c1) = f["offsets"][a], f["offsets"][b]
                    best[i] = (score, examples[i].context[c0:c1])
    missing = [ex.id for ex, n in zip(examples, null) if n == np.inf]
    if missing:
        raise ValueError(f"{len(missing)} example(s) without any feature, first {missing[:5]}")
    return ["" if allow_null and null[i] > score else text for i, (score, text) in enumerate(best)]
