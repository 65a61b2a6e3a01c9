"""Sentence retrieval with XLM-R: BUCC 2018 bitext mining and Tatoeba, kNN through FAISS.

    python retrieval.py --ckpt runs/mnli_large/intermediate/best --task tatoeba --all-langs   # data: datasets/ (or --data-dir)
    python retrieval.py --ckpt runs/mnli_large/intermediate/best --task bucc2018 --langs de,fr --layer all --results my.csv

Building blocks (numpy float32 in, plain Python out), usable without a model:
    knn(x, y, k)                         exact cosine kNN (FAISS IndexFlatIP on L2-normalized copies; GPU if seen)
    margin_scores(sims, ids, x_mean, y_mean)   ratio margin of kNN candidates
    mine(src_emb, tgt_emb, k=4)          1-to-1 pairs by margin, best first, before any threshold
    tatoeba_accuracy(query_emb, index_emb)   fraction (0-1) of query rows i whose nearest index row is row i
    bucc_f1(candidates, gold, dev_candidates, dev_gold)   F1 at the dev-tuned threshold, and tuned on split
    embed(model, tokenizer, sents, layer, pool, batch_size, max_len, device)   sentence vectors of a layer

Method (Artetxe & Schwenk 2019, as XTREME and jiant use it; see REFERENCE.md "Retrieval"):
- A sentence is the mean of one layer's hidden states over its tokens, `<s>` and `</s>` included (or the `<s>`
  state with --pool cls). hidden_states[0] is the embeddings output. The default layer is 14 for a 24-layer
  model and scales with depth: round(14 * num_layers / 24) (7 for base, 1 for the 2-layer test model).
- Ratio margin: score(x, y) = cos(x, y) / ((mean_k cos(x, N_k(x)) + mean_k cos(y, N_k(y))) / 2), N_k from
  exact kNN in both directions, k = 4. Candidates = each source's best target by margin among its k
  neighbours, union each target's best source; sorted by score (ties by index), kept greedily 1-to-1.
- BUCC has repeated sentences: each side is deduplicated by text before embedding (`mine_bitext`) and mining runs
  on the unique sentences, as XTREME's mine_bitext does. A mined pair becomes a candidate (src_id, tgt_id) only
  when both texts occur under one id: a text repeated under several ids is left out of the id maps, so pairs with
  it are not scored, while the gold keeps its pairs (XTREME's utils_retrieve.read_sent2id; repeated = equal after
  stripping, as there); pairs with a margin <= 0 are not written by XTREME's miner either.
- BUCC F1 (data.metrics.bucc_f1): the threshold is tuned on dev and applied to test (metric `f1`); the F1 with
  the threshold tuned on the scored split itself is optimistic and written as `f1_tuned_on_split`. When the
  test split has no gold (XTREME's download deletes it), only dev's `f1_tuned_on_split` exists. Tied margins at
  the threshold are kept or dropped together, and the threshold is chosen among cuts between tie groups (the
  module docstring of data/metrics.py says how and why this departs from XTREME's bucc_optimize).
- Tatoeba: metric `accuracy` queries with the English sentences and retrieves among the non-English ones, as
  XTREME (third_party/evaluate_retrieval.py: utils_retrieve.similarity_search(x=non-English, y=English) indexes x
  and searches with y) and jiant (jiant/tasks/evaluate/core.py, TatoebaEvaluationScheme) do, so it is the number
  published tables hold; `accuracy_query_xx` is the other direction (non-English queries). x100. The primary
  metric is the registry's (data/tasks.py, tatoeba's primary_metric).
- With --layer all, one forward pass gives every layer; metrics are then named `<metric>_layer<N>`. The
  vectors of every layer are kept: (L+1) x sentences x H float32 (BUCC-size sides with the large model:
  tens of GiB; sweep on a subset of languages or pick layers one at a time there).
- Pre-LN models (XL, XXL): every pooled layer goes through the model's final LayerNorm first (`embed`'s
  docstring says why); the default layer scales with depth as above (21 of 36 for XL, 28 of 48 for XXL).
- --dtype bf16 casts the weights at load (XL/XXL on one GPU); without --batch-size the batch comes from the free
  GPU memory (xlmr/memory.py's formula, counting the L+1 hidden states kept), or is the fixed default on CPU.
- A side with fewer than k sentences lends all of them as neighbours (as the XTREME/LASER scripts do).
- The results rows' `source` is `<ckpt>;layer=<N|all>;pool=<mean|cls>`; their model / intermediate_task /
  seed come from the checkpoint's head.json (or --model / --intermediate-task / --seed), `none` without one.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from common.device import pick_device
from config import DATA_LAYOUTS, DataConfig, EvalConfig, RetrievalConfig, default_max_len
from data import metrics
from data.results import append_or_save_aside, check_results_path, format_table, result_rows
from data.tasks import get_task, parse_langs
from xlmr.checkpoint import check_checkpoint_dir, find_head_meta, load_pretrained, num_layers
from xlmr.memory import pick_batch_size

RETRIEVAL, EVAL, DATA = RetrievalConfig(), EvalConfig(), DataConfig()  # the command line's defaults
QUERY_CHUNK = 8192  # queries per FAISS search call: bounds the (chunk, k) buffers and the GPU's temporaries
DB_BLOCK = 16384  # targets per BLAS block of FAISS's CPU search (its default is 1024)


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
    import faiss

    index = _flat_ip_index(y.shape[1])
    index.add(normalize(y))
    sims = np.empty((x.shape[0], k), dtype=np.float32)
    ids = np.empty((x.shape[0], k), dtype=np.int64)
    # CPU search multiplies (4096 queries x db_bs targets) blocks: bigger blocks than FAISS's default 1024 mean
    # 16x fewer OpenMP regions (each ends in a barrier, slow on a busy machine) for a 256 MiB block buffer.
    saved_bs = faiss.cvar.distance_compute_blas_database_bs
    faiss.cvar.distance_compute_blas_database_bs = DB_BLOCK
    try:
        for start in range(0, x.shape[0], query_chunk):
            q = normalize(x[start:start + query_chunk])  # normalize per chunk: never a second full copy of x
            sims[start:start + len(q)], ids[start:start + len(q)] = index.search(q, k)
    finally:
        faiss.cvar.distance_compute_blas_database_bs = saved_bs
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

    Candidates are every source's best target by margin among its k nearest targets (all targets when there
    are fewer than k; likewise for sources), plus every target's
    best source among its k nearest sources; they are sorted by score (ties: lower src, then tgt index first)
    and kept greedily when neither side is taken yet. A pair found in both directions is one candidate.
    """
    src, tgt = _as_matrix(src_emb, "src_emb"), _as_matrix(tgt_emb, "tgt_emb")
    if k < 1:
        raise ValueError(f"mine: k={k} must be at least 1")
    # a side with fewer than k rows lends all of them (as the XTREME and LASER scripts do)
    fwd_sims, fwd_ids = knn(src, tgt, min(k, len(tgt)))  # (n_src, k): targets near each source
    bwd_sims, bwd_ids = knn(tgt, src, min(k, len(src)))  # (n_tgt, k): sources near each target
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


