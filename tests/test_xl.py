"""XLM-R XL / XXL: the pre-LayerNorm encoder against transformers' XLMRobertaXL (test-only reference), fairseq's
pre-LN key names, embedding rows beyond the tokenizer's ids, memory-mapped loading, and retrieval's pooling of
un-normalised layers.

Run: python -m pytest -q tests/test_xl.py            (the RSS measurement is marked slow: -m "not slow" skips it)

Tiny random models stand in for the 3.5B / 10.7B checkpoints: the same code paths, key names and layout, with
hidden size 32. The fairseq keys are written out here, independently of xlmr/checkpoint.py's RENAMES.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_checkpoint import assert_hidden_states_match, mixed_batch, our_states, random_init
from xlmr.checkpoint import CheckpointError, load_mlm_head, load_pretrained, save_pretrained
from xlmr.model import XLMRConfig, XLMREncoder

transformers = pytest.importorskip("transformers")  # listed in requirements-dev.txt: never skips in CI

ROOT = Path(__file__).resolve().parents[1]


def padded_rows(n_ids: int, multiple: int = 128) -> int:
    """Embedding rows padded past the tokenizer's ids, as XL/XXL pad 250,002 to 250,880 (a multiple of 1,024)."""
    return -(-(n_ids + 1) // multiple) * multiple


def xl_config(vocab_size: int):
    return transformers.XLMRobertaXLConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_act="gelu")


def xl_mlm(vocab_size: int):
    torch.manual_seed(0)
    model = transformers.XLMRobertaXLForMaskedLM(xl_config(vocab_size))
    random_init(model)
    model.tie_weights()
    return model.eval()


def reference(model, ids, mask):
    """transformers' hidden states (embeddings .. last layer; the last after encoder.LayerNorm) and MLM logits."""
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    return out.hidden_states, out.logits


def max_diff(ours, theirs, mask) -> float:
    keep = mask.bool()
    return max(float((a[keep] - b[keep]).abs().max()) for a, b in zip(ours, theirs))


def write_xl_dir(model, spm_path, path: Path, fmt: str) -> Path:
    """transformers' own writer (safetensors, or shards with their index), or a pytorch_model.bin as the Hub's
    XL/XXL uploads are."""
    if fmt == "bin":
        path.mkdir(parents=True)
        torch.save({k: v.contiguous() for k, v in model.state_dict().items()}, path / "pytorch_model.bin")
        (path / "config.json").write_text(model.config.to_json_string())
    else:
        model.save_pretrained(path, max_shard_size="40KB" if fmt == "shards" else "10GB")
    shutil.copy(spm_path, path / "sentencepiece.bpe.model")
    return path


@pytest.mark.parametrize("fmt", ["safetensors", "shards", "bin"])
def test_hf_xl_directory_gives_transformers_hidden_states_and_mlm_logits(tokenizer, spm_path, tmp_path, fmt):
    rows = padded_rows(tokenizer.vocab_size)  # more rows than ids, as 250,880 vs 250,002
    ref = xl_mlm(rows)
    path = write_xl_dir(ref, spm_path, tmp_path / "xl", fmt)
    if fmt == "shards":
        assert (path / "model.safetensors.index.json").is_file() and not (path / "model.safetensors").exists()
        assert len(set(json.loads((path / "model.safetensors.index.json").read_text())["weight_map"].values())) > 1
    encoder, tok = load_pretrained(path)
    assert encoder.cfg.pre_layer_norm and encoder.embeddings.layer_norm is None
    assert (encoder.cfg.vocab_size, tok.vocab_size) == (rows, tokenizer.vocab_size)
    ids, mask = mixed_batch(tokenizer.vocab_size)
    ref_states, ref_logits = reference(ref, ids, mask)
    ours = our_states(encoder, ids, mask)
    assert_hidden_states_match(ours, ref_states, mask)
    head = load_mlm_head(path, encoder).eval()
    with torch.no_grad():
        logits = head(encoder.eval()(ids, mask))
    assert logits.shape[-1] == rows
    torch.testing.assert_close(logits[mask.bool()], ref_logits[mask.bool()], atol=1e-5, rtol=0)
    print(f"\n{fmt}: max |diff| hidden states {max_diff(ours, ref_states, mask):.2e}, "
          f"MLM logits {float((logits - ref_logits)[mask.bool()].abs().max()):.2e}")


