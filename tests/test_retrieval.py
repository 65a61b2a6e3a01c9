"""Tests for retrieval.py: FAISS kNN / margin mining / Tatoeba / BUCC F1 against a brute-force numpy reference,
embeddings from a tiny model, the CLI on fixture data, and its errors.

    python -m pytest -q tests/test_retrieval.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import retrieval
from data.metrics import bucc_f1 as metrics_bucc_f1


# --- a brute-force reference, written independently of retrieval.py (float64, full similarity matrix) ----

def brute_knn(x, y, k):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    sims = x.astype(np.float64) @ y.astype(np.float64).T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, ids, axis=1), ids


def brute_mine(src, tgt, k):
    """Artetxe & Schwenk's max-margin mining spelled out with loops over a full similarity matrix."""
    s = src / np.linalg.norm(src, axis=1, keepdims=True)
    t = tgt / np.linalg.norm(tgt, axis=1, keepdims=True)
    sims = s.astype(np.float64) @ t.astype(np.float64).T  # (n_src, n_tgt)
    src_mean = np.sort(sims, axis=1)[:, ::-1][:, :k].mean(axis=1)
    tgt_mean = np.sort(sims, axis=0)[::-1, :][:k, :].mean(axis=0)

    def margin(i, j):
        return sims[i, j] / ((src_mean[i] + tgt_mean[j]) / 2)

    cands = []
    for i in range(len(s)):
        nbrs = np.argsort(-sims[i])[:k]
        j = max(nbrs, key=lambda j: margin(i, j))
        cands.append((margin(i, j), i, j))
    for j in range(len(t)):
        nbrs = np.argsort(-sims[:, j])[:k]
        i = max(nbrs, key=lambda i: margin(i, j))
        cands.append((margin(i, j), i, j))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_s, used_t, out = set(), set(), []
    for score, i, j in cands:
        if i not in used_s and j not in used_t:
            used_s.add(i)
            used_t.add(j)
            out.append((i, j, score))
    return out


