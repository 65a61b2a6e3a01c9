"""The HTTP client behind `data.download` and `xlmr.download`: resumable, retried, verified; safe unpacking.

- `fetch(url, dest, sha256=None)` downloads to `dest + ".part"` and renames it onto `dest` only when the file is
  complete and (if a SHA-256 is given) its checksum matches. An interrupted download is continued with an HTTP
  `Range` request; a server that ignores `Range` (answers 200 instead of 206) restarts the file cleanly. Dropped
  connections, timeouts and 5xx answers are retried: at once when the attempt brought new bytes, else with
  exponential backoff, at most `retries` times in a row without progress; a 4xx answer (404 ...) fails at once
  with one line naming the URL. One tqdm bar per file, on stderr.
- `read_manifest` / `write_manifest`: `sha256  relative/path` lines, the format of `sha256sum`, so
  `cd DATA_DIR && sha256sum -c MANIFEST.sha256` checks a download by hand.
- `extract_archive(archive, target)` unpacks zip / tar / tar.gz / tar.bz2 after checking every member first, and
  refuses the whole archive, with a `DownloadError` naming the archive and the member and with nothing written,
  when a member would land outside `target` (an absolute path, a drive letter, a `..` component), when a path
  passes through a link or a file of the archive, when a link points outside `target` or at or through another
  link (the long-symlink-chain escape of CVE-2025-4517 needs links through links; upstream archives have no
  links at all), for a device file or FIFO, and when the kept members would unpack to more than `max_bytes`
  (default MAX_UNPACKED_BYTES) or more than `max_ratio` times the archive's size (default MAX_RATIO). Python's
  `tarfile` filters are not relied on: members are written by this module, each file through a temporary name
  renamed when it is complete, so a member that fails half-way (corrupt data, disk full) leaves no file under
  its name; symbolic links are created last, and nothing is written below a symbolic link found on disk.

No dependency beyond the standard library and tqdm. Used as a library; there is no command line here:
    from common.fetch import fetch, extract_archive
    digest = fetch("https://host/file.zip", "downloads/file.zip", sha256=None)
    extract_archive("downloads/file.zip", "unpacked/")
"""
from __future__ import annotations

import errno
import fnmatch
import hashlib
import http.client
import math
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
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from common.io import atomic_path, atomic_write_text, remove_stale_temporaries_in

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


MAX_UNPACKED_BYTES = 64 << 30  # default bound on what one archive may unpack to (UD v2.5's kept part: ~2 GiB)
MAX_RATIO = 200.0  # default bound on unpacked / archive bytes (text: 3-10; a zip of zeros: ~1000)
RATIO_FLOOR = 16 << 20  # the ratio is only enforced above this many unpacked bytes (tiny archives vary widely)


@dataclass
class _Member:
    """One archive member as the checks see it."""
    name: str  # as written in the archive (what error messages show)
    path: str  # normalised relative path ("." for the archive root)
    kind: str  # "file", "dir", "symlink" or "hardlink"
    size: int = 0  # bytes a file (or a hard link's target) unpacks to
    link: str = ""  # symlink: the raw target; hardlink: the normalised path of the member it names
    info: object = None  # the ZipInfo / TarInfo


def _archive_kind(archive: Path) -> str:
    name = archive.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz")):
        return "tar"
    raise DownloadError(f"{archive}: unknown archive type (expected .zip, .tar, .tar.gz/.tgz or .tar.bz2)")


