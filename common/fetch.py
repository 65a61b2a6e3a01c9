"""The HTTP client behind `data.download` and `xlmr.download`: resumable, retried, verified; safe unpacking.

- `fetch(url, dest, sha256=None)` downloads to `dest + ".part"` and renames it onto `dest` only when the file is
  complete and (if a SHA-256 is given) its checksum matches. An interrupted download is continued with an HTTP
  `Range` request; a server that ignores `Range` (answers 200 instead of 206) restarts the file cleanly. Dropped
  connections, timeouts and 5xx answers are retried: at once when the attempt brought new bytes, else with
  exponential backoff, at most `retries` times in a row without progress; a 4xx answer (404 ...) fails at once
  with one line naming the URL. One tqdm bar per file, on stderr.
- `read_manifest` / `write_manifest`: `sha256  relative/path` lines, the format of `sha256sum`, so
  `cd DATA_DIR && sha256sum -c MANIFEST.sha256` checks a download by hand.
- `extract_archive(archive, target)` unpacks zip / tar / tar.gz / tar.bz2 after checking every member first: a
  member that would land outside `target` (`../`, an absolute path, a drive letter), a link pointing out of it, or
  a device file is refused with a `DownloadError` naming the archive and the member, and nothing is written.
  Tar extraction also runs with Python's `filter="data"` as a second guard.

No dependency beyond the standard library and tqdm. Used as a library; there is no command line here:
    from common.fetch import fetch, extract_archive
    digest = fetch("https://host/file.zip", "downloads/file.zip", sha256=None)
    extract_archive("downloads/file.zip", "unpacked/")
"""
from __future__ import annotations

import fnmatch
import hashlib
import http.client
import os
import posixpath
import re
import shutil
import stat
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from common.io import atomic_write_text

CHUNK_SIZE = 1 << 16  # bytes read per call while streaming
USER_AGENT = "xstilts-download/1"


class DownloadError(RuntimeError):
    """A download or unpacking failed. The message is one line naming the URL (or archive and member)."""


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Downloading


class _Retry(Exception):
    """A transient failure: the attempt may be repeated (continuing the .part file)."""


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _content_range_start(value: str | None) -> int | None:
    """Start offset of a `Content-Range: bytes START-END/TOTAL` header, or None when absent/unparsable."""
    m = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", value or "")
    return int(m.group(1)) if m else None