def planted(n_pairs=150, n_src_extra=60, n_tgt_extra=90, dim=24, noise=0.6, seed=0):
    """Source and target embeddings with n_pairs planted translations (tgt = permuted src + noise) plus
    unpaired rows on each side. Returns (src, tgt, gold set of (src_index, tgt_index))."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_pairs, dim))
    src = np.concatenate([base, rng.standard_normal((n_src_extra, dim))])
    tgt_paired = base + noise * rng.standard_normal((n_pairs, dim))
    tgt = np.concatenate([tgt_paired, rng.standard_normal((n_tgt_extra, dim))])
    perm = rng.permutation(len(tgt))  # tgt row perm[j] holds old row j
    tgt_perm = np.empty_like(tgt)
    tgt_perm[perm] = tgt
    gold = {(i, int(perm[i])) for i in range(n_pairs)}
    return src.astype(np.float32), tgt_perm.astype(np.float32), gold


def min_gap(values):
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    return np.min(np.diff(v)) if len(v) > 1 else np.inf


# --- kNN ------------------------------------------------------------------------------------------------

def test_knn_matches_brute_force_neighbours_and_cosines():
    src, tgt, _ = planted()
    for k in (1, 4, 7):
        sims, ids = retrieval.knn(src, tgt, k)
        ref_sims, ref_ids = brute_knn(src, tgt, k)
        # meaningful only without near-ties in each row's top k+1
        top = np.sort(src / np.linalg.norm(src, axis=1, keepdims=True) @ (tgt / np.linalg.norm(tgt, axis=1, keepdims=True)).T, axis=1)[:, ::-1][:, :k + 1]
        assert np.min(-np.diff(top, axis=1)) > 1e-5
        assert sims.dtype == np.float32 and ids.dtype == np.int64 and sims.shape == (len(src), k)
        np.testing.assert_array_equal(ids, ref_ids)
        np.testing.assert_allclose(sims, ref_sims, atol=1e-6, rtol=0)


def test_knn_query_chunking_does_not_change_results():
    src, tgt, _ = planted()
    whole = retrieval.knn(src, tgt, 4)
    chunked = retrieval.knn(src, tgt, 4, query_chunk=7)
    np.testing.assert_array_equal(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[0], chunked[0])


def test_knn_is_cosine_so_scaling_a_row_changes_nothing():
    src, tgt, _ = planted()
    scaled = tgt * np.linspace(0.1, 10, len(tgt), dtype=np.float32)[:, None]
    np.testing.assert_array_equal(retrieval.knn(src, tgt, 3)[1], retrieval.knn(src, scaled, 3)[1])


@pytest.mark.parametrize("x, y, k, message", [
    (np.zeros((3, 4), np.float32), np.zeros((5, 3), np.float32), 1, "dimension"),
    (np.ones((3, 4), np.float32), np.ones((5, 4), np.float32), 6, "k=6"),
    (np.ones((3, 4), np.float32), np.ones((5, 4), np.float32), 0, "k=0"),
    (np.ones((3,), np.float32), np.ones((5, 4), np.float32), 1, "2-D"),
    (np.ones((3, 4), np.int64), np.ones((5, 4), np.float32), 1, "floating"),
    (np.full((3, 4), np.nan, np.float32), np.ones((5, 4), np.float32), 1, "NaN"),
])
def test_knn_rejects_bad_input(x, y, k, message):
    with pytest.raises(ValueError, match=message):
        retrieval.knn(x, y, k)


# --- margins and mining ---------------------------------------------------------------------------------

def test_margin_scores_by_hand():
    sims = np.array([[0.9, 0.5]], np.float32)
    ids = np.array([[1, 0]])
    got = retrieval.margin_scores(sims, ids, x_mean=np.array([0.7]), y_mean=np.array([0.3, 0.5]))
    np.testing.assert_allclose(got, [[0.9 / 0.6, 0.5 / 0.5]], rtol=1e-6)


@pytest.mark.parametrize("k, seed", [(2, 5), (4, 7)])  # seeds whose mined scores have no near-ties
def test_mine_matches_brute_force_pairs_scores_and_f1(k, seed):
    src, tgt, gold = planted(seed=seed)
    got = retrieval.mine(src, tgt, k=k)
    ref = brute_mine(src, tgt, k)
    assert min_gap([s for _, _, s in ref]) > 1e-5  # no near-ties: the order is meaningful
    assert [(i, j) for i, j, _ in got] == [(i, j) for i, j, _ in ref]
    np.testing.assert_allclose([s for _, _, s in got], [s for _, _, s in ref], atol=1e-6, rtol=0)
    # 1-to-1 and sorted
    assert len({i for i, _, _ in got}) == len(got) == len({j for _, j, _ in got})
    assert all(a[2] >= b[2] for a, b in zip(got, got[1:]))
    gold_ids = {(str(i), str(j)) for i, j in gold}
    f_got = metrics_bucc_f1(gold_ids, [(str(i), str(j), s) for i, j, s in got])
    f_ref = metrics_bucc_f1(gold_ids, [(str(i), str(j), s) for i, j, s in ref])
    assert f_got["f1"] == f_ref["f1"] and f_got["precision"] == f_ref["precision"]
    assert abs(f_got["threshold"] - f_ref["threshold"]) < 1e-6
    assert f_got["f1"] > 80  # the planted pairs are found: the test data is not trivial noise


def test_mine_k_changes_the_scores():
    src, tgt, _ = planted()
    a = dict(((i, j), s) for i, j, s in retrieval.mine(src, tgt, k=1))
    b = dict(((i, j), s) for i, j, s in retrieval.mine(src, tgt, k=4))
    common = set(a) & set(b)
    assert common and any(abs(a[p] - b[p]) > 1e-3 for p in common)


def test_mine_uses_every_row_when_a_side_has_fewer_than_k():
    src, tgt, _ = planted(n_pairs=3, n_src_extra=0, n_tgt_extra=7, seed=3)
    assert [(i, j) for i, j, _ in retrieval.mine(src, tgt, k=4)] == \
        [(i, j) for i, j, _ in brute_mine(src, tgt, k=4)]
    with pytest.raises(ValueError, match="k=0"):
        retrieval.mine(src, tgt, k=0)


# --- Tatoeba --------------------------------------------------------------------------------------------

def test_tatoeba_accuracy_matches_brute_force_both_directions():
    rng = np.random.default_rng(5)
    src = rng.standard_normal((200, 16)).astype(np.float32)
    tgt = (src + 1.1 * rng.standard_normal((200, 16))).astype(np.float32)
    for a, b in ((src, tgt), (tgt, src)):
        ref = float(np.mean(brute_knn(a, b, 1)[1][:, 0] == np.arange(200)))
        assert retrieval.tatoeba_accuracy(a, b) == ref
        assert 0.2 < ref < 0.95  # neither trivial nor hopeless
    assert retrieval.tatoeba_accuracy(src, tgt) != retrieval.tatoeba_accuracy(tgt, src)


def test_tatoeba_primary_accuracy_queries_with_the_english_side_as_xtreme_and_jiant():
    from data.examples import Bitext
    from data.tasks import get_task

    rng = np.random.default_rng(11)
    n = 300
    xx = rng.standard_normal((n, 16))
    en = xx + 1.1 * rng.standard_normal((n, 16))
    vec = {**{f"xx{i}": xx[i] for i in range(n)}, **{f"en{i}": en[i] for i in range(n)}}
    ids = tuple(str(i) for i in range(n))
    bt = Bitext("tatoeba-de-test", "de", ids, tuple(f"xx{i}" for i in range(n)), ids, tuple(f"en{i}" for i in range(n)),
                frozenset(zip(ids, ids)))
    out = retrieval.score_tatoeba_layers(bt, lambda texts: np.array([[vec[t] for t in texts]], np.float32), [0], False)
    # brute force in numpy: cosines of every English sentence (row) with every non-English one (column)
    cos = (en / np.linalg.norm(en, axis=1, keepdims=True)) @ (xx / np.linalg.norm(xx, axis=1, keepdims=True)).T
    query_en = 100 * np.mean(cos.argmax(axis=1) == np.arange(n))
    query_xx = 100 * np.mean(cos.argmax(axis=0) == np.arange(n))
    assert query_en != query_xx  # the directions differ on these embeddings, so the test can tell them apart
    assert out == {"accuracy": pytest.approx(query_en), "accuracy_query_xx": pytest.approx(query_xx)}
    task = get_task("tatoeba")
    assert task.primary_metric == "accuracy"  # the registry names the primary metric; correlate.py reads it there
    # Task.golds / score agree: per English sentence, the non-English id it should retrieve
    preds = [str(j) for j in cos.argmax(axis=1)]
    assert task.score(task.golds(bt), preds, "de") == {"accuracy": pytest.approx(query_en)}


def test_flores_retrieval_aligns_sib200s_sentences_by_index_id_and_equals_brute_force(tmp_path):
    """FLORES retrieval reads SIB-200's dev + test sentences of a variant and of English, aligns them by index_id
    (English's file in another order), and scores English queries against the variant as brute force does."""
    from data.tasks import get_task

    rng = np.random.default_rng(3)
    n = 120
    ids = [str(100 + i) for i in range(n)]
    root = tmp_path / "sib200" / "data" / "annotated"
    for code, order in (("deu_Latn", range(n)), ("eng_Latn", rng.permutation(n))):
        (root / code).mkdir(parents=True)
        for split, part in (("dev", list(order)[:40]), ("test", list(order)[40:])):
            rows = [f"{ids[i]}\tsports\t{code[:2]} sentence {i}" for i in part]
            (root / code / f"{split}.tsv").write_text("index_id\tcategory\ttext\n" + "\n".join(rows) + "\n")
    bt = get_task("flores").read(tmp_path, "de", "test")
    assert bt.src_ids == bt.tgt_ids and [t.split()[-1] for t in bt.src] == [t.split()[-1] for t in bt.tgt]
    base = rng.standard_normal((n, 12))
    xx, en = base + 0.9 * rng.standard_normal((n, 12)), base + 0.9 * rng.standard_normal((n, 12))
    vec = {**{f"de sentence {i}": xx[i] for i in range(n)}, **{f"en sentence {i}": en[i] for i in range(n)}}
    out = retrieval.score_tatoeba_layers(bt, lambda texts: np.array([[vec[t] for t in texts]], np.float32), [0], False)
    rows = [int(t.split()[-1]) for t in bt.tgt]  # the sentence index of each line
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    cos = unit(en[rows]) @ unit(xx[rows]).T  # English queries (rows) x the variant's sentences, brute force
    expected = 100 * np.mean(cos.argmax(axis=1) == np.arange(n))
    assert 5 < expected < 95 and out["accuracy"] == pytest.approx(expected)
    bad = type(bt)(bt.id, bt.lang, bt.src_ids, bt.src, bt.tgt_ids[::-1], bt.tgt[::-1], bt.gold)
    with pytest.raises(ValueError, match="not line-aligned"):
        retrieval.score_tatoeba_layers(bad, lambda texts: np.zeros((1, len(texts), 12), np.float32), [0], False)


def test_tatoeba_accuracy_by_hand():
    src = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    tgt = np.array([[1, 0.1], [1, 0.2], [0.9, 1]], np.float32)  # row 1 is nearer src 0's twin: miss
    assert retrieval.tatoeba_accuracy(src, tgt) == pytest.approx(2 / 3)


def test_tatoeba_accuracy_rejects_unaligned_sides():
    with pytest.raises(ValueError, match="3 query rows but 2 index rows"):
        retrieval.tatoeba_accuracy(np.ones((3, 2), np.float32), np.ones((2, 2), np.float32))


# --- BUCC: dedupe, id expansion, dev-tuned threshold ------------------------------------------------------

def test_mine_bitext_dedupes_sentences_and_leaves_out_repeated_ones_as_xtreme():
    from data.examples import Bitext

    vec = {"a": [1, 0, 0], "b": [0, 1, 0], "c": [0, 0, 1], "A": [1, 0.1, 0], "B": [0, 1, 0.1], "C": [0.1, 0, 1]}
    calls = []

    def embed_fn(texts):
        calls.append(list(texts))
        return np.array([vec[t] for t in texts], np.float32)

    bt = Bitext(id="x", lang="de", src_ids=("s1", "s2", "s3", "s4"), src=("a", "b", "a", "c"),
                tgt_ids=("t1", "t2", "t3"), tgt=("A", "B", "C"), gold=None)
    cands = retrieval.mine_bitext(bt, embed_fn, k=1)
    assert calls == [["a", "b", "c"], ["A", "B", "C"]]  # each unique text embedded once, repeats mined once
    # "a" is under s1 and s3: XTREME's read_sent2id drops it, so (a, A) is mined but not scored
    assert [(s, t) for s, t, _ in cands] == [("s2", "t2"), ("s4", "t3")]


def test_a_text_repeated_after_stripping_counts_as_repeated():
    assert retrieval.single_owners(["x", "x ", "y"], [["i1"], ["i2"], ["i3"]]) == [None, None, "i3"]
    assert retrieval.single_owners(["x", "y"], [["i1", "i2"], ["i3"]]) == [None, "i3"]


def test_bucc_with_repeated_sentences_gives_xtremes_f1_by_hand():
    # Unique texts and their ids: source "a" under s1 and s3, target "B" under t2 and t4 (repeated).
    src_ids = retrieval.single_owners(["a", "b", "c", "d", "e"], [["s1", "s3"], ["s2"], ["s4"], ["s5"], ["s6"]])
    tgt_ids = retrieval.single_owners(["A", "B", "C", "D", "E"], [["t1"], ["t2", "t4"], ["t3"], ["t5"], ["t6"]])
    mined = [(0, 0, 0.9), (1, 1, 0.8), (2, 2, 0.7), (4, 4, 0.65), (3, 3, 0.6)]  # e-E is wrong
    gold = {("s1", "t1"), ("s2", "t2"), ("s4", "t3"), ("s5", "t5")}
    cands = retrieval.candidate_ids(mined, src_ids, tgt_ids)
    assert cands == [("s4", "t3", 0.7), ("s6", "t6", 0.65), ("s5", "t5", 0.6)]  # a-A and b-B are not scored
    assert retrieval.candidate_ids([(2, 2, 0.0), (3, 3, -0.1)], src_ids, tgt_ids) == []  # XTREME writes score > 0
    # XTREME: the gold keeps all 4 pairs. Best cut keeps all three: P 2/3, R 2/4, F1 4/7.
    out = retrieval.bucc_f1(cands, gold)
    assert out["f1_tuned_on_split"] == pytest.approx(400 / 7)
    assert (out["precision_tuned_on_split"], out["recall_tuned_on_split"]) == pytest.approx((200 / 3, 50.0))
    # Expanding a-A and b-B to every id holding those texts (this project's earlier rule) scores 7 candidates:
    # keeping all, P 4/7, R 1, F1 8/11 = 72.73; not XTREME's number.
    expanded = [("s1", "t1", 0.9), ("s3", "t1", 0.9), ("s2", "t2", 0.8), ("s2", "t4", 0.8), *cands]
    assert metrics_bucc_f1(gold, expanded)["f1"] == pytest.approx(800 / 11)


def test_bucc_f1_tunes_the_threshold_on_dev_and_labels_the_optimistic_figure():
    gold = {("s1", "t1"), ("s2", "t2")}
    test = [("s1", "t1", 1.5), ("s3", "t3", 1.4), ("s2", "t2", 1.2)]
    dev = [("d1", "e1", 1.45), ("d2", "e2", 1.0)]
    dev_gold = {("d1", "e1")}
    out = retrieval.bucc_f1(test, gold, dev, dev_gold)
    # dev's best threshold is (1.45 + 1.0) / 2 = 1.225: on test it keeps s1 and s3 -> P 1/2, R 1/2
    assert out["threshold"] == pytest.approx(1.225)
    assert out["f1"] == pytest.approx(50.0)
    # tuned on test itself: keep all three -> P 2/3, R 1 -> F1 80 (optimistic)
    assert out["f1_tuned_on_split"] == pytest.approx(80.0)
    only = retrieval.bucc_f1(test, gold)
    assert "f1" not in only and only["f1_tuned_on_split"] == pytest.approx(80.0)
    with pytest.raises(ValueError, match="together"):
        retrieval.bucc_f1(test, gold, dev, None)


# --- embeddings from a tiny model ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model():
    import torch

    from xlmr.model import XLMRConfig, XLMREncoder

    torch.manual_seed(0)
    return XLMREncoder(XLMRConfig.tiny(vocab_size=1000)).eval()


SENTS = ["a short one", "a much longer sentence with many more words in it than the others", "mid size text"]


def test_default_layer_scales_fourteen_of_twenty_four():
    assert [retrieval.default_layer(n) for n in (24, 12, 2)] == [14, 7, 1]


def test_embed_mean_pools_the_chosen_layer_over_s_and_eos(tiny_model, toy_tokenizer):
    import torch

    got = retrieval.embed(tiny_model, toy_tokenizer, SENTS, layer=1, pool="mean", batch_size=2)
    cls = retrieval.embed(tiny_model, toy_tokenizer, SENTS, layer=2, pool="cls", batch_size=2)
    for i, s in enumerate(SENTS):  # each sentence alone: no padding at all
        ids = torch.tensor([toy_tokenizer.build_inputs(toy_tokenizer.encode([s])[0])])
        with torch.no_grad():
            states = tiny_model(ids, output_hidden_states=True)
        np.testing.assert_allclose(got[i], states[1][0].mean(dim=0).numpy(), atol=1e-5)
        np.testing.assert_allclose(cls[i], states[2][0, 0].numpy(), atol=1e-5)
    assert got.shape == (3, 32) and got.dtype == np.float32


def test_embed_all_layers_in_one_pass_equals_each_layer(tiny_model, toy_tokenizer):
    every = retrieval.embed(tiny_model, toy_tokenizer, SENTS, layer=[0, 1, 2], batch_size=3)
    assert every.shape == (3, 3, 32)
    for li in range(3):
        np.testing.assert_array_equal(every[li], retrieval.embed(tiny_model, toy_tokenizer, SENTS, layer=li,
                                                                 batch_size=3))
    assert not np.allclose(every[0], every[2])
    np.testing.assert_array_equal(retrieval.embed(tiny_model, toy_tokenizer, SENTS), every[1])  # default layer


def test_embed_rejects_bad_layer_and_pool(tiny_model, toy_tokenizer):
    with pytest.raises(ValueError, match="hidden states 0..2"):
        retrieval.embed(tiny_model, toy_tokenizer, SENTS, layer=3)
    with pytest.raises(ValueError, match="pool"):
        retrieval.embed(tiny_model, toy_tokenizer, SENTS, layer=1, pool="max")


# --- the command line on a tiny saved checkpoint and the fixture data --------------------------------------

@pytest.mark.parametrize("name, metrics", [
    ("tatoeba", {"accuracy", "accuracy_query_xx"}),
    ("tatoeba_all", {"accuracy", "accuracy_query_xx"}),
    ("flores", {"accuracy", "accuracy_query_xx"}),
    ("bucc2018", {"f1", "precision", "recall", "f1_tuned_on_split", "precision_tuned_on_split",
                  "recall_tuned_on_split"}),
])
def test_cli_writes_a_row_per_language_of_every_fixture_task(name, metrics, tokenizer, tmp_path, capsys):
    from data.results import read_results
    from data.tasks import get_task
    from tests.test_evaluate import FIXTURE_DATA, fixture_langs, make_checkpoint

    task = get_task(name)
    langs = fixture_langs(task)
    assert langs
    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer)  # retrieval checkpoints need no head
    results = tmp_path / "results.csv"
    scores = retrieval.run(["--ckpt", str(ckpt), "--task", name, "--langs", ",".join(langs), "--data-dir",
                            str(FIXTURE_DATA), "--results", str(results), "--model", "xlmr-tiny", "--seed", "1"])
    df = read_results(results)
    assert {(r.lang, r.metric) for r in df.itertuples()} == {(lang, m) for lang in langs for m in metrics}
    assert set(df.target_task) == {name} and set(df.intermediate_task) == {"none"} and set(df.seed) == {"1"}
    assert set(df.split) == {"test"} and all(0 <= v <= 100 for v in df.value)
    assert set(scores) == set(langs)
    assert "layer=1;pool=mean" in df.source.iloc[0]  # the 2-layer model's default layer