def to_fairseq_pre_ln(hf_state: dict) -> dict:
    """transformers XLMRobertaXLForMaskedLM keys -> a fairseq RoBERTa checkpoint with encoder_normalize_before
    (TransformerEncoder: `layers.N.{self_attn.*, self_attn_layer_norm, fc1, fc2, final_layer_norm}`, the
    encoder's final `layer_norm`, no `layernorm_embedding`)."""
    enc = "encoder.sentence_encoder."
    layer_names = {"attention.self.query": "self_attn.q_proj", "attention.self.key": "self_attn.k_proj",
                   "attention.self.value": "self_attn.v_proj", "attention.output.dense": "self_attn.out_proj",
                   "attention.self_attn_layer_norm": "self_attn_layer_norm", "LayerNorm": "final_layer_norm",
                   "intermediate.dense": "fc1", "output.dense": "fc2"}
    out = {}
    for k, v in hf_state.items():
        k = k.removeprefix("roberta.")
        if k.startswith("lm_head."):
            name = {"lm_head.decoder.weight": "lm_head.weight"}.get(k, k)
            if k != "lm_head.decoder.bias":  # tied to lm_head.bias
                out["encoder." + name] = v
        elif k == "embeddings.word_embeddings.weight":
            out[enc + "embed_tokens.weight"] = v
        elif k == "embeddings.position_embeddings.weight":
            out[enc + "embed_positions.weight"] = v
        elif k.startswith("encoder.LayerNorm."):
            out[enc + "layer_norm." + k.split(".")[-1]] = v
        elif k.startswith("encoder.layer."):
            parts = k.split(".")
            out[f"{enc}layers.{parts[2]}.{layer_names['.'.join(parts[3:-1])]}.{parts[-1]}"] = v
        else:
            assert k == "embeddings.token_type_embeddings.weight", k  # fairseq has none (zeroed in the reference)
    out[enc + "version"] = torch.tensor([2.0])
    return out


def test_fairseq_pre_ln_checkpoint_gives_transformers_hidden_states_and_mlm_logits(tokenizer, spm_path, tmp_path):
    rows = padded_rows(tokenizer.vocab_size)
    ref = xl_mlm(rows)
    with torch.no_grad():  # fairseq has no token-type row: zero the reference's to compare the same model
        ref.roberta.embeddings.token_type_embeddings.weight.zero_()
    path = tmp_path / "xlmr.xl"
    path.mkdir()
    args = argparse.Namespace(arch="roberta_prenorm", encoder_attention_heads=4, encoder_normalize_before=True)
    torch.save({"args": args, "model": to_fairseq_pre_ln(ref.state_dict()), "extra_state": {}}, path / "model.pt")
    shutil.copy(spm_path, path / "sentencepiece.bpe.model")
    encoder, _ = load_pretrained(path)
    assert encoder.cfg.pre_layer_norm and (encoder.cfg.num_layers, encoder.cfg.vocab_size) == (3, rows)
    ids, mask = mixed_batch(tokenizer.vocab_size)
    ref_states, ref_logits = reference(ref, ids, mask)
    ours = our_states(encoder, ids, mask)
    assert_hidden_states_match(ours, ref_states, mask)
    head = load_mlm_head(path, encoder).eval()
    with torch.no_grad():
        logits = head(encoder(ids, mask))
    torch.testing.assert_close(logits[mask.bool()], ref_logits[mask.bool()], atol=1e-5, rtol=0)
    print(f"\nfairseq pre-LN: max |diff| hidden states {max_diff(ours, ref_states, mask):.2e}, "
          f"MLM logits {float((logits - ref_logits)[mask.bool()].abs().max()):.2e}")


