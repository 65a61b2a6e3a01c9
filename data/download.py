"""Fetch the upstream original data sets (the ones that keep their test labels) and lay them out under DATA_DIR.

    python -m data.download --tasks xnli,pawsx,udpos --out DATA_DIR
    python -m data.download --all --out DATA_DIR
    python -m data.download --tasks panx --out DATA_DIR --from-file panx=~/Downloads/AmazonPhotos.zip
    python -m data.download --all --out DATA_DIR --verify other_machine/MANIFEST.sha256
    python -m data.download --list
    python -m data.download --tasks panx,xnli --source hub --langs en,de --out DATA_DIR   # Hugging Face Hub Parquet

XTREME's download script removes test labels (REFERENCE.md, "Files"); this one fetches the originals instead,
from the URLs the XTREME script, jiant's downloader and the data sets' own pages use (cited in SOURCES below).

What it does, per task:
1. Fetch every source with `common.fetch.fetch` (resumable, retried, tqdm bar). Archives are kept in
   `DATA_DIR/downloads/` so a rerun fetches nothing again; plain files are fetched straight to their place.
2. Record the SHA-256 of every fetched file in `DATA_DIR/MANIFEST.sha256` (`sha256sum` format, paths relative to
   DATA_DIR: `cd DATA_DIR && sha256sum -c MANIFEST.sha256`). A checksum in SOURCES is checked on every fetch; with
   `--verify MANIFEST` every file must also match that manifest (e.g. one written on another machine).
   A mismatch is an error and leaves no file under the final name.
3. Unpack archives safely (`common.fetch.extract_archive`: no member may leave its folder, no link may point at
   a link, at most --max-unpacked-gib and --max-ratio times the archive's size) into the task's folder.
4. Run `data.check.check(DATA_DIR, tasks)` on the result and print its report (skip with `--no-check`); a
   required file missing or malformed makes the command fail.

Two sources cannot be fetched automatically: PAN-X (AmazonPhotos.zip, shared from an Amazon Drive link that needs
a browser) and CCGbank (LDC-licensed). For those the command prints what to fetch, from where, and where to put
it; pass the file with `--from-file TASK=PATH` (or save it under `DATA_DIR/downloads/` with the printed name).

`--source hub` takes a task's files from the Hugging Face Hub instead (the "hub" sources of the task rows, data/tasks/):
`huggingface_hub.snapshot_download` fetches just the configs and splits needed into the Hugging Face cache (its
resume, checksums, HF_ENDPOINT mirrors, HF_TOKEN for gated repos and HF_HUB_OFFLINE apply), and the files are
laid out under DATA_DIR/hub/<owner>/<name>/ with the repo's paths. `--source upstream` takes the originals. Without
--source each task gets its default, printed with the reason by `--list` (DEFAULT_SOURCES); --base-url, --verify
and --from-file concern the upstream files and imply --source upstream, as does a manual file already in downloads/.

`--base-url URL` fetches every source from a mirror instead: `https://host/path` becomes `URL/host/path`. The tests
use it to point the client at a server on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from common.fetch import (MAX_RATIO, MAX_UNPACKED_BYTES, DownloadError, copy_verified, extract_archive, fetch,
                          mirror_url, read_manifest, write_manifest)
from common.paths import default_data_dir
from data.task import DOWNLOADS, SOURCE_CHOICES, Download
from data.tasks import TASKS

MANIFEST_NAME = "MANIFEST.sha256"


# --- The table of sources: each task's row (data/tasks/<task>.py) lists its downloads and its default source ------
Source = Download  # one file to fetch (data/task.py)
SOURCES: dict[str, tuple[Download, ...]] = {name: task.downloads for name, task in TASKS.items() if task.downloads}
# The source each task gets when --source is not given, and why (printed by --list).
DEFAULT_SOURCES = {name: (task.default_source, task.default_source_why) for name, task in TASKS.items()}


# --- Fetching and laying out -------------------------------------------------------------------------------



def parse_from_files(values: list[str], tasks: list[str]) -> dict[str, Path]:
    """`--from-file TASK=PATH` values (a bare PATH when exactly one manual task is selected) -> {task: path}."""
    manual = [t for t in tasks if any(s.manual for s in SOURCES.get(t, ()))]
    out: dict[str, Path] = {}
    for value in values:
        task, sep, path = value.partition("=")
        if not sep:
            if len(manual) != 1:
                raise ValueError(f"--from-file {value}: say which task it is for, as TASK=PATH "
                                 f"(manual tasks selected: {', '.join(manual) or 'none'})")
            task, path = manual[0], value
        if task not in manual:
            raise ValueError(f"--from-file {value}: {task!r} is not a selected task with a manual source "
                             f"(selected: {', '.join(manual) or 'none'})")
        out[task] = Path(path).expanduser()
    return out


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)


def _regular_files(archive: Path, folder: Path) -> list[Path]:
    """The regular files under an unpacked scratch folder; a symbolic link there is an error, not moved: checked
    as pointing inside the scratch folder, it would point elsewhere once moved into DATA_DIR."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise DownloadError(f"{archive}: {path.relative_to(folder)} is a symbolic link; expected a regular file")
        if path.is_file():
            out.append(path)
    return out


