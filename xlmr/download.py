"""Fetch XLM-R's fairseq checkpoint and unpack it into a directory `load_pretrained` reads.

    python -m xlmr.download large --out checkpoints/xlmr.large
    python -m xlmr.download base --out checkpoints/xlmr.base --keep-archive
    python -m xlmr.download xl --out checkpoints/xlmr.xl --safetensors      # 3.5B; then sharded safetensors

The archives are those of fairseq's XLM-R README (examples/xlmr/README.md):
https://dl.fbaipublicfiles.com/fairseq/models/xlmr.{base,large}.tar.gz, and for the pre-LN XL (3.5B, 36 x 2560)
and XXL (10.7B, 48 x 4096) of Goyal et al. 2021 https://dl.fbaipublicfiles.com/fairseq/models/xlmr/xlmr.{xl,xxl}.tar.gz
(the same README's table; fairseq's XLMRModel.hub_models lists the same four URLs). No checksum is published for them, so
the SHA-256 of what was fetched is recorded in `OUT/MANIFEST.sha256` (the archive and the three files kept);
`--verify MANIFEST` checks a fetch against one recorded earlier. The download resumes where it stopped (the
`.part` file beside the archive) and is retried with backoff; the archive is unpacked safely (no member may leave
OUT) and only `model.pt`, `dict.txt` and `sentencepiece.bpe.model` are kept, directly under OUT.

--safetensors (optional, once): rewrite the unpacked model.pt as Hugging Face sharded safetensors
(model-0000i-of-0000n.safetensors of <= 5 GB + model.safetensors.index.json + config.json; the encoder only, the
MLM head is not kept) and delete model.pt. load_pretrained memory-maps either format, so this is not needed for
memory; it helps where model.pt is in torch's legacy non-zip format (which cannot be mapped and is then read
whole, on every rank) and gives files transformers reads too.

The Hugging Face copies work as well and `load_pretrained` reads them as they are (XL/XXL: one fp32
pytorch_model.bin of 13.9 / 42.9 GB, memory-mapped on load):
    huggingface-cli download FacebookAI/xlm-roberta-large --local-dir checkpoints/xlm-roberta-large
    huggingface-cli download facebook/xlm-roberta-xl --local-dir checkpoints/xlm-roberta-xl
    huggingface-cli download facebook/xlm-roberta-xxl --local-dir checkpoints/xlm-roberta-xxl
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from common.fetch import (DownloadError, extract_archive, fetch, mirror_url, read_manifest, sha256_file,
                          write_manifest)

URLS = {size: f"https://dl.fbaipublicfiles.com/fairseq/models/xlmr.{size}.tar.gz" for size in ("base", "large")}
URLS.update({size: f"https://dl.fbaipublicfiles.com/fairseq/models/xlmr/xlmr.{size}.tar.gz" for size in ("xl", "xxl")})
SHARD_BYTES = 5 * 10**9  # --safetensors: shard size (transformers' default max_shard_size is 5GB)
KEEP = ("model.pt", "dict.txt", "sentencepiece.bpe.model")  # what load_pretrained reads from a fairseq dir
MANIFEST_NAME = "MANIFEST.sha256"


def download_xlmr(size: str, out: str | os.PathLike, *, base_url: str | None = None,
                  verify: dict[str, str] | None = None, keep_archive: bool = False, retries: int = 5,
                  backoff: float = 1.0, timeout: float = 60.0, progress: bool = True, log=print) -> Path:
    """Fetch `xlmr.{size}.tar.gz` into `out`, unpack model.pt, dict.txt, sentencepiece.bpe.model there; return `out`.

    verify: manifest entries (path relative to `out` -> SHA-256) the archive must match.
    """
    if size not in URLS:
        raise ValueError(f"unknown XLM-R size {size!r}; expected one of {', '.join(URLS)}")
    out = Path(out)
    archive_name = f"xlmr.{size}.tar.gz"
    expected = None
    if verify is not None:
        if archive_name not in verify:
            raise DownloadError(f"the manifest given to --verify has no entry for {archive_name}")
        expected = verify[archive_name]
    manifest_path = out / MANIFEST_NAME
    manifest = read_manifest(manifest_path) if manifest_path.exists() else {}
    if all((out / name).is_file() for name in KEEP) and archive_name in manifest and \
            (expected is None or manifest[archive_name] == expected) and \
            all(manifest.get(name) == sha256_file(out / name) for name in KEEP):
        log(f"{out}: xlmr.{size} already in place (checksums match the manifest)")
        return out
    url = mirror_url(URLS[size], base_url)
    archive = out / archive_name
    log(f"xlmr.{size}: {url} -> {archive}")
    manifest[archive_name] = fetch(url, archive, expected, retries=retries, backoff=backoff, timeout=timeout,
                                   progress=progress)
    write_manifest(manifest_path, manifest)
    scratch = out / f".{archive_name}.unpacked"
    if scratch.is_dir():
        shutil.rmtree(scratch)
    try:
        extract_archive(archive, scratch, include=[f"*{name}" for name in KEEP])
        for name in KEEP:
            found = sorted(p for p in scratch.rglob(name) if p.is_file() and not p.is_symlink())
            if len(found) != 1:
                raise DownloadError(f"{archive}: expected one {name}, found {len(found)}")
            os.replace(found[0], out / name)
            manifest[name] = sha256_file(out / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_manifest(manifest_path, manifest)
    if not keep_archive:
        archive.unlink()
    log(f"{out}: model.pt, dict.txt, sentencepiece.bpe.model (checksums in {manifest_path})")
    return out


def convert_to_safetensors(out: str | os.PathLike, shard_bytes: int = SHARD_BYTES, log=print) -> Path:
    """Rewrite the fairseq model.pt in `out` as Hugging Face sharded safetensors beside sentencepiece.bpe.model,
    check that the result loads to the same weights, then delete model.pt (and dict.txt). Returns `out`."""
    import torch

    from xlmr.checkpoint import load_pretrained, save_pretrained

    out = Path(out)
    if not (out / "model.pt").is_file():
        raise ValueError(f"{out}: no model.pt to convert")
    encoder, tokenizer = load_pretrained(out)  # memory-mapped: the weights are read as the shards are written
    tmp = out / ".safetensors.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    save_pretrained(encoder, tokenizer, tmp, shard_bytes=shard_bytes)
    again, _ = load_pretrained(tmp)
    for (name, a), b in zip(encoder.state_dict().items(), again.state_dict().values()):
        if not torch.equal(a, b):
            raise ValueError(f"{tmp}: {name} differs from {out / 'model.pt'} after conversion; model.pt kept")
    del encoder, again
    for path in tmp.iterdir():
        if path.name != "sentencepiece.bpe.model":
            os.replace(path, out / path.name)
    shutil.rmtree(tmp)
    for name in ("model.pt", "dict.txt"):
        (out / name).unlink(missing_ok=True)
    log(f"{out}: sharded safetensors written (model.safetensors.index.json); model.pt removed")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m xlmr.download", description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=list(URLS),
                        help="XLM-R base (270M parameters), large (560M), xl (3.5B) or xxl (10.7B), as in "
                             "fairseq's README")
    parser.add_argument("--out", required=True, help="directory for model.pt, dict.txt, sentencepiece.bpe.model")
    parser.add_argument("--base-url", help="fetch from this mirror: https://host/path -> BASE_URL/host/path")
    parser.add_argument("--verify", metavar="MANIFEST", help="a sha256sum-style manifest the archive must match")
    parser.add_argument("--keep-archive", action="store_true", help="keep xlmr.SIZE.tar.gz after unpacking")
    parser.add_argument("--retries", type=int, default=5, help="extra attempts after a transient failure")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--safetensors", action="store_true",
                        help="then rewrite model.pt as sharded safetensors (Hugging Face layout) and delete it")
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    try:
        verify = read_manifest(args.verify) if args.verify else None
        if args.safetensors and (Path(args.out) / "model.safetensors.index.json").is_file():
            log(f"{args.out}: already converted to sharded safetensors (model.safetensors.index.json)")
            return
        out = download_xlmr(args.size, args.out, base_url=args.base_url, verify=verify,
                            keep_archive=args.keep_archive, retries=args.retries, progress=not args.quiet, log=log)
        if args.safetensors:
            convert_to_safetensors(out, log=log)
    except (DownloadError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
