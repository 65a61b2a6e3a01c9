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

`--source hub` takes a task's files from the Hugging Face Hub instead (the registry's "hub" rows, data/tasks.py):
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
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from common.fetch import (MAX_RATIO, MAX_UNPACKED_BYTES, DownloadError, copy_verified, extract_archive, fetch,
                          mirror_url, read_manifest, write_manifest)
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
# The source each task gets when --source is not given, and why (printed by --list).
DEFAULT_SOURCES = {
    "xnli": ("upstream", "XNLI-1.0.zip keeps the pairIDs; facebook/xnli has none (ids become shard:row)"),
    "pawsx": ("upstream", "x-final is one checksummed archive with every language"),
    "udpos": ("upstream", "google/xtreme's udpos.* takes every treebank whose folder name contains the language name "
                          "(Old French in French, ...) and drops words whose form is '_'"),
    "panx": ("hub", "the upstream AmazonPhotos.zip is a manual download from a dead link; google/xtreme PAN-X.* keeps "
                    "the three splits and the test labels"),
    "xquad": ("upstream", "the published JSON, checksummed; google/xtreme strips contexts (answer offsets move)"),
    "mlqa": ("upstream", "the published archive, checksummed; google/xtreme strips contexts and answers"),
    "tydiqa": ("upstream", "the published JSON, checksummed; google/xtreme strips contexts and answers"),
    "bucc2018": ("upstream", "google/xtreme's bucc18.* holds only the gold pairs, not the corpora to mine from"),
    "tatoeba": ("hub", "google/xtreme tatoeba.* keeps LASER's line alignment (the gold): 36 files instead of 72"),
    "mnli": ("upstream", "GLUE's TSVs keep the pairIDs; nyu-mll/glue has row indices (idx)"),
    "qqp": ("upstream", "GLUE's TSVs keep the pair ids; nyu-mll/glue has row indices (idx)"),
    "sst2": ("upstream", "GLUE's TSVs, as every GLUE reference reads them"),
    "anli_plus": ("upstream", "the ANLI and SNLI originals keep their ids; stanfordnlp/snli has none"),
    "squad_v1": ("hub", "rajpurkar/squad keeps contexts and answer offsets verbatim (its script does not strip)"),
    "squad_v2": ("hub", "rajpurkar/squad_v2 keeps contexts and answer offsets verbatim (its script does not strip)"),
    "hellaswag": ("upstream", "the published JSONL, checksummed"),
    "cosmosqa": ("upstream", "the published CSV, checksummed"),
    "commonsenseqa": ("upstream", "the published JSONL"),
    "ccg": ("upstream", "CCGbank is licensed (LDC): there is no Hub copy"),
}
SOURCE_CHOICES = ("hub", "upstream")


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
        """'config X, split Y' as the repo names them (the first two parts of the pattern)."""
        config, rest = self.pattern.split("/", 1)
        split = rest.split("/")[0].split("-")[0]
        return f"config {'default' if config == 'data' else config}, split {split}"


def hub_requests(tasks: list[str], langs: list[str] | None = None) -> list[HubRequest]:
    """Every Hub file pattern the registry's "hub" rows of `tasks` name, for every language of the task (or those
    of `langs` it has)."""
    from data.check import required_pairs
    from data.tasks import HUB_REVISIONS, get_task

    out = []
    for name in tasks:
        task = get_task(name)
        hub_rows = [s for s in task.sources if s.layout == "hub"]
        if not hub_rows:
            raise ValueError(f"{name} has no Hub copy ({DEFAULT_SOURCES[name][1]}); use --source upstream")
        task_langs = [l for l in task.langs if langs is None or l in langs]
        required = required_pairs(task, task_langs)
        refused = {l: why for s in hub_rows for l, why in (getattr(s.read, "keywords", {}).get("refuse_langs") or
                                                          {}).items() if l in task_langs}
        if refused:  # the reader would refuse these files: fetch nothing (data/readers/hub.py says why)
            raise ValueError(f"{name} {', '.join(sorted(refused))} cannot come from the Hub: " +
                             " | ".join(refused[l] for l in sorted(refused)) +
                             f" (leave {', '.join(sorted(refused))} out with --langs to fetch the others)")
        for source in hub_rows:
            for lang in [l for l in source.langs or task.langs if l in task_langs]:
                for pattern in source.expand(lang):
                    _, owner, repo_name, rel = pattern.split("/", 3)  # hub/<owner>/<name>/<path in repo>
                    repo = f"{owner}/{repo_name}"
                    out.append(HubRequest(name, lang, source.split, repo, HUB_REVISIONS.get(repo, "main"), rel,
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

    pick = {t: source or default(t) for t in tasks}
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
    parser.add_argument("--out", default=DataConfig().data_dir,
                        help=f"DATA_DIR: where the data sets are laid out (default: {DataConfig().data_dir}; "
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
    tasks = list(SOURCES) if args.all else [t.strip() for t in args.tasks.split(",") if t.strip()]
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731  (stdout stays clean for --list)
    try:
        verify = read_manifest(args.verify) if args.verify else None
        unknown = [t for t in tasks if t not in SOURCES]
        if unknown:
            raise ValueError(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
        # --base-url, --verify and --from-file are about the upstream files: they imply --source upstream.
        upstream_only = args.base_url or args.verify or args.from_file
        hub_tasks, tasks_upstream = split_by_source(tasks, args.source or ("upstream" if upstream_only else None),
                                                    args.out)
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