def lay_out(source: Source, data_dir: Path, max_bytes: int | None = MAX_UNPACKED_BYTES,
            max_ratio: float | None = MAX_RATIO) -> None:
    """Unpack a fetched archive into its place (plain files were fetched there already). Only regular files are
    moved out of a scratch folder. max_bytes, max_ratio: `extract_archive`'s bounds on each archive."""
    if not source.archive:
        return
    archive = data_dir / source.saved_as
    limits = {"max_bytes": max_bytes, "max_ratio": max_ratio}
    if not (source.nested or source.flatten):
        extract_archive(archive, data_dir / source.dest, include=source.include, strip=source.strip, **limits)
        return
    scratch = data_dir / DOWNLOADS / f".{source.name}.unpacked"  # unpacked here, then moved or unpacked again
    _remove_tree(scratch)
    try:
        if source.flatten:
            extract_archive(archive, scratch, include=source.include, **limits)
            files = _regular_files(archive, scratch)
            seen: dict[str, Path] = {}
            for path in files:
                if path.name in seen:
                    raise DownloadError(f"{archive}: {path.name} appears twice "
                                        f"({seen[path.name].relative_to(scratch)}, {path.relative_to(scratch)})")
                seen[path.name] = path
            (data_dir / source.dest).mkdir(parents=True, exist_ok=True)
            for name, path in seen.items():
                os.replace(path, data_dir / source.dest / name)
        if source.nested:
            extract_archive(archive, scratch, include=[member for member, _ in source.nested], **limits)
            regular = set(_regular_files(archive, scratch))
            for member, dest in source.nested:
                if scratch / member not in regular:
                    raise DownloadError(f"{archive}: has no member {member} (has the upstream archive changed?)")
                extract_archive(scratch / member, data_dir / dest, **limits)
    finally:
        _remove_tree(scratch)