def _inside(name: str) -> str | None:
    """The normalised relative path of a member name, or None when it is absolute, has a drive letter or has a
    `..` component (no upstream archive needs one, and `link/..` would climb out of wherever `link` points)."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in name.split("/"):
        return None
    return posixpath.normpath(name)


def _refuse(archive: Path, member: str, why: str) -> DownloadError:
    return DownloadError(f"{archive}: refusing member {member!r}: {why}; nothing was extracted")


def _list_zip(archive: Path, zf: zipfile.ZipFile) -> list[_Member]:
    out = []
    for info in zf.infolist():
        path = _inside(info.filename)
        if path is None:
            raise _refuse(archive, info.filename, "its path leaves the target folder")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _refuse(archive, info.filename, "symbolic links are not accepted in zip archives")
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise _refuse(archive, info.filename, "device files and FIFOs are not accepted")
        out.append(_Member(info.filename, path, "dir" if info.is_dir() else "file", info.file_size, info=info))
    return out


def _list_tar(archive: Path, tf: tarfile.TarFile) -> list[_Member]:
    out = []
    sizes: dict[str, tuple[int, object]] = {}  # path -> (size, TarInfo) of the regular file last written there
    for m in tf.getmembers():
        path = _inside(m.name)
        if path is None:
            raise _refuse(archive, m.name, "its path leaves the target folder")
        if m.issym():
            if m.linkname.replace("\\", "/").startswith("/") or re.match(r"^[A-Za-z]:", m.linkname):
                raise _refuse(archive, m.name, f"symbolic link to {m.linkname!r} points outside the target folder")
            member = _Member(m.name, path, "symlink", link=m.linkname.replace("\\", "/"), info=m)
        elif m.islnk():  # a hard link names another member, relative to the archive root; it is written as a copy
            target = _inside(m.linkname)
            if target is None:
                raise _refuse(archive, m.name, f"hard link to {m.linkname!r} points outside the target folder")
            if target not in sizes:
                raise _refuse(archive, m.name, f"hard link to {m.linkname!r}, which is not a regular file earlier "
                                               "in the archive")
            # read through the target's own TarInfo: tarfile looks a hard link's target up by its literal name,
            # which misses when the name differs only in spelling ("a\\b" for "a/b": a KeyError)
            member = _Member(m.name, path, "hardlink", sizes[target][0], link=target, info=sizes[target][1])
        elif m.isfile():
            member = _Member(m.name, path, "file", m.size, info=m)
        elif m.isdir():
            member = _Member(m.name, path, "dir", info=m)
        else:
            raise _refuse(archive, m.name, "device files and FIFOs are not accepted")
        if member.kind in ("file", "hardlink"):
            sizes[path] = (member.size, member.info)
        else:
            sizes.pop(path, None)
        out.append(member)
    return out


def _resolve_symlink(archive: Path, m: _Member, links: set[str]) -> str:
    """The path (relative to the target) a symlink member points at, walked one component at a time.

    Refused: a target that climbs above the target folder, or that passes through or ends at another link of
    the archive. Walking component by component (not `normpath`, which would cancel `link/..` without looking)
    is what defeats the long-symlink-chain construction of CVE-2025-4517: with no link through another link,
    every link resolves in one lexical step, and that step is checked here.
    """
    stack = m.path.split("/")[:-1]
    for part in m.link.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                raise _refuse(archive, m.name, f"symbolic link to {m.link!r} points outside the target folder")
            stack.pop()
            continue
        stack.append(part)
        if "/".join(stack) in links:
            raise _refuse(archive, m.name, f"symbolic link to {m.link!r} points at or through the link "
                                           f"{'/'.join(stack)!r} (links to links are not accepted)")
    return "/".join(stack) or "."


def _check_tree(archive: Path, members: list[tuple[_Member, str]], target_of) -> None:
    """Structural checks on (member, path) pairs as they will lie under the target folder.

    No path may pass through a link or a file of the same set; a path may not be both a folder and something
    else, nor a link and anything else; a symlink (whose target path is `target_of(member, links)`) may not
    point at or through a link of the set. Members are checked in archive order: the first offender is named.
    """
    links = {p for m, p in members if m.kind == "symlink"}
    kinds: dict[str, str] = {}
    for m, p in members:
        if p == ".":
            continue
        earlier = kinds.get(p)
        if earlier is not None and (earlier != m.kind or m.kind == "symlink") and \
                {earlier, m.kind} != {"file", "hardlink"}:
            raise _refuse(archive, m.name, f"{p!r} appears twice, as a {earlier} and as a {m.kind}")
        kinds[p] = m.kind
    for m, p in members:
        parts = p.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            kind = kinds.get(prefix)
            if kind == "symlink":
                raise _refuse(archive, m.name, f"its path passes through the link {prefix!r}")
            if kind in ("file", "hardlink"):
                raise _refuse(archive, m.name, f"its path goes inside {prefix!r}, which is a file of the archive")
        if m.kind == "symlink":
            t = target_of(m, links).split("/")
            for i in range(1, len(t) + 1):
                if "/".join(t[:i]) in links:
                    raise _refuse(archive, m.name, f"symbolic link to {m.link!r} points at or through the link "
                                                   f"{'/'.join(t[:i])!r} (links to links are not accepted)")


def _select(archive: Path, members: list[_Member], include, strip: int) -> list[tuple[_Member, str]]:
    """The members to write, each with its path under the target (after dropping `strip` leading folders)."""
    out = []
    for m in members:
        if m.path == "." or (include and not any(fnmatch.fnmatchcase(m.path, pat) for pat in include)):
            continue
        parts = m.path.split("/")[strip:]
        if parts:
            out.append((m, "/".join(parts)))
    if include and not out:
        raise DownloadError(f"{archive}: no member matches {', '.join(include)} (has the upstream archive changed?)")
    return out


def _plan(archive: Path, members: list[_Member], include, strip: int, max_bytes: int | None,
          max_ratio: float | None) -> tuple[list[tuple[_Member, str]], dict[str, str]]:
    """Every check, before anything is written: the chosen (member, path) pairs and each symlink's text."""
    resolved = {}

    def resolve(m: _Member, links: set[str]) -> str:
        resolved[m.name] = _resolve_symlink(archive, m, links)
        return resolved[m.name]

    _check_tree(archive, [(m, m.path) for m in members], resolve)
    chosen = _select(archive, members, include, strip)
    texts, final_targets = {}, {}
    for m, p in chosen:  # where each kept symlink points once `strip` folders are dropped
        if m.kind == "symlink":
            t = resolved[m.name].split("/")
            if strip and (len(t) <= strip or t[:strip] != m.path.split("/")[:strip]):
                raise _refuse(archive, m.name, f"symbolic link to {m.link!r} points outside the unpacked part")
            final_targets[m.name] = "/".join(t[strip:])
            texts[m.name] = posixpath.relpath(final_targets[m.name], posixpath.dirname(p) or ".")
    _check_tree(archive, chosen, lambda m, links: final_targets[m.name])  # strip may merge folders
    total = sum(m.size for m, _ in chosen if m.kind in ("file", "hardlink"))
    if max_bytes is not None and total > max_bytes:
        raise DownloadError(f"{archive}: would unpack to {total:,} bytes, more than the limit of {max_bytes:,} "
                            "(raise it with --max-unpacked-gib if the archive is genuine); nothing was extracted")
    size = max(archive.stat().st_size, 1)
    if max_ratio is not None and total > RATIO_FLOOR and total > max_ratio * size:
        raise DownloadError(f"{archive}: would unpack {size:,} bytes to {total:,} ({total / size:.0f} times as "
                            f"many, more than the limit of {max_ratio:g}; raise it with --max-ratio if the archive "
                            "is genuine); nothing was extracted")
    return chosen, texts


