"""A length-grouped batch sampler: batches of similar lengths, deterministic for a seed, DDP-aware.

    sampler = LengthGroupedBatchSampler([feature_length(f) for f in feats], batch_size=32, seed=cfg.seed,
                                        rank=rank, world_size=world_size)
    loader = DataLoader(feats, batch_sampler=sampler, collate_fn=partial(collate, pad_id=tok.pad_id))
    for epoch in range(epochs):
        sampler.set_epoch(epoch)   # a new order per epoch, the same on every rank

One epoch, with B = batch_size and W = world_size:
- shuffle=True: a permutation seeded by (seed, epoch) is cut into mega-batches of mega_batches * B * W
  features, each sorted by decreasing length and cut into global batches of B * W. The global batches
  are shuffled (the one holding the longest feature goes first when longest_first, so an out-of-memory
  error shows at step 0), and rank r takes the r-th slice of B from each: ranks step through batches of
  similar lengths together.
- shuffle=False (evaluation): all features sorted by decreasing length (ties by index), no randomness.
- Every feature is in exactly one rank's batches. When the last global batch cut (wherever shuffling puts
  it) holds R < B * W features,
  each rank gets ceil(R / W) of them, and the ranks that fall short are padded with the first features of
  the epoch's order (at most W - 1 duplicates; never with W = 1), so that every rank has the same number
  of batches and of features. Evaluators gather results by "feature_index" and keep one per feature.
  drop_last=True drops that last global batch instead.

`BatchStream` is train.py's endless, resumable stream of one task's training batches built on it.

Run the tests: python -m pytest -q tests/test_sampler.py
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np


class LengthGroupedBatchSampler:
    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int = 0,
                 rank: int = 0, world_size: int = 1, drop_last: bool = False, mega_batches: int = 50,
                 longest_first: bool = True):
        if len(lengths) == 0:
            raise ValueError("LengthGroupedBatchSampler: no features (0 lengths)")
        if batch_size < 1 or mega_batches < 1:
            raise ValueError(f"batch_size ({batch_size}) and mega_batches ({mega_batches}) must be >= 1")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.mega_batches, self.longest_first = mega_batches, longest_first
        self.epoch = 0
        if drop_last and len(lengths) < batch_size * world_size:
            raise ValueError(f"drop_last with {len(lengths)} features < batch_size * world_size "
                             f"= {batch_size * world_size} leaves no batch")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def global_batches(self) -> list[np.ndarray]:
        """This epoch's global batches of up to batch_size * world_size indices, in order (same on all ranks)."""
        n, gbs = len(self.lengths), self.batch_size * self.world_size
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = rng.permutation(n)
            mega = gbs * self.mega_batches
            # sort each mega-batch by decreasing length (stable: ties keep the permutation's order)
            order = np.concatenate([m[np.argsort(-self.lengths[m], kind="stable")]
                                    for m in np.array_split(order, range(mega, n, mega))])
        else:
            order = np.argsort(-self.lengths, kind="stable")
        batches = [order[i:i + gbs] for i in range(0, n, gbs)]
        if self.drop_last and len(batches[-1]) < gbs:
            batches.pop()
        if self.shuffle:
            perm = rng.permutation(len(batches))
            if self.longest_first:
                top = int(np.argmax([self.lengths[batches[b]].max() for b in perm]))
                perm[[0, top]] = perm[[top, 0]]
            batches = [batches[k] for k in perm]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.global_batches()
        first = batches[0]
        for g in batches:
            per_rank = math.ceil(len(g) / self.world_size) if len(g) < self.batch_size * self.world_size \
                else self.batch_size
            share = g[self.rank * per_rank:(self.rank + 1) * per_rank]
            if len(share) < per_rank:  # pad a short last share with the epoch's first features
                share = np.concatenate([share, first[:per_rank - len(share)]])
            yield share.tolist()

    def __len__(self) -> int:
        n, gbs = len(self.lengths), self.batch_size * self.world_size
        return n // gbs if self.drop_last else math.ceil(n / gbs)


@dataclass
class BatchStream:
    """An endless, resumable stream of one task's training batches: epoch after epoch of the length-grouped,
    rank-sharded batch sampler; the position (epoch, pos) is the data part of a resume checkpoint."""

    features: list
    batch_size: int
    seed: int
    rank: int
    world_size: int
    epoch: int = 0
    pos: int = 0
    _batches: list = field(default=None, repr=False)

    def _epoch_batches(self) -> list:
        from data.featurize import feature_length  # featurize imports torch; the sampler itself needs only numpy

        sampler = LengthGroupedBatchSampler([feature_length(f) for f in self.features], self.batch_size,
                                            seed=self.seed, rank=self.rank, world_size=self.world_size)
        sampler.set_epoch(self.epoch)  # a new order per epoch, the same global batches on every rank
        return list(sampler)

    def __len__(self) -> int:  # batches per epoch on this rank
        if self._batches is None:
            self._batches = self._epoch_batches()
        return len(self._batches)

    def next(self) -> list:
        if self._batches is None:
            self._batches = self._epoch_batches()
        if self.pos >= len(self._batches):
            self.epoch, self.pos = self.epoch + 1, 0
            self._batches = self._epoch_batches()
        batch = self._batches[self.pos]
        self.pos += 1
        return [self.features[i] for i in batch]

    def state(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state(self, state: dict) -> None:
        self.epoch, self.pos, self._batches = int(state["epoch"]), int(state["pos"]), None