def download(tasks: list[str], data_dir: str | Path, *, base_url: str | None = None,
             verify: dict[str, str] | None = None, from_files: dict[str, Path] | None = None, retries: int = 5,
             backoff: float = 1.0, timeout: float = 60.0, progress: bool = True, log=print,
             sources: dict[str, tuple[Source, ...]] | None = None, max_bytes: int | None = MAX_UNPACKED_BYTES,
             max_ratio: float | None = MAX_RATIO) -> list[str]:
    """Fetch, verify, record and lay out the sources of `tasks` under `data_dir`.

    Returns the tasks left undone because they need a manual step (their instructions are logged).
    verify: manifest entries (path relative to data_dir -> SHA-256) every fetched file must match.
    sources: the table to use (default SOURCES; tests swap in their fixtures' checksums).
    max_bytes, max_ratio: bounds on what each archive may unpack to (see common.fetch.extract_archive).
    """
    data_dir = Path(data_dir)
    sources = SOURCES if sources is None else sources
    unknown = [t for t in tasks if t not in sources]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(sources)}")
    from_files = from_files or {}
    manifest_path = data_dir / MANIFEST_NAME
    manifest = read_manifest(manifest_path) if manifest_path.exists() else {}
    pending, done = [], set()
    for task in tasks:
        for source in sources[task]:
            if source.saved_as in done:  # shared by two tasks (MNLI in mnli and anli_plus)
                continue
            expected = source.sha256
            if verify is not None:
                if source.saved_as not in verify:
                    raise DownloadError(f"{task}: the manifest given to --verify has no entry for {source.saved_as}")
                if expected is not None and verify[source.saved_as] != expected:
                    raise DownloadError(f"{task}: the manifest given to --verify has {verify[source.saved_as]} for "
                                        f"{source.saved_as}, but its published checksum is {expected}")
                expected = verify[source.saved_as]
            target = data_dir / source.saved_as
            if source.manual:
                if task in from_files:
                    log(f"{task}: copying {from_files[task]} -> {target}")
                    digest = copy_verified(from_files[task], target, expected)
                elif target.exists():
                    digest = copy_verified(target, target, expected)
                else:
                    log(f"{task}: needs a manual step.\n  " + source.manual.format(data_dir=data_dir))
                    pending.append(task)
                    continue
            else:
                url = mirror_url(source.url, base_url)
                log(f"{task}: {url} -> {target}")
                digest = fetch(url, target, expected, retries=retries, backoff=backoff, timeout=timeout,
                               progress=progress)
            manifest[source.saved_as] = digest
            write_manifest(manifest_path, manifest)
            lay_out(source, data_dir, max_bytes, max_ratio)
            done.add(source.saved_as)
    return pending


# --- The Hugging Face Hub (--source hub) ---------------------------------------------------------------------


@dataclass(frozen=True)
class HubRequest:
    """One (task, language, split) and the file pattern that holds it in a Hub repo."""
    task: str
    lang: str
    split: str
    repo: str
    revision: str
    pattern: str  # relative to the repo root, e.g. PAN-X.de/test-*.parquet
    required: bool  # data.check needs it (English train/dev, every language's evaluation split)

    @property
    def where(self) -> str:
        """'config X, split Y' as the repo names them (the first two parts of a Parquet pattern); a plain file
        (Belebele's JSONL, SIB-200's TSVs) is named by its path."""
        if not self.pattern.endswith(".parquet"):
            return f"file {self.pattern}"
        config, rest = self.pattern.split("/", 1)
        split = rest.split("/")[0].split("-")[0]
        return f"config {'default' if config == 'data' else config}, split {split}"


def hub_requests(tasks: list[str], langs: list[str] | None = None) -> list[HubRequest]:
    """Every Hub file pattern the registry's "hub" rows of `tasks` name, for every language of the task (or those
    of `langs` it has)."""
    from data.check import required_pairs
    from data.tasks import get_task

    out = []
    for name in tasks:
        task = get_task(name)
        hub_rows = [s for s in task.sources if s.layout == "hub"]
        if not hub_rows:
            raise ValueError(f"{name} has no Hub copy ({DEFAULT_SOURCES[name][1]}); use --source upstream")
        task_langs = [l for l in task.langs if langs is None or l in langs]
        required = required_pairs(task, task_langs)
        refused = {}  # lang -> why: the reader refuses these configs, so fetch nothing (data/readers/hub.py)
        for source in hub_rows:
            refuse = getattr(source.read, "keywords", {}).get("refuse_configs") or {}
            for lang in [l for l in source.langs or task.langs if l in task_langs]:
                for pattern in source.expand(lang):
                    config = pattern.split("/", 4)[3]  # hub/<owner>/<name>/<config>/...
                    if config in refuse:
                        refused[lang] = refuse[config]
        if refused:
            raise ValueError(f"{name} {', '.join(sorted(refused))} cannot come from the Hub: " +
                             " | ".join(dict.fromkeys(refused[l] for l in sorted(refused))) +
                             f" (leave {', '.join(sorted(refused))} out with --langs to fetch the others)")
        for source in hub_rows:
            for lang in [l for l in source.langs or task.langs if l in task_langs]:
                for pattern in source.expand(lang):
                    _, owner, repo_name, rel = pattern.split("/", 3)  # hub/<owner>/<name>/<path in repo>
                    repo = f"{owner}/{repo_name}"
                    out.append(HubRequest(name, lang, source.split, repo, source.revision, rel,
                                          (lang, source.split) in required))
    return list(dict.fromkeys(out))


