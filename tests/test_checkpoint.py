"""Checkpoint loading and saving against transformers' XLM-R (test-only reference).

Run: python -m pytest -q tests/test_checkpoint.py

Tiny random models are built with transformers, written in the Hugging Face layout or converted to fairseq's
(key spellings written out here, independently of xlmr/checkpoint.py's table), loaded with our loader and compared
on a padded batch of mixed lengths.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

import pytest
import torch
from safetensors.torch import save_file

from xlmr.checkpoint import (CheckpointError, load_head, load_mlm_head, load_pretrained, save_head,
                             save_pretrained)
from xlmr.heads import HEADS, make_head
from xlmr.model import XLMRConfig, XLMREncoder

transformers = pytest.importorskip("transformers")  # listed in requirements-dev.txt: never skips in CI


def hf_config(vocab_size: int):
    return transformers.XLMRobertaConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_act="gelu")


def random_init(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Non-trivial values everywhere (LayerNorm gains and biases included), so a misplaced tensor shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            gain = "norm" in name.lower() and name.endswith("weight")  # LayerNorm gains around 1
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2 + (1.0 if gain else 0.0))
    return model.eval()


def hf_model(vocab_size: int, cls=None):
    torch.manual_seed(0)
    cls = cls or (lambda c: transformers.XLMRobertaModel(c, add_pooling_layer=False))
    model = cls(hf_config(vocab_size))
    return random_init(model)


def mixed_batch(vocab_size: int, lengths=(9, 4, 7, 2), seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """<s> w... </s> with random words, padded to the longest: a padded batch of mixed lengths."""
    gen = torch.Generator().manual_seed(seed)
    T = max(lengths)
    ids = torch.full((len(lengths), T), 1, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(4, vocab_size, (n,), generator=gen)
        ids[b, 0], ids[b, n - 1] = 0, 2
        mask[b, :n] = 1
    return ids, mask


def assert_hidden_states_match(ours, reference, mask, atol=1e-5):
    """Every hidden state (embeddings output .. last layer) equal on the non-pad positions."""
    assert len(ours) == len(reference)
    keep = mask.bool()
    for i, (a, b) in enumerate(zip(ours, reference)):
        assert a.shape == b.shape
        torch.testing.assert_close(a[keep], b[keep], atol=atol, rtol=0, msg=f"hidden state {i}")


def reference_states(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states


def our_states(encoder, ids, mask):
    with torch.no_grad():
        return encoder.eval()(ids, mask, output_hidden_states=True)


def write_hf_dir(model, spm_path, path, prefix="", fmt="safetensors"):
    """The layout `huggingface-cli download` leaves: config.json, weights, sentencepiece.bpe.model."""
    path.mkdir(parents=True, exist_ok=True)
    state = {prefix + k: v.contiguous() for k, v in model.state_dict().items()}
    if fmt == "safetensors":
        save_file(state, str(path / "model.safetensors"), metadata={"format": "pt"})
    else:
        torch.save(state, path / "pytorch_model.bin")
    (path / "config.json").write_text(model.config.to_json_string())
    shutil.copy(spm_path, path / "sentencepiece.bpe.model")
    return path


def to_fairseq(hf_state: dict, old: bool, fused: bool) -> dict:
    """transformers XLM-R(ForMaskedLM) keys -> fairseq RoBERTa keys: old ('decoder.', emb_layer_norm) or new."""
    top = "decoder." if old else "encoder."
    enc = top + "sentence_encoder."
    out = {}
    for k, v in hf_state.items():
        k = k.removeprefix("roberta.")
        if k.startswith("lm_head."):
            name = {"lm_head.dense.weight": "lm_head.dense.weight", "lm_head.dense.bias": "lm_head.dense.bias",
                    "lm_head.layer_norm.weight": "lm_head.layer_norm.weight",
                    "lm_head.layer_norm.bias": "lm_head.layer_norm.bias", "lm_head.bias": "lm_head.bias",
                    "lm_head.decoder.weight": "lm_head.weight"}.get(k)
            if name:
                out[top + name] = v
            continue
        if k == "embeddings.word_embeddings.weight":
            out[enc + "embed_tokens.weight"] = v
        elif k == "embeddings.position_embeddings.weight":
            out[enc + "embed_positions.weight"] = v
        elif k.startswith("embeddings.LayerNorm."):
            out[enc + ("emb_layer_norm." if old else "layernorm_embedding.") + k.split(".")[-1]] = v
        elif k.startswith("encoder.layer."):
            parts = k.split(".")
            i, rest, p = parts[2], ".".join(parts[3:-1]), parts[-1]
            name = {"attention.self.query": "self_attn.q_proj", "attention.self.key": "self_attn.k_proj",
                    "attention.self.value": "self_attn.v_proj", "attention.output.dense": "self_attn.out_proj",
                    "attention.output.LayerNorm": "self_attn_layer_norm", "intermediate.dense": "fc1",
                    "output.dense": "fc2", "output.LayerNorm": "final_layer_norm"}[rest]
            out[f"{enc}layers.{i}.{name}.{p}"] = v
        # token_type_embeddings: fairseq has none (the transformers model in these tests gets zeros there)
    if fused:
        for key in [k for k in out if ".self_attn.q_proj." in k]:
            p = key.rsplit(".", 1)[1]
            base = key.split(".self_attn.")[0] + ".self_attn."
            out[f"{base}in_proj_{p}"] = torch.cat([out.pop(f"{base}{n}_proj.{p}") for n in "qkv"])
    out[enc + "version"] = torch.tensor([2.0])
    return out


def write_fairseq_dir(hf, spm_path, path, old: bool, fused: bool):
    path.mkdir(parents=True, exist_ok=True)
    args = argparse.Namespace(arch="roberta_base", encoder_attention_heads=4, encoder_layers=2, dropout=0.1)
    torch.save({"args": args, "model": to_fairseq(hf.state_dict(), old, fused), "extra_state": {}},
               path / "model.pt")
    (path / "dict.txt").write_text("".join(f"w{i} 1\n" for i in range(hf.config.vocab_size - 5)))
    shutil.copy(spm_path, path / "sentencepiece.bpe.model")
    return path


@pytest.mark.parametrize("prefix,fmt", [("", "safetensors"), ("roberta.", "safetensors"), ("", "bin")])
@pytest.mark.slow
def test_hf_directory_gives_transformers_hidden_states(tokenizer, spm_path, tmp_path, prefix, fmt):
    ref = hf_model(tokenizer.vocab_size)
    path = write_hf_dir(ref, spm_path, tmp_path / "hf", prefix, fmt)
    encoder, tok = load_pretrained(path)
    assert tok.vocab_size == tokenizer.vocab_size
    ids, mask = mixed_batch(tokenizer.vocab_size)
    assert_hidden_states_match(our_states(encoder, ids, mask), reference_states(ref, ids, mask), mask)


@pytest.mark.parametrize("old,fused", [(False, False), (True, False), (True, True), (False, True)])
def test_fairseq_directory_gives_transformers_hidden_states(tokenizer, spm_path, tmp_path, old, fused):
    ref = hf_model(tokenizer.vocab_size, transformers.XLMRobertaForMaskedLM)
    with torch.no_grad():  # fairseq has no token-type row: make the reference's zero to compare the same model
        ref.roberta.embeddings.token_type_embeddings.weight.zero_()
    path = write_fairseq_dir(ref, spm_path, tmp_path / "fs", old, fused)
    encoder, _ = load_pretrained(path)
    assert encoder.cfg.num_heads == 4 and encoder.cfg.num_layers == 2 and encoder.cfg.ffn_size == 64
    ids, mask = mixed_batch(tokenizer.vocab_size)
    assert_hidden_states_match(our_states(encoder, ids, mask), reference_states(ref.roberta, ids, mask), mask)
    # the MLM head comes along from lm_head.*
    head = load_mlm_head(path, encoder).eval()
    with torch.no_grad():
        ours = head(encoder(ids, mask))
        theirs = ref(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(ours[mask.bool()], theirs[mask.bool()], atol=1e-5, rtol=0)


@pytest.mark.slow
def test_hf_mlm_head_gives_transformers_logits_and_is_tied(tokenizer, spm_path, tmp_path):
    ref = hf_model(tokenizer.vocab_size, transformers.XLMRobertaForMaskedLM)
    ref.tie_weights()
    path = tmp_path / "mlm"
    ref.save_pretrained(path)  # transformers' own writer: "roberta." prefix, lm_head.* keys
    shutil.copy(spm_path, path / "sentencepiece.bpe.model")
    encoder, _ = load_pretrained(path)
    head = load_mlm_head(path, encoder).eval()
    ids, mask = mixed_batch(tokenizer.vocab_size)
    with torch.no_grad():
        ours, theirs = head(encoder.eval()(ids, mask)), ref(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(ours[mask.bool()], theirs[mask.bool()], atol=1e-5, rtol=0)
    # tied: the decoder is the encoder's embedding matrix, which the head does not list as its own parameter
    assert head._tied[0] is encoder.embeddings.word_embeddings
    assert all(p is not encoder.embeddings.word_embeddings.weight for p in head.parameters())


def test_load_mlm_head_without_one_says_so(tokenizer, spm_path, tmp_path):
    path = write_hf_dir(hf_model(tokenizer.vocab_size), spm_path, tmp_path / "hf")
    encoder, _ = load_pretrained(path)
    with pytest.raises(CheckpointError, match="has no MLM head"):
        load_mlm_head(path, encoder)


def test_classifier_and_pooler_keys_are_reported_and_ignored(tokenizer, spm_path, tmp_path, capsys):
    ref = hf_model(tokenizer.vocab_size, transformers.XLMRobertaForSequenceClassification)
    path = write_hf_dir(ref, spm_path, tmp_path / "cls")
    encoder, _ = load_pretrained(path)
    err = capsys.readouterr().err
    assert "ignored" in err and "classifier.out_proj.weight" in err
    ids, mask = mixed_batch(tokenizer.vocab_size)
    assert_hidden_states_match(our_states(encoder, ids, mask), reference_states(ref.roberta, ids, mask), mask)


def test_missing_and_unexpected_keys_are_refused_with_both_lists(tokenizer, spm_path, tmp_path, capsys):
    ref = hf_model(tokenizer.vocab_size)
    state = {k: v.contiguous() for k, v in ref.state_dict().items()}
    del state["encoder.layer.1.output.dense.bias"]
    state["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(2)
    path = write_hf_dir(ref, spm_path, tmp_path / "bad")
    save_file(state, str(path / "model.safetensors"))
    with pytest.raises(CheckpointError, match="1 missing and 1 unexpected"):
        load_pretrained(path)
    err = capsys.readouterr().err
    assert "missing keys: ['layers.1.ffn.down.bias']" in err
    assert "unexpected keys: ['encoder.layer.0.attention.self.rotary.weight']" in err


@pytest.mark.parametrize("extra_rows", [-8, 1024])  # fewer rows than ids; more than padding to 1,024 explains
def test_tokenizer_that_does_not_fit_the_weights_is_refused(tokenizer, spm_path, tmp_path, extra_rows):
    rows = tokenizer.vocab_size + extra_rows if extra_rows < 0 else -(-tokenizer.vocab_size // 1024) * 1024 + 1
    path = write_hf_dir(hf_model(rows), spm_path, tmp_path / "hf")
    with pytest.raises(CheckpointError, match="do not belong together"):
        load_pretrained(path)


class RunsCode:
    """Unpickling this calls os.system: exactly what weights_only=True must refuse."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("layout", ["hf", "fairseq"])