def _attempt(url: str, part: Path, timeout: float, progress: bool) -> None:
    """One request: continue `part` from its current size; return when the body is complete, else raise."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:
            total = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", e.headers.get("Content-Range") or "")
            if total and int(total.group(1)) == offset:  # the .part is already complete (stopped before rename)
                return
            part.unlink()  # our .part is not a prefix the server recognises: start over
            raise _Retry(f"HTTP 416 for a range from {offset}") from None
        if e.code in (408, 429) or e.code >= 500:
            raise _Retry(f"HTTP {e.code} {e.reason}") from None
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise _Retry(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None

    with response:
        if offset and response.status == 206:
            start = _content_range_start(response.headers.get("Content-Range"))
            if start != offset:  # a range we did not ask for: trust nothing, restart
                part.unlink()
                raise _Retry(f"Content-Range {response.headers.get('Content-Range')!r} does not start at {offset}")
            mode = "ab"
        else:  # 200: a full body (the server ignored Range, or this is the first request)
            offset, mode = 0, "wb"
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None and length.isdigit() else None
        received = offset
        with open(part, mode) as f, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
            desc=Path(part.name[: -len(".part")]).name, disable=not progress, leave=False,
        ) as bar:
            try:
                while True:
                    block = response.read(CHUNK_SIZE)
                    if not block:
                        break
                    f.write(block)
                    received += len(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as e:  # connection reset / timeout mid-body
                raise _Retry(f"connection lost after {received} bytes: {type(e).__name__}") from None
    if total is not None and received < total:  # the server closed the connection early
        raise _Retry(f"connection closed after {received} of {total} bytes")
    if total is not None and received > total:
        part.unlink()
        raise _Retry(f"received {received} bytes, more than the announced {total}")


def fetch(url: str, dest: str | os.PathLike, sha256: str | None = None, *, retries: int = 5,
          backoff: float = 1.0, timeout: float = 60.0, progress: bool = True) -> str:
    """Download `url` to `dest` and return the file's hex SHA-256.

    An existing `dest` whose checksum matches `sha256` (or any existing `dest` when `sha256` is None) is kept and
    not fetched again. After a transient failure (dropped connection, timeout, 5xx) the next attempt continues
    the `.part` file: at once when the failed attempt brought new bytes, else after `backoff * 2**(k-1)` seconds
    for the k-th attempt without progress; more than `retries` of those is an error. A checksum mismatch removes the download and raises `DownloadError`: no file
    is left under `dest`.
    """
    dest = Path(dest)
    if sha256 is not None:
        sha256 = sha256.lower()
    if dest.exists():
        digest = sha256_file(dest)
        if sha256 is None or digest == sha256:
            return digest
        dest.unlink()  # a stale or corrupt file: fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(dest)
    failures, longest = 0, -1  # attempts that brought no new bytes; the longest .part seen so far
    while True:
        try:
            _attempt(url, part, timeout, progress)
            break
        except _Retry as e:
            size = part.stat().st_size if part.exists() else 0
            if size > longest:  # progress: a dropped connection on a big file is continued at once
                longest = size
                if size > 0:
                    continue
            failures += 1
            if failures > retries:
                raise DownloadError(f"{url}: gave up after {failures} attempts without progress ({e}); "
                                    f"the partial file {part} is kept and a rerun continues it") from None
            time.sleep(backoff * 2 ** (failures - 1))
    digest = sha256_file(part)
    if sha256 is not None and digest != sha256:
        part.unlink()
        raise DownloadError(f"{url}: SHA-256 mismatch: expected {sha256}, got {digest}; the download was removed")
    os.replace(part, dest)
    return digest


def copy_verified(src: str | os.PathLike, dest: str | os.PathLike, sha256: str | None = None) -> str:
    """Copy a file fetched by hand (`--from-file`) to `dest`, checking `sha256` first; return its SHA-256."""
    src, dest = Path(src), Path(dest)
    if not src.is_file():
        raise DownloadError(f"{src}: no such file")
    digest = sha256_file(src)
    if sha256 is not None and digest != sha256.lower():
        raise DownloadError(f"{src}: SHA-256 mismatch: expected {sha256.lower()}, got {digest}")
    if src.resolve() != dest.resolve():
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = _part_path(dest)
        shutil.copyfile(src, part)
        os.replace(part, dest)
    return digest


# ---------------------------------------------------------------------------------------------------------------
# Manifest: `sha256  relative/path` lines, as written by sha256sum


_MANIFEST_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def read_manifest(path: str | os.PathLike) -> dict[str, str]:
    """Map relative path -> hex SHA-256 from a `sha256sum`-style file; blank lines and `#` comments skipped."""
    entries: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = _MANIFEST_LINE.match(line)
            if m is None:
                raise ValueError(f"{path}:{lineno}: expected '<64 hex digits>  <path>', got {line!r}")
            digest, name = m.group(1).lower(), m.group(2)
            if entries.get(name, digest) != digest:
                raise ValueError(f"{path}:{lineno}: {name} listed twice with different checksums")
            entries[name] = digest
    return entries


def write_manifest(path: str | os.PathLike, entries: dict[str, str]) -> None:
    """Write `entries` (relative path -> hex SHA-256) sorted by path, atomically."""
    atomic_write_text(path, "".join(f"{d}  {name}\n" for name, d in sorted(entries.items())))


# ---------------------------------------------------------------------------------------------------------------
# Safe unpacking


def _archive_kind(archive: Path) -> str:
    name = archive.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz")):
        return "tar"
    raise DownloadError(f"{archive}: unknown archive type (expected .zip, .tar, .tar.gz/.tgz or .tar.bz2)")


def _inside(name: str) -> str | None:
    """The normalised relative path of a member name, or None when it would leave the target folder."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    norm = posixpath.normpath(name)
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


def _refuse(archive: Path, member: str, why: str) -> DownloadError:
    return DownloadError(f"{archive}: refusing member {member!r}: {why}; nothing was extracted")


