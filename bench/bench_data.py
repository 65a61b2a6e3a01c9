"""Benchmark of data/featurize.py and data/sampler.py: featurization throughput and tokens spent on padding.

    python bench/bench_data.py                  # ~20 s on 2 cores
    python bench/bench_data.py --n-pairs 5000 --n-squad 500 --repeats 1   # quick look

No download: a sentencepiece unigram model (2,000 pieces, a few seconds) is trained on synthetic text first, and the
examples are synthetic with realistic lengths (approximate published corpus statistics, [R] = not
re-checked here):
- XNLI-like pairs: premise ~22 words, hypothesis ~11 words on average (MultiNLI's reported means; XNLI's
  dev/test sentences come from the same genres), log-normal so there is a long tail of long premises.
- SQuAD-like questions: ~11 words; contexts ~120 words (SQuAD v1.1 paragraphs), log-normal with a tail
  past 384 sub-tokens so that the doc-stride windows are exercised.
Synthetic words come from a Zipfian vocabulary, which gives ~1.3 sub-tokens per word here: close to
XLM-R's ratio on English; languages that XLM-R splits more finely make sequences longer.

Printed:
1. featurize() throughput in examples/s, and its ratio to the bare batched sentencepiece encode of the
   same texts measured in the same run (the reference: what featurization adds on top of tokenizing).
2. Tokens processed per epoch when every batch is padded to max_len as the XTREME scripts do
   (128 / 256 for pairs, 384 for QA), against dynamic padding to the longest in the batch, in random
   batches and with LengthGroupedBatchSampler; the pad share of each, and the ratio (target >= 1.5x).
Timings are medians over --repeats runs; other processes on the machine make them noisy.
"""
from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.examples import Answer, PairExample, SpanExample  # noqa: E402
from data.featurize import feature_length, featurize  # noqa: E402
from data.sampler import LengthGroupedBatchSampler  # noqa: E402
from xlmr.checkpoint import SPM_FILE  # noqa: E402
from xlmr.tokenizer import XLMRTokenizer  # noqa: E402

SYLLABLES = ["ka", "to", "ri", "ne", "sa", "lo", "mi", "du", "pe", "ver", "stra", "en", "qu", "ch", "ll",
             "é", "ü", "ñ", "ion", "ment", "ung", "ar", "os", "is", "th", "sch", "ei", "au"]


