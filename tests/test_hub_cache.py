"""data.download --source hub takes files only from the repo's own folder of the Hugging Face cache (issue 22 item
10): tests build a cache on disk in the real layout (snapshots/<commit>/<path> -> ../../blobs/<hash>) and tamper
with it. In-process, offline (HF_HUB_OFFLINE), no network.

Run: python -m pytest -q tests/test_hub_cache.py
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data import download as D

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "google/xtreme"
SHARD = "validation-00000-of-00001.parquet"
FILES = [f"tatoeba.deu/{SHARD}", f"tatoeba.fra/{SHARD}"]


def tatoeba_parquet(path: Path) -> Path:
    """A one-row google/xtreme tatoeba.L3 shard; L3 from the folder name (tatoeba.fra -> fra)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lang3 = path.parent.name.rsplit(".", 1)[-1] if path.parent.name.startswith("tatoeba.") else "fra"
    pq.write_table(pa.table({"source_sentence": [f"Hallo {path}."], "target_sentence": ["Hello."],
                             "source_lang": [lang3], "target_lang": ["eng"]}), path)
    return path


@pytest.fixture()
def hf(tmp_path, monkeypatch):
    """A Hugging Face cache holding FILES of google/xtreme as blobs with relative snapshot links; returns
    (cache root, the repo's folder, the snapshot folder)."""
    import huggingface_hub.constants as C

    cache = tmp_path / "hf_cache"
    repo = cache / "datasets--google--xtreme"
    snap = repo / "snapshots" / COMMIT
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "blobs").mkdir()
    for rel in FILES:
        data = tatoeba_parquet(tmp_path / "build" / rel).read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snap / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    monkeypatch.setattr(C, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(C, "HF_HUB_CACHE", str(cache))
    return cache, repo, snap


def fetch(tmp_path) -> Path:
    out = tmp_path / "DATA"
    D.download_hub(["tatoeba"], out, langs=["de", "fr"], log=lambda m: None)
    return out


def nothing_laid_out(out: Path) -> bool:
    return not any(p.is_file() for p in out.rglob("*")) if out.exists() else True


def test_a_cache_in_the_real_layout_is_laid_out(hf, tmp_path):
    out = fetch(tmp_path)
    assert pq.read_table(out / "hub" / REPO / FILES[0]).num_rows == 1


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_a_snapshot_link_to_a_file_outside_the_repos_cache_is_refused(hf, tmp_path, how):
    _, _, snap = hf
    outside = tatoeba_parquet(tmp_path / "elsewhere" / "secret.parquet")
    link = snap / FILES[1]
    link.unlink()
    link.symlink_to(outside if how == "absolute" else os.path.relpath(outside, link.parent))
    with pytest.raises(D.DownloadError, match=rf"hub: google/xtreme: .*{FILES[1]} points at {outside}, outside the "
                                              r"repo's cache blobs"):
        fetch(tmp_path)
    assert nothing_laid_out(tmp_path / "DATA")


def test_a_snapshot_folder_linked_to_a_folder_outside_is_refused(hf, tmp_path):
    _, _, snap = hf
    outside = tatoeba_parquet(tmp_path / "elsewhere" / "tatoeba.fra" / SHARD).parent
    (snap / FILES[1]).unlink()
    (snap / "tatoeba.fra").rmdir()
    (snap / "tatoeba.fra").symlink_to(outside)
    with pytest.raises(D.DownloadError, match="outside the repo's cache blobs"):
        fetch(tmp_path)


def test_a_ref_holding_a_path_instead_of_a_commit_is_refused(hf, tmp_path):
    _, repo, _ = hf
    for rel in FILES:
        tatoeba_parquet(tmp_path / "planted" / rel)
    (repo / "refs" / "main").write_text(os.path.relpath(tmp_path / "planted", repo / "snapshots"))
    with pytest.raises(D.DownloadError, match=r"the snapshot folder .* is outside the repo's cache folder .*"
                                              r"does refs/main hold a path"):
        fetch(tmp_path)
    assert nothing_laid_out(tmp_path / "DATA")


def test_a_dangling_link_says_the_cache_is_broken(hf, tmp_path):
    _, repo, snap = hf
    blob = (snap / FILES[1]).resolve()
    blob.unlink()
    with pytest.raises(D.DownloadError, match=rf"hub: google/xtreme: the cache is broken: .*{FILES[1]} points at "
                                              rf"{blob}, which does not exist"):
        fetch(tmp_path)