def _check_zip(archive: Path, zf: zipfile.ZipFile) -> None:
    for info in zf.infolist():
        if _inside(info.filename) is None:
            raise _refuse(archive, info.filename, "its path leaves the target folder")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(archive, info.filename, "symbolic links are not accepted in zip archives")


def _check_tar(archive: Path, tf: tarfile.TarFile) -> None:
    for m in tf.getmembers():
        rel = _inside(m.name)
        if rel is None:
            raise _refuse(archive, m.name, "its path leaves the target folder")
        if m.issym():
            target = m.linkname.replace("\\", "/")
            if target.startswith("/") or _inside(posixpath.join(posixpath.dirname(rel), target)) is None:
                raise _refuse(archive, m.name, f"symbolic link to {m.linkname!r} points outside the target folder")
        elif m.islnk():  # a hard link names another member, relative to the archive root
            if _inside(m.linkname) is None:
                raise _refuse(archive, m.name, f"hard link to {m.linkname!r} points outside the target folder")
        elif not (m.isfile() or m.isdir()):
            raise _refuse(archive, m.name, "device files and FIFOs are not accepted")


def _select(archive: Path, names: list[str], include, strip: int) -> dict[str, str]:
    """Map each selected member name to its path under the target (after dropping `strip` leading folders)."""
    out = {}
    for name in names:
        rel = _inside(name)
        if rel == "." or (include and not any(fnmatch.fnmatchcase(rel, pat) for pat in include)):
            continue
        parts = rel.split("/")[strip:]
        if parts:
            out[name] = "/".join(parts)
    if include and not out:
        raise DownloadError(f"{archive}: no member matches {', '.join(include)} (has the upstream archive changed?)")
    return out


def extract_archive(archive: str | os.PathLike, target: str | os.PathLike, include: Sequence[str] = (),
                    strip: int = 0) -> Path:
    """Unpack a zip or tar(.gz/.bz2/.xz) archive into `target` (created if missing) and return `target`.

    Every member is checked before anything is written; see the module docstring for what is refused.
    include: fnmatch patterns on member paths (`*` crosses `/`); only matching members are written (empty: all).
    strip: leading folders dropped from each member path, like `tar --strip-components`.
    """
    archive, target = Path(archive), Path(target)
    kind = _archive_kind(archive)
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                _check_zip(archive, zf)
                infos = {i.filename: i for i in zf.infolist()}
                chosen = _select(archive, list(infos), include, strip)
                target.mkdir(parents=True, exist_ok=True)
                for name, rel in chosen.items():
                    dest = target / rel
                    if infos[name].is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(infos[name]) as src, open(dest, "wb") as dst:
                        shutil.copyfileobj(src, dst, CHUNK_SIZE)
        else:
            with tarfile.open(archive) as tf:
                _check_tar(archive, tf)
                members = {m.name: m for m in tf.getmembers()}
                chosen = _select(archive, list(members), include, strip)
                renamed = []
                for name, rel in chosen.items():
                    m = members[name].replace(name=rel, deep=False)
                    if m.islnk():  # hard link targets are archive paths: strip them the same way
                        m = m.replace(linkname="/".join(_inside(m.linkname).split("/")[strip:]), deep=False)
                    renamed.append(m)
                target.mkdir(parents=True, exist_ok=True)
                try:
                    tf.extractall(target, members=renamed, filter="data")
                except tarfile.FilterError as e:  # second guard; our checks should have caught it first
                    raise DownloadError(f"{archive}: refusing member {e.tarinfo.name!r}: {e}") from None
    except (zipfile.BadZipFile, tarfile.ReadError, EOFError) as e:
        raise DownloadError(f"{archive}: not a readable {kind} archive ({e})") from None
    return target

def mirror_url(url: str, base_url: str | None) -> str:
    """`https://host/path` -> `BASE/host/path` when a mirror base URL is given, else the URL unchanged."""
    if not base_url:
        return url
    parts = urllib.parse.urlparse(url)
    return f"{base_url.rstrip('/')}/{parts.netloc}{parts.path}"
