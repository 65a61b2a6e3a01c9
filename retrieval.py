"""Sentence retrieval with XLM-R: BUCC 2018 bitext mining and Tatoeba, kNN through FAISS.

    python retrieval.py --ckpt runs/mnli_large --task tatoeba --all-langs --data-dir data/xtreme
    python retrieval.py --ckpt runs/mnli_large --task bucc2018 --langs de,fr --layer all --results results/runs.csv

Building blocks (numpy float32 in, plain Python out), usable without a model:
    knn(x, y, k)                         exact cosine kNN (FAISS IndexFlatIP on L2-normalized copies; GPU if seen)
    margin_scores(sims, ids, x_mean, y_mean)   ratio margin of kNN candidates
    mine(src_emb, tgt_emb, k=4)          1-to-1 pairs by margin, best first, before any threshold
    tatoeba_accuracy(src_emb, tgt_emb)   fraction (0-1) of rows i whose nearest tgt row is row i
    bucc_f1(candidates, gold, dev_candidates, dev_gold)   F1 at the dev-tuned threshold, and tuned on split
    embed(model, tokenizer, sents, layer, pool, batch_size, max_len, device)   sentence vectors of a layer

Method (Artetxe & Schwenk 2019, as XTREME and jiant use it; see REFERENCE.md "Retrieval"):
- A sentence is the mean of one layer's hidden states over its tokens, `<s>` and `</s>` included (or the `<s>`
  state with --pool cls). hidden_states[0] is the embeddings output. The default layer is 14 for a 24-layer
  model and scales with depth: round(14 * num_layers / 24) (7 for base, 1 for the 2-layer test model).
- Ratio margin: score(x, y) = cos(x, y) / ((mean_k cos(x, N_k(x)) + mean_k cos(y, N_k(y))) / 2), N_k from
  exact kNN in both directions, k = 4. Candidates = each source's best target by margin among its k
  neighbours, union each target's best source; sorted by score (ties by index), kept greedily 1-to-1.
- BUCC has repeated sentences: each side is deduplicated by text before embedding (`mine_bitext`), mining runs
  on the unique sentences, and a mined pair of texts expands to every (src_id, tgt_id) with those texts.
- BUCC F1 (data.metrics.bucc_f1): the threshold is tuned on dev and applied to test (metric `f1`); the F1 with
  the threshold tuned on the scored split itself is optimistic and written as `f1_tuned_on_split`. When the
  test split has no gold (XTREME's download deletes it), only dev's `f1_tuned_on_split` exists.
- Tatoeba: metric `accuracy` is xx->en (XTREME's direction), `accuracy_en_to_xx` the reverse; x100.
- With --layer all, one forward pass gives every layer; metrics are then named `<metric>_layer<N>`.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

DEFAULT_LAYER_24 = 14  # XTREME / jiant: hidden_states[14] of XLM-R Large
QUERY_CHUNK = 8192  # queries per FAISS search call: bounds the (chunk, k) buffers and the GPU's temporaries


# --- kNN and margins (numpy in, numpy out) --------------------------------------------------------------

def _as_matrix(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array (n, dim), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"{name}: expected floating-point embeddings, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: embeddings contain NaN or inf")
    return a


def normalize(a: np.ndarray) -> np.ndarray:
    """Row-wise L2-normalized float32 copy (C-contiguous, as FAISS wants); zero rows stay zero."""
    a = np.array(a, dtype=np.float32, order="C", copy=True)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    np.divide(a, norms, out=a, where=norms > 0)
    return a


def _flat_ip_index(dim: int):
    """An exact inner-product index, on every GPU FAISS sees, else on the CPU."""
    import faiss  # imported here: the module imports without FAISS for its non-kNN parts

    index = faiss.IndexFlatIP(dim)
    if hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0:
        index = faiss.index_cpu_to_all_gpus(index)
    return index


def knn(x, y, k: int, query_chunk: int = QUERY_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine kNN: for each row of x, the k rows of y most similar to it, best first.

    x (n, d), y (m, d) float arrays, 1 <= k <= m. Returns (sims (n, k) float32, ids (n, k) int64).
    Both sides are L2-normalized copies, so inner product = cosine. Queries go to FAISS `query_chunk`
    rows at a time (memory, not results, depends on it). The only FAISS caller in the project.
    """
    x, y = _as_matrix(x, "x"), _as_matrix(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"knn: x has dimension {x.shape[1]} but y has {y.shape[1]}")
    if not 1 <= k <= y.shape[0]:
        raise ValueError(f"knn: k={k} must be between 1 and the number of rows of y ({y.shape[0]})")
    if query_chunk < 1:
        raise ValueError(f"knn: query_chunk={query_chunk} must be positive")
    index = _flat_ip_index(y.shape[1])
    index.add(normalize(y))
    sims = np.empty((x.shape[0], k), dtype=np.float32)
    ids = np.empty((x.shape[0], k), dtype=np.int64)
    for start in range(0, x.shape[0], query_chunk):
        q = normalize(x[start:start + query_chunk])  # normalize per chunk: never a second full copy of x
        sims[start:start + len(q)], ids[start:start + len(q)] = index.search(q, k)
    return sims, ids