def _place(src: Path, dest: Path) -> None:
    """Put a fetched file at `dest` atomically: a hard link to the cache's copy where possible, else a copy."""
    from common.io import atomic_path

    with atomic_path(dest) as tmp:
        tmp.unlink()
        try:
            os.link(src.resolve(), tmp)
        except OSError:
            shutil.copyfile(src.resolve(), tmp)


def _repo_cache_folder(repo: str) -> Path:
    """The repo's folder of the Hugging Face cache (HF_HUB_CACHE/datasets--owner--name), as snapshot_download uses it."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    return Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo, repo_type="dataset")


def check_snapshot(repo: str, revision: str, folder: Path, storage: Path | None = None) -> Path:
    """The snapshot folder snapshot_download returned, resolved, once it is one of `storage`/snapshots/ (the repo's
    cache folder). A `refs/<revision>` holding a path instead of a commit hash would make it any folder on disk."""
    storage = (storage or _repo_cache_folder(repo)).resolve()
    resolved = Path(folder).resolve()
    if resolved.parent != storage / "snapshots":
        raise DownloadError(f"hub: {repo} (revision {revision}): the snapshot folder {folder} is outside the repo's "
                            f"cache folder {storage}/snapshots (does refs/{revision} hold a path?); refusing it")
    return resolved


def cached_file(repo: str, path: Path, storage: Path | None = None) -> Path:
    """The file a snapshot entry stands for, resolved, once it lies inside the repo's cache folder: a blob under
    blobs/ (what the cache's links point at) or the entry itself (caches on file systems without links). A link
    (absolute or `../`) to anything else is refused; a dangling link or a missing blob means the cache is broken."""
    storage = (storage or _repo_cache_folder(repo)).resolve()
    try:
        target = path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):  # dangling link (missing blob) or a link loop
        raise DownloadError(f"hub: {repo}: the cache is broken: {path} points at {os.path.realpath(path)}, which "
                            "does not exist (a missing blob); delete the repo's cache folder "
                            f"{storage} and download again") from None
    if not (target.is_relative_to(storage / "blobs") or target == path.absolute()):  # (snapshot is resolved)
        raise DownloadError(f"hub: {repo}: {path} points at {target}, outside the repo's cache blobs "
                            f"{storage / 'blobs'}; refusing it")
    if not target.is_file():
        raise DownloadError(f"hub: {repo}: the cache is broken: {path} is not a file")
    return target


def download_hub(tasks: list[str], data_dir: str | Path, *, langs: list[str] | None = None, log=print,
                 snapshot_download=None) -> None:
    """Fetch the Hub files of `tasks` with huggingface_hub.snapshot_download (its cache, resume, checksums,
    HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE apply) into the Hugging Face cache, one call per repo with
    allow_patterns for just the configs and splits needed, then lay them out under DATA_DIR/hub/<repo>/ with the
    repo's own paths. A required config or split the repo lacks is one DownloadError line each, naming repo,
    config and split; an optional one (another language's dev split) is logged."""
    if snapshot_download is None:
        from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, IncompleteSnapshotError, LocalEntryNotFoundError

    data_dir = Path(data_dir)
    requests = hub_requests(tasks, langs)
    by_repo: dict[tuple[str, str], list[HubRequest]] = {}
    for r in requests:
        by_repo.setdefault((r.repo, r.revision), []).append(r)
    missing, placements = [], []
    for (repo, revision), reqs in by_repo.items():
        patterns = sorted({r.pattern for r in reqs})
        log(f"hub: {repo} (revision {revision}): {len(patterns)} file pattern(s)")
        try:
            folder = Path(snapshot_download(repo, repo_type="dataset", revision=revision, allow_patterns=patterns))
        except (HfHubHTTPError, LocalEntryNotFoundError, IncompleteSnapshotError, OSError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DownloadError(f"hub: {repo} (revision {revision}) could not be fetched: {first}") from None
        snapshot = check_snapshot(repo, revision, folder)
        for r in reqs:
            # every entry the pattern names, links included: a dangling one is a broken cache, not a missing file
            entries = sorted(p for p in snapshot.glob(r.pattern) if p.is_symlink() or p.is_file())
            files = [(p, cached_file(repo, p)) for p in entries]
            if not files:
                line = f"hub: {repo} has no file for {r.where} ({r.task} {r.lang} {r.split}; looked for {r.pattern})"
                if r.required:
                    missing.append(line)
                else:
                    log(line + " - optional, not needed by data.check")
            placements += [(blob, data_dir / "hub" / repo / entry.relative_to(snapshot)) for entry, blob in files]
    for blob, dest in placements:  # every entry of every repo checked first: a refusal lays out nothing
        _place(blob, dest)
    if missing:
        raise DownloadError("\n".join(missing))


def split_by_source(tasks: list[str], source: str | None, data_dir=None) -> tuple[list[str], list[str]]:
    """(hub tasks, upstream tasks): `source` for all, or each task's DEFAULT_SOURCES entry, except that a task whose
    manual upstream file is already under DATA_DIR/downloads/ keeps upstream (the original is at hand)."""
    def default(task):
        manual = [s for s in SOURCES.get(task, ()) if s.manual]
        if data_dir is not None and manual and all((Path(data_dir) / s.saved_as).exists() for s in manual):
            return "upstream"
        return DEFAULT_SOURCES.get(task, ("upstream", ""))[0]

    hub_only = [t for t in tasks if t not in SOURCES]  # no upstream files (the authors publish on the Hub)
    if source == "upstream" and hub_only:
        raise ValueError(f"{', '.join(hub_only)}: no upstream files to fetch (published on the Hugging Face Hub "
                         "only); use --source hub for them")
    pick = {t: "hub" if t in hub_only else source or default(t) for t in tasks}
    return [t for t in tasks if pick[t] == "hub"], [t for t in tasks if pick[t] == "upstream"]


def list_default_sources() -> str:
    return "\n".join(f"{task:14s} {src:8s} {why}" for task, (src, why) in DEFAULT_SOURCES.items())


def list_sources() -> str:
    """A table of every source: task, checksum known or not, URL (or "manual")."""
    lines = []
    for task, sources in SOURCES.items():
        for s in sources:
            lines.append(f"{task:14s} {'sha256' if s.sha256 else '      '}  {s.url or 'manual: ' + s.name}")
    return "\n".join(lines)


def run_check(data_dir: Path, tasks: list[str], log=print, langs: list[str] | None = None) -> bool:
    """Run `data.check.check` on the laid-out tasks, log its report; True when every required file reads."""
    from data.check import check, format_report

    report = check(data_dir, tasks=tasks, langs=langs)
    log(format_report(report))
    return report["ok"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m data.download", description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tasks", help="comma-separated task names, e.g. xnli,pawsx,udpos")
    which.add_argument("--all", action="store_true", help="every task in the table")
    which.add_argument("--list", action="store_true", help="print the table of sources and exit")
    parser.add_argument("--out", default=default_data_dir(),
                        help=f"DATA_DIR: where the data sets are laid out (default: {default_data_dir()}; "
                             "env XSTILTS_DATA_DIR; train.py's data.data_dir)")
    parser.add_argument("--source", choices=SOURCE_CHOICES,
                        help="hub (Hugging Face Hub Parquet files) or upstream (the original files) for every task; "
                             "default: each task's own (see --list)")
    parser.add_argument("--langs", help="comma-separated languages: the Hub files fetched and the languages "
                                        "data.check requires (upstream archives hold every language)")
    parser.add_argument("--base-url", help="fetch from this mirror: https://host/path -> BASE_URL/host/path")
    parser.add_argument("--verify", metavar="MANIFEST", help="a sha256sum-style manifest every fetched file must match")
    parser.add_argument("--from-file", action="append", default=[], metavar="TASK=PATH",
                        help="a file fetched by hand for a manual source (panx, ccg)")
    parser.add_argument("--retries", type=int, default=5, help="extra attempts after a transient failure")
    parser.add_argument("--max-unpacked-gib", type=float, default=MAX_UNPACKED_BYTES / 2**30, metavar="GIB",
                        help="refuse an archive whose kept members unpack to more than this (default %(default)g)")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO,
                        help="refuse an archive that unpacks to more than this many times its size (default "
                             "%(default)g; checked above 16 MiB unpacked)")
    parser.add_argument("--no-check", action="store_true", help="do not run data.check on the result")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    for flag, value in (("--max-unpacked-gib", args.max_unpacked_gib), ("--max-ratio", args.max_ratio)):
        if not (math.isfinite(value) and value > 0):  # nan would switch the bound off; inf cannot be a byte count
            print(f"error: {flag} {value}: give a finite number > 0", file=sys.stderr)
            sys.exit(1)
    if args.list:
        print(list_sources())
        print("\ndefault source per task (--source overrides):\n" + list_default_sources())
        return
    tasks = list(TASKS) if args.all else [t.strip() for t in args.tasks.split(",") if t.strip()]
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731  (stdout stays clean for --list)
    try:
        verify = read_manifest(args.verify) if args.verify else None
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(TASKS)}")
        # --base-url, --verify and --from-file are about the upstream files: they imply --source upstream for the
        # tasks that have upstream files (a Hub-only task still takes the Hub, unless --source upstream is given).
        upstream_only = args.base_url or args.verify or args.from_file
        if upstream_only and not args.source:
            hub_tasks, tasks_upstream = split_by_source([t for t in tasks if t in SOURCES], "upstream", args.out)
            hub_tasks += [t for t in tasks if t not in SOURCES]
        else:
            hub_tasks, tasks_upstream = split_by_source(tasks, args.source, args.out)
        langs = [l.strip() for l in args.langs.split(",") if l.strip()] if args.langs else None
        if hub_tasks:
            download_hub(hub_tasks, args.out, langs=langs, log=log)
        pending = download(tasks_upstream, args.out, base_url=args.base_url, verify=verify,
                           from_files=parse_from_files(args.from_file, tasks_upstream), retries=args.retries,
                           progress=not args.quiet, log=log, max_bytes=int(args.max_unpacked_gib * 2**30),
                           max_ratio=args.max_ratio) if tasks_upstream else []
        ready = [t for t in tasks if t not in pending]
        if ready and not args.no_check and not run_check(Path(args.out), ready, log=log, langs=langs):
            raise DownloadError(f"data.check found problems in {args.out} (see its report above)")
    except (DownloadError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    if pending:
        print(f"error: not done, a manual step is needed (see above): {', '.join(pending)}", file=sys.stderr)
        sys.exit(1)
    log(f"done: {', '.join(tasks)} in {args.out}; checksums in {Path(args.out) / MANIFEST_NAME}")


if __name__ == "__main__":
    main()