def test_cli_layer_sweep_names_every_layer_and_reads_meta_from_head_json(tokenizer, tmp_path):
    from data.results import read_results
    from data.tasks import get_task
    from tests.test_evaluate import FIXTURE_DATA, make_checkpoint

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer, get_task("mnli"), seed=4,
                           meta={"intermediate_task": "none"})  # an intermediate-task checkpoint (MNLI)
    results = tmp_path / "results.csv"
    retrieval.run(["--ckpt", str(ckpt), "--task", "tatoeba", "--langs", "de", "--data-dir", str(FIXTURE_DATA),
                   "--results", str(results), "--layer", "all", "--pool", "cls"])
    df = read_results(results)
    assert set(df.metric) == {f"{m}_layer{i}" for m in ("accuracy", "accuracy_query_xx") for i in range(3)}
    assert set(df.intermediate_task) == {"mnli"} and set(df.model) == {"xlmr-tiny"} and set(df.seed) == {"4"}


def test_cli_errors_before_any_compute(tokenizer, tmp_path, monkeypatch):
    import xlmr.checkpoint
    from tests.test_evaluate import FIXTURE_DATA, make_checkpoint

    def refuse(*a, **k):
        raise AssertionError("the model was loaded before the input was checked")

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer)
    monkeypatch.setattr(xlmr.checkpoint, "load_pretrained", refuse)
    data = ["--data-dir", str(FIXTURE_DATA)]
    (tmp_path / "empty").mkdir()
    cases = [
        (["--ckpt", str(tmp_path / "empty"), "--task", "tatoeba", "--langs", "de", *data], "no encoder weights"),
        (["--ckpt", str(ckpt), "--task", "tatoebaa", "--langs", "de", *data], "unknown task 'tatoebaa'"),
        (["--ckpt", str(ckpt), "--task", "xnli", "--langs", "de", *data], "use evaluate.py"),
        (["--ckpt", str(ckpt), "--task", "bucc2018", "--langs", "de,en", *data], "no language.*en"),
        (["--ckpt", str(ckpt), "--task", "tatoeba", "--all-langs", "--langs", "de", *data], "exactly one"),
        (["--ckpt", str(ckpt), "--task", "tatoeba", "--langs", "de", "--layer", "x", *data], "--layer 'x'"),
        (["--ckpt", str(ckpt), "--task", "tatoeba", "--langs", "de", "--layer", "3", *data], "hidden states 0..2"),
    ]
    for argv, message in cases:
        with pytest.raises(ValueError, match=message):
            retrieval.run(argv)