def tatoeba_accuracy(query_emb, index_emb) -> float:
    """Fraction (0-1) of query rows i whose nearest index row (cosine) is row i; line i <-> line i.
    XTREME's and jiant's Tatoeba: the English sentences are the queries, the other language's the index."""
    queries, index = _as_matrix(query_emb, "query_emb"), _as_matrix(index_emb, "index_emb")
    if len(queries) != len(index):
        raise ValueError(f"tatoeba_accuracy: {len(queries)} query rows but {len(index)} index rows; "
                         "line i of one side must be the translation of line i of the other")
    _, ids = knn(queries, index, 1)
    return float(np.mean(ids[:, 0] == np.arange(len(queries))))


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


def single_owners(texts: Sequence[str], owners: list[list[str]]) -> list[str | None]:
    """The id of each unique text, or None when its text (stripped) occurs under several ids: XTREME's
    read_sent2id drops every repeated sentence from its text -> id map."""
    count: dict[str, int] = {}
    for text, ids in zip(texts, owners, strict=True):
        count[text.strip()] = count.get(text.strip(), 0) + len(ids)
    return [ids[0] if count[text.strip()] == 1 else None for text, ids in zip(texts, owners)]


def candidate_ids(pairs, src_ids: list[str | None], tgt_ids: list[str | None]) -> list[tuple[str, str, float]]:
    """Mined pairs of unique sentences -> (src_id, tgt_id, score), leaving out pairs with a repeated text and pairs
    whose margin is not positive (XTREME's mine_bitext writes a pair only when its score > 0, its threshold)."""
    return [(src_ids[s], tgt_ids[t], score) for s, t, score in pairs
            if src_ids[s] is not None and tgt_ids[t] is not None and score > 0]