@pytest.mark.parametrize("shard_bytes", [None, 20_000])
def test_save_pretrained_of_a_pre_ln_model_loads_in_transformers_xl(tokenizer, tmp_path, shard_bytes):
    torch.manual_seed(0)
    cfg = XLMRConfig.tiny(vocab_size=padded_rows(tokenizer.vocab_size))
    cfg.pre_layer_norm = True
    ours = random_init(XLMREncoder(cfg))
    save_pretrained(ours, tokenizer, tmp_path / "out", shard_bytes=shard_bytes)
    assert json.loads((tmp_path / "out" / "config.json").read_text())["model_type"] == "xlm-roberta-xl"
    theirs = transformers.XLMRobertaXLModel.from_pretrained(tmp_path / "out", add_pooling_layer=False).eval()
    again, _ = load_pretrained(tmp_path / "out")
    ids, mask = mixed_batch(tokenizer.vocab_size)
    with torch.no_grad():
        ref = theirs(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
    assert_hidden_states_match(our_states(ours, ids, mask), ref, mask)
    assert_hidden_states_match(our_states(again, ids, mask), ref, mask)


def test_pre_ln_names_without_their_final_layer_norm_are_refused(tokenizer, spm_path, tmp_path):
    ref = xl_mlm(padded_rows(tokenizer.vocab_size))
    path = write_xl_dir(ref, spm_path, tmp_path / "xl", "bin")
    state = torch.load(path / "pytorch_model.bin", weights_only=True)
    del state["roberta.encoder.LayerNorm.weight"], state["roberta.encoder.LayerNorm.bias"]
    torch.save(state, path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="2 missing.*final_norm"):
        load_pretrained(path)


def test_xl_architecture_with_post_ln_weights_is_refused(tokenizer, spm_path, tmp_path):
    from tests.test_checkpoint import hf_model, write_hf_dir
    path = write_hf_dir(hf_model(tokenizer.vocab_size), spm_path, tmp_path / "hf")
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "architectures": ["XLMRobertaXLForMaskedLM"]}))
    with pytest.raises(CheckpointError, match="pre-LN XL model"):
        load_pretrained(path)


def test_bf16_load_casts_every_weight_and_stays_close(tokenizer, spm_path, tmp_path):
    ref = xl_mlm(padded_rows(tokenizer.vocab_size))
    path = write_xl_dir(ref, spm_path, tmp_path / "xl", "safetensors")
    encoder, _ = load_pretrained(path, dtype=torch.bfloat16)
    assert {p.dtype for p in encoder.parameters()} == {torch.bfloat16}
    ids, mask = mixed_batch(tokenizer.vocab_size)
    with torch.no_grad():
        out = encoder.eval()(ids, mask).float()
        ref_out = ref.roberta(input_ids=ids, attention_mask=mask).last_hidden_state
    # bf16 has 8 mantissa bits: relative error ~1e-2 on LayerNorm outputs of unit scale
    assert float((out - ref_out)[mask.bool()].abs().max()) < 0.1


def test_presets_have_the_published_xl_and_xxl_sizes():
    from xlmr.memory import param_count
    xl, xxl = XLMRConfig.xl(), XLMRConfig.xxl()
    assert (xl.num_layers, xl.hidden_size, xl.ffn_size, xl.num_heads, xl.vocab_size) == (36, 2560, 10240, 32, 250880)
    assert (xxl.num_layers, xxl.hidden_size, xxl.ffn_size, xxl.num_heads) == (48, 4096, 16384, 32)
    assert xl.pre_layer_norm and xxl.pre_layer_norm and not XLMRConfig.large().pre_layer_norm
    # fairseq's README: 3.5B and 10.7B parameters (Base 270M with its embeddings, Large 560M)
    assert round(param_count(xl) / 1e9, 1) == 3.5 and round(param_count(xxl) / 1e9, 1) == 10.7
    assert round(param_count(XLMRConfig.large()) / 1e6, -1) == 560
    with torch.device("meta"):
        assert param_count(xl) == sum(p.numel() for p in XLMREncoder(xl).parameters())


# --- retrieval over a pre-LN model ------------------------------------------------------------------------------

def test_retrieval_pools_every_pre_ln_layer_after_the_final_layer_norm(tokenizer):
    """A pre-LN model's intermediate states are the raw residual stream; retrieval.embed puts each through the
    final LayerNorm before pooling (as the last layer already is), so every layer is on the same scale."""
    from retrieval import embed
    torch.manual_seed(0)
    cfg = XLMRConfig.tiny(vocab_size=tokenizer.vocab_size)
    cfg.pre_layer_norm = True
    model = random_init(XLMREncoder(cfg))
    sents = ["The quick brown fox.", "Der schnelle braune Fuchs springt.", "敏捷的棕色狐狸"]
    got = embed(model, tokenizer, sents, layer=list(range(cfg.num_layers + 1)), pool="mean", batch_size=2)
    enc = [tokenizer.build_inputs(ids, max_len=512) for ids in tokenizer.encode(sents)]
    for layer in range(cfg.num_layers + 1):
        for i, seq in enumerate(enc):
            with torch.no_grad():
                states = model(torch.tensor([seq]), output_hidden_states=True)
                last = layer == cfg.num_layers  # already after the final LayerNorm: not normalised twice
                normed = (states[layer][0] if last else model.final_norm(states[layer][0])).mean(0)
                raw = states[layer][0].mean(0)
            np.testing.assert_allclose(got[layer, i], normed.numpy(), atol=1e-5)
            if layer < cfg.num_layers:  # the raw residual stream differs: the test can tell the two apart
                assert not np.allclose(got[layer, i], raw.numpy(), atol=1e-3)
    with torch.no_grad():  # the last layer: the model's own output, normalised once (not twice)
        last = model(torch.tensor([enc[0]]))[0].mean(0)
    np.testing.assert_allclose(got[cfg.num_layers, 0], last.numpy(), atol=1e-5)


