"""What a task row is: `Task` (what the task is and where its files lie) and `Source`, `Download` (its files).

A task is one file in data/tasks/ holding its `TASK = Task(...)` row (see data/tasks/__init__.py for the list and
for how to add one). This module holds the row types and the rules every row follows:

- Files. For every (task, language, split) the readers try the row's `sources` in order and read the first whose
  files exist under DATA_DIR. The upstream originals come first (layouts "original" and "glue": the files as
  published, with their test labels), then the Hugging Face Hub's Parquet copies ("hub", under
  DATA_DIR/hub/<owner>/<name>/ with the repo's own paths), then XTREME's files ("xtreme"; its download strips test
  labels, so those are read without them: has_gold False, scoring them is an error). `data.layout` (config.py) or
  `--layout` forces one group (upstream | hub | xtreme). `python -m data.tasks --layout` prints every pattern.
- Patterns name languages through the language table (data/languages.py): `{lang}` the tag, `{lang3}` LASER's
  Tatoeba code, `{langname}` TyDiQA's name, `{udname}` the UD name, `{flores}` the FLORES-200 code, `{wiki}`
  WikiANN's Wikipedia code, `{udfiles}` the file-name glob of the language's UD v2.7 treebanks. A language without
  the fact a pattern needs is an error naming the language and the field.
- Downloads. `downloads` lists what `python -m data.download --source upstream` fetches for the task (URL, checksum
  where published, how to unpack); `default_source` ("upstream" or "hub") and `default_source_why` say which copy a
  plain `data.download` takes and why (printed by `--list`).

Fields are keyword-only: a row reads as a list of facts.
"""
from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from data import languages
from data.examples import Bitext, DataError
from data.readers import Examples, MissingDataError

NLI_LABELS = ("contradiction", "entailment", "neutral")  # XTREME's XnliProcessor order
BINARY_LABELS = ("0", "1")
EN = ("en",)

# Layout groups a run can force (data.layout / --layout); "auto" tries the rows in registry order: the upstream
# originals (the files as published), then the Hub's Parquet copies (labels kept), then XTREME's files.
LAYOUT_GROUPS = {"upstream": ("original", "glue"), "hub": ("hub",), "xtreme": ("xtreme",)}
LAYOUT_ORDER = tuple(LAYOUT_GROUPS)
SOURCE_CHOICES = ("hub", "upstream")  # what data.download fetches: the Hub's copy or the upstream originals
SPLIT_ALIASES = {"dev_matched": "dev", "validation": "dev", "val": "dev"}
KINDS = ("pair_cls", "single_cls", "tag", "span", "multiple_choice", "retrieval")
RETRIEVAL_KINDS = ("mining", "aligned")
DOWNLOADS = "downloads"  # fetched archives are kept here, under DATA_DIR
# Pattern placeholders -> the data/languages.py field each needs ({lang} is the tag itself).
PLACEHOLDERS = {"lang3": "laser", "langname": "tydiqa_name", "udname": "ud_name", "flores": "flores",
                "wiki": "wikiann", "udfiles": "ud_files"}


def p(fn, **kw):
    """A reader with some arguments fixed (functools.partial)."""
    return functools.partial(fn, **kw)



@dataclass(frozen=True)
class Source:
    """Where one layout keeps one split of a task, and which reader reads it.

    files: path patterns under DATA_DIR; `{lang}` and the PLACEHOLDERS (language facts) are filled in; a `*` makes
    the pattern a glob (every match, sorted; at least one needed).
    langs: the languages this source holds (None: all of the task's).
    revision: for a "hub" source, the repo revision its Parquet files are on (repos still built by a loading
    script have them on refs/convert/parquet, as `<config>/<split>/NNNN.parquet`).
    """
    layout: str
    split: str
    files: tuple[str, ...]
    read: Callable
    langs: tuple[str, ...] | None = None
    options: tuple[str, ...] = ()  # reader options (READ_OPTIONS) this source's reader takes; others are not passed
    revision: str = "main"

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
        """The patterns with `lang`'s names filled in; a language fact a pattern needs and the language table
        lacks is a ValueError naming the language and the field."""
        fill = {"lang": lang}
        for key, fact in PLACEHOLDERS.items():
            if any(f"{{{key}}}" in f for f in self.files):
                fill[key] = languages.need(lang, fact)
        return [f.format(**fill) for f in self.files]

    def needs(self) -> set[str]:
        """The data/languages.py fields its patterns need for every language."""
        return {fact for key, fact in PLACEHOLDERS.items() if any(f"{{{key}}}" in f for f in self.files)}