def test_pickle_that_would_run_code_is_refused(tokenizer, spm_path, tmp_path, layout):
    marker = tmp_path / "pwned"
    path = write_hf_dir(hf_model(tokenizer.vocab_size), spm_path, tmp_path / "evil")
    os.remove(path / "model.safetensors")
    if layout == "hf":
        target = path / "pytorch_model.bin"
        torch.save({"embeddings.word_embeddings.weight": torch.zeros(2), "x": RunsCode(marker)}, target)
    else:
        os.remove(path / "config.json")
        target = path / "model.pt"
        torch.save({"args": RunsCode(marker), "model": {}}, target)
    with pytest.raises(CheckpointError, match="refused to unpickle") as info:
        load_pretrained(path)
    message = str(info.value)
    assert str(target) in message and "system" in message and "arbitrary code" in message
    assert "\n" not in message
    assert not marker.exists()


@pytest.mark.parametrize("weights", ["model.safetensors", "pytorch_model.bin", "model.pt"])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_broken_weights_file_gives_one_line_error_naming_it(tokenizer, spm_path, tmp_path, weights, damage):
    ref = hf_model(tokenizer.vocab_size)
    if weights == "model.pt":
        path = write_fairseq_dir(ref, spm_path, tmp_path / "ckpt", old=False, fused=False)
    else:
        path = write_hf_dir(ref, spm_path, tmp_path / "ckpt", fmt="bin" if weights.endswith(".bin") else "safetensors")
    data = (path / weights).read_bytes()
    (path / weights).write_bytes(data[: len(data) // 2] if damage == "truncated" else os.urandom(len(data)))
    with pytest.raises(CheckpointError) as info:
        load_pretrained(path)
    message = str(info.value)
    assert message.startswith(f"{path / weights}: cannot read") and "\n" not in message


def test_directory_of_neither_format_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="neither config.json"):
        load_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="not a directory"):
        load_pretrained(tmp_path / "absent")