# --- memory-mapped loading --------------------------------------------------------------------------------------

RSS_SCRIPT = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv[1])
    import torch
    from xlmr.checkpoint import load_pretrained
    from xlmr.model import XLMRConfig, XLMREncoder

    def kb(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])

    def reset_peak():  # VmHWM back to the current RSS; returns that RSS
        open("/proc/self/clear_refs", "w").write("5")
        return kb("VmRSS")

    with torch.device("meta"):  # torch's one-time cost of a first module build (~70 MB), whatever the model
        XLMREncoder(XLMRConfig.tiny())
    before = reset_peak()
    encoder, tokenizer = load_pretrained(sys.argv[2])
    print(kb("VmHWM") - before, encoder.cfg.vocab_size, tokenizer.vocab_size)
    before = reset_peak()  # the control: the whole pickle read without mmap, as the loader did before
    state = torch.load(sys.argv[2] + "/pytorch_model.bin", weights_only=True)
    print(kb("VmHWM") - before)
''')


def wide_spm(spm_path, path: Path, pieces: int = 250000) -> Path:
    """The test's sentencepiece model grown to XLM-R's 250,000 pieces (250,002 ids) with never-produced filler
    pieces, so a 250,880-row embedding meets a tokenizer of XLM-R's own size."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    model = pb.ModelProto()
    model.ParseFromString(Path(spm_path).read_bytes())
    for i in range(pieces - len(model.pieces)):
        model.pieces.add(piece=f"\u2581\ue000{i}", score=-1e4, type=pb.ModelProto.SentencePiece.NORMAL)
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.slow
def test_loading_memory_maps_the_checkpoint_and_takes_250880_rows_with_a_250002_id_tokenizer(spm_path, tmp_path):
    """A ~190 MB pytorch_model.bin in transformers' XL layout with XL's 250,880-row embedding (hidden size 192)
    and a 250,002-id tokenizer loads, with a peak RSS increase far below the file's size: the tensors stay views
    of the mapped file until used. The control (torch.load without mmap, as before) shows the measurement sees a
    whole read. Both are measured in a fresh interpreter (/proc/self/status: VmHWM after resetting it)."""
    from xlmr.checkpoint import _hf_state
    cfg = XLMRConfig(vocab_size=250880, hidden_size=192, num_layers=2, num_heads=4, ffn_size=384,
                     pre_layer_norm=True)
    path = tmp_path / "xl"
    path.mkdir()
    with torch.device("meta"):
        model = XLMREncoder(cfg)
    # uninitialised weights (values do not matter here), in the Hub's XL/XXL file format
    torch.save(_hf_state(model.to_empty(device="cpu")), path / "pytorch_model.bin")
    (path / "config.json").write_text(json.dumps({
        "architectures": ["XLMRobertaXLForMaskedLM"], "model_type": "xlm-roberta-xl", "vocab_size": 250880,
        "hidden_size": 192, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 384,
        "max_position_embeddings": 514, "pad_token_id": 1}))
    wide_spm(spm_path, path / "sentencepiece.bpe.model")
    size_mb = (path / "pytorch_model.bin").stat().st_size / 2**20
    assert size_mb > 180
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(ROOT), str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    grown_kb, rows, ids, control_kb = map(int, out[-4:])
    grown, control = grown_kb / 1024, control_kb / 1024
    print(f"\n{size_mb:.0f} MB checkpoint: peak RSS +{grown:.0f} MB with load_pretrained (mmap), "
          f"+{control:.0f} MB with a plain torch.load")
    assert (rows, ids) == (250880, 250002)
    assert control > 0.8 * size_mb, f"the control read only {control:.0f} MB of a {size_mb:.0f} MB file"
    # what remains is mostly the 250,000-piece sentencepiece model (~45 MB), whatever the weights' size
    assert grown < 0.4 * size_mb, f"loading took {grown:.0f} MB of RAM for a {size_mb:.0f} MB file"


# --- memory arithmetic (xlmr/memory.py) -------------------------------------------------------------------------

def test_training_memory_follows_its_formula_and_shards_states_under_fsdp():
    from xlmr.memory import param_count, training_memory
    xl, xxl = XLMRConfig.xl(), XLMRConfig.xxl()
    one = training_memory(xl, batch_size=4, max_len=256, gpus=1, checkpointing=True)
    assert one.states == 16 * param_count(xl)  # fp32 weights + grads + two AdamW moments
    tokens_x_hidden = 4 * 256 * 2560
    assert one.activations == 36 * tokens_x_hidden * 4 + tokens_x_hidden * 34
    assert one.total == pytest.approx((one.states + one.activations) * 1.15 + 2 * 2**30)
    assert 60e9 < one.total < 80e9  # XL fits one 80 GB GPU with activation checkpointing
    without = training_memory(xl, batch_size=4, max_len=256, checkpointing=False)
    assert without.activations == 36 * tokens_x_hidden * 34 > one.activations
    assert training_memory(xxl, 4, 256, gpus=1).total > 190e9  # XXL: 171 GB of states alone
    sharded = training_memory(xxl, 4, 256, gpus=8, fsdp=True, checkpointing=True)
    assert sharded.states == 16 * param_count(xxl) / 8 and 20e9 < sharded.total < 35e9
    assert training_memory(xxl, 4, 256, gpus=8, fsdp=False).states == 16 * param_count(xxl)  # DDP: not sharded


def test_inference_batch_size_comes_from_free_memory_with_fake_numbers():
    from xlmr.memory import inference_batch_size, pick_batch_size
    xl = XLMRConfig.xl()
    per_seq = 256 * 2 * (8 * 2560 + 2 * 10240 + 32 * 256)  # bytes per 256-token sequence in bf16
    assert inference_batch_size(xl, free_bytes=per_seq * 100, max_len=256) == 80  # 0.8 headroom
    assert inference_batch_size(xl, free_bytes=per_seq * 100 / 0.8 + 1, max_len=256) == 100
    assert inference_batch_size(xl, free_bytes=10, max_len=256) == 1  # never 0
    assert inference_batch_size(xl, free_bytes=1e15, max_len=256) == 1024  # capped
    assert inference_batch_size(xl, 40e9, 512) < inference_batch_size(xl, 40e9, 128)
    kept = inference_batch_size(xl, 40e9, 256, keep_hidden_states=True)  # retrieval keeps L+1 states
    assert kept < inference_batch_size(xl, 40e9, 256)
    assert pick_batch_size(xl, "cpu", 256, default=64) == 64  # CPU: the fixed default


def test_xl_download_then_safetensors_conversion_loads_the_same_model(tokenizer, spm_path, tmp_path):
    """python -m xlmr.download xl --safetensors against a loopback mirror: fairseq's xlmr/xlmr.xl.tar.gz path,
    a pre-LN model.pt, rewritten as shards that load to the same hidden states."""
    from tests.test_download import LoopbackServer, make_tar
    from xlmr import download as X
    ref = xl_mlm(padded_rows(tokenizer.vocab_size))
    with torch.no_grad():
        ref.roberta.embeddings.token_type_embeddings.weight.zero_()
    src = tmp_path / "src"
    src.mkdir()
    torch.save({"args": argparse.Namespace(encoder_attention_heads=4), "model": to_fairseq_pre_ln(ref.state_dict())},
               src / "model.pt")
    (src / "dict.txt").write_text("w 1\n")
    shutil.copy(spm_path, src / "sentencepiece.bpe.model")
    tarball = make_tar({f"xlmr.xl/{p.name}": p.read_bytes() for p in src.iterdir()})
    assert X.URLS["xl"] == "https://dl.fbaipublicfiles.com/fairseq/models/xlmr/xlmr.xl.tar.gz"
    out = tmp_path / "xlmr.xl"
    with LoopbackServer({"/dl.fbaipublicfiles.com/fairseq/models/xlmr/xlmr.xl.tar.gz": tarball}) as server:
        X.download_xlmr("xl", out, base_url=server.base_url, progress=False, log=lambda m: None)
    X.convert_to_safetensors(out, shard_bytes=30_000, log=lambda m: None)
    assert not (out / "model.pt").exists() and (out / "model.safetensors.index.json").is_file()
    assert len(list(out.glob("model-*-of-*.safetensors"))) > 1
    encoder, _ = load_pretrained(out)
    ids, mask = mixed_batch(tokenizer.vocab_size)
    assert_hidden_states_match(our_states(encoder, ids, mask), reference(ref, ids, mask)[0], mask)


def test_evaluate_cli_runs_a_pre_ln_checkpoint_in_bf16_with_the_cpu_default_batch(tokenizer, tmp_path,
                                                                                  monkeypatch):
    """evaluate.py --dtype bf16 on a pre-LN checkpoint (as train.py's best/ folder holds it): the weights are
    cast at load, the batch is the fixed CPU default when --batch-size is not given, and the scores are those of
    fp32 up to bf16 rounding."""
    import evaluate
    from config import EvalConfig
    from data.tasks import get_task
    from tests.test_evaluate import FIXTURE_DATA, fixture_langs
    from xlmr.checkpoint import save_head
    from xlmr.heads import make_head

    task = get_task("xnli")
    torch.manual_seed(0)
    cfg = XLMRConfig.tiny(vocab_size=padded_rows(tokenizer.vocab_size))
    cfg.pre_layer_norm = True
    ckpt = tmp_path / "best"
    save_pretrained(XLMREncoder(cfg), tokenizer, ckpt)
    labels = task.get_labels(FIXTURE_DATA)
    save_head(ckpt, make_head(task.kind, 32, len(labels)), {
        "kind": task.kind, "num_labels": len(labels), "labels": list(labels), "task": "xnli", "model": "xl-tiny",
        "intermediate_task": "mnli", "target_task": "xnli", "seed": 1})
    seen = {}
    real_load, real_eval = evaluate.load_pretrained, evaluate.evaluate_langs
    monkeypatch.setattr(evaluate, "load_pretrained", lambda *a, **k: seen.setdefault("dtype", k["dtype"]) and
                        real_load(*a, **k))
    monkeypatch.setattr(evaluate, "evaluate_langs", lambda *a, **k: seen.setdefault("batch", a[8]) and
                        real_eval(*a, **k))
    langs = ",".join(fixture_langs(task))
    args = ["--ckpt", str(ckpt), "--langs", langs, "--data-dir", str(FIXTURE_DATA), "--max-len", "64"]
    bf16 = evaluate.run([*args, "--dtype", "bf16", "--results", str(tmp_path / "bf16.csv")])
    assert seen == {"dtype": torch.bfloat16, "batch": EvalConfig().batch_size}
    fp32 = evaluate.run([*args, "--results", str(tmp_path / "fp32.csv")])
    for lang in fp32:
        assert abs(bf16[lang]["accuracy"] - fp32[lang]["accuracy"]) <= 20  # a few flipped argmaxes at most


# --- the pre-LN encoder on its own (tests/test_model.py's invariants, pre-LN) ----------------------------------

def test_pre_ln_padding_changes_no_real_token_output_and_has_its_own_parameters():
    from tests.test_model import tiny
    model = tiny(pre_layer_norm=True)
    names = {n for n, _ in model.named_parameters()}
    assert "final_norm.weight" in names and not any(n.startswith("embeddings.layer_norm") for n in names)
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]])
    mask = ids.ne(1).long()
    padded_ids = torch.cat([ids, torch.ones(2, 6, dtype=torch.long)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(2, 6, dtype=torch.long)], dim=1)
    with torch.no_grad():
        short = model(ids, mask, output_hidden_states=True)
        long = model(padded_ids, padded_mask, output_hidden_states=True)
        out = model(ids, mask)
    for a, b in zip(short, long):
        torch.testing.assert_close(a[mask.bool()], b[:, :5][mask.bool()], atol=1e-6, rtol=0)
    torch.testing.assert_close(short[-1], out, atol=0, rtol=0)  # the last state is the (normalised) output
    keep = mask.bool()
    assert abs(float(out[keep].std(-1).mean()) - 1) < 0.1  # after the final LayerNorm (unit gains at init)


def test_pre_ln_activation_checkpointing_gives_the_same_gradients():
    from tests.test_model import tiny
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, 1, 1]])
    grads = []
    for flag in (False, True):
        model = tiny(pre_layer_norm=True, activation_checkpointing=flag, dropout=0.0, attn_dropout=0.0).train()
        model(ids).pow(2).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and "final_norm.weight" in grads[0]
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-6, rtol=0, msg=name)