def mine_bitext(bitext, embed_fn, k: int = 4) -> list[tuple[str, str, float]]:
    """Mine a data.examples.Bitext: dedupe each side, embed the unique sentences, mine, map to ids (candidate_ids).

    embed_fn(list[str]) -> (n, d) array. Returns candidates (src_id, tgt_id, score), best first.
    """
    return mine_layers(bitext, lambda texts: embed_fn(texts)[None], k, 1)[0]


def bucc_f1(candidates, gold, dev_candidates=None, dev_gold=None) -> dict[str, float]:
    """BUCC F1 of the scored split's candidates (src_id, tgt_id, score) against its gold pairs; 0-100.

    Always: `f1_tuned_on_split`, `precision_tuned_on_split`, `recall_tuned_on_split` with the threshold that
    maximizes F1 on this very split (optimistic; what jiant reports) and that `threshold_tuned_on_split`.
    With dev candidates and gold: `f1`, `precision`, `recall` at the threshold tuned on dev (`threshold`),
    the honest figure.
    """
    if (dev_candidates is None) != (dev_gold is None):
        raise ValueError("bucc_f1: pass dev candidates and dev gold together")
    own = metrics.bucc_f1(set(gold), candidates)
    out = {f"{m}_tuned_on_split": own[m] for m in ("f1", "precision", "recall", "threshold")}
    if dev_candidates is not None:
        threshold = metrics.bucc_f1(set(dev_gold), dev_candidates)["threshold"]
        out.update(metrics.bucc_f1(set(gold), candidates, threshold=threshold))
    return out


# --- sentence embeddings from an encoder ---------------------------------------------------------------

def default_layer(num_layers: int) -> int:
    """XTREME's layer 14 of 24, scaled to the model's depth: round(14 * num_layers / 24)."""
    return round(RETRIEVAL.layer_of_24 * num_layers / 24)


