"""The length-grouped batch sampler: determinism, DDP partition, padding, grouping.

Run: python -m pytest -q tests/test_sampler.py
"""
from collections import Counter

import numpy as np
import pytest
from torch.utils.data import DataLoader

from data.featurize import collate, featurize
from data.examples import SingleExample
from data.sampler import LengthGroupedBatchSampler


def lengths_of(n, seed=0):
    return np.random.default_rng(seed).integers(5, 300, size=n).tolist()


def epoch_batches(lengths, world_size, **kw):
    return [list(LengthGroupedBatchSampler(lengths, rank=r, world_size=world_size, **kw)) for r in range(world_size)]


def test_same_seed_and_epoch_give_same_batches_and_epochs_differ():
    lengths = lengths_of(500)
    a = LengthGroupedBatchSampler(lengths, batch_size=8, seed=3)
    b = LengthGroupedBatchSampler(lengths, batch_size=8, seed=3)
    assert list(a) == list(b) == list(a)
    b.set_epoch(1)
    assert list(b) != list(a)
    assert list(LengthGroupedBatchSampler(lengths, batch_size=8, seed=4)) != list(a)
    a.set_epoch(1)
    assert list(a) == list(b)


@pytest.mark.parametrize("n, batch_size, world_size", [(500, 8, 1), (500, 8, 2), (501, 8, 4), (37, 4, 3),
                                                        (5, 4, 4), (1, 2, 3), (64, 8, 8)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_ranks_get_disjoint_equal_shares_covering_every_feature(n, batch_size, world_size, shuffle):
    per_rank = epoch_batches(lengths_of(n), world_size, batch_size=batch_size, shuffle=shuffle, seed=1)
    n_batches = {len(b) for b in per_rank}
    assert n_batches == {len(LengthGroupedBatchSampler(lengths_of(n), batch_size, world_size=world_size))}
    # step by step, every rank has a batch of the same size, never larger than batch_size
    for step in zip(*per_rank):
        assert len({len(b) for b in step}) == 1 and len(step[0]) <= batch_size
    counts = Counter(i for batches in per_rank for b in batches for i in b)
    assert set(counts) == set(range(n))  # every feature covered
    duplicates = sum(c - 1 for c in counts.values())
    total = sum(len(b) for batches in per_rank for b in batches)
    assert duplicates == total - n < world_size  # padding only, at most world_size - 1
    if world_size == 1:
        assert duplicates == 0


def test_padding_duplicates_are_defined_as_the_epochs_first_features():
    per_rank = epoch_batches(list(range(10)), 4, batch_size=2, shuffle=False)  # 8 + a short batch of 2
    last = [batches[-1] for batches in per_rank]
    assert last == [[1], [0], [9], [9]]  # ceil(2 / 4) = 1 each; ranks 2, 3 padded with feature 9 (longest)


def test_drop_last_drops_the_short_global_batch():
    per_rank = epoch_batches(lengths_of(37), 3, batch_size=4, drop_last=True, seed=0)
    assert all(len(b) == 3 for b in per_rank) and all(len(x) == 4 for b in per_rank for x in b)
    counts = Counter(i for batches in per_rank for b in batches for i in b)
    assert len(counts) == 36 and max(counts.values()) == 1


def test_batches_group_similar_lengths():
    lengths = lengths_of(2000, seed=5)
    sampler = LengthGroupedBatchSampler(lengths, batch_size=16, seed=0)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in sampler)
    rng = np.random.default_rng(0)
    order = rng.permutation(2000)
    random_padded = sum(16 * max(lengths[i] for i in order[k:k + 16]) for k in range(0, 2000, 16))
    assert padded < 0.6 * random_padded  # grouped batches waste far fewer pad tokens
    assert padded < 1.05 * sum(lengths)
    first = next(iter(sampler))
    assert max(lengths[i] for i in first) == max(lengths)  # the longest batch first (OOM shows at step 0)


def test_unshuffled_order_is_sorted_by_decreasing_length():
    lengths = [3, 9, 1, 9, 5]
    assert list(LengthGroupedBatchSampler(lengths, batch_size=2, shuffle=False)) == [[1, 3], [4, 0], [2]]


def test_sampler_drives_a_dataloader_with_collate(toy_tokenizer):
    exs = [SingleExample(str(i), "en", " ".join(["w"] * (i % 7 + 1)), "a") for i in range(20)]
    feats = featurize("single_cls", exs, toy_tokenizer, max_len=16, labels=("a",))
    sampler = LengthGroupedBatchSampler([len(f["input_ids"]) for f in feats], batch_size=4, seed=0)
    loader = DataLoader(feats, batch_sampler=sampler, collate_fn=lambda b: collate(b, pad_id=1))
    seen = []
    for batch in loader:
        assert batch["input_ids"].shape[1] == batch["attention_mask"].sum(1).max()  # padded to the longest
        seen += batch["feature_index"].tolist()
    assert sorted(seen) == list(range(20)) and len(loader) == 5


@pytest.mark.parametrize("kwargs, message", [
    (dict(lengths=[], batch_size=2), "no features"),
    (dict(lengths=[1, 2], batch_size=0), "batch_size (0)"),
    (dict(lengths=[1, 2], batch_size=1, rank=2, world_size=2), "rank 2 is not in [0, world_size=2)"),
    (dict(lengths=[1, 2], batch_size=2, world_size=2, drop_last=True), "leaves no batch"),
])
def test_bad_settings_raise_value_error(kwargs, message):
    with pytest.raises(ValueError) as err:
        LengthGroupedBatchSampler(**kwargs)
    assert message in str(err.value)
