"""`python -m data.download` end to end, against a real HTTP server on 127.0.0.1 serving tiny fixture archives.

Run: python -m pytest -q tests/test_download.py
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest

from data import download as D
from data.check import check
from common.fetch import DownloadError, read_manifest, sha256_file
from data.tasks import TASKS
from tests.fixtures.download.loopback import LoopbackServer, make_tar, make_zip
from tests.fixtures.download.upstream import build_upstream, serve_paths

XNLI_URL = "https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip"


@pytest.fixture(scope="module")
def upstream() -> dict[str, bytes]:
    return build_upstream()


def fixture_table(files: dict[str, bytes]) -> dict[str, tuple[D.Source, ...]]:
    """SOURCES with each published checksum replaced by the fixture file's (None stays None)."""
    def swap(s: D.Source) -> D.Source:
        data = files.get(s.url or s.name)
        return dataclasses.replace(s, sha256=hashlib.sha256(data).hexdigest() if s.sha256 and data else s.sha256)
    return {task: tuple(swap(s) for s in sources) for task, sources in D.SOURCES.items()}


def run_main(monkeypatch, files, argv, capsys):
    """Run the CLI with the fixture table; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(D, "SOURCES", fixture_table(files))
    code = 0
    try:
        D.main(argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def read_everything(data_dir) -> set[str]:
    """Read every (task, language, split) the registry knows (each must be non-empty); return the tasks read."""
    read = set()
    for task in [TASKS[name] for name in D.SOURCES]:
        for lang in task.langs:
            for split in task.splits:
                try:
                    if not task.candidates(lang, split):
                        continue
                except ValueError:  # e.g. pawsx train exists for en only
                    continue
                examples = task.read(data_dir, lang, split)
                size = len(examples.src) if hasattr(examples, "src") else len(examples)
                assert size > 0, (task.name, lang, split)
                read.add(task.name)
    return read


def test_table_covers_every_registered_task_and_checksums_are_hex():
    assert set(D.SOURCES) == {name for name, task in TASKS.items() if task.downloads}
    for task, sources in D.SOURCES.items():
        assert sources, task
        for s in sources:
            assert s.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", s.sha256), (task, s.url)
            assert bool(s.url) != bool(s.manual), (task, s)  # either fetched or a manual step


def test_mirror_url_keeps_host_and_path():
    assert D.mirror_url(XNLI_URL, None) == XNLI_URL
    assert D.mirror_url(XNLI_URL, "http://127.0.0.1:8000/m/") == \
        "http://127.0.0.1:8000/m/dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip"


@pytest.mark.slow
def test_full_download_lays_out_a_data_dir_every_reader_accepts(tmp_path, upstream, monkeypatch, capsys):
    (tmp_path / "AmazonPhotos.zip").write_bytes(upstream["AmazonPhotos.zip"])
    (tmp_path / "ccg.tgz").write_bytes(upstream["ccg.tgz"])
    (tmp_path / "bb.tsv").write_bytes(upstream["belebele_training_set.tsv"])
    data_dir = tmp_path / "data"
    with LoopbackServer(serve_paths(upstream)) as server:
        argv = ["--tasks", ",".join(D.SOURCES), "--out", str(data_dir), "--base-url", server.base_url, "--quiet",
                "--from-file", f"panx={tmp_path / 'AmazonPhotos.zip'}", "--from-file", f"ccg={tmp_path / 'ccg.tgz'}",
                "--from-file", f"belebele_assembled={tmp_path / 'bb.tsv'}"]
        code, _, err = run_main(monkeypatch, upstream, argv, capsys)
        assert code == 0, err
        assert "\nOK\n" in err  # data.check's report, run by the command
        first = len(server.requests)
        # a second run finds every file in place (checksums match): nothing is fetched again
        code, _, err = run_main(monkeypatch, upstream, argv, capsys)
        assert code == 0, err
        assert len(server.requests) == first
    assert first == len(serve_paths(upstream))  # each file fetched exactly once (MNLI shared by three tasks)
    report = check(data_dir, tasks=list(D.SOURCES))  # every task with upstream files (Belebele is on the Hub only)
    assert report["ok"] and {t["task"]: t["status"] for t in report["tasks"]} == {t: "ok" for t in D.SOURCES}
    assert read_everything(data_dir) == set(D.SOURCES)  # every language and split, not only the required ones
    # the manifest lists every fetched file with the SHA-256 of what the server sent
    manifest = read_manifest(data_dir / D.MANIFEST_NAME)
    expected = {s.saved_as: hashlib.sha256(upstream[s.url or s.name]).hexdigest()
                for sources in D.SOURCES.values() for s in sources}
    assert manifest == expected
    assert all(sha256_file(data_dir / path) == digest for path, digest in manifest.items())
    # only the kept members were unpacked: UD's unrelated treebank and SNLI's .txt copy are not there
    assert not list((data_dir / "udpos").rglob("qq_*"))
    assert not list((data_dir / "anli_plus").rglob("*.txt"))
    assert sorted(p.name for p in (data_dir / "ccg").iterdir()) == [
        "ccg.dev.tsv", "ccg.test.tsv", "ccg.train.tsv", "tags_to_id.json"]
    assert not any(p.name.endswith(".part") or p.name.startswith(".") for p in data_dir.rglob("*"))


def test_dropped_connection_is_resumed_and_the_sha256_is_right(tmp_path, upstream):
    with LoopbackServer(serve_paths(upstream), mode="drop_once") as server:
        pending = D.download(["xnli", "xquad"], tmp_path, base_url=server.base_url, sources=fixture_table(upstream),
                             backoff=0, progress=False, log=lambda m: None)
    assert pending == []
    ranged = [r for _, r in server.requests if r is not None]
    assert len(ranged) == 13  # every file (XNLI, MNLI, 11 XQuAD) was resumed once with a Range request
    manifest = read_manifest(tmp_path / D.MANIFEST_NAME)
    assert manifest["downloads/XNLI-1.0.zip"] == hashlib.sha256(upstream[XNLI_URL]).hexdigest()
    assert sha256_file(tmp_path / "xquad/xquad.de.json") == hashlib.sha256(
        upstream["https://github.com/deepmind/xquad/raw/master/xquad.de.json"]).hexdigest()
    assert len(TASKS["xnli"].read(tmp_path, "sw", "test")) == 2


def test_checksum_mismatch_is_an_error_and_leaves_no_file(tmp_path, upstream, monkeypatch, capsys):
    with LoopbackServer(serve_paths(upstream), mode="wrong") as server:
        code, _, err = run_main(monkeypatch, upstream, ["--tasks", "xnli", "--out", str(tmp_path / "d"),
                                                        "--base-url", server.base_url, "--quiet"], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: ") and "XNLI-1.0.zip: SHA-256 mismatch" in lines[-1]
    assert not (tmp_path / "d" / "downloads" / "XNLI-1.0.zip").exists()
    assert not (tmp_path / "d" / "xnli").exists()
    assert sorted(p.name for p in (tmp_path / "d" / "downloads").iterdir()) == []


def test_data_check_failure_fails_the_command(tmp_path, upstream, monkeypatch, capsys):
    bad_row = b"language\tgold_label\tsentence1\tsentence2\tpairID\nde\tmaybe\ta\tb\t1\n"
    files = {**upstream, XNLI_URL: make_zip({"XNLI-1.0/xnli.dev.tsv": bad_row, "XNLI-1.0/xnli.test.tsv": bad_row})}
    with LoopbackServer(serve_paths(files)) as server:
        code, _, err = run_main(monkeypatch, files, ["--tasks", "xnli", "--out", str(tmp_path), "--base-url",
                                                     server.base_url, "--quiet"], capsys)
    assert code == 1
    assert "xnli.test.tsv:2" in err and "FAILED" in err
    assert err.strip().splitlines()[-1] == f"error: data.check found problems in {tmp_path} (see its report above)"


def test_404_is_one_clear_line_naming_the_url(tmp_path, upstream, monkeypatch, capsys):
    files = {p: b for p, b in serve_paths(upstream).items() if not p.endswith("xquad.th.json")}
    with LoopbackServer(files) as server:
        code, _, err = run_main(monkeypatch, upstream, ["--tasks", "xquad", "--out", str(tmp_path),
                                                        "--base-url", server.base_url, "--quiet"], capsys)
    assert code == 1
    url = f"{server.base_url}/github.com/deepmind/xquad/raw/master/xquad.th.json"
    assert err.strip().splitlines()[-1] == f"error: {url}: HTTP 404 Not Found"
    assert not (tmp_path / "xquad" / "xquad.th.json").exists()


def test_verify_accepts_a_matching_manifest_and_refuses_a_different_one(tmp_path, upstream, monkeypatch, capsys):
    with LoopbackServer(serve_paths(upstream)) as server:
        base = ["--tasks", "xquad,tydiqa", "--base-url", server.base_url, "--quiet", "--no-check"]
        assert run_main(monkeypatch, upstream, base + ["--out", str(tmp_path / "a")], capsys)[0] == 0
        manifest = tmp_path / "a" / D.MANIFEST_NAME
        code, _, err = run_main(monkeypatch, upstream, base + ["--out", str(tmp_path / "b"), "--verify",
                                                               str(manifest)], capsys)
        assert code == 0, err
        # a manifest from a machine that got other bytes: the download is refused and removed
        entries = read_manifest(manifest)
        entries["xquad/xquad.ar.json"] = "0" * 64
        other = tmp_path / "other.sha256"
        other.write_text("".join(f"{d}  {p}\n" for p, d in entries.items()))
        unpublished = {t: tuple(dataclasses.replace(s, sha256=None) for s in ss) for t, ss in D.SOURCES.items()}
        with pytest.raises(DownloadError, match=r"xquad\.ar\.json: SHA-256 mismatch: expected 0{64}"):
            D.download(["xquad"], tmp_path / "c", base_url=server.base_url, verify=read_manifest(other),
                       sources=unpublished, backoff=0, progress=False, log=lambda m: None)
        assert not (tmp_path / "c" / "xquad" / "xquad.ar.json").exists()
        # a manifest that lacks a file cannot verify it
        del entries["xquad/xquad.ar.json"]
        with pytest.raises(DownloadError, match=r"has no entry for xquad/xquad\.ar\.json"):
            D.download(["xquad"], tmp_path / "c", base_url=server.base_url, verify=entries,
                       sources=unpublished, backoff=0, progress=False, log=lambda m: None)


def test_archive_with_escaping_members_is_refused_and_nothing_lands_outside(tmp_path, upstream):
    evil_zip = make_zip({"XNLI-1.0/xnli.dev.tsv": b"x", "XNLI-1.0/../../../evil.txt": b"evil"})
    evil_tar = make_tar({"x-final/en/train.tsv": b"x"}, symlinks={"x-final/de": "../../../outside"})
    files = serve_paths({XNLI_URL: evil_zip, "https://storage.googleapis.com/paws/pawsx/x-final.tar.gz": evil_tar})
    table = fixture_table({**upstream, XNLI_URL: evil_zip,
                           "https://storage.googleapis.com/paws/pawsx/x-final.tar.gz": evil_tar})
    data_dir = tmp_path / "deep" / "data"
    with LoopbackServer(files) as server:
        for task, member in (("xnli", "XNLI-1.0/../../../evil.txt"), ("pawsx", "x-final/de")):
            with pytest.raises(DownloadError, match=re.escape(repr(member))):
                D.download([task], data_dir, base_url=server.base_url, sources={task: table[task][:1]},
                           backoff=0, progress=False, log=lambda m: None)
    # the archives were fetched (and recorded), but nothing was unpacked, inside or outside DATA_DIR
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "deep/data/MANIFEST.sha256", "deep/data/downloads/XNLI-1.0.zip", "deep/data/downloads/x-final.tar.gz"]


@pytest.mark.slow
def test_manual_source_prints_instructions_and_other_tasks_still_download(tmp_path, upstream, monkeypatch, capsys):
    with LoopbackServer(serve_paths(upstream)) as server:
        code, _, err = run_main(monkeypatch, upstream, ["--tasks", "panx,sst2", "--out", str(tmp_path),
                                                        "--base-url", server.base_url, "--quiet", "--no-check"],
                                capsys)
    assert code == 1
    assert "amazon.com/clouddrive/share/" in err and "--from-file panx=" in err
    assert err.strip().splitlines()[-1] == "error: not done, a manual step is needed (see above): panx"
    assert len(TASKS["sst2"].read(tmp_path, "en", "dev")) == 2
    # the file saved by hand under downloads/ is picked up on the next run
    (tmp_path / "downloads" / "AmazonPhotos.zip").write_bytes(upstream["AmazonPhotos.zip"])
    code, _, err = run_main(monkeypatch, upstream, ["--tasks", "panx", "--out", str(tmp_path), "--quiet",
                                                    "--no-check"], capsys)
    assert code == 0, err
    assert len(TASKS["panx"].read(tmp_path, "yo", "test")) == 2


def test_from_file_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match=r"say which task it is for, as TASK=PATH \(manual tasks selected: panx, "
                                         r"ccg\)"):
        D.parse_from_files(["a.zip"], ["panx", "ccg"])
    with pytest.raises(ValueError, match=r"'xnli' is not a selected task with a manual source"):
        D.parse_from_files(["xnli=a.zip"], ["xnli", "panx"])
    assert D.parse_from_files(["a.zip"], ["xnli", "panx"]) == {"panx": Path("a.zip")}
    with pytest.raises(DownloadError, match=r"nope\.zip: no such file"):
        D.download(["panx"], tmp_path, from_files={"panx": tmp_path / "nope.zip"}, log=lambda m: None)


def test_unknown_task_is_an_error_listing_known_ones(tmp_path, monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, {}, ["--tasks", "xnli,nope", "--out", str(tmp_path)], capsys)
    assert code == 1 and err.startswith("error: unknown task(s) nope; known: xnli, pawsx")


def test_list_prints_every_source(capsys):
    D.main(["--list"])
    out = capsys.readouterr().out.split("\n\n")[0].splitlines()  # the sources; then the default source per task
    assert len(out) == sum(len(s) for s in D.SOURCES.values())
    assert any(line.startswith("panx") and "manual: AmazonPhotos.zip" in line for line in out)


# --- python -m xlmr.download ------------------------------------------------------------------------------------


def _xlmr_tarball(spm_path, tmp_path, vocab_size):
    """A tiny random fairseq XLM-R directory (model.pt with fairseq's key names, dict.txt, the sentencepiece
    model), packed like xlmr.base.tar.gz: every member under `xlmr.base/`."""
    import argparse
    import torch
    from xlmr.checkpoint import RENAMES, _fill, _to_regex
    from xlmr.model import XLMRConfig, XLMREncoder

    torch.manual_seed(0)
    encoder = XLMREncoder(XLMRConfig.tiny(vocab_size=vocab_size))
    with torch.no_grad():  # fairseq has no token-type row; the loader puts zeros there
        encoder.embeddings.token_type_embeddings.weight.zero_()
    state = {}
    for key, tensor in encoder.state_dict().items():  # our names -> fairseq's, through the loader's own table
        for ours, _, fairseq, *_ in RENAMES:
            match = _to_regex(ours).match(key)
            if match and fairseq:
                state["encoder.sentence_encoder." + _fill(fairseq[0], match)] = tensor
                break
        else:
            assert key == "embeddings.token_type_embeddings.weight", key  # fairseq has none
    src = tmp_path / "fairseq_src"
    src.mkdir()
    torch.save({"args": argparse.Namespace(encoder_attention_heads=4), "model": state}, src / "model.pt")
    (src / "dict.txt").write_text("".join(f"w{i} 1\n" for i in range(vocab_size - 5)))
    (src / "sentencepiece.bpe.model").write_bytes(open(spm_path, "rb").read())
    return make_tar({f"xlmr.base/{p.name}": p.read_bytes() for p in src.iterdir()}), src, encoder


XLMR_PATH = "/dl.fbaipublicfiles.com/fairseq/models/xlmr.base.tar.gz"


def test_xlmr_download_resumes_and_gives_a_directory_load_pretrained_reads(tmp_path, spm_path, tokenizer, capsys):
    import torch
    from xlmr import download as X
    from xlmr.checkpoint import load_pretrained

    tarball, src, original = _xlmr_tarball(spm_path, tmp_path, tokenizer.vocab_size)
    out = tmp_path / "xlmr.base"
    with LoopbackServer({XLMR_PATH: tarball}, mode="drop_once") as server:
        X.main(["base", "--out", str(out), "--base-url", server.base_url, "--quiet"])
        assert [r is None for _, r in server.requests] == [True, False]  # dropped once, resumed with Range
        X.main(["base", "--out", str(out), "--base-url", server.base_url, "--quiet"])  # already in place
        assert len(server.requests) == 2
    assert sorted(p.name for p in out.iterdir()) == ["MANIFEST.sha256", "dict.txt", "model.pt",
                                                     "sentencepiece.bpe.model"]
    manifest = read_manifest(out / "MANIFEST.sha256")
    assert manifest["xlmr.base.tar.gz"] == hashlib.sha256(tarball).hexdigest()
    assert manifest["model.pt"] == sha256_file(src / "model.pt")
    encoder, tok = load_pretrained(out)
    ids = torch.tensor([[0, 5, 6, 7, 2]])
    encoder.eval(), original.eval()
    with torch.no_grad():
        torch.testing.assert_close(encoder(ids), original(ids), rtol=0, atol=0)
    assert tok.vocab_size == tokenizer.vocab_size


def test_xlmr_download_refuses_a_wrong_checksum_and_an_escaping_archive(tmp_path, capsys):
    from xlmr import download as X

    good = make_tar({"xlmr.base/model.pt": b"m", "xlmr.base/dict.txt": b"d",
                     "xlmr.base/sentencepiece.bpe.model": b"s"})
    other = tmp_path / "other.sha256"
    other.write_text(f"{'0' * 64}  xlmr.base.tar.gz\n")
    with LoopbackServer({XLMR_PATH: good}) as server:
        with pytest.raises(SystemExit):
            X.main(["base", "--out", str(tmp_path / "a"), "--base-url", server.base_url, "--quiet",
                    "--verify", str(other)])
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "xlmr.base.tar.gz: SHA-256 mismatch: expected 0000" in err[-1]
    assert list((tmp_path / "a").iterdir()) == []
    evil = make_tar({"xlmr.base/model.pt": b"m"}, symlinks={"xlmr.base/dict.txt": "../../../etc/passwd"})
    with LoopbackServer({XLMR_PATH: evil}) as server:
        with pytest.raises(DownloadError, match=r"refusing member 'xlmr.base/dict.txt'"):
            X.download_xlmr("base", tmp_path / "b", base_url=server.base_url, backoff=0, progress=False,
                            log=lambda m: None)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "MANIFEST.sha256", "other.sha256", "xlmr.base.tar.gz"]  # only the fetched archive and its record
    with pytest.raises(ValueError, match="unknown XLM-R size 'huge'"):
        X.download_xlmr("huge", tmp_path / "c")