def make_vocabulary(rng: np.random.Generator, size: int = 30000) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-words of 1-5 syllables and the cumulative Zipfian distribution (rank^-1.1) to draw them."""
    words = np.array(["".join(rng.choice(SYLLABLES, size=rng.integers(1, 6))) for _ in range(size)])
    p = 1.0 / np.arange(1, size + 1) ** 1.1
    return words, np.cumsum(p / p.sum())


def make_sentence(rng, vocab, cdf, n_words: int) -> str:
    idx = np.minimum(np.searchsorted(cdf, rng.random(max(1, n_words))), len(vocab) - 1)
    words = vocab[idx].tolist()
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", "?", "!", "."])


def lognormal_lengths(rng, n: int, mean_words: float, sigma: float, cap: int) -> np.ndarray:
    """Word counts with the given mean (log-normal: mean = exp(mu + sigma^2 / 2)), clipped to [1, cap]."""
    mu = math.log(mean_words) - sigma ** 2 / 2
    return np.clip(np.round(rng.lognormal(mu, sigma, size=n)), 1, cap).astype(int)


def train_tokenizer(tmp: Path, rng, vocab, p) -> XLMRTokenizer:
    import sentencepiece as spm

    lines = [make_sentence(rng, vocab, p, n) for n in lognormal_lengths(rng, 5000, 20, 0.5, 80)]
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=buf, vocab_size=2000,
                                   model_type="unigram", minloglevel=2, num_threads=2)
    path = tmp / SPM_FILE
    path.write_bytes(buf.getvalue())
    return XLMRTokenizer(path)


def make_pairs(rng, vocab, p, n: int) -> list[PairExample]:
    prem = lognormal_lengths(rng, n, 22, 0.55, 200)
    hyp = lognormal_lengths(rng, n, 11, 0.45, 60)
    labels = ("entailment", "neutral", "contradiction")
    return [PairExample(str(i), "xx", make_sentence(rng, vocab, p, a), make_sentence(rng, vocab, p, b),
                        labels[i % 3]) for i, (a, b) in enumerate(zip(prem, hyp))]


def make_squad(rng, vocab, p, n: int) -> list[SpanExample]:
    ctx_words = lognormal_lengths(rng, n, 120, 0.5, 700)
    q_words = lognormal_lengths(rng, n, 11, 0.35, 40)
    out = []
    for i, (nc, nq) in enumerate(zip(ctx_words, q_words)):
        sents, left = [], int(nc)
        while left > 0:
            k = min(left, int(rng.integers(8, 30)))
            sents.append(make_sentence(rng, vocab, p, k))
            left -= k
        context = " ".join(sents)
        words = context.split(" ")
        a = int(rng.integers(0, len(words)))
        b = min(len(words), a + int(rng.integers(1, 4)))
        start = len(" ".join(words[:a])) + (1 if a else 0)
        text = " ".join(words[a:b])
        out.append(SpanExample(str(i), "xx", make_sentence(rng, vocab, p, int(nq)), context,
                               (Answer(text, start),)))
    return out


def time_median(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def padding_report(name: str, lengths: list[int], max_len: int, batch_size: int, seed: int) -> float:
    """Print tokens processed per epoch under three padding schemes; return fixed / grouped."""
    n, real = len(lengths), sum(lengths)
    fixed = n * max_len  # every sequence padded to max_len, as the XTREME scripts do
    order = np.random.default_rng(seed).permutation(n)
    random_dyn = sum(len(b) * max(lengths[i] for i in b)
                     for b in (order[k:k + batch_size] for k in range(0, n, batch_size)))
    grouped = sum(len(b) * max(lengths[i] for i in b)
                  for b in LengthGroupedBatchSampler(lengths, batch_size, seed=seed))
    print(f"\n{name}: {n} features, batch {batch_size}, mean length {real / n:.1f} tokens "
          f"(p50 {int(np.median(lengths))}, p99 {int(np.percentile(lengths, 99))}, max {max(lengths)})")
    print(f"  {'scheme':44s} {'tokens':>11s} {'pad share':>9s} {'vs fixed':>9s}")
    for label, tokens in [(f"fixed: pad to max_len={max_len} (XTREME)", fixed),
                          ("dynamic: random batches, pad to longest", random_dyn),
                          ("dynamic: length-grouped sampler", grouped)]:
        print(f"  {label:44s} {tokens:11d} {1 - real / tokens:9.1%} {fixed / tokens:8.2f}x")
    return fixed / grouped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-pairs", type=int, default=20000, help="XNLI-like pair examples")
    ap.add_argument("--n-squad", type=int, default=2000, help="SQuAD-like questions")
    ap.add_argument("--batch-size", type=int, default=32, help="per-step batch (32 classification, 16 QA in jiant)")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats; the median is printed")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    vocab, p = make_vocabulary(rng)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        tok = train_tokenizer(Path(tmp), rng, vocab, p)
        print(f"sentencepiece unigram, {tok.vocab_size} ids, trained in {time.perf_counter() - t0:.1f}s")
        pairs = make_pairs(rng, vocab, p, args.n_pairs)
        squad = make_squad(rng, vocab, p, args.n_squad)
        words = sum(len(e.text_a.split()) + len(e.text_b.split()) for e in pairs)
        pieces = sum(len(x) for x in tok.encode([e.text_a for e in pairs] + [e.text_b for e in pairs]))
        print(f"{pieces / words:.2f} sub-tokens per word on the pairs")

        print(f"\nThroughput (median of {args.repeats}):")
        print(f"  {'task':34s} {'examples/s':>11s} {'encode-only ex/s':>17s} {'speed vs encode':>19s}")
        ratios = {}
        for name, kind, exs, max_len, texts in [
            ("XNLI-like pairs, max_len 128", "pair_cls", pairs, 128,
             lambda: tok.encode([e.text_a for e in pairs]) + tok.encode([e.text_b for e in pairs])),
            ("SQuAD-like, max_len 384, stride 128", "span", squad, 384,
             lambda: tok.encode([e.question for e in squad]) + tok.encode_with_offsets([e.context for e in squad])),
        ]:
            labels = ("entailment", "neutral", "contradiction") if kind == "pair_cls" else None
            t_feat, feats = time_median(lambda: featurize(kind, exs, tok, max_len, labels=labels), args.repeats)
            t_enc, _ = time_median(texts, args.repeats)
            print(f"  {name:34s} {len(exs) / t_feat:11.0f} {len(exs) / t_enc:17.0f} {t_enc / t_feat:18.2f}x")

        print("\nTokens processed per epoch (padding included):")
        for max_len in (128, 256):
            feats = featurize("pair_cls", pairs, tok, max_len, labels=("entailment", "neutral", "contradiction"))
            ratios[f"pairs@{max_len}"] = padding_report(
                f"XNLI-like pairs, max_len {max_len}", [feature_length(f) for f in feats], max_len,
                args.batch_size, args.seed)
        feats = featurize("span", squad, tok, 384)
        ratios["squad@384"] = padding_report(
            "SQuAD-like windows, max_len 384", [feature_length(f) for f in feats], 384, args.batch_size // 2,
            args.seed)
        print("\nFixed-length padding / length-grouped dynamic padding: "
              + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
              + f"  (target >= 1.5x: {'met' if min(ratios.values()) >= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