def embed(model, tokenizer, sents: Sequence[str], layer: int | Sequence[int] | None = None, pool: str = "mean",
          batch_size: int = EVAL.batch_size, max_len: int = default_max_len("retrieval"), device="cpu") -> np.ndarray:
    """Sentence vectors: pooled hidden states of `layer` -> float32 (N, H); a list of layers -> (len, N, H).

    layer: index into the L+1 hidden states (0 = embeddings output); None = default_layer(L). pool: "mean" over
    every token of the sentence, <s> and </s> included, or "cls" (the <s> state). Sentences are encoded with
    <s> ... </s> and truncated to max_len; batches are sorted by length (less padding); one forward gives every
    layer. inference_mode; bf16 autocast on CUDA.

    Pre-LN models (XL, XXL): their intermediate hidden states are the un-normalised residual stream, whose scale
    grows with depth and is dominated by a few large dimensions; every pooled layer is therefore put through the
    model's final LayerNorm first, as the last layer already is (`XLMREncoder.final_layer_norm`), so each layer is
    pooled on the scale the model's output has. Post-LN states are used as they are.
    """
    depth = model.cfg.num_layers
    layers = [default_layer(depth)] if layer is None else [layer] if isinstance(layer, int) else list(layer)
    if not layers or any(not isinstance(i, int) or not 0 <= i <= depth for i in layers):
        raise ValueError(f"embed: layer {layer!r} out of range: hidden states 0..{depth} exist "
                         f"(0 = embeddings output)")
    if pool not in ("mean", "cls"):
        raise ValueError(f"embed: pool must be 'mean' or 'cls', got {pool!r}")
    if batch_size < 1:
        raise ValueError(f"embed: batch_size={batch_size} must be positive")
    if isinstance(sents, str):
        raise TypeError("embed: pass a list of sentences, not a single string")
    device = torch.device(device)
    seqs = [tokenizer.build_inputs(ids, max_len=max_len) for ids in tokenizer.encode(list(sents))]
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))  # longest first: a too-big batch fails early
    out = np.empty((len(layers), len(seqs), model.cfg.hidden_size), dtype=np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                input_ids, mask = tokenizer.pad([seqs[i] for i in idx])
                input_ids, mask = input_ids.to(device), mask.to(device)
                states = model(input_ids, mask, output_hidden_states=True)  # L+1 x (B, T, H)
                for j, li in enumerate(layers):
                    h = states[li] if li == depth else model.final_layer_norm(states[li])  # identity when post-LN
                    h = h.float()
                    if pool == "cls":
                        vec = h[:, 0]
                    else:
                        m = mask.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
                        vec = (h * m).sum(dim=1) / m.sum(dim=1)
                    out[j, idx] = vec.cpu().numpy()
    finally:
        model.train(was_training)
    return out[0] if isinstance(layer, int) or layer is None else out


# --- the command line: score a checkpoint on every language of BUCC or Tatoeba ---------------------------

def read_bitext(task, data_dir, lang: str, split: str, layout: str | None = None):
    """The task reader's one Bitext for (lang, split)."""
    data = task.read(data_dir, lang, split, layout)
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(items) != 1 or not hasattr(items[0], "src_ids"):
        raise ValueError(f"{task.name} {lang} {split}: the reader returned {len(items)} items; expected one Bitext")
    return items[0]


def check_aligned(bitext, task_name: str, split: str) -> None:
    """Tatoeba's gold must be line i <-> line i (XTREME's download sorts the English side: not aligned)."""
    aligned = {(s, t) for s, t in zip(bitext.src_ids, bitext.tgt_ids, strict=True)}
    if len(bitext.src) != len(bitext.tgt) or bitext.gold is None or set(bitext.gold) != aligned:
        raise ValueError(f"{task_name} {bitext.lang} {split}: the two sides are not line-aligned translations "
                         f"({len(bitext.src)} vs {len(bitext.tgt)} lines); Tatoeba needs line i <-> line i")


def _name(metric: str, layer: int, sweep: bool) -> str:
    return f"{metric}_layer{layer}" if sweep else metric


def score_tatoeba_layers(bitext, embed_fn, layers: list[int], sweep: bool) -> dict[str, float]:
    """accuracy (English queries, XTREME's and jiant's direction) and accuracy_query_xx (non-English queries),
    x100, per layer. The sides must be line-aligned (line i of each is one pair), as the aligned readers give them."""
    if bitext.src_ids != bitext.tgt_ids:
        raise ValueError(f"{bitext.id}: the sides are not line-aligned (ids differ); aligned retrieval scores line i "
                         "against line i")
    xx, en = embed_fn(list(bitext.src)), embed_fn(list(bitext.tgt))  # (layers, n, H); src = non-English side
    out = {}
    for j, layer in enumerate(layers):
        out[_name("accuracy", layer, sweep)] = 100 * tatoeba_accuracy(en[j], xx[j])
        out[_name("accuracy_query_xx", layer, sweep)] = 100 * tatoeba_accuracy(xx[j], en[j])
    return out


def mine_layers(bitext, embed_fn, k: int, n_layers: int) -> list[list[tuple[str, str, float]]]:
    """mine_bitext for several layers from one embedding pass: a candidate list per layer."""
    src_texts, src_owners = unique_sentences(bitext.src_ids, bitext.src)
    tgt_texts, tgt_owners = unique_sentences(bitext.tgt_ids, bitext.tgt)
    src_ids, tgt_ids = single_owners(src_texts, src_owners), single_owners(tgt_texts, tgt_owners)
    src, tgt = embed_fn(src_texts), embed_fn(tgt_texts)  # (layers, n_unique, H)
    return [candidate_ids(mine(src[j], tgt[j], k=k), src_ids, tgt_ids) for j in range(n_layers)]


def score_bucc_layers(bitext, dev_bitext, embed_fn, layers: list[int], sweep: bool, k: int) -> tuple[dict, dict]:
    """(percent metrics, thresholds) per layer; see bucc_f1 for the metric names."""
    cands = mine_layers(bitext, embed_fn, k, len(layers))
    dev_cands = mine_layers(dev_bitext, embed_fn, k, len(layers)) if dev_bitext is not None else None
    scores, thresholds = {}, {}
    for j, layer in enumerate(layers):
        if dev_cands is None:
            res = bucc_f1(cands[j], bitext.gold)
        else:
            res = bucc_f1(cands[j], bitext.gold, dev_cands[j], dev_bitext.gold)
        for metric, value in res.items():
            (thresholds if metric.startswith("threshold") else scores)[_name(metric, layer, sweep)] = value
    return scores, thresholds


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", required=True, help="checkpoint directory (save_pretrained files; head optional)")
    p.add_argument("--task", required=True, help="a retrieval task: tatoeba or bucc2018")
    p.add_argument("--all-langs", action="store_true", help="every language of the task")
    p.add_argument("--langs", type=parse_langs, default=None, help="comma-separated languages, e.g. de,fr")
    p.add_argument("--data-dir", default=DATA.data_dir,
                   help=f"folder holding the task files (default: {DATA.data_dir}; env XSTILTS_DATA_DIR)")
    p.add_argument("--layout", default=DATA.layout, choices=DATA_LAYOUTS, help="data layout read (data.layout)")
    p.add_argument("--split", default=None, help="split to score (default: the task's eval_split, test)")
    p.add_argument("--layer", default=None,
                   help="hidden state index (0 = embeddings) or 'all'; default round(14 * num_layers / 24)")
    p.add_argument("--pool", choices=("mean", "cls"), default=RETRIEVAL.pool,
                   help=f"mean over tokens, or the <s> state (default {RETRIEVAL.pool})")
    p.add_argument("--k", type=int, default=RETRIEVAL.k, help=f"neighbours for the BUCC margin (default {RETRIEVAL.k})")
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"default: from the free GPU memory on CUDA (xlmr/memory.py), {EVAL.batch_size} on CPU")
    p.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32",
                   help="weights' dtype: fp32 (default) or bf16 (XL/XXL on one GPU: half the memory)")
    p.add_argument("--max-len", type=int, default=default_max_len("retrieval"),
                   help=f"default {default_max_len('retrieval')}")
    p.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    p.add_argument("--results", default=EVAL.results, help=f"results CSV to append to ({EVAL.results})")
    p.add_argument("--model", default=None, help="model name for the rows (default: head.json's, else the dir name)")
    p.add_argument("--intermediate-task", default=None,
                   help="intermediate task for the rows (default: from head.json, else none)")
    p.add_argument("--seed", type=int, default=None, help="seed for the rows (default: head.json's)")
    return p.parse_args(argv)