def sources(layout, splits, pattern_fn, read, langs=None, options=(), revision="main") -> list[Source]:
    """One Source per split; pattern_fn(split) -> file patterns."""
    return [Source(layout, s, tuple(pattern_fn(s)), read, langs, options, revision) for s in splits]


HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}  # the Hub's split names


def hub_sources(splits, pattern_fn, read, langs=None, revision="main") -> list[Source]:
    """One "hub" Source per split: pattern_fn(hub split name) -> the path under DATA_DIR/hub/."""
    return [Source("hub", s, (f"hub/{pattern_fn(HUB_SPLITS[s])}",), read, langs, (), revision) for s in splits]


@dataclass(frozen=True)
class Download:
    """One upstream file to fetch for a task and where its content goes, relative to DATA_DIR.

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


READ_OPTIONS = ("ud_words",)  # options Task.read passes to the readers that take them (DataConfig fields)


@dataclass(frozen=True, kw_only=True)
class Task:
    """One task: what it is (kind, labels, metric), where its files are (sources, tried in order) and where they come
    from (downloads, default_source)."""
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
    label_file: str = ""  # labels read from this file under DATA_DIR (ccg's supertags) instead of `labels`...
    read_label_file: Callable | None = field(default=None, repr=False)  # ...by this reader: path -> labels
    train_examples: int = 0  # approximate size for study.py's GPU-hour estimates: English train examples
    #                          (retrieval: sentences embedded, every language and both sides), cited in its file
    mean_tokens: int = 0  # approximate XLM-R sub-words per example (multiple choice: all choices together)
    downloads: tuple[Download, ...] = field(default=(), repr=False)  # the upstream files (data.download)
    default_source: str = "upstream"  # what a plain `data.download` fetches: "upstream" or "hub"
    default_source_why: str = ""  # the reason, printed by `data.download --list`

    def __post_init__(self):
        assert self.kind in KINDS, f"{self.name}: unknown kind {self.kind!r}"
        assert (self.kind == "retrieval") == (self.retrieval in RETRIEVAL_KINDS), \
            f"{self.name}: retrieval must be one of {RETRIEVAL_KINDS} exactly for kind 'retrieval'"
        assert not self.target or self.train_task is not None or self.kind == "retrieval", \
            f"{self.name}: a trained target task names its train_task"
        assert bool(self.label_file) == (self.read_label_file is not None), \
            f"{self.name}: label_file and read_label_file come together"
        assert self.default_source in SOURCE_CHOICES and self.default_source_why, \
            f"{self.name}: default_source is one of {SOURCE_CHOICES}, with its reason in default_source_why"
        assert self.default_source != "hub" or any(s.layout == "hub" for s in self.sources), \
            f"{self.name}: default_source hub needs a hub source"

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
                               f"{Path(data_dir)}: {tried} (python -m data.tasks --layout prints every pattern)")

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
                                 f"(python -m data.tasks --layout), or read these with {said}")
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
            names = {"lang": "L", "lang3": "L3", "langname": "LANGNAME", "udname": "UDNAME", "flores": "FLORES",
                     "wiki": "WIKI", "udfiles": "UDFILES"}
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
            return self.read_label_file(Path(data_dir) / self.label_file)
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


