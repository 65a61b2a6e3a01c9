"""Fetch the upstream original data sets (the ones that keep their test labels) and lay them out under DATA_DIR.

    python -m data.download --tasks xnli,pawsx,udpos --out DATA_DIR
    python -m data.download --all --out DATA_DIR
    python -m data.download --tasks panx --out DATA_DIR --from-file panx=~/Downloads/AmazonPhotos.zip
    python -m data.download --all --out DATA_DIR --verify other_machine/MANIFEST.sha256
    python -m data.download --list

XTREME's download script removes test labels (REFERENCE.md, "Files"); this one fetches the originals instead,
from the URLs the XTREME script, jiant's downloader and the data sets' own pages use (cited in SOURCES below).

What it does, per task:
1. Fetch every source with `common.fetch.fetch` (resumable, retried, tqdm bar). Archives are kept in
   `DATA_DIR/downloads/` so a rerun fetches nothing again; plain files are fetched straight to their place.
2. Record the SHA-256 of every fetched file in `DATA_DIR/MANIFEST.sha256` (`sha256sum` format, paths relative to
   DATA_DIR: `cd DATA_DIR && sha256sum -c MANIFEST.sha256`). A checksum in SOURCES is checked on every fetch; with
   `--verify MANIFEST` every file must also match that manifest (e.g. one written on another machine).
   A mismatch is an error and leaves no file under the final name.
3. Unpack archives safely (`common.fetch.extract_archive`: no member may leave its folder) into the task's folder.
4. Run `data.check.check(DATA_DIR, tasks)` on the result and print its report (skip with `--no-check`); a
   required file missing or malformed makes the command fail.

Two sources cannot be fetched automatically: PAN-X (AmazonPhotos.zip, shared from an Amazon Drive link that needs
a browser) and CCGbank (LDC-licensed). For those the command prints what to fetch, from where, and where to put
it; pass the file with `--from-file TASK=PATH` (or save it under `DATA_DIR/downloads/` with the printed name).

`--base-url URL` fetches every source from a mirror instead: `https://host/path` becomes `URL/host/path`. The tests
use it to point the client at a server on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from common.fetch import (DownloadError, copy_verified, extract_archive, fetch, mirror_url, read_manifest,
                          write_manifest)
from config import DataConfig
from data.tasks import TASKS, TATOEBA_LANG3

MANIFEST_NAME = "MANIFEST.sha256"
DOWNLOADS = "downloads"  # archives are kept here, under DATA_DIR


@dataclass(frozen=True)
class Source:
    """One file to fetch and where its content goes, relative to DATA_DIR.

    url: where to fetch it ("" for a manual source); sha256: the checksum when a public source states it, else
    None (the manifest then records what was fetched). A plain file is saved to `dest`. An archive (zip/tar,
    `archive=True`) is saved to `downloads/<file name>` and unpacked into the folder `dest`, keeping the members
    that match `include` (all when empty) with `strip` leading folders dropped. `nested` lists archives inside
    the unpacked one to unpack further: (member path, destination folder); the unpacked outer archive then only
    lives in a scratch folder. `flatten` drops every member's folders. `manual` says how to get a file that
    cannot be fetched automatically.
    """

    url: str
    dest: str
    sha256: str | None = None
    archive: bool = False
    include: tuple[str, ...] = ()
    strip: int = 0
    nested: tuple[tuple[str, str], ...] = ()
    manual: str = ""
    file_name: str = ""  # the saved file's name when the URL does not end in it
    flatten: bool = False  # put the included members straight into `dest`, whatever their folders

    @property
    def name(self) -> str:
        return self.file_name or Path(urllib.parse.urlparse(self.url).path).name

    @property
    def saved_as(self) -> str:
        """Path of the fetched file relative to DATA_DIR: the manifest key."""
        return f"{DOWNLOADS}/{self.name}" if self.archive else self.dest


# --- The table of sources ----------------------------------------------------------------------------------
# Languages and LASER's Tatoeba file codes: the registry's (data/tasks.py).
UDPOS_LANGS, PANX_LANGS, XQUAD_LANGS, BUCC_LANGS = (TASKS[t].langs for t in ("udpos", "panx", "xquad", "bucc2018"))
TATOEBA_CODES = {lang: TATOEBA_LANG3[lang] for lang in TASKS["tatoeba"].langs}

# Checksums, where stated: [HF] huggingface/datasets datasets/<name>/dataset_infos.json "download_checksums";
# [TFDS] tensorflow/datasets tensorflow_datasets/url_checksums/<name>.txt. Both list the exact URL used here.
XQUAD_SHA256 = {  # [TFDS xquad.txt], for https://github.com/deepmind/xquad/raw/master/xquad.L.json
    "ar": "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d",
    "de": "990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9",
    "el": "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e",
    "en": "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29",
    "es": "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e",
    "hi": "df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24",
    "ru": "208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf",
    "th": "5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43",
    "tr": "92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc",
    "vi": "f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04",
    "zh": "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835",
}

MNLI = Source(  # GLUE's copy (MNLI/{train,dev_matched,dev_mismatched}.tsv); URL as in GLUE's download script
    "https://dl.fbaipublicfiles.com/glue/data/MNLI.zip", "mnli", archive=True)

PANX_MANUAL = (
    "PAN-X (WikiANN, Pan et al. 2017, the splits of Rahimi et al. 2019) is shared as AmazonPhotos.zip from\n"
    "  https://www.amazon.com/clouddrive/share/d3KGCRCIYwhKJF0H3eWA26hjg2ZCRhjpEQtDL70FSBN\n"
    "  (the link in XTREME's scripts/download_data.sh). Download it in a browser, then run\n"
    "  python -m data.download --tasks panx --out {data_dir} --from-file panx=PATH/TO/AmazonPhotos.zip\n"
    "  or save it as {data_dir}/downloads/AmazonPhotos.zip and rerun.")
CCG_MANUAL = (
    "CCG supertagging uses CCGbank 1.1 (LDC2005T13), licensed by the Linguistic Data Consortium\n"
    "  (https://catalog.ldc.upenn.edu/LDC2005T13), in jiant's preprocessed form: ccg.train.tsv, ccg.dev.tsv,\n"
    "  ccg.test.tsv (sentence<TAB>supertags, one sentence a line) and tags_to_id.json. Once you have made them\n"
    "  from your copy of CCGbank, pack them (tar czf ccg.tgz ccg.*.tsv tags_to_id.json) and run\n"
    "  python -m data.download --tasks ccg --out {data_dir} --from-file ccg=PATH/TO/ccg.tgz\n"
    "  (or save the archive as {data_dir}/downloads/ccg.tgz and rerun); the four files go to {data_dir}/ccg/.")

SOURCES: dict[str, tuple[Source, ...]] = {
    # XNLI 1.0 dev/test with gold labels for 15 languages (XNLI-1.0/xnli.{dev,test}.tsv) [HF xnli checksums];
    # URL: XTREME scripts/download_data.sh. XNLI trains on MNLI: the readers take mnli/MNLI/train.tsv, so GLUE's
    # MNLI is fetched rather than XNLI-MT-1.0.zip (466 MB, whose multinli.train.en.tsv is the same data).
    "xnli": (
        Source("https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip", "xnli", archive=True,
               sha256="4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1",
               include=("XNLI-1.0/xnli.*.tsv",)),
        MNLI,
    ),
    # PAWS-X: x-final/L/{train (en only), dev_2k, test_2k}.tsv with labels. URL: XTREME download_data.sh, jiant.
    "pawsx": (Source("https://storage.googleapis.com/paws/pawsx/x-final.tar.gz", "pawsx", archive=True),),
    # UD v2.5 (the version of XTREME's paper and jiant's downloader; XTREME's script later moved to v2.7):
    # UD_*/L_*-ud-{train,dev,test}.conllu for the 33 XTREME languages. URL: jiant dl_datasets/xtreme.py.
    "udpos": (Source("https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-3105/"
                     "ud-treebanks-v2.5.tgz", "udpos", archive=True,
                     include=tuple(f"ud-treebanks-v2.5/*/{lang}_*.conllu" for lang in UDPOS_LANGS)),),
    # PAN-X: AmazonPhotos.zip holds panx_dataset/L.tar.gz, each with train/dev/test (`L:token\ttag`), unpacked
    # into panx/panx_dataset/L/ (jiant's downloader reads the same zip the same way).
    "panx": (Source("", "panx", archive=True, file_name="AmazonPhotos.zip", manual=PANX_MANUAL,
                    nested=tuple((f"panx_dataset/{lang}.tar.gz", f"panx/panx_dataset/{lang}")
                                 for lang in PANX_LANGS)),),
    # XQuAD: xquad.L.json (SQuAD format, answers kept). URLs: XTREME download_data.sh, TFDS.
    "xquad": tuple(Source(f"https://github.com/deepmind/xquad/raw/master/xquad.{lang}.json",
                          f"xquad/xquad.{lang}.json", sha256=XQUAD_SHA256[lang]) for lang in XQUAD_LANGS),
    # MLQA v1: MLQA_V1/{dev,test}/{dev,test}-context-L-question-L.json [TFDS mlqa.txt]. URL: XTREME, jiant.
    "mlqa": (Source("https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip", "mlqa", archive=True,
                    sha256="246e8089933d13007fe80684d5c5c0713d6834cf8b3b4a0ec7c66f0a0d2baac8"),),
    # TyDiQA-GoldP v1.1 train and dev, all languages in one file each (language = id prefix) [TFDS tydi_qa.txt].
    "tydiqa": (
        Source("https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-train.json",
               "tydiqa/tydiqa-goldp-v1.1-train.json",
               sha256="cefc8e09ff2548d9b10a678d3a6bbbe5bc036be543f92418819ea676c97be23b"),
        Source("https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-dev.json",
               "tydiqa/tydiqa-goldp-v1.1-dev.json",
               sha256="b286e0f34bc7f52259359989716f369b160565bd12ad8f3a3e311f9b0dbad1c0"),
    ),
    # BUCC 2018: per language the "sample" (XTREME's dev) and "training" (XTREME's test) sets, each with its
    # gold file, which XTREME deletes for test: bucc2018/L-en/L-en.{sample,training}.{L,en,gold}.
    # URLs: XTREME download_data.sh, jiant.
    "bucc2018": tuple(
        Source(f"https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{part}-gold.tar.bz2", "bucc2018",
               archive=True, strip=1)
        for lang in BUCC_LANGS for part in ("sample", "training")),
    # Tatoeba (LASER): line-aligned tatoeba.XXX-eng.{XXX,eng}; fetched file by file from the LASER repository
    # (XTREME and jiant download the whole repository as master.zip for these).
    "tatoeba": tuple(
        Source(f"https://raw.githubusercontent.com/facebookresearch/LASER/master/data/tatoeba/v1/"
               f"tatoeba.{code}-eng.{side}", f"tatoeba/tatoeba.{code}-eng.{side}")
        for code in TATOEBA_CODES.values() for side in (code, "eng")),
    # --- intermediate tasks ---
    "mnli": (MNLI,),
    # QQP as GLUE ships it (QQP/{train,dev}.tsv); the "clean" archive is the one GLUE's script now fetches.
    "qqp": (Source("https://dl.fbaipublicfiles.com/glue/data/QQP-clean.zip", "qqp", archive=True),),
    "sst2": (Source("https://dl.fbaipublicfiles.com/glue/data/SST-2.zip", "sst2", archive=True),),
    # ANLI+ = ANLI R1-R3 + MNLI + SNLI. ANLI v1.0 (anli_v1.0/R{1,2,3}/{train,dev,test}.jsonl, labelled test):
    # URL from the ANLI README. SNLI 1.0 (snli_1.0/snli_1.0_{train,dev,test}.jsonl) [TFDS snli.txt].
    "anli_plus": (
        Source("https://dl.fbaipublicfiles.com/anli/anli_v1.0.zip", "anli_plus", archive=True,
               include=("anli_v1.0/R*/*.jsonl",)),
        Source("https://nlp.stanford.edu/projects/snli/snli_1.0.zip", "anli_plus", archive=True,
               sha256="afb3d70a5af5d8de0d9d81e2637e0fb8c22d1235c2749d83125ca43dab0dbd3e",
               include=("snli_1.0/snli_1.0_*.jsonl",)),
        MNLI,
    ),
    # SQuAD: URLs as in jiant's downloader; v1.1 checksums [TFDS squad.txt].
    "squad_v1": (
        Source("https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v1.1.json", "squad/train-v1.1.json",
               sha256="3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955"),
        Source("https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json", "squad/dev-v1.1.json",
               sha256="95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"),
    ),
    "squad_v2": (
        Source("https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v2.0.json", "squad/train-v2.0.json"),
        Source("https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json", "squad/dev-v2.0.json"),
    ),
    # HellaSwag [TFDS hellaswag.txt]; the test file has no labels.
    "hellaswag": tuple(
        Source(f"https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_{split}.jsonl",
               f"hellaswag/hellaswag_{split}.jsonl", sha256=sha)
        for split, sha in (("train", "dae5e69249868cb9fe4e23ff925c60b66169564cfb7072d793cd7356a2b69f8d"),
                           ("val", "0aa3b88843990f3f10a97b9575c94d7b71fb2205240ba04ae4884d9e9c992588"),
                           ("test", "da082b00543e422b8d25394614d102944586986def4de5cd1bd36d86bcb76261"))),
    # Cosmos QA [TFDS cosmos_qa.txt]; test.jsonl has no labels.
    "cosmosqa": tuple(
        Source(f"https://raw.githubusercontent.com/wilburOne/cosmosqa/master/data/{name}", f"cosmosqa/{name}",
               sha256=sha)
        for name, sha in (("train.csv", "d8d5ca1f9f6534b6530550718591af89372d976a8fc419360fab4158dee4d0b2"),
                          ("valid.csv", "a6a94fc1463ca82bb10f98ef68ed535405e6f5c36e044ff8e136b5c19dea63f3"),
                          ("test.jsonl", "70005196dc2588b95de34f1657b25e2c1a4810cfe55b5bb0c0e15580c37b3ed0"))),
    # CommonsenseQA 1.0, random split: URLs from fairseq examples/roberta/commonsense_qa/download_cqa_data.sh.
    "commonsenseqa": tuple(
        Source(f"https://s3.amazonaws.com/commensenseqa/{name}.jsonl", f"commonsenseqa/{name}.jsonl")
        for name in ("train_rand_split", "dev_rand_split", "test_rand_split_no_answers")),
    # CCG: jiant's preprocessed CCGbank files; any folder depth in the archive (flatten=True).
    "ccg": (Source("", "ccg", archive=True, file_name="ccg.tgz", manual=CCG_MANUAL, flatten=True,
                   include=("*ccg.train.tsv", "*ccg.dev.tsv", "*ccg.test.tsv", "*tags_to_id.json")),),
}


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


def lay_out(source: Source, data_dir: Path) -> None:
    """Unpack a fetched archive into its place (plain files were fetched there already)."""
    if not source.archive:
        return
    archive = data_dir / source.saved_as
    if not (source.nested or source.flatten):
        extract_archive(archive, data_dir / source.dest, include=source.include, strip=source.strip)
        return
    scratch = data_dir / DOWNLOADS / f".{source.name}.unpacked"  # unpacked here, then moved or unpacked again
    _remove_tree(scratch)
    try:
        if source.flatten:
            extract_archive(archive, scratch, include=source.include)
            files = sorted(p for p in scratch.rglob("*") if p.is_file())
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
            extract_archive(archive, scratch, include=[member for member, _ in source.nested])
            for member, dest in source.nested:
                if not (scratch / member).is_file():
                    raise DownloadError(f"{archive}: has no member {member} (has the upstream archive changed?)")
                extract_archive(scratch / member, data_dir / dest)
    finally:
        _remove_tree(scratch)


def download(tasks: list[str], data_dir: str | Path, *, base_url: str | None = None,
             verify: dict[str, str] | None = None, from_files: dict[str, Path] | None = None, retries: int = 5,
             backoff: float = 1.0, timeout: float = 60.0, progress: bool = True, log=print,
             sources: dict[str, tuple[Source, ...]] | None = None) -> list[str]:
    """Fetch, verify, record and lay out the sources of `tasks` under `data_dir`.

    Returns the tasks left undone because they need a manual step (their instructions are logged).
    verify: manifest entries (path relative to data_dir -> SHA-256) every fetched file must match.
    sources: the table to use (default SOURCES; tests swap in their fixtures' checksums).
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
            lay_out(source, data_dir)
            done.add(source.saved_as)
    return pending


def list_sources() -> str:
    """A table of every source: task, checksum known or not, URL (or "manual")."""
    lines = []
    for task, sources in SOURCES.items():
        for s in sources:
            lines.append(f"{task:14s} {'sha256' if s.sha256 else '      '}  {s.url or 'manual: ' + s.name}")
    return "\n".join(lines)


def run_check(data_dir: Path, tasks: list[str], log=print) -> bool:
    """Run `data.check.check` on the laid-out tasks, log its report; True when every required file reads."""
    from data.check import check, format_report

    report = check(data_dir, tasks=tasks)
    log(format_report(report))
    return report["ok"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m data.download", description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tasks", help="comma-separated task names, e.g. xnli,pawsx,udpos")
    which.add_argument("--all", action="store_true", help="every task in the table")
    which.add_argument("--list", action="store_true", help="print the table of sources and exit")
    parser.add_argument("--out", default=DataConfig().data_dir,
                        help=f"DATA_DIR: where the data sets are laid out (default: {DataConfig().data_dir}; "
                             "env XSTILTS_DATA_DIR; train.py's data.data_dir)")
    parser.add_argument("--base-url", help="fetch from this mirror: https://host/path -> BASE_URL/host/path")
    parser.add_argument("--verify", metavar="MANIFEST", help="a sha256sum-style manifest every fetched file must match")
    parser.add_argument("--from-file", action="append", default=[], metavar="TASK=PATH",
                        help="a file fetched by hand for a manual source (panx, ccg)")
    parser.add_argument("--retries", type=int, default=5, help="extra attempts after a transient failure")
    parser.add_argument("--no-check", action="store_true", help="do not run data.check on the result")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.list:
        print(list_sources())
        return
    tasks = list(SOURCES) if args.all else [t.strip() for t in args.tasks.split(",") if t.strip()]
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731  (stdout stays clean for --list)
    try:
        verify = read_manifest(args.verify) if args.verify else None
        pending = download(tasks, args.out, base_url=args.base_url, verify=verify,
                           from_files=parse_from_files(args.from_file, tasks), retries=args.retries,
                           progress=not args.quiet, log=log)
        ready = [t for t in tasks if t not in pending]
        if ready and not args.no_check and not run_check(Path(args.out), ready, log=log):
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