def resolve_layers(layer: str | None, num_layers: int, ckpt) -> tuple[list[int], bool]:
    """--layer -> (hidden-state indices, sweep?): None = the default layer, "all" = 0..num_layers, or one index."""
    if layer in (None, ""):
        return [default_layer(num_layers)], False
    if layer == "all":
        return list(range(num_layers + 1)), True
    try:
        index = int(layer)
    except ValueError:
        raise ValueError(f"--layer {layer!r}: expected a number or 'all'") from None
    if not 0 <= index <= num_layers:
        raise ValueError(f"--layer {index}: {ckpt} has hidden states 0..{num_layers} (0 = embeddings output)")
    return [index], False


def row_meta(args, ckpt: Path, task_name: str) -> dict:
    """Labels of the rows: the flags, else the checkpoint's head.json (or heads/*/head.json), else the
    directory name / none.

    An encoder fine-tuned on task T (after intermediate task I, or none) is used as is for retrieval; its
    intermediate task for the rows is I when set, else T (the checkpoint of an intermediate-task run).
    """
    meta = find_head_meta(ckpt)
    trained = meta.get("intermediate_task")
    if trained in (None, "", "none"):
        trained = meta.get("task") or "none"
    return {"model": args.model or meta.get("model") or ckpt.resolve().name,
            "intermediate_task": args.intermediate_task or trained,
            "target_task": task_name,
            "seed": args.seed if args.seed is not None else meta.get("seed")}