def margin_scores(sims: np.ndarray, ids: np.ndarray, x_mean: np.ndarray, y_mean: np.ndarray) -> np.ndarray:
    """Ratio margin of each kNN candidate: cos(x, y) / ((x_mean[x] + y_mean[y]) / 2).

    sims, ids (n, k): kNN of the n query rows x among the rows y; x_mean (n,) = mean cosine of each x to its
    k neighbours among y; y_mean (m,) = mean cosine of each y to its k neighbours among x. Returns (n, k).
    """
    sims, ids = np.asarray(sims), np.asarray(ids)
    x_mean, y_mean = np.asarray(x_mean), np.asarray(y_mean)
    if sims.shape != ids.shape or sims.ndim != 2 or x_mean.shape != (sims.shape[0],) or y_mean.ndim != 1:
        raise ValueError(f"margin_scores: shapes sims {sims.shape}, ids {ids.shape}, x_mean {x_mean.shape}, "
                         f"y_mean {y_mean.shape} do not fit (n, k), (n, k), (n,), (m,)")
    return sims / ((x_mean[:, None] + y_mean[ids]) / 2)


def mine(src_emb, tgt_emb, k: int = 4) -> list[tuple[int, int, float]]:
    """Margin-based bitext mining: 1-to-1 (src_index, tgt_index, score) pairs, best score first, no threshold.

    Candidates are every source's best target by margin among its k nearest targets, plus every target's
    best source among its k nearest sources; they are sorted by score (ties: lower src, then tgt index first)
    and kept greedily when neither side is taken yet. A pair found in both directions is one candidate.
    """
    src, tgt = _as_matrix(src_emb, "src_emb"), _as_matrix(tgt_emb, "tgt_emb")
    if k > min(len(src), len(tgt)):
        raise ValueError(f"mine: k={k} exceeds the smaller side ({len(src)} source, {len(tgt)} target rows)")
    fwd_sims, fwd_ids = knn(src, tgt, k)  # (n_src, k): targets near each source
    bwd_sims, bwd_ids = knn(tgt, src, k)  # (n_tgt, k): sources near each target
    src_mean, tgt_mean = fwd_sims.mean(axis=1), bwd_sims.mean(axis=1)
    fwd = margin_scores(fwd_sims, fwd_ids, src_mean, tgt_mean)
    bwd = margin_scores(bwd_sims, bwd_ids, tgt_mean, src_mean)
    fwd_best, bwd_best = fwd.argmax(axis=1), bwd.argmax(axis=1)
    n_src, n_tgt = len(src), len(tgt)
    cand_src = np.concatenate([np.arange(n_src), bwd_ids[np.arange(n_tgt), bwd_best]])
    cand_tgt = np.concatenate([fwd_ids[np.arange(n_src), fwd_best], np.arange(n_tgt)])
    cand_score = np.concatenate([fwd[np.arange(n_src), fwd_best], bwd[np.arange(n_tgt), bwd_best]])
    order = np.lexsort((cand_tgt, cand_src, -cand_score))  # last key sorts first: score desc, then indices
    taken_src = np.zeros(n_src, dtype=bool)
    taken_tgt = np.zeros(n_tgt, dtype=bool)
    pairs = []
    for i in order:  # greedy 1-to-1; the second copy of a pair found both ways is skipped here
        s, t = cand_src[i], cand_tgt[i]
        if not taken_src[s] and not taken_tgt[t]:
            taken_src[s] = taken_tgt[t] = True
            pairs.append((int(s), int(t), float(cand_score[i])))
    return pairs