def _no_link_on_disk(archive: Path, member: str, target: Path, rel: str, checked: set[str]) -> None:
    """Refuse to write below an existing symlink under `target` (one left by another archive, or by hand)."""
    parts = rel.split("/")
    for i in range(1, len(parts)):
        prefix = "/".join(parts[:i])
        if prefix in checked:
            continue
        if (target / prefix).is_symlink():
            raise DownloadError(f"{archive}: refusing member {member!r}: {target / prefix} is a symbolic link on "
                                "disk; remove it and rerun")
        checked.add(prefix)


def _write(archive: Path, target: Path, chosen: list[tuple[_Member, str]], texts: dict[str, str], open_member,
           max_bytes: int | None) -> None:
    """Write the checked members: folders, then each file through a temporary name renamed when complete,
    then the symlinks. A member that fails half-way (corrupt data, disk full) leaves nothing under its name."""
    for m, rel in chosen:  # before anything is written: a link cannot replace a folder already on disk
        dest = target / rel
        if m.kind != "dir" and dest.is_dir() and not dest.is_symlink():
            raise DownloadError(f"{archive}: refusing member {m.name!r}: {dest} is a folder on disk and the member "
                                f"is a {m.kind}; remove the folder and rerun; nothing was extracted")
    target.mkdir(parents=True, exist_ok=True)
    checked: set[str] = set()
    cleaned: set[Path] = set()
    written = 0
    for m, rel in chosen:
        _no_link_on_disk(archive, m.name, target, rel, checked)
        dest = target / rel
        if m.kind == "dir":
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if m.kind == "symlink":
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.parent not in cleaned:  # one scan per folder, not one per file
            remove_stale_temporaries_in(dest.parent)
            cleaned.add(dest.parent)
        try:
            with atomic_path(dest, clean_stale=False) as tmp, open_member(m) as src, open(tmp, "wb") as dst:
                for block in iter(lambda: src.read(CHUNK_SIZE), b""):
                    written += len(block)
                    if max_bytes is not None and written > max_bytes:
                        raise DownloadError(f"{archive}: member {m.name!r} unpacks past the limit of "
                                            f"{max_bytes:,} bytes; it was removed")
                    dst.write(block)
        except DownloadError:
            raise
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError, KeyError) as e:
            why = "no space left on the device" if getattr(e, "errno", None) == errno.ENOSPC else \
                f"{type(e).__name__}: {' '.join(str(e).split())}"
            raise DownloadError(f"{archive}: unpacking member {m.name!r} failed ({why}); the partial file was "
                                f"removed, members before it are in {target}") from None
    for m, rel in chosen:
        if m.kind == "symlink":
            dest = target / rel
            _no_link_on_disk(archive, m.name, target, posixpath.normpath(posixpath.join(posixpath.dirname(rel),
                                                                                          texts[m.name])) + "/x",
                             checked)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_symlink() or dest.is_file():  # a rerun, or a file of another archive there
                dest.unlink()
            os.symlink(texts[m.name], dest)