def run(argv=None) -> dict:
    """The command line's work; returns {lang: {metric: value}}. Bad input raises ValueError before any compute."""
    args = parse_args(argv)
    # every input check before any compute
    task = get_task(args.task)
    if task.kind != "retrieval":
        raise ValueError(f"retrieval.py scores retrieval tasks (tatoeba, bucc2018); {task.name} is {task.kind!r}: "
                         "use evaluate.py")
    langs = task.select_langs(args.langs, args.all_langs)
    split = args.split or task.eval_split
    task.check_gold(args.data_dir, langs, split)
    tune = bool(task.tune_split) and split != task.tune_split  # BUCC: the threshold is tuned on dev
    if tune:
        task.check_gold(args.data_dir, langs, task.tune_split)
    ckpt = check_checkpoint_dir(args.ckpt, need_head=False)
    if args.k < 1 or (args.batch_size is not None and args.batch_size < 1) or args.max_len < 3:
        raise ValueError(f"--k {args.k}, --batch-size {args.batch_size}, --max-len {args.max_len}: "
                         "k and batch size must be positive, max len at least 3")
    meta = row_meta(args, ckpt, task.name)
    depth = num_layers(ckpt)  # Hugging Face layout: check --layer against the depth before loading
    if depth is not None:
        resolve_layers(args.layer, depth, ckpt)
    elif args.layer not in (None, "", "all"):
        resolve_layers(args.layer, 10**6, ckpt)  # at least the syntax, before loading

    check_results_path(args.results)  # a folder, a malformed or unwritable file: said now, not after the mining
    device = pick_device(args.device)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    model, tokenizer = load_pretrained(ckpt, device=device, dtype=dtype)
    layers, sweep = resolve_layers(args.layer, model.cfg.num_layers, ckpt)
    batch_size = args.batch_size or pick_batch_size(model.cfg, device, args.max_len, EVAL.batch_size,
                                                    dtype_bytes=2 if device.type == "cuda" else dtype.itemsize,
                                                    keep_hidden_states=True)

    def embed_fn(texts):
        return embed(model, tokenizer, texts, layer=layers, pool=args.pool, batch_size=batch_size,
                     max_len=args.max_len, device=device)

    scores, thresholds = {}, {}
    for lang in langs:
        bitext = read_bitext(task, args.data_dir, lang, split, args.layout)
        if task.retrieval == "aligned":
            check_aligned(bitext, task.name, split)
            scores[lang] = score_tatoeba_layers(bitext, embed_fn, layers, sweep)
        else:  # "mining"
            dev = read_bitext(task, args.data_dir, lang, task.tune_split, args.layout) if tune else None
            scores[lang], thresholds[lang] = score_bucc_layers(bitext, dev, embed_fn, layers, sweep, args.k)
        print(f"{task.name} {lang} {split}: " + ", ".join(f"{m} {v:.2f}" for m, v in scores[lang].items()),
              file=sys.stderr)
    source = f"{ckpt};layer={'all' if sweep else layers[0]};pool={args.pool}"
    print(format_table(scores))
    for lang, th in thresholds.items():
        print(f"{lang} margin thresholds: " + ", ".join(f"{m} {v:.4f}" for m, v in th.items()))
    append_or_save_aside(args.results, result_rows(scores, meta, split, source))  # after printing: never lost
    print(f"{sum(len(v) for v in scores.values())} rows appended to {args.results}")
    return scores


def main(argv=None) -> None:
    try:
        run(argv)
    except ValueError as e:  # bad input: one clear line, no traceback
        sys.exit(f"retrieval.py: error: {e}")


if __name__ == "__main__":
    main()
