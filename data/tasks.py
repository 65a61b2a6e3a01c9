"""The 19 tasks of the study: one registry row per task, and where each task's files lie under DATA_DIR.

    python -m data.tasks            # list the tasks: name, kind, #langs, splits, metric
    python -m data.tasks --layout   # print every file pattern the readers look for, by task and split

Use: `task = get_task("xnli"); examples = task.read(data_dir, "de", "test")`; `task.has_gold(...)`;
`task.score(task.golds(examples), preds, "de")` (dispatches to data/metrics.py).

DATA_DIR layout
---------------
One folder per task under DATA_DIR (the target tasks' folders are those of XTREME's `download/`, so an XTREME
download directory can serve as DATA_DIR). For every (task, language, split) the readers try the patterns below
in order and read the first that exists ("L" = the 2-letter language code, "L3" = LASER's 3-letter code, `*` =
every match, sorted). The upstream originals come first because they keep the test labels that XTREME's download
removes; where only XTREME's copy is present its test sets are read without labels (label/tags/answers None,
has_gold False, scoring them is an error).

xnli (pair_cls; labels contradiction/entailment/neutral)
    dev, test   original  xnli/XNLI-1.0/xnli.{dev,test}.tsv                     (one file, `language` column)
                xtreme    xnli/{dev,test}-L.tsv                                  (test: no label column)
    train (en)  xtreme    xnli/train-en.tsv
                original  xnli/XNLI-MT-1.0/multinli/multinli.train.en.tsv
                glue      mnli/MNLI/train.tsv                                    (XNLI trains on MNLI)
                original  mnli/multinli_1.0/multinli_1.0_train.jsonl
pawsx (pair_cls; labels 0/1)
    train (en)  original  pawsx/x-final/en/train.tsv             xtreme  pawsx/train-en.tsv
    dev         original  pawsx/x-final/L/dev_2k.tsv             xtreme  pawsx/dev-L.tsv
    test        original  pawsx/x-final/L/test_2k.tsv            xtreme  pawsx/test-L.tsv      (no label column)
udpos (tag; 17 UPOS tags) — all of a language's UD v2.5 treebanks, read directly; a multiword token is one word
    (XTREME's fused forms, the default) or its syntactic words (read option ud_words=syntactic): see read_conllu
    train, dev, test  original  udpos/ud-treebanks-v2.5/UD_*/L_*-ud-{train,dev,test}.conllu
                      xtreme    udpos/{train,dev,test}-L.tsv                     (test: tokens only)
panx (tag; O, B-/I-PER, ORG, LOC) — AmazonPhotos.zip's panx_dataset/L.tar.gz extracted into panx_dataset/L/
    train, dev, test  original  panx/panx_dataset/L/{train,dev,test}             (`L:token<TAB>tag`)
                      xtreme    panx/{train,dev,test}-L.tsv                      (test: tokens only)
xquad (span) — trains on squad_v1
    test        xquad/xquad.L.json     (the same name in both layouts; XTREME blanks the answers in place)
mlqa (span; context and question in L) — trains on squad_v1
    dev, test   mlqa/MLQA_V1/{dev,test}/{dev,test}-context-L-question-L.json   (XTREME blanks test answers)
tydiqa (span; the language of a question = its id prefix, e.g. "arabic-...")
    train       original  tydiqa/tydiqa-goldp-v1.1-train.json
                original  tydiqa/tydiqa-goldp-v1.1-train/tydiqa-goldp-v1.1-train.json  (where XTREME moves it)
                xtreme    tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.L.train.json
    dev         original  tydiqa/tydiqa-goldp-v1.1-dev.json
                original  tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-LANGNAME.json
                xtreme    tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.L.dev.json  (answers blanked by XTREME)
bucc2018 (retrieval, L↔en) — dev = the BUCC "sample" files, test = the BUCC "training" files (public gold)
    dev         original  bucc2018/L-en/L-en.sample.{L,en,gold}
                xtreme    bucc2018/L-en.dev.{L,en,gold}
    test        original  bucc2018/L-en/L-en.training.{L,en,gold}
                xtreme    bucc2018/L-en.test.{L,en,gold}    or without .gold (XTREME deletes it: no gold)
tatoeba (retrieval, L↔en)
    test        original  tatoeba/tatoeba.L3-eng.{L3,eng}       (LASER v1, line-aligned: gold = same line)
                xtreme    tatoeba/L-en.{L,en}                   (English side sorted by XTREME: no gold)
mnli (pair_cls) — "dev" is dev_matched ("dev_matched" is accepted as a split name)
    train, dev, dev_mismatched  glue      mnli/MNLI/{train,dev_matched,dev_mismatched}.tsv
                                original  mnli/multinli_1.0/multinli_1.0_{train,dev_matched,dev_mismatched}.jsonl
anli_plus (pair_cls) — train = ANLI R1–R3 + SNLI + MNLI train; dev, test = ANLI R1–R3
    train       anli_plus/anli_v1.0/R{1,2,3}/train.jsonl + anli_plus/snli_1.0/snli_1.0_train.jsonl
                + MNLI's train file as for mnli (GLUE TSV or JSONL)
    dev, test   anli_plus/anli_v1.0/R{1,2,3}/{dev,test}.jsonl
qqp (pair_cls; labels 0/1)       train, dev  glue  qqp/QQP/{train,dev}.tsv
sst2 (single_cls; labels 0/1)    train, dev  glue  sst2/SST-2/{train,dev}.tsv
squad_v1 (span)                  train, dev  squad/{train,dev}-v1.1.json
squad_v2 (span, null answers)    train, dev  squad/{train,dev}-v2.0.json
hellaswag (multiple_choice)      train, dev  hellaswag/hellaswag_{train,val}.jsonl
cosmosqa (multiple_choice)       train, dev  cosmosqa/{train,valid}.csv  or  cosmosqa/{train,valid}.jsonl
commonsenseqa (multiple_choice)  train, dev  commonsenseqa/{train,dev}_rand_split.jsonl
ccg (tag; the supertag set from tags_to_id.json)
    train, dev, test  ccg/ccg.{train,dev,test}.tsv + ccg/tags_to_id.json

Hub layout ("hub"; its row comes right after the upstream rows of its split, so it is tried after the originals and
before XTREME's files, except for xnli's train split, where XTREME's train-en.tsv stays first): the Hub's Parquet
files under DATA_DIR/hub/<owner>/<name>/, with the paths they have in the repo, so that a
`huggingface_hub.snapshot_download(repo, repo_type="dataset", local_dir=DATA_DIR/hub/<owner>/<name>)` copy serves
as is; `python -m data.download --source hub` fetches them. Repo revision main, except Rowan/hellaswag and
allenai/cosmos_qa (refs/convert/parquet: `<config>/<split>/NNNN.parquet`). Hub split names: validation = dev.
Schemas, ClassLabel orders and their sources: data/readers/hub.py; how the copies differ from the originals:
README.md, "Data from the Hugging Face Hub".
xnli        train (en)       hub/facebook/xnli/en/train-*.parquet
            dev, test        hub/facebook/xnli/L/{validation,test}-*.parquet
pawsx       train (en)       hub/google-research-datasets/paws-x/en/train-*.parquet
            dev, test        hub/google-research-datasets/paws-x/L/{validation,test}-*.parquet
udpos       train, dev, test hub/google/xtreme/udpos.UDNAME/{train,validation,test}-*.parquet  (UDNAME: German, ...)
panx        train, dev, test hub/google/xtreme/PAN-X.L/{train,validation,test}-*.parquet
xquad       test             hub/google/xtreme/XQuAD.L/validation-*.parquet   (XQuAD's one split is "validation")
mlqa        dev, test        hub/google/xtreme/MLQA.L.L/{validation,test}-*.parquet
tydiqa      train, dev       hub/google/xtreme/tydiqa/{train,validation}-*.parquet  (all languages; id prefix)
tatoeba     test             hub/google/xtreme/tatoeba.L3/validation-*.parquet
bucc2018    none: google/xtreme's bucc18.L rows are the gold pairs only, without the corpora mined from
mnli        train, dev, dev_mismatched  hub/nyu-mll/glue/mnli/{train,validation_matched,validation_mismatched}-*.parquet
anli_plus   train            hub/facebook/anli/plain_text/{train_r1,train_r2,train_r3}-*.parquet
                             + hub/stanfordnlp/snli/plain_text/train-*.parquet + hub/nyu-mll/glue/mnli/train-*.parquet
            dev, test        hub/facebook/anli/plain_text/{dev_r1,dev_r2,dev_r3,test_r1,test_r2,test_r3}-*.parquet
qqp, sst2   train, dev       hub/nyu-mll/glue/{qqp,sst2}/{train,validation}-*.parquet
squad_v1    train, dev       hub/rajpurkar/squad/plain_text/{train,validation}-*.parquet
squad_v2    train, dev       hub/rajpurkar/squad_v2/squad_v2/{train,validation}-*.parquet
hellaswag   train, dev       hub/Rowan/hellaswag/default/{train,validation}/*.parquet
cosmosqa    train, dev       hub/allenai/cosmos_qa/default/{train,validation}/*.parquet
commonsenseqa  train, dev    hub/tau/commonsense_qa/data/{train,validation}-*.parquet
ccg         none: CCGbank is licensed (LDC); there is no Hub copy

Which layout is read: the first source row whose files exist, in the order above (upstream, hub, xtreme), per
task x language x split; `layout=` (data.layout in config.py, --layout for data.check) forces one of upstream | hub | xtreme (or
"auto", the default). data.check reports the layout it read for every entry.

(LANGNAME: TyDiQA's English name of the language, e.g. arabic.) Every pattern the code uses is printed by
`python -m data.tasks --layout`; tests/test_tasks.py checks that each appears in this table.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from data.examples import Bitext, DataError
from data import readers as R
from data.readers import hub as H
from data.readers import Examples, MissingDataError

NLI_LABELS = ("contradiction", "entailment", "neutral")  # XTREME's XnliProcessor order
BINARY_LABELS = ("0", "1")
PANX_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")  # XTREME's order

XNLI_LANGS = tuple("ar bg de el en es fr hi ru sw th tr ur vi zh".split())
PAWSX_LANGS = tuple("de en es fr ja ko zh".split())
UDPOS_LANGS = tuple("af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi "
                    "yo zh".split())
PANX_LANGS = tuple("af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw "
                   "ta te th tl tr ur vi yo zh".split())
XQUAD_LANGS = tuple("ar de el en es hi ru th tr vi zh".split())
MLQA_LANGS = tuple("ar de en es hi vi zh".split())
TYDIQA_LANGS = tuple("ar bn en fi id ko ru sw te".split())
BUCC_LANGS = tuple("de fr ru zh".split())
TATOEBA_LANGS = tuple("af ar bg bn de el es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr nl pt ru sw ta te "
                      "th tl tr ur vi zh".split())
# LASER's Tatoeba file codes (XTREME's map): Persian is pes, Swahili swh, Tagalog tgl, Chinese cmn.
TATOEBA_LANG3 = {"af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "de": "deu", "el": "ell", "es": "spa",
                 "et": "est", "eu": "eus", "fa": "pes", "fi": "fin", "fr": "fra", "he": "heb", "hi": "hin",
                 "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn", "jv": "jav", "ka": "kat", "kk": "kaz",
                 "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld", "pt": "por", "ru": "rus", "sw": "swh",
                 "ta": "tam", "te": "tel", "th": "tha", "tl": "tgl", "tr": "tur", "ur": "urd", "vi": "vie",
                 "zh": "cmn"}
TYDIQA_LANGNAME = {v: k for k, v in R.TYDIQA_NAMES.items()}
# google/xtreme's udpos config names (`udpos.German`): the UD language name of each code.
UD_LANG_NAMES = {"af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek", "en": "English",
                 "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
                 "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
                 "ja": "Japanese", "kk": "Kazakh", "ko": "Korean", "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese",
                 "ru": "Russian", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish",
                 "ur": "Urdu", "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese"}

# Layout groups a run can force (data.layout / --layout); "auto" tries the rows in registry order: the upstream
# originals (the files as published), then the Hub's Parquet copies (labels kept), then XTREME's files.
LAYOUT_GROUPS = {"upstream": ("original", "glue"), "hub": ("hub",), "xtreme": ("xtreme",)}
LAYOUT_ORDER = tuple(LAYOUT_GROUPS)
# Hub repos whose Parquet files live on another revision than main (repos still built by a loading script: the
# Hub's parquet-converter writes `<config>/<split>/NNNN.parquet` to refs/convert/parquet).
HUB_REVISIONS = {"Rowan/hellaswag": "refs/convert/parquet", "allenai/cosmos_qa": "refs/convert/parquet"}

SPLIT_ALIASES = {"dev_matched": "dev", "validation": "dev", "val": "dev"}
KINDS = ("pair_cls", "single_cls", "tag", "span", "multiple_choice", "retrieval")
RETRIEVAL_KINDS = ("mining", "aligned")


@dataclass(frozen=True)
class Source:
    """Where one layout keeps one split of a task, and which reader reads it.

    files: path patterns under DATA_DIR; `{lang}`, `{lang3}` (LASER code), `{langname}` (TyDiQA's English
    language name) are filled in; a `*` makes the pattern a glob (every match, sorted; at least one needed).
    langs: the languages this source holds (None: all of the task's).
    """
    layout: str
    split: str
    files: tuple[str, ...]
    read: Callable
    langs: tuple[str, ...] | None = None
    options: tuple[str, ...] = ()  # reader options (READ_OPTIONS) this source's reader takes; others are not passed

    def paths(self, data_dir, lang: str) -> list[Path] | None:
        """The files for `lang`, or None when one of them is missing. A path that is there but is not a file
        (a folder, a dangling symbolic link) is a DataError, not a missing file: falling back to the next
        layout would silently read, say, XTREME's unlabelled copy instead of the original."""
        found = []
        for pattern in self.expand(lang):
            if "*" in pattern:
                matches = sorted(Path(data_dir).glob(pattern))
                if not matches:
                    return None
            else:
                path = Path(data_dir) / pattern
                if not (path.is_file() or path.is_symlink() or path.exists()):
                    return None
                matches = [path]
            for path in matches:
                if not path.is_file():
                    what = "a dangling symbolic link" if path.is_symlink() and not path.exists() else "not a file"
                    raise DataError(path, None, f"{what}; expected the {self.layout} {self.split} file here "
                                                "(or nothing, to use another layout)")
            found.extend(matches)
        return found

    def expand(self, lang: str) -> list[str]:
        fill = {"lang": lang, "lang3": TATOEBA_LANG3.get(lang, lang), "langname": TYDIQA_LANGNAME.get(lang, lang),
                "udname": UD_LANG_NAMES.get(lang, lang)}
        return [f.format(**fill) for f in self.files]


def _sources(layout, splits, pattern_fn, read, langs=None, options=()):
    """One Source per split; pattern_fn(split) -> file patterns."""
    return [Source(layout, s, tuple(pattern_fn(s)), read, langs, options) for s in splits]


READ_OPTIONS = ("ud_words",)  # options Task.read passes to the readers that take them (DataConfig fields)


@dataclass(frozen=True)
class Task:
    """One task: what it is (kind, labels, metric) and where its files are (sources, tried in order)."""
    name: str
    kind: str
    langs: tuple[str, ...]
    splits: tuple[str, ...]
    labels: tuple[str, ...] | None  # None: no fixed label set (span, multiple choice, retrieval; ccg's is in a file)
    primary_metric: str  # a key of score()'s dict
    metrics: tuple[str, ...]  # names of data/metrics.py functions whose results score() merges
    sources: tuple[Source, ...] = field(repr=False)
    eval_split: str = "test"  # the split scored per language
    description: str = ""
    target: bool = False  # an XTREME target task (scored zero-shot per language); else an English intermediate task
    train_task: str | None = None  # target: the task whose English train/dev sets train it (None: no training,
    #                                the intermediate encoder is scored directly — retrieval)
    display_name: str = ""  # the name published tables use (XNLI, PAWS-X, ...); "" = the registry name
    parallel_test: bool = False  # target: the test sets are translations of one English set (same items in every
    #                              language), so per-language differences are not differences in test difficulty
    allow_null: bool = False  # span: a question may have no answer (SQuAD v2); decoding may abstain
    retrieval: str = ""  # retrieval kind: "mining" (BUCC: gold pairs among many sentences, threshold tuned on
    #                      tune_split) or "aligned" (Tatoeba: line i <-> line i, top-1 accuracy); "" otherwise
    tune_split: str = ""  # the split a decision threshold is tuned on before scoring eval_split ("" = none)
    label_file: str = ""  # labels read from this file under DATA_DIR (ccg's supertags) instead of `labels`
    train_examples: int = 0  # approximate size for study.py's GPU-hour estimates: English train examples
    #                          (retrieval: sentences embedded, every language and both sides); see _SIZES
    mean_tokens: int = 0  # approximate XLM-R sub-words per example (multiple choice: all choices together)

    def __post_init__(self):
        assert self.kind in KINDS, f"{self.name}: unknown kind {self.kind!r}"
        assert (self.kind == "retrieval") == (self.retrieval in RETRIEVAL_KINDS), \
            f"{self.name}: retrieval must be one of {RETRIEVAL_KINDS} exactly for kind 'retrieval'"
        assert not self.target or self.train_task is not None or self.kind == "retrieval", \
            f"{self.name}: a trained target task names its train_task"

    # -- files ---------------------------------------------------------------------------------------------------
    def _check(self, lang: str, split: str) -> str:
        split = SPLIT_ALIASES.get(split, split)
        if split not in self.splits:
            raise ValueError(f"{self.name} has no split {split!r}; expected one of {', '.join(self.splits)}")
        if lang not in self.langs:
            raise ValueError(f"{self.name} has no language {lang!r}; expected one of {', '.join(self.langs)}")
        return split

    def candidates(self, lang: str, split: str) -> list[Source]:
        """The sources that could hold (lang, split), in the order they are tried."""
        split = self._check(lang, split)
        return [s for s in self.sources if s.split == split and (s.langs is None or lang in s.langs)]

    def locate(self, data_dir, lang: str, split: str, layout: str | None = None) -> tuple[Source, list[Path]]:
        """The first source whose files exist (of `layout` if given) and its paths; MissingDataError otherwise."""
        cands = self.candidates(lang, split)
        if not cands:
            langs = sorted({l for s in self.sources if s.split == SPLIT_ALIASES.get(split, split)
                            for l in (s.langs or self.langs)})
            raise ValueError(f"{self.name} has no {split} split for {lang!r}; only for {', '.join(langs)}")
        if layout not in (None, "auto"):
            wanted = LAYOUT_GROUPS.get(layout, (layout,))  # a group (upstream, hub, xtreme) or one layout
            cands = [s for s in cands if s.layout in wanted]
            if not cands:
                raise ValueError(f"{self.name} {split} has no layout {layout!r}")
        for source in cands:
            paths = source.paths(data_dir, lang)
            if paths is not None:
                return source, paths
        tried = "; ".join(" + ".join(s.expand(lang)) for s in cands)
        raise MissingDataError(Path(data_dir) / self.name, None,
                               f"no {self.name} file for lang={lang} split={split}; expected under DATA_DIR "
                               f"{Path(data_dir)}: {tried} (see data/tasks.py for the layout)")

    def read(self, data_dir, lang: str, split: str, layout: str | None = None, **options) -> Examples | Bitext:
        """The examples of (lang, split), a list (Examples: also .paths, .layout, .skipped, .tokenization); one
        Bitext for retrieval tasks. DataError on a bad file, MissingDataError when no layout's file exists.
        options: READ_OPTIONS, given to the source's reader when it takes them (ud_words for UD's .conllu)."""
        unknown = sorted(set(options) - set(READ_OPTIONS))
        if unknown:
            raise ValueError(f"unknown read option(s) {', '.join(unknown)}; expected {', '.join(READ_OPTIONS)}")
        source, paths = self.locate(data_dir, lang, split, layout)
        out = source.read(paths, lang, SPLIT_ALIASES.get(split, split), self.labels,
                          **{k: v for k, v in options.items() if k in source.options and v is not None})
        for key, value in options.items():  # e.g. XTREME's udpos TSVs hold fused words only
            said = getattr(out, "tokenization", "")
            if value is not None and said.startswith(f"{key}=") and said != f"{key}={value}":
                raise ValueError(f"{paths[0]}: its words are {said}; {key}={value} needs another layout's files "
                                 f"(see data/tasks.py), or read these with {said}")
        if isinstance(out, Examples):
            out.layout = source.layout
            if not out:
                raise DataError(paths[0], None, f"no {self.name} examples for lang={lang} split={split}; "
                                                "expected at least one")
        return out

    def read_note(self, **options) -> str:
        """What the results rows' source adds about how the words were read: ";ud_words=fused" for a task whose
        reader takes that option (Task.read refuses files that hold other words), else ""."""
        taken = {k for s in self.sources for k in s.options}
        return "".join(f";{k}={v}" for k, v in options.items() if k in taken and v is not None)

    def has_gold(self, data_dir, lang: str, split: str, layout: str | None = None, **options) -> bool:
        """Whether every example of (lang, split) has its gold label (False for XTREME's test sets)."""
        return examples_have_gold(self.read(data_dir, lang, split, layout, **options))

    def check_gold(self, data_dir, langs: Sequence[str], split: str, layout: str | None = None, **options) -> None:
        """Every (lang, split) must exist and have gold labels. One error lists every language whose files are
        missing (with the paths looked for), else one error lists every language without gold labels and says
        what would work: another labelled split, or the original files that keep the labels."""
        split = SPLIT_ALIASES.get(split, split)
        if split not in self.splits:
            raise ValueError(f"task {self.name} has no split {split!r}; its splits: {', '.join(self.splits)}")
        missing = []
        for lang in langs:
            try:
                self.locate(data_dir, lang, split, layout)
            except MissingDataError:
                wanted = LAYOUT_GROUPS.get(layout, (layout,)) if layout not in (None, "auto") else None
                tried = " or ".join(" + ".join(s.expand(lang)) for s in self.candidates(lang, split)
                                    if wanted is None or s.layout in wanted)
                missing.append(f"{lang} {split} (expected {tried})")
        if missing:
            raise MissingDataError(data_dir, None, f"task {self.name}: {len(missing)} of {len(langs)} language(s) "
                                                   f"have no file under DATA_DIR: {'; '.join(missing)}")
        lacking = [lang for lang in langs if not self.has_gold(data_dir, lang, split, layout, **options)]
        if lacking:
            others = [s for s in self.splits if s not in ("train", split)]
            names = {"lang": "L", "lang3": "L3", "langname": "LANGNAME", "udname": "UDNAME"}  # as in the docstring
            originals = sorted({" + ".join(s.files).format(**names)
                                for s in self.sources if s.split == split and s.layout in LAYOUT_GROUPS["upstream"]})
            where = f" ({' or '.join(originals)} as released upstream)" if originals else ""
            hint = (f"score --split {others[0]}, or read" if others else f"{self.name} has no other split: read")
            raise ValueError(f"task {self.name}, split {split}: no gold labels under {data_dir} for "
                             f"{', '.join(lacking)} (XTREME's download strips test labels; {hint} the original "
                             f"upstream files, which keep them{where})")

    def select_langs(self, langs: Sequence[str] | None, all_langs: bool) -> list[str]:
        """The languages to score: all of the task's, or the given ones (each must be one of the task's)."""
        if all_langs == bool(langs):
            raise ValueError("give exactly one of --all-langs and --langs")
        if all_langs:
            return list(self.langs)
        unknown = [lang for lang in langs if lang not in self.langs]
        if unknown:
            raise ValueError(f"task {self.name} has no language(s) {', '.join(unknown)}; "
                             f"its languages: {' '.join(self.langs)}")
        return list(dict.fromkeys(langs))

    def get_labels(self, data_dir=None) -> tuple[str, ...] | None:
        """The label set: the registry's, or (label_file) the one read from that file under DATA_DIR."""
        if self.label_file:
            if data_dir is None:
                raise ValueError(f"{self.name}'s label set is in DATA_DIR/{self.label_file}: pass data_dir")
            return R.read_ccg_labels(Path(data_dir) / self.label_file)
        return self.labels

    # -- scoring -------------------------------------------------------------------------------------------------
    def golds(self, examples) -> list | frozenset:
        """What score() takes as golds: labels (cls), tag lists (tag), answer-text lists (span; [] =
        unanswerable), choice indices, gold pairs (mining) or, for aligned retrieval (tatoeba), the gold
        non-English id of each English sentence: the English side is the query, as in XTREME and jiant.
        ValueError when the examples have no gold (XTREME's test sets)."""
        def need(value, id_):
            if value is None:
                raise ValueError(f"{self.name}: example {id_} has no gold label (XTREME's download removes test "
                                 "labels); score the dev split or read the original files")
            return value

        if self.kind == "retrieval":
            gold = need(examples.gold, examples.id)
            if self.retrieval == "mining":
                return gold
            by_tgt = {t: s for s, t in gold}
            return [by_tgt.get(t) for t in examples.tgt_ids]
        if self.kind == "tag":
            return [list(need(e.tags, e.id)) for e in examples]
        if self.kind == "span":
            return [[a.text for a in need(e.answers, e.id)] for e in examples]
        return [need(e.label, e.id) for e in examples]

    def score(self, golds, preds, lang: str, **options) -> dict[str, float]:
        """Metrics on 0-100 for one language: data/metrics.py's functions named in `metrics`, merged.

        golds as golds() returns them (any None is an error: that split has no gold); preds the same shape
        (bucc2018: candidates [(src_id, tgt_id, score)], options may give `threshold`).
        """
        from data import metrics  # lazy: the registry imports without the metrics module

        if golds is None or (not isinstance(golds, (set, frozenset)) and any(g is None for g in golds)):
            raise ValueError(f"{self.name} {lang}: gold labels missing (XTREME's test sets have none); "
                             "scoring such a split is an error")
        out: dict[str, float] = {}
        for name in self.metrics:
            fn = getattr(metrics, name)
            if name == "mlqa_em_f1":
                out.update(fn(golds, preds, lang))
            elif name == "bucc_f1":
                out.update(fn(set(golds), preds, **options))
            else:
                out.update(fn(golds, preds))
        return out


def examples_have_gold(examples) -> bool:
    """Whether every example (or the Bitext) carries its gold label, tags, answers or pairs."""
    if isinstance(examples, Bitext):
        return examples.gold is not None
    for e in examples:
        gold = e.tags if hasattr(e, "tags") else e.answers if hasattr(e, "answers") else e.label
        if gold is None:
            return False
    return True


# ---- the registry ----------------------------------------------------------------------------------------------
def _p(fn, **kw):
    return functools.partial(fn, **kw)


_EN = ("en",)
_MNLI_SPLIT_FILES = {"train": "train", "dev": "dev_matched", "dev_mismatched": "dev_mismatched"}
_MNLI_SOURCES = [
    *_sources("glue", _MNLI_SPLIT_FILES, lambda s: [f"mnli/MNLI/{_MNLI_SPLIT_FILES[s]}.tsv"], R.read_glue_mnli),
    *_sources("original", _MNLI_SPLIT_FILES,
              lambda s: [f"mnli/multinli_1.0/multinli_1.0_{_MNLI_SPLIT_FILES[s]}.jsonl"], R.read_nli_jsonl),
]
_ANLI_ROUNDS = ("R1", "R2", "R3")
_PAWSX_FILES = {"train": "train", "dev": "dev_2k", "test": "test_2k"}
_BUCC_FILES = {"dev": "sample", "test": "training"}
_TAGS = ("train", "dev", "test")


def _build_tasks() -> dict[str, Task]:
    tasks = [
        Task("xnli", "pair_cls", XNLI_LANGS, ("train", "dev", "test"), NLI_LABELS, "accuracy", ("accuracy",), (
            *_sources("original", ("dev", "test"), lambda s: [f"xnli/XNLI-1.0/xnli.{s}.tsv"], R.read_xnli_original),
            *_sources("xtreme", ("dev", "test"), lambda s: [f"xnli/{s}-{{lang}}.tsv"], R.read_xtreme_pair_tsv),
            Source("xtreme", "train", ("xnli/train-en.tsv",), R.read_xtreme_pair_tsv, _EN),
            Source("original", "train", ("xnli/XNLI-MT-1.0/multinli/multinli.train.en.tsv",), R.read_xnli_mt_train,
                   _EN),
            *[Source(s.layout, "train", s.files, s.read, _EN) for s in _MNLI_SOURCES if s.split == "train"],
        ), description="XNLI: natural language inference, 15 languages; English train = MNLI",
             target=True, train_task="xnli", display_name="XNLI", parallel_test=True),
        Task("pawsx", "pair_cls", PAWSX_LANGS, ("train", "dev", "test"), BINARY_LABELS, "accuracy", ("accuracy",), (
            Source("original", "train", ("pawsx/x-final/en/train.tsv",), R.read_pawsx_original, _EN),
            Source("xtreme", "train", ("pawsx/train-en.tsv",), R.read_xtreme_pair_tsv, _EN),
            *_sources("original", ("dev", "test"), lambda s: [f"pawsx/x-final/{{lang}}/{_PAWSX_FILES[s]}.tsv"],
                      R.read_pawsx_original),
            *_sources("xtreme", ("dev", "test"), lambda s: [f"pawsx/{s}-{{lang}}.tsv"], R.read_xtreme_pair_tsv),
        ), description="PAWS-X: paraphrase identification (adversarial pairs)",
             target=True, train_task="pawsx", display_name="PAWS-X", parallel_test=True),
        Task("udpos", "tag", UDPOS_LANGS, _TAGS, R.UPOS, "f1", ("span_f1", "tag_accuracy"), (
            *_sources("original", _TAGS, lambda s: [f"udpos/ud-treebanks-v2.5/UD_*/{{lang}}_*-ud-{s}.conllu"],
                      R.read_conllu, options=("ud_words",)),
            *_sources("xtreme", _TAGS, lambda s: [f"udpos/{s}-{{lang}}.tsv"],
                      _p(R.read_xtreme_tags, tokenization="ud_words=fused")),  # XTREME's conversion fused them
        ), description="UD v2.5 part-of-speech tagging (scored with seqeval span F1 as XTREME does; "
                       "token accuracy too)",
             target=True, train_task="udpos", display_name="UDPOS", parallel_test=False),
        Task("panx", "tag", PANX_LANGS, _TAGS, PANX_LABELS, "f1", ("span_f1",), (
            *_sources("original", _TAGS, lambda s: [f"panx/panx_dataset/{{lang}}/{s}"], R.read_panx_original),
            *_sources("xtreme", _TAGS, lambda s: [f"panx/{s}-{{lang}}.tsv"], R.read_xtreme_tags),
        ), description="WikiANN / PAN-X named entities (PER, ORG, LOC)",
             target=True, train_task="panx", display_name="PAN-X", parallel_test=False),
        Task("xquad", "span", XQUAD_LANGS, ("test",), None, "f1", ("squad_em_f1",), (
            Source("original", "test", ("xquad/xquad.{lang}.json",), R.read_squad_json),
        ), description="XQuAD: SQuAD v1.1 dev translated into 10 languages; trains on squad_v1",
             target=True, train_task="squad_v1", display_name="XQuAD", parallel_test=True),
        Task("mlqa", "span", MLQA_LANGS, ("dev", "test"), None, "f1", ("mlqa_em_f1",), (
            *_sources("original", ("dev", "test"),
                      lambda s: [f"mlqa/MLQA_V1/{s}/{s}-context-{{lang}}-question-{{lang}}.json"], R.read_squad_json),
        ), description="MLQA: extractive QA, context and question in the same language; trains on squad_v1",
             target=True, train_task="squad_v1", display_name="MLQA", parallel_test=True),
        Task("tydiqa", "span", TYDIQA_LANGS, ("train", "dev"), None, "f1", ("squad_em_f1",), (
            Source("original", "train", ("tydiqa/tydiqa-goldp-v1.1-train.json",),
                   _p(R.read_squad_json, id_prefix_langs=True)),
            Source("original", "train", ("tydiqa/tydiqa-goldp-v1.1-train/tydiqa-goldp-v1.1-train.json",),
                   _p(R.read_squad_json, id_prefix_langs=True)),
            Source("xtreme", "train", ("tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.{lang}.train.json",),
                   R.read_squad_json),
            Source("original", "dev", ("tydiqa/tydiqa-goldp-v1.1-dev.json",),
                   _p(R.read_squad_json, id_prefix_langs=True)),
            Source("original", "dev", ("tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{langname}.json",),
                   _p(R.read_squad_json, id_prefix_langs=True)),
            Source("xtreme", "dev", ("tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json",),
                   R.read_squad_json),
        ), eval_split="dev", description="TyDiQA-GoldP: QA with the gold passage; English train set",
             target=True, train_task="tydiqa", display_name="TyDiQA-GoldP", parallel_test=False),
        Task("bucc2018", "retrieval", BUCC_LANGS, ("dev", "test"), None, "f1", ("bucc_f1",), (
            *[Source("original", s, tuple(f"bucc2018/{{lang}}-en/{{lang}}-en.{f}.{ext}" for ext in
                                          ("{lang}", "en", "gold")), R.read_bucc) for s, f in _BUCC_FILES.items()],
            *[Source("xtreme", s, tuple(f"bucc2018/{{lang}}-en.{s}.{ext}" for ext in ("{lang}", "en", "gold")),
                     R.read_bucc) for s in _BUCC_FILES],
            Source("xtreme", "test", ("bucc2018/{lang}-en.test.{lang}", "bucc2018/{lang}-en.test.en"), R.read_bucc),
        ), retrieval="mining", tune_split="dev",
            description="BUCC 2018 parallel sentence mining (margin score, F1 at a threshold tuned on dev)",
             target=True, train_task=None, display_name="BUCC", parallel_test=False),
        Task("tatoeba", "retrieval", TATOEBA_LANGS, ("test",), None, "accuracy", ("retrieval_accuracy",), (
            Source("original", "test", ("tatoeba/tatoeba.{lang3}-eng.{lang3}", "tatoeba/tatoeba.{lang3}-eng.eng"),
                   R.read_tatoeba_aligned),
            Source("xtreme", "test", ("tatoeba/{lang}-en.{lang}", "tatoeba/{lang}-en.en"), R.read_tatoeba_xtreme),
        ), retrieval="aligned",
            description="Tatoeba sentence retrieval: top-1 nearest neighbour of each English sentence among the "
                        "other language's (XTREME's and jiant's direction), up to 1000 pairs per language",
             target=True, train_task=None, display_name="Tatoeba", parallel_test=True),
        # ---- intermediate tasks (English) ----
        Task("anli_plus", "pair_cls", _EN, ("train", "dev", "test"), NLI_LABELS, "accuracy", ("accuracy",), (
            *[Source("original", "train",
                     (*[f"anli_plus/anli_v1.0/{r}/train.jsonl" for r in _ANLI_ROUNDS],
                      "anli_plus/snli_1.0/snli_1.0_train.jsonl", *mnli.files), R.read_anli_plus)
              for mnli in _MNLI_SOURCES if mnli.split == "train"],
            *_sources("original", ("dev", "test"),
                      lambda s: [f"anli_plus/anli_v1.0/{r}/{s}.jsonl" for r in _ANLI_ROUNDS], R.read_anli_plus),
        ), eval_split="dev", description="ANLI R1-R3 + MNLI + SNLI (train); ANLI R1-R3 dev/test"),
        Task("mnli", "pair_cls", _EN, ("train", "dev", "dev_mismatched"), NLI_LABELS, "accuracy", ("accuracy",),
             tuple(_MNLI_SOURCES), eval_split="dev", description="MultiNLI; dev = dev_matched"),
        Task("qqp", "pair_cls", _EN, ("train", "dev"), BINARY_LABELS, "accuracy", ("accuracy",), (
            *_sources("glue", ("train", "dev"), lambda s: [f"qqp/QQP/{s}.tsv"], R.read_glue_qqp),
        ), eval_split="dev", description="Quora Question Pairs (GLUE)"),
        Task("sst2", "single_cls", _EN, ("train", "dev"), BINARY_LABELS, "accuracy", ("accuracy",), (
            *_sources("glue", ("train", "dev"), lambda s: [f"sst2/SST-2/{s}.tsv"], R.read_glue_sst2),
        ), eval_split="dev", description="Stanford Sentiment Treebank, binary (GLUE)"),
        Task("squad_v1", "span", _EN, ("train", "dev"), None, "f1", ("squad_em_f1",), (
            *_sources("original", ("train", "dev"), lambda s: [f"squad/{s}-v1.1.json"], R.read_squad_json),
        ), eval_split="dev", description="SQuAD v1.1; also the target-task train set of xquad and mlqa"),
        Task("squad_v2", "span", _EN, ("train", "dev"), None, "f1", ("squad_v2_em_f1",), (
            *_sources("original", ("train", "dev"), lambda s: [f"squad/{s}-v2.0.json"],
                      _p(R.read_squad_json, version2=True)),
        ), eval_split="dev", allow_null=True, description="SQuAD v2.0 (unanswerable questions: null answers)"),
        Task("hellaswag", "multiple_choice", _EN, ("train", "dev"), None, "accuracy", ("accuracy",), (
            Source("original", "train", ("hellaswag/hellaswag_train.jsonl",), R.read_hellaswag),
            Source("original", "dev", ("hellaswag/hellaswag_val.jsonl",), R.read_hellaswag),
        ), eval_split="dev", description="HellaSwag: choose the ending (4 choices)"),
        Task("cosmosqa", "multiple_choice", _EN, ("train", "dev"), None, "accuracy", ("accuracy",), (
            Source("original", "train", ("cosmosqa/train.csv",), R.read_cosmosqa),
            Source("original", "train", ("cosmosqa/train.jsonl",), R.read_cosmosqa),
            Source("original", "dev", ("cosmosqa/valid.csv",), R.read_cosmosqa),
            Source("original", "dev", ("cosmosqa/valid.jsonl",), R.read_cosmosqa),
        ), eval_split="dev", description="Cosmos QA: commonsense reading comprehension (4 choices)"),
        Task("commonsenseqa", "multiple_choice", _EN, ("train", "dev"), None, "accuracy", ("accuracy",), (
            *_sources("original", ("train", "dev"), lambda s: [f"commonsenseqa/{s}_rand_split.jsonl"],
                      R.read_commonsenseqa),
        ), eval_split="dev", description="CommonsenseQA (5 choices)"),
        Task("ccg", "tag", _EN, _TAGS, None, "accuracy", ("tag_accuracy",), (
            *_sources("original", _TAGS, lambda s: [f"ccg/ccg.{s}.tsv", "ccg/tags_to_id.json"], R.read_ccg),
        ), eval_split="dev", label_file="ccg/tags_to_id.json", description="CCGbank supertagging (token accuracy)"),
    ]
    hub = _hub_sources()
    return {t.name: dataclasses.replace(t, sources=_insert_hub(t.sources, hub.get(t.name, ())),
                                        **dict(zip(("train_examples", "mean_tokens"), _SIZES.get(t.name, (0, 0)))))
            for t in tasks}


def _insert_hub(sources: tuple[Source, ...], hub_rows) -> tuple[Source, ...]:
    """Each hub row goes right after the last upstream row of its split (so before XTREME's files wherever the
    registry tries the originals first), or after every row of its split when the split has no upstream row."""
    out = list(sources)
    for row in hub_rows:
        same = [i for i, s in enumerate(out) if s.split == row.split]
        upstream = [i for i in same if out[i].layout in LAYOUT_GROUPS["upstream"]]
        at = (upstream[-1] if upstream else same[-1] if same else len(out) - 1) + 1
        out.insert(at, row)
    return tuple(out)


def _hub_sources() -> dict[str, list[Source]]:
    """The "hub" layout: the Hugging Face Hub's Parquet files, under DATA_DIR/hub/<owner>/<name>/ exactly as in the
    repo (see the docstring table). Readers and ClassLabel tables: data/readers/hub.py."""
    def hub(split, pattern, read, langs=None):
        return Source("hub", split, (f"hub/{pattern}",), read, langs)

    nli = _p(H.read_hub_pair, text_a="premise", text_b="hypothesis", names=H.NLI_NAMES)
    xt = "google/xtreme"
    hub_split = {"train": "train", "dev": "validation", "test": "test"}
    tags = {"udpos": ("udpos.{udname}", _p(H.read_hub_tags, tags="pos_tags", names=H.UPOS_NAMES,
                                           tokenization="ud_words=syntactic",  # not XTREME's fused words
                                           refuse_langs=H.UDPOS_HUB_REFUSED)),  # configs with other treebanks
            "panx": ("PAN-X.{lang}", _p(H.read_hub_tags, tags="ner_tags", names=H.PANX_NAMES))}
    anli = {s: [f"hub/facebook/anli/plain_text/{s}_{r.lower()}-*.parquet" for r in _ANLI_ROUNDS]
            for s in ("train", "dev", "test")}
    glue = "nyu-mll/glue"
    return {
        "xnli": [hub("train", "facebook/xnli/en/train-*.parquet", nli, _EN),
                 *[hub(s, f"facebook/xnli/{{lang}}/{hub_split[s]}-*.parquet", nli) for s in ("dev", "test")]],
        "pawsx": [hub("train", "google-research-datasets/paws-x/en/train-*.parquet",
                      _p(H.read_hub_pair, text_a="sentence1", text_b="sentence2", names=H.PAWSX_NAMES,
                         id_column="id"), _EN),
                  *[hub(s, f"google-research-datasets/paws-x/{{lang}}/{hub_split[s]}-*.parquet",
                        _p(H.read_hub_pair, text_a="sentence1", text_b="sentence2", names=H.PAWSX_NAMES,
                           id_column="id")) for s in ("dev", "test")]],
        **{task: [hub(s, f"{xt}/{config}/{hub_split[s]}-*.parquet", read) for s in _TAGS]
           for task, (config, read) in tags.items()},
        "xquad": [hub("test", f"{xt}/XQuAD.{{lang}}/validation-*.parquet", H.read_hub_squad)],  # one split
        "mlqa": [hub(s, f"{xt}/MLQA.{{lang}}.{{lang}}/{hub_split[s]}-*.parquet", H.read_hub_squad)
                 for s in ("dev", "test")],
        "tydiqa": [hub(s, f"{xt}/tydiqa/{hub_split[s]}-*.parquet", _p(H.read_hub_squad, id_prefix_langs=True))
                   for s in ("train", "dev")],
        # bucc2018: none. google/xtreme's bucc18.L rows are the gold pairs only, not the corpora to mine from.
        "tatoeba": [hub("test", f"{xt}/tatoeba.{{lang3}}/validation-*.parquet", H.read_hub_tatoeba)],
        "mnli": [hub(s, f"{glue}/mnli/{f.replace('dev', 'validation')}-*.parquet",
                     _p(H.read_hub_pair, text_a="premise", text_b="hypothesis", names=H.NLI_NAMES, id_column="idx"))
                 for s, f in _MNLI_SPLIT_FILES.items()],
        "anli_plus": [Source("hub", "train", (*anli["train"], "hub/stanfordnlp/snli/plain_text/train-*.parquet",
                                              f"hub/{glue}/mnli/train-*.parquet"), H.read_hub_anli_plus),
                      *[Source("hub", s, tuple(anli[s]), H.read_hub_anli_plus) for s in ("dev", "test")]],
        "qqp": [hub(s, f"{glue}/qqp/{hub_split[s]}-*.parquet",
                    _p(H.read_hub_pair, text_a="question1", text_b="question2", names=H.QQP_NAMES, id_column="idx"))
                for s in ("train", "dev")],
        "sst2": [hub(s, f"{glue}/sst2/{hub_split[s]}-*.parquet",
                     _p(H.read_hub_single, text="sentence", names=H.SST2_NAMES, id_column="idx"))
                 for s in ("train", "dev")],
        "squad_v1": [hub(s, f"rajpurkar/squad/plain_text/{hub_split[s]}-*.parquet", H.read_hub_squad)
                     for s in ("train", "dev")],
        "squad_v2": [hub(s, f"rajpurkar/squad_v2/squad_v2/{hub_split[s]}-*.parquet",
                         _p(H.read_hub_squad, version2=True)) for s in ("train", "dev")],
        "hellaswag": [hub(s, f"Rowan/hellaswag/default/{hub_split[s]}/*.parquet", H.read_hub_hellaswag)
                      for s in ("train", "dev")],
        "cosmosqa": [hub(s, f"allenai/cosmos_qa/default/{hub_split[s]}/*.parquet", H.read_hub_cosmosqa)
                     for s in ("train", "dev")],
        "commonsenseqa": [hub(s, f"tau/commonsense_qa/data/{hub_split[s]}-*.parquet", H.read_hub_commonsenseqa)
                          for s in ("train", "dev")],
        # ccg: none (CCGbank is licensed by the LDC; no Hub copy).
    }


# (train_examples, mean_tokens) per task: the published train-set sizes (dataset papers and cards: MNLI 392,702;
# SNLI 550,152; ANLI R1-R3 162,865; QQP 363,846; SST-2 67,349; SQuAD 87,599 / 130,319; HellaSwag 39,905; Cosmos QA
# 25,262; CommonsenseQA 9,741; CCGbank 02-21 39,604; PAWS-X 49,401; PAN-X en 20,000; UD v2.5 English 21,253;
# TyDiQA-GoldP en 3,696; Tatoeba 36 x 1,000 pairs; BUCC sample + training files ~2.9M sentences). Mean lengths
# are rough estimates [R], only good for the order of magnitude of a GPU budget.
_SIZES = {
    "xnli": (392_702, 45), "pawsx": (49_401, 60), "udpos": (21_253, 25), "panx": (20_000, 12),
    "xquad": (87_599, 180), "mlqa": (87_599, 180), "tydiqa": (3_696, 200),
    "bucc2018": (2_900_000, 35), "tatoeba": (72_000, 15),
    "anli_plus": (1_105_719, 40), "mnli": (392_702, 45), "qqp": (363_846, 30), "sst2": (67_349, 13),
    "squad_v1": (87_599, 180), "squad_v2": (130_319, 180), "hellaswag": (39_905, 280), "cosmosqa": (25_262, 400),
    "commonsenseqa": (9_741, 100), "ccg": (39_604, 30),
}

TASKS: dict[str, Task] = _build_tasks()


def target_tasks() -> tuple[str, ...]:
    """The XTREME target tasks, in registry order (read at call time: a row added to TASKS counts)."""
    return tuple(t.name for t in TASKS.values() if t.target)


def parse_langs(value: str) -> list[str]:
    """A command line's comma-separated languages: "de, fr" -> ["de", "fr"]."""
    return [x.strip() for x in value.split(",") if x.strip()]


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def layout_rows() -> list[tuple[str, str, str, str]]:
    """(task, split, layout, file patterns joined by ' + ') for every source, in the order they are tried."""
    return [(t.name, s.split, s.layout, " + ".join(s.files)) for t in TASKS.values() for s in t.sources]


def format_table(tasks: Sequence[Task]) -> str:
    rows = [("task", "kind", "#langs", "splits", "metric")]
    rows += [(t.name, t.kind, str(len(t.langs)), ",".join(t.splits), t.primary_metric) for t in tasks]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="List the tasks of the registry.")
    parser.add_argument("--layout", action="store_true", help="print every file pattern looked for under DATA_DIR")
    args = parser.parse_args(argv)
    if args.layout:
        for name, split, layout, files in layout_rows():
            print(f"{name:14} {split:15} {layout:9} {files}")
    else:
        print(format_table(list(TASKS.values())))


if __name__ == "__main__":
    main()