def extract_archive(archive: str | os.PathLike, target: str | os.PathLike, include: Sequence[str] = (),
                    strip: int = 0, *, max_bytes: int | None = MAX_UNPACKED_BYTES,
                    max_ratio: float | None = MAX_RATIO) -> Path:
    """Unpack a zip or tar(.gz/.bz2/.xz) archive into `target` (created if missing) and return `target`.

    Every member is checked before anything is written; see the module docstring for what is refused.
    include: fnmatch patterns on member paths (`*` crosses `/`); only matching members are written (empty: all).
    strip: leading folders dropped from each member path, like `tar --strip-components`.
    max_bytes, max_ratio: bounds on the bytes the kept members unpack to, and on that over the archive's size
    (the ratio only above RATIO_FLOOR bytes); None: no bound.
    """
    archive, target = Path(archive), Path(target)
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0):
        raise ValueError(f"{archive}: max_bytes must be a whole number of bytes >= 0 or None, got {max_bytes!r}")
    if max_ratio is not None and not (isinstance(max_ratio, (int, float)) and math.isfinite(max_ratio)
                                      and max_ratio > 0):
        raise ValueError(f"{archive}: max_ratio must be a finite number > 0 or None, got {max_ratio!r} (nan would "
                         "disable the bound)")
    kind = _archive_kind(archive)
    if archive.stat().st_size == 0:
        raise DownloadError(f"{archive}: empty file (0 bytes); expected a {kind} archive")
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                chosen, texts = _plan(archive, _list_zip(archive, zf), include, strip, max_bytes, max_ratio)
                _write(archive, target, chosen, texts, lambda m: zf.open(m.info), max_bytes)
        else:
            with tarfile.open(archive) as tf:
                chosen, texts = _plan(archive, _list_tar(archive, tf), include, strip, max_bytes, max_ratio)
                _write(archive, target, chosen, texts, lambda m: tf.extractfile(m.info), max_bytes)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DownloadError(f"{archive}: not a readable {kind} archive ({first})") from None
    return target

def mirror_url(url: str, base_url: str | None) -> str:
    """`https://host/path` -> `BASE/host/path` when a mirror base URL is given, else the URL unchanged."""
    if not base_url:
        return url
    parts = urllib.parse.urlparse(url)
    return f"{base_url.rstrip('/')}/{parts.netloc}{parts.path}"