def test_save_pretrained_loads_in_transformers_with_the_same_outputs(tokenizer, tmp_path):
    torch.manual_seed(3)
    ours = random_init(XLMREncoder(XLMRConfig.tiny(tokenizer.vocab_size)), seed=3)
    save_pretrained(ours, tokenizer, tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["config.json", "model.safetensors", "sentencepiece.bpe.model"]
    theirs = transformers.XLMRobertaModel.from_pretrained(tmp_path / "out", add_pooling_layer=False).eval()
    ids, mask = mixed_batch(tokenizer.vocab_size, lengths=(3, 8, 5))
    assert_hidden_states_match(our_states(ours, ids, mask), reference_states(theirs, ids, mask), mask)
    # and back through our own loader, bit for bit
    again, tok = load_pretrained(tmp_path / "out")
    for (k, a), b in zip(ours.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k
    assert tok.vocab_size == tokenizer.vocab_size
    assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad for p in again.parameters())  # trainable
    half, _ = load_pretrained(tmp_path / "out", dtype=torch.bfloat16)
    assert {p.dtype for p in half.parameters()} == {torch.bfloat16}


def head_meta(kind, num_labels):
    return {"kind": kind, "num_labels": num_labels, "labels": [f"l{i}" for i in range(num_labels)], "task": "xnli",
            "model": "tiny", "intermediate_task": "none", "target_task": "xnli", "seed": 1}


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_save_head_then_load_head_gives_the_same_head(tmp_path, kind):
    torch.manual_seed(0)
    head = random_init(make_head(kind, 32, 3))
    save_head(tmp_path, head, head_meta(kind, 3))
    again, meta = load_head(tmp_path)
    assert type(again) is type(head) and meta["kind"] == kind and meta["labels"] == ["l0", "l1", "l2"]
    assert meta["hidden_size"] == 32
    for (k, a), b in zip(head.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), k


def test_head_errors_name_what_is_wrong(tmp_path):
    head = make_head("tag", 32, 5)
    meta = head_meta("tag", 5)
    with pytest.raises(ValueError, match="lacks"):
        save_head(tmp_path, head, {k: v for k, v in meta.items() if k != "seed"})
    with pytest.raises(CheckpointError, match="no task head"):
        load_head(tmp_path)
    save_head(tmp_path, head, meta)
    json_path = tmp_path / "head.json"
    json_path.write_text(json.dumps({**meta, "num_labels": 7, "hidden_size": 32}))
    with pytest.raises(CheckpointError, match="head.json: 5 labels but num_labels = 7"):
        load_head(tmp_path)
    json_path.write_text(json.dumps({**meta, "num_labels": 7, "labels": [f"l{i}" for i in range(7)],
                                     "hidden_size": 32}))
    with pytest.raises(CheckpointError, match="does not fit a 'tag' head"):
        load_head(tmp_path)
    json_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="head.json: cannot read JSON"):
        load_head(tmp_path)