def tatoeba_accuracy(src_emb, tgt_emb) -> float:
    """Fraction (0-1) of source rows i whose nearest target row (cosine) is row i; line i <-> line i."""
    src, tgt = _as_matrix(src_emb, "src_emb"), _as_matrix(tgt_emb, "tgt_emb")
    if len(src) != len(tgt):
        raise ValueError(f"tatoeba_accuracy: {len(src)} source rows but {len(tgt)} target rows; "
                         "line i of one side must be the translation of line i of the other")
    _, ids = knn(src, tgt, 1)
    return float(np.mean(ids[:, 0] == np.arange(len(src))))


# --- BUCC: sentences -> id pairs -> F1 ------------------------------------------------------------------

def unique_sentences(ids: Sequence[str], sents: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Deduplicate by text: (unique texts in first-seen order, the ids of each unique text)."""
    index: dict[str, int] = {}
    texts: list[str] = []
    owners: list[list[str]] = []
    for sid, text in zip(ids, sents, strict=True):
        j = index.setdefault(text, len(texts))
        if j == len(texts):
            texts.append(text)
            owners.append([])
        owners[j].append(sid)
    return texts, owners


def expand_pairs(pairs, src_owners: list[list[str]], tgt_owners: list[list[str]]) -> list[tuple[str, str, float]]:
    """Mined pairs of unique sentences -> (src_id, tgt_id, score) for every id holding those texts."""
    return [(s_id, t_id, score) for s, t, score in pairs for s_id in src_owners[s] for t_id in tgt_owners[t]]


def mine_bitext(bitext, embed_fn, k: int = 4) -> list[tuple[str, str, float]]:
    """Mine a data.examples.Bitext: dedupe each side, embed the unique sentences, mine, expand to ids.

    embed_fn(list[str]) -> (n, d) array. Returns candidates (src_id, tgt_id, score), best first.
    """
    src_texts, src_owners = unique_sentences(bitext.src_ids, bitext.src)
    tgt_texts, tgt_owners = unique_sentences(bitext.tgt_ids, bitext.tgt)
    pairs = mine(embed_fn(src_texts), embed_fn(tgt_texts), k=k)
    return expand_pairs(pairs, src_owners, tgt_owners)


def bucc_f1(candidates, gold, dev_candidates=None, dev_gold=None) -> dict[str, float]:
    """BUCC F1 of the scored split's candidates (src_id, tgt_id, score) against its gold pairs; 0-100.

    Always: `f1_tuned_on_split`, `precision_tuned_on_split`, `recall_tuned_on_split` with the threshold that
    maximizes F1 on this very split (optimistic; what jiant reports) and that `threshold_tuned_on_split`.
    With dev candidates and gold: `f1`, `precision`, `recall` at the threshold tuned on dev (`threshold`),
    the honest figure.
    """
    from data.metrics import bucc_f1 as score_bucc

    if (dev_candidates is None) != (dev_gold is None):
        raise ValueError("bucc_f1: pass dev candidates and dev gold together")
    own = score_bucc(set(gold), candidates)
    out = {f"{m}_tuned_on_split": own[m] for m in ("f1", "precision", "recall", "threshold")}
    if dev_candidates is not None:
        threshold = score_bucc(set(dev_gold), dev_candidates)["threshold"]
        out.update(score_bucc(set(gold), candidates, threshold=threshold))
    return out
