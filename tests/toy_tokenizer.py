"""A toy tokenizer for data tests: no sentencepiece file, predictable pieces, the XLMRTokenizer API.

Pieces are runs of word characters (split into chunks of at most 4 characters, so long words have
several sub-tokens) and single punctuation marks; whitespace separates. Ids are a stable hash of the
piece into [4, vocab_size - 1), so the same piece always has the same id.
"""
from __future__ import annotations

import re
import zlib

from xlmr.tokenizer import XLMRTokenizer

_PIECE = re.compile(r"\w+|[^\w\s]")
CHUNK = 4  # longest piece, in characters


class ToyTokenizer(XLMRTokenizer):
    def __init__(self, vocab_size: int = 1000):
        self.spm_path = None
        self._vocab_size = vocab_size

    def piece_id(self, piece: str) -> int:
        return 4 + zlib.crc32(piece.encode("utf-8")) % (self._vocab_size - 5)

    def _pieces(self, text: str) -> list[tuple[str, int, int]]:
        out = []
        for m in _PIECE.finditer(text):
            for s in range(m.start(), m.end(), CHUNK):
                e = min(s + CHUNK, m.end())
                out.append((text[s:e], s, e))
        return out

    def encode(self, texts):
        return [[self.piece_id(p) for p, _, _ in self._pieces(t)] for t in texts]

    def encode_with_offsets(self, texts):
        out = []
        for t in texts:
            ps = self._pieces(t)
            out.append(([self.piece_id(p) for p, _, _ in ps], [(s, e) for _, s, e in ps]))
        return out