def test_cli_error_split_without_gold(tokenizer, tmp_path, monkeypatch):
    """XTREME's download: BUCC test without gold, Tatoeba with the English side sorted (no gold)."""
    import shutil

    import xlmr.checkpoint
    from tests.test_evaluate import FIXTURE_DATA, make_checkpoint

    monkeypatch.setattr(xlmr.checkpoint, "load_pretrained", lambda *a, **k: pytest.fail("model loaded"))
    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer)
    data = tmp_path / "data"
    for task, files in {"bucc2018": ["de-en.test.de", "de-en.test.en", "de-en.dev.de", "de-en.dev.en",
                                     "de-en.dev.gold"], "tatoeba": ["de-en.de", "de-en.en"]}.items():
        (data / task).mkdir(parents=True)
        for f in files:
            shutil.copy(FIXTURE_DATA / task / f, data / task / f)
    for task in ("bucc2018", "tatoeba"):
        with pytest.raises(ValueError, match=f"task {task}, split test: no gold labels .* for de"):
            retrieval.run(["--ckpt", str(ckpt), "--task", task, "--langs", "de", "--data-dir", str(data)])


def test_row_meta_reads_a_multi_task_checkpoints_heads_folder(tokenizer, tmp_path):
    from data.tasks import get_task
    from tests.test_evaluate import make_checkpoint

    ckpt = make_checkpoint(tmp_path / "ckpt", tokenizer)
    make_checkpoint(ckpt / "heads" / "mnli", tokenizer, get_task("mnli"), seed=2,
                    meta={"intermediate_task": "mnli_squad_v1"})
    args = retrieval.parse_args(["--ckpt", str(ckpt), "--task", "tatoeba"])
    assert retrieval.row_meta(args, ckpt, "tatoeba") == {
        "model": "xlmr-tiny", "intermediate_task": "mnli_squad_v1", "target_task": "tatoeba", "seed": 2}
    bare = make_checkpoint(tmp_path / "xlmr-base-ckpt", tokenizer)
    assert retrieval.row_meta(args, bare, "tatoeba") == {
        "model": "xlmr-base-ckpt", "intermediate_task": "none", "target_task": "tatoeba", "seed": None}


def test_main_prints_one_line_error_and_exits(tmp_path):
    with pytest.raises(SystemExit) as exc:
        retrieval.main(["--ckpt", str(tmp_path), "--task", "nope", "--all-langs"])
    assert str(exc.value.code).startswith("retrieval.py: error: unknown task 'nope'")
