"""XLM-R's tokenizer: sentencepiece with fairseq's dictionary ids.

    tok = XLMRTokenizer("xlmr.large/sentencepiece.bpe.model")
    batch = tok(["Hello"], pairs=["Bonjour"], max_len=128)   # {"input_ids", "attention_mask"}

Id scheme (the one the published checkpoints use): fairseq puts `<s>`=0 `<pad>`=1 `</s>`=2 `<unk>`=3 in
front, so every sentencepiece id is shifted by one (sentencepiece's own `<unk>`, id 0, becomes 3), and
`<mask>` is the last id. With V sentencepiece pieces the vocabulary has V + 2 ids.
Inputs: `<s> A </s>` for one segment, `<s> A </s></s> B </s>` for a pair.

Special-token strings inside the text ("<mask>") are not parsed: text is text.
Subclasses (a toy tokenizer in tests) override `encode`, `encode_with_offsets` and `vocab_size` only.
"""
from __future__ import annotations

import os
import unicodedata

import torch

BOS, PAD, EOS, UNK = 0, 1, 2, 3  # fairseq's dictionary puts these first
FAIRSEQ_OFFSET = 1  # sentencepiece id i (i > 0) is dictionary id i + 1


class XLMRTokenizer:
    bos_id, pad_id, eos_id, unk_id = BOS, PAD, EOS, UNK

    def __init__(self, spm_path: str | os.PathLike):
        import sentencepiece as spm  # imported here so toy subclasses need no model file

        self.spm_path = str(spm_path)
        if not os.path.isfile(self.spm_path):
            raise FileNotFoundError(f"{self.spm_path}: sentencepiece model not found")
        self.sp = spm.SentencePieceProcessor()
        try:
            self.sp.Load(self.spm_path)
        except (OSError, RuntimeError) as e:
            raise ValueError(f"{self.spm_path}: not a sentencepiece model ({e})") from None
        self._vocab_size = self.sp.GetPieceSize() + FAIRSEQ_OFFSET + 1  # + <mask>

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    @property
    def mask_id(self) -> int:
        return self.vocab_size - 1

    # --- text -> sub-token ids (no specials) -------------------------------------------------------
    @staticmethod
    def _to_fairseq(ids: list[int]) -> list[int]:
        return [i + FAIRSEQ_OFFSET if i else UNK for i in ids]

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Sub-token ids of each text, without specials; one batched sentencepiece call."""
        return [self._to_fairseq(ids) for ids in self.sp.encode(list(texts), out_type=int)]

    def encode_with_offsets(self, texts: list[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Ids plus (start, end) character offsets of each sub-token into its text.

        A piece's span excludes the whitespace its `▁` stands for (as Hugging Face's fast tokenizers
        report it); a piece made entirely by normalization (the `f` of `ﬁ` -> `fi`) has an empty span.
        """
        out = []
        for text, enc in zip(texts, self.sp.EncodeAsOffsetMapping(list(texts))):
            spans = []
            for piece, (start, end) in zip(enc["pieces"], enc["offsets"]):
                if piece == "\u2581":  # a bare word boundary: it stands for whitespace only
                    start = end
                while start < end and _is_space(text[start]):
                    start += 1
                spans.append((start, end))
            out.append((self._to_fairseq(enc["ids"]), spans))
        return out

    def encode_words(self, sentences: list[list[str]]) -> list[tuple[list[int], list[int]]]:
        """Pre-tokenized input (tagging): ids and the word index of each sub-token.

        Each word is encoded on its own, as a word after a space. A word that yields no piece at all
        (a zero-width character, say) gets `<unk>`, so every word owns at least one token.
        """
        flat = [w for words in sentences for w in words]
        pieces = iter(self.encode(flat))
        out = []
        for words in sentences:
            ids, word_ids = [], []
            for wi in range(len(words)):
                p = next(pieces) or [UNK]
                ids += p
                word_ids += [wi] * len(p)
            out.append((ids, word_ids))
        return out

    # --- sequences with specials, batches ----------------------------------------------------------
    def build_inputs(self, a: list[int], b: list[int] | None = None, max_len: int | None = None) -> list[int]:
        """`<s> a </s>` or `<s> a </s></s> b </s>`, truncated to at most `max_len` ids.

        Pairs are truncated longest-first, from the end of each segment, as Hugging Face's
        `truncation="longest_first"` does (see `_longest_first`).
        """
        n_special = 2 if b is None else 4
        if max_len is not None:
            budget = max_len - n_special
            if budget < 0:
                raise ValueError(f"max_len={max_len} is shorter than the {n_special} special tokens")
            if b is None:
                a = a[:budget]
            else:
                if len(a) + len(b) > budget:
                    la, lb = _longest_first(len(a), len(b), budget)
                    a, b = a[:la], b[:lb]
        if b is None:
            return [BOS, *a, EOS]
        return [BOS, *a, EOS, EOS, *b, EOS]

    def pad(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad to the longest sequence: (input_ids (B, T), attention_mask (B, T)), both int64."""
        if not seqs:
            raise ValueError("pad() needs at least one sequence")
        T = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), T), PAD, dtype=torch.long)
        mask = torch.zeros((len(seqs), T), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, : len(s)] = 1
        return ids, mask

    def __call__(self, texts: list[str], pairs: list[str] | None = None, max_len: int = 512) -> dict:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        a = self.encode(texts)
        if pairs is None:
            seqs = [self.build_inputs(x, max_len=max_len) for x in a]
        else:
            if len(pairs) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(pairs)} pairs")
            seqs = [self.build_inputs(x, y, max_len) for x, y in zip(a, self.encode(pairs))]
        input_ids, attention_mask = self.pad(seqs)
        return {"input_ids": input_ids, "attention_mask": attention_mask}


def _is_space(ch: str) -> bool:
    """Whitespace, or a format/separator character that normalization turns into a space (U+200B)."""
    return ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp")


def _longest_first(la: int, lb: int, budget: int) -> tuple[int, int]:
    """Segment lengths after longest-first truncation of a pair to `budget` ids (la + lb > budget).

    The shorter segment is kept whole if it fits in half the budget, else both are cut to about half;
    the longer one (the second on a tie) gets the odd id. Identical to Hugging Face tokenizers'
    `longest_first` (checked on every la, lb < 10, budget < 18 in tests/test_tokenizer.py).
    """
    half_up = budget - budget // 2
    if la > lb:
        keep_a = max(budget - lb, half_up)
        return min(la, keep_a), min(lb, budget - keep_a)
    keep_b = max(budget - la, half_up)
    return min(la, budget - keep_b), min(lb, keep_b)
