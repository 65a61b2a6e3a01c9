"""Readers of the Hugging Face Hub's Parquet copies of the tasks (layout "hub"), read with pyarrow alone.

Every reader takes `(paths, lang, split, labels)` like the other readers and returns the same Examples (or one
Bitext) that the upstream original gives, wherever the Hub copy keeps what is needed (README.md, "Data from the
Hugging Face Hub", lists where it does not). `paths` are the Parquet shards of one config and split, read in
sorted order; rows are numbered from 0 in each shard (as the Hub's dataset viewer numbers them), and an example
without an id column gets `shard name:row`.

Schemas. Each reader names the columns it needs with their Arrow types; a column that is missing or of another
type is one DataError naming the file and what was expected, before any row is read. Integer labels are
`datasets.ClassLabel` ids: they are turned into names with the ClassLabel order of the dataset card (tables
below, each with its source) and then mapped *by name* onto the registry's label set; an id outside the table is
a DataError naming file, row and the range. `datasets` stores a `Sequence` of a dict as a struct of lists
(`answers: {text: [..], answer_start: [..]}`), which is how the span and choice readers expect it.

Rows. What the upstream readers refuse is refused here too, naming file and row: a null anywhere (also inside a
list column: a token, an answer text or offset, an ending, a choice), an empty or blank token or answer text, a tag of
-1/null (a Hub sentence is labelled throughout), a question of SQuAD v1.1 format without answers, a choice label that
is not ASCII digits ("²" and "٣" pass str.isdigit), a Tatoeba row of another language than its config, an id given
twice (with the row of the first), a shard with no rows, and bytes that are not UTF-8 or pages that do not decode
(after the schema check). google/xtreme udpos configs that hold other languages' treebanks: UDPOS_HUB_REFUSED.

Sources of the schemas (dataset cards' `dataset_info`, or the loading scripts the Parquet files were made with):
  google/xtreme      huggingface/datasets datasets/xtreme/xtreme.py, the script behind the Hub's
                     `<config>/<split>-00000-of-00001.parquet` (e.g. commit "Add PAN-X.de data files",
                     huggingface.co/datasets/google/xtreme/commit/0e87cee; "Add tatoeba.deu data files", 21dd1d9):
                     PAN-X `tokens`, `ner_tags` ClassLabel(PANX_NAMES), `langs`; udpos `tokens`, `pos_tags`
                     ClassLabel(UPOS_NAMES), from every .conllu row with 10 columns whose form and UPOS are not "_"
                     (so empty nodes are kept, multiword-token lines dropped); XQuAD, MLQA, tydiqa `id`, (`title`),
                     `context`, `question`, `answers{answer_start,text}` with context, question and answer texts
                     `.strip()`-ed and answer_start kept; tatoeba `source_sentence`, `target_sentence`,
                     `source_lang`, `target_lang`, one row per line pair, each sentence with its line's "\n"
                     (split `validation`); bucc18 one row per gold pair (not read: see data/tasks.py).
  unimelb-nlp/wikiann  huggingface/datasets datasets/wikiann/README.md `dataset_info`: `tokens`, `ner_tags`
                     ClassLabel(PANX_NAMES), `langs`, `spans` per config (a Wikipedia code); the card's `configs:`
                     `<code>/{train,validation,test}-*` (commits "Add zh-min-nan data files", e898ba4, ...).
  universal-dependencies/universal_dependencies  huggingface/datasets datasets/universal_dependencies/
                     universal_dependencies.py (UD v2.7, tag r2.7 of each treebank; Parquet on refs/convert/parquet
                     as `<treebank>/<split>/0000.parquet`): `idx`, `text`, `tokens`, `lemmas`, `upos`
                     ClassLabel(UD27_UPOS_NAMES), `xpos`, `feats`, `head`, `deprel`, `deps`, `misc`, one entry per
                     line conllu.parse_incr yields (multiword tokens and empty nodes included, their HEAD "None").
  facebook/xnli      card: `premise`, `hypothesis`, `label` ClassLabel(NLI_NAMES); `<lang>/<split>-*.parquet`.
  google-research-datasets/paws-x  huggingface/datasets datasets/paws-x/paws-x.py: `id` int32, `sentence1`,
                     `sentence2`, `label` ClassLabel(PAWSX_NAMES), rows of x-final's TSVs (tabs, no quoting).
  nyu-mll/glue       card: mnli `premise`, `hypothesis`, `label` ClassLabel(NLI_NAMES), `idx`; qqp `question1`,
                     `question2`, `label` ClassLabel(QQP_NAMES), `idx`; sst2 `sentence`, `label`
                     ClassLabel(SST2_NAMES), `idx`. Test splits carry label -1 (no label).
  rajpurkar/squad, rajpurkar/squad_v2  huggingface/datasets datasets/squad/squad.py: `id`, `title`, `context`
                     (not stripped, GH-2585), `question`, `answers{text,answer_start}`; SQuAD v2.0 has no
                     is_impossible column: an unanswerable question has empty answer lists.
  facebook/anli      card: `uid`, `premise`, `hypothesis`, `label` ClassLabel(NLI_NAMES), `reason`;
                     `plain_text/{train,dev,test}_r{1,2,3}-00000-of-00001.parquet`.
  stanfordnlp/snli   card: `premise`, `hypothesis`, `label` ClassLabel(NLI_NAMES); -1 = no gold consensus
                     (the JSONL's "-"; huggingface.co/datasets/stanfordnlp/snli/discussions/2).
  Rowan/hellaswag    huggingface/datasets datasets/hellaswag/hellaswag.py (revision refs/convert/parquet):
                     `ind` int32, `ctx_a`, `ctx_b`, `endings` list, `label` str(label), "" in test.
  allenai/cosmos_qa  huggingface/datasets datasets/cosmos_qa/cosmos_qa.py (revision refs/convert/parquet): `id`,
                     `context`, `question`, `answer0`..`answer3` from the CSVs, `label` int32 (-1 in test).
  tau/commonsense_qa card: `id`, `question` (the stem), `question_concept`, `choices{label,text}`, `answerKey`
                     ("" in test); `data/<split>-00000-of-00001.parquet`.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from data.examples import Answer, Bitext, ChoiceExample, DataError, PairExample, SingleExample, SpanExample, TagExample
from data.readers.common import Examples, check_label, row_scope
from data.readers.span import TYDIQA_NAMES

log = logging.getLogger(__name__)

# ClassLabel orders (id -> name), from the dataset cards / loading scripts cited above. Never reorder.
NLI_NAMES = ("entailment", "neutral", "contradiction")  # facebook/xnli, nyu-mll/glue mnli, facebook/anli, snli
PAWSX_NAMES = ("0", "1")  # google-research-datasets/paws-x
QQP_NAMES = ("not_duplicate", "duplicate")  # nyu-mll/glue qqp
SST2_NAMES = ("negative", "positive")  # nyu-mll/glue sst2
PANX_NAMES = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")  # google/xtreme PAN-X.*
UPOS_NAMES = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
              "SCONJ", "SYM", "VERB", "X")  # google/xtreme udpos.*
# universal-dependencies/universal_dependencies (UD v2.7): the loading script's ClassLabel, in its order; "_" is the
# UPOS of a multiword token's line (huggingface/datasets datasets/universal_dependencies/universal_dependencies.py).
UD27_UPOS_NAMES = ("NOUN", "PUNCT", "ADP", "NUM", "SYM", "SCONJ", "ADJ", "PART", "DET", "CCONJ", "PROPN", "PRON", "X",
                   "_", "ADV", "INTJ", "VERB", "AUX")
# google/xtreme udpos.<Name>: the loading script takes every .conllu whose archive path contains f"_{Name}" (and the
# split name), so a config also holds the treebanks of other languages whose folder ends in that name; its rows carry
# no treebank name to filter them by. Where that adds a treebank the upstream reader (UD v2.5 files of the language's
# own code, as XTREME) does not read, the config is refused. Evidence: the dataset card's split sizes (udpos.Greek
# 28,152 / 2,559 / 2,809 and udpos.Chinese 18,998 / 3,038 / 5,528, issue 22; udpos.French test 9,465 = the seven
# French treebanks' 7,538 + Old French SRCMF's 1,927; udpos.German test 22,458 = 22,358 + Swiss German UZH's 100).
# Old Russian [R]: UD v2.5 has UD_Old_Russian-TOROT and -RNC; udpos.Russian's test (11,336) exceeds the modern four.
# UD_Hindi_English-HIENCS also matches _Hindi and _English, but its forms are withheld ("_"), which the script drops.
_UDPOS_OTHER_TREEBANKS = {"Greek": "Ancient Greek (UD_Ancient_Greek-PROIEL, UD_Ancient_Greek-Perseus)",
                          "Chinese": "Classical Chinese (UD_Classical_Chinese-Kyoto)",
                          "French": "Old French (UD_Old_French-SRCMF)",
                          "German": "Swiss German (UD_Swiss_German-UZH)",
                          "Russian": "Old Russian (UD_Old_Russian-TOROT, UD_Old_Russian-RNC)"}
UDPOS_HUB_REFUSED = {  # Hub config (the folder of its shards) -> why it is refused
    f"udpos.{name}": (f"google/xtreme udpos.{name} also holds {other}: its loading script takes every treebank whose "
                      f"path contains '_{name}', and its rows do not say which treebank they come from; read this "
                      "language's udpos from the upstream UD v2.5 files (python -m data.download --tasks udpos "
                      "--source upstream)")
    for name, other in _UDPOS_OTHER_TREEBANKS.items()}

# ClassLabel name -> the registry's label name, where they differ (GLUE writes 0/1 in its TSVs).
LABEL_NAMES = {"not_duplicate": "0", "duplicate": "1", "negative": "0", "positive": "1"}

# Arrow types by short name: "string", "int", "list<string>", "list<int>", or a struct of those as a dict.
SPAN_ANSWERS = {"text": "list<string>", "answer_start": "list<int>"}
CSQA_CHOICES = {"label": "list<string>", "text": "list<string>"}


# ---- Parquet access and schema checks ------------------------------------------------------------------------
def _type_ok(arrow_type, spec) -> bool:
    import pyarrow as pa

    if isinstance(spec, dict):
        return pa.types.is_struct(arrow_type) and all(
            arrow_type.get_field_index(name) >= 0 and _type_ok(arrow_type.field(name).type, sub)
            for name, sub in spec.items())
    if spec == "string":
        return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    if spec == "int":
        return pa.types.is_integer(arrow_type)
    if spec.startswith("list<"):
        is_list = pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)
        return is_list and _type_ok(arrow_type.value_type, spec[5:-1])
    raise AssertionError(f"unknown type spec {spec!r}")


def _describe(spec) -> str:
    if isinstance(spec, dict):
        return "struct{" + ", ".join(f"{k}: {_describe(v)}" for k, v in spec.items()) + "}"
    return spec


def read_columns(path, spec: dict) -> dict[str, list]:
    """{column: values} of one Parquet file, after checking that every column of `spec` is there with its type.
    Extra columns are ignored. DataError (file, expected columns/types) on a missing column or a wrong type."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    expected = ", ".join(f"{k}: {_describe(v)}" for k, v in spec.items())
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as e:
        raise DataError(path, None, f"not a readable Parquet file ({e}); expected a Hub Parquet shard with "
                                    f"columns {expected}") from None
    for name, want in spec.items():
        if schema.get_field_index(name) < 0:
            raise DataError(path, None, f"no column {name!r} (has {', '.join(schema.names)}); expected columns "
                                        f"{expected}")
        if not _type_ok(schema.field(name).type, want):
            raise DataError(path, None, f"column {name!r} is {schema.field(name).type}; expected {_describe(want)}")
    try:
        table = pq.read_table(path, columns=list(spec))
    except (pa.ArrowException, OSError) as e:  # a corrupt page, a bad compressed block: after the footer read fine
        raise DataError(path, None, f"its rows cannot be read ({' '.join(str(e).split())}); expected a Hub Parquet "
                                    f"shard with columns {expected}") from None
    out = {}
    for name in spec:
        column = table.column(name)
        try:
            out[name] = column.to_pylist()
        except UnicodeDecodeError:  # find the row (strings are checked for UTF-8 only when turned into str)
            for i in range(len(column)):
                try:
                    column[i].as_py()
                except UnicodeDecodeError as e:
                    raise DataError(path, _where(i), f"column {name!r} is not valid UTF-8 ({e.reason} at byte "
                                                     f"{e.start}); expected UTF-8 text") from None
            raise AssertionError("unreachable: the bad value was not found row by row")
    return out


def _rows(paths, spec: dict):
    """(path, row number, {column: value}) for every row of the shards, in sorted path order."""
    for path in sorted(Path(p) for p in paths):
        cols = read_columns(path, spec)
        n = len(next(iter(cols.values()))) if cols else 0
        if n == 0:
            raise DataError(path, None, "no rows; expected at least one (an empty shard is a broken copy)")
        for i in range(n):
            yield path, i, {name: values[i] for name, values in cols.items()}


def _where(i: int) -> str:
    return f"row {i}"


def _row_id(path, i: int) -> str:
    return f"{Path(path).name}:{i}"


def class_name(path, i: int, column: str, value, names: Sequence[str]) -> str | None:
    """The ClassLabel name of id `value` (None for a missing label: null or -1, the Hub's "no label")."""
    if value is None or value == -1:
        return None
    if not 0 <= value < len(names):
        raise DataError(path, _where(i), f"{column} id {value} is outside the ClassLabel; expected 0..{len(names) - 1} "
                                         f"({', '.join(names)}) or -1 for no label")
    return names[value]


def _registry_label(path, i, column, value, names, labels) -> str | None:
    name = class_name(path, i, column, value, names)
    return None if name is None else check_label(path, _where(i), LABEL_NAMES.get(name, name), labels)


def _nonnull(path, i, row: dict, *keys):
    for key in keys:
        if row[key] is None:
            raise DataError(path, _where(i), f"{key!r} is null; expected a value")
    return [row[k] for k in keys]


def _items(path, i, column: str, values, *, nonblank: bool = False) -> list:
    """A list column's values with no null among them (nonblank: and no empty or blank string), as the upstream
    readers refuse an empty word or answer; the error names file, row, column and position."""
    if values is None:
        raise DataError(path, _where(i), f"{column!r} is null; expected a list")
    for k, v in enumerate(values):
        if v is None:
            raise DataError(path, _where(i), f"{column}[{k}] is null; expected a value")
        if nonblank and isinstance(v, str) and not v.strip():
            raise DataError(path, _where(i), f"{column}[{k}] is {'empty' if not v else 'blank'}; expected text")
    return list(values)


def _id(path, i, row: dict, column: str) -> str:
    (value,) = _nonnull(path, i, row, column)
    return str(value)


def _check_unique(where: Sequence[tuple[str, Path, int]]) -> None:
    """Every id once across the shards: a repeat names its file and row, and the row of the first."""
    first: dict[str, tuple[Path, int]] = {}
    for id_, path, i in where:
        if id_ in first:
            with row_scope():
                p0, i0 = first[id_]
                also = f"row {i0}" if p0 == path else f"{p0} row {i0}"
                raise DataError(path, _where(i), f"duplicate id {id_!r} (first on {also}); expected every id once")
        else:
            first[id_] = (path, i)


# ---- classification ------------------------------------------------------------------------------------------
def read_hub_pair(paths, lang, split, labels, *, text_a: str, text_b: str, names: Sequence[str], id_column=None,
                  unlabelled: str = "keep") -> Examples:
    """Sentence pairs with a ClassLabel `label` (facebook/xnli, paws-x, GLUE mnli/qqp, SNLI, ANLI).

    id_column: the id column (int ids become strings), else `shard:row`. unlabelled: what a label of -1 means:
    "keep" (an unlabelled example: GLUE's test splits) or "skip" (no gold consensus, SNLI: skipped and counted
    as "gold_label '-'", as the JSONL reader does).
    """
    spec = _flexible_id({text_a: "string", text_b: "string", "label": "int"}, id_column, paths)
    out, skipped, where = Examples(paths=paths), {"gold_label '-'": 0}, []
    for path, i, row in _rows(paths, spec):
        with row_scope():
            a, b = _nonnull(path, i, row, text_a, text_b)
            label = _registry_label(path, i, "label", row["label"], names, labels)
            if label is None and unlabelled == "skip":
                skipped["gold_label '-'"] += 1
                continue
            id_ = _id(path, i, row, id_column) if id_column else _row_id(path, i)
            out.append(PairExample(id_, lang, a, b, label))
            where.append((id_, path, i))
    _check_unique(where)
    out.add_skips(skipped, paths[0])
    return out


def _flexible_id(spec: dict, id_column, paths) -> dict:
    """An id column may be int (idx, PAWS-X id) or string (ANLI uid): take whichever the first shard has."""
    if not id_column:
        return spec
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(sorted(str(p) for p in paths)[0])
        field = schema.field(id_column) if schema.get_field_index(id_column) >= 0 else None
    except (pa.ArrowException, OSError):
        field = None  # read_columns reports it
    spec = dict(spec)
    spec[id_column] = "int" if field is not None and pa.types.is_integer(field.type) else "string"
    return spec


def read_hub_single(paths, lang, split, labels, *, text: str, names: Sequence[str], id_column=None) -> Examples:
    """Single sentences with a ClassLabel `label` (GLUE sst2)."""
    spec = _flexible_id({text: "string", "label": "int"}, id_column, paths)
    out, where = Examples(paths=paths), []
    for path, i, row in _rows(paths, spec):
        with row_scope():
            (sentence,) = _nonnull(path, i, row, text)
            label = _registry_label(path, i, "label", row["label"], names, labels)
            id_ = _id(path, i, row, id_column) if id_column else _row_id(path, i)
            out.append(SingleExample(id_, lang, sentence, label))
            where.append((id_, path, i))
    _check_unique(where)
    return out


ANLI_PLUS_REPOS = ("facebook/anli", "stanfordnlp/snli", "nyu-mll/glue")


def _hub_repo(path: Path, repos: Sequence[str]) -> str:
    """The repo (owner/name) of a shard under DATA_DIR/hub/<owner>/<name>/: the last `hub/<owner>/<name>` of its
    path that names one of `repos`; DataError when none does."""
    parts = path.parts
    for k in range(len(parts) - 3, -1, -1):
        if parts[k] == "hub" and f"{parts[k + 1]}/{parts[k + 2]}" in repos:
            return f"{parts[k + 1]}/{parts[k + 2]}"
    raise DataError(path, None, f"not under hub/<owner>/<name>/ of one of {', '.join(repos)}; expected the repo's "
                                "own paths (python -m data.download --source hub)")


def read_hub_anli_plus(paths, lang, split, labels) -> Examples:
    """ANLI+ from the Hub: facebook/anli rounds, stanfordnlp/snli and nyu-mll/glue mnli shards, concatenated in
    the order given; ids prefixed with their source as the upstream reader does (anli_r1:uid, snli:shard:row,
    mnli:idx). The source of a shard is told by its own repo part of the path (hub/<owner>/<name>/, the last such
    part, so that folder names above DATA_DIR/hub/ play no part) and its split name."""
    out = Examples(paths=paths)
    for path in paths:
        p = Path(path)
        repo = _hub_repo(p, ANLI_PLUS_REPOS)
        if repo == "facebook/anli":
            source = "anli_" + p.name.split("-")[0].rsplit("_", 1)[-1]  # train_r1-00000-of-00001.parquet -> anli_r1
            part = read_hub_pair([p], lang, split, labels, text_a="premise", text_b="hypothesis", names=NLI_NAMES,
                                 id_column="uid")
        elif repo == "stanfordnlp/snli":
            source = "snli"
            part = read_hub_pair([p], lang, split, labels, text_a="premise", text_b="hypothesis", names=NLI_NAMES,
                                 unlabelled="skip")
        else:
            source = "mnli"
            part = read_hub_pair([p], lang, split, labels, text_a="premise", text_b="hypothesis", names=NLI_NAMES,
                                 id_column="idx")
        out.extend(PairExample(f"{source}:{e.id}", e.lang, e.text_a, e.text_b, e.label) for e in part)
        out.add_skips({f"{source}: {k}": v for k, v in part.skipped.items()})
    return out


# ---- tagging -------------------------------------------------------------------------------------------------
def read_hub_tags(paths, lang, split, labels, *, tags: str, names: Sequence[str], tokenization: str = "",
                  refuse_configs: dict[str, str] | None = None) -> Examples:
    """google/xtreme PAN-X.L (`ner_tags`) and udpos.Language (`pos_tags`): `tokens` and one ClassLabel id per
    token. Ids `shard:row`. tokenization: what the registry knows about the words, for the report (udpos: the
    loading script kept every CoNLL-U line whose FORM and UPOS are not `_`: syntactic words, empty nodes
    included, multiword tokens left out; not XTREME's fused words). Every token is text and has a tag (a -1 or null
    tag is refused: a Hub row is labelled throughout, and one missing tag would leave the sentence unlabelled).
    refuse_configs: {config: why} of Hub configs (the shards' folder, e.g. udpos.Greek) that hold other data than
    the upstream reader's (UDPOS_HUB_REFUSED)."""
    first = sorted(str(p) for p in paths)[0]
    if refuse_configs and Path(first).parent.name in refuse_configs:
        raise DataError(first, None, refuse_configs[Path(first).parent.name])
    out = Examples(paths=paths)
    out.tokenization = tokenization
    for path, i, row in _rows(paths, {"tokens": "list<string>", tags: "list<int>"}):
        with row_scope():
            words = _items(path, i, "tokens", row["tokens"], nonblank=True)
            ids = _items(path, i, tags, row[tags])
            if not words:
                raise DataError(path, _where(i), "no tokens; expected a sentence of at least one token")
            if len(words) != len(ids):
                raise DataError(path, _where(i), f"{len(words)} tokens but {len(ids)} {tags}; expected one tag per "
                                                 "token")
            tag_names = tuple(_registry_label(path, i, tags, t, names, labels) for t in ids)
            if None in tag_names:
                k = tag_names.index(None)
                raise DataError(path, _where(i), f"{tags}[{k}] is {ids[k]} (no label); expected a tag id for every "
                                                 "token")
            out.append(TagExample(_row_id(path, i), lang, tuple(words), tag_names))
    return out


def read_hub_ud(paths, lang, split, labels) -> Examples:
    """universal-dependencies/universal_dependencies (UD v2.7, one config per treebank): the loading script's rows
    hold every CoNLL-U line that conllu.parse_incr yields (huggingface/datasets datasets/universal_dependencies/
    universal_dependencies.py `_generate_examples`): the words, and also each multiword token's surface form and
    each empty node, whose HEAD `_` it writes as "None". Kept here: the words (HEAD not "None"), the syntactic
    words read_conllu(ud_words="syntactic") reads from the same file, with their UPOS (ClassLabel UD27_UPOS_NAMES)
    and the same form clean-up; a sentence whose forms are withheld (`_`) is skipped and counted as there. Ids
    `treebank/shard:row` (a language's treebanks are separate configs, each with its 0000.parquet)."""
    from data.readers.tagging import WITHHELD, _xtreme_form, withheld

    out = Examples(paths=paths)
    out.tokenization = "ud_words=syntactic"
    skipped = {WITHHELD: 0}
    for path, i, row in _rows(paths, {"tokens": "list<string>", "upos": "list<int>", "head": "list<string>"}):
        with row_scope():
            tokens = _items(path, i, "tokens", row["tokens"], nonblank=True)
            ids, heads = _items(path, i, "upos", row["upos"]), _items(path, i, "head", row["head"])
            if not len(tokens) == len(ids) == len(heads):
                raise DataError(path, _where(i), f"{len(tokens)} tokens, {len(ids)} upos, {len(heads)} head; "
                                                 "expected one of each per CoNLL-U line")
            words, tags = [], []
            for k, (token, upos, head) in enumerate(zip(tokens, ids, heads)):
                if head == "None":  # a multiword token's surface form or an empty node: not a word
                    continue
                name = class_name(path, i, "upos", upos, UD27_UPOS_NAMES)
                if name in (None, "_"):
                    raise DataError(path, _where(i), f"upos[{k}] of word {token!r} is {name or upos!r}; expected a "
                                                     "UPOS tag for every word")
                words.append(token.strip())
                tags.append(check_label(path, _where(i), name, labels))
            if not words:
                raise DataError(path, _where(i), "no words (every line a multiword token or an empty node); expected "
                                                 "a sentence of at least one word")
            if withheld(words):
                skipped[WITHHELD] += 1
                continue
            out.append(TagExample(f"{Path(path).parent.parent.name}/{_row_id(path, i)}", lang,
                                  tuple(_xtreme_form(w) for w in words), tuple(tags)))
    out.add_skips(skipped, sorted(str(p) for p in paths)[0])
    return out


# ---- span QA -------------------------------------------------------------------------------------------------
def _locate_answer(context: str, text: str, start: int) -> int:
    """The offset of `text` in `context`: `start` when it is there, else the occurrence nearest to `start`
    (google/xtreme's script stripped the context, which moves every offset by the leading whitespace it
    removed), else -1."""
    if context[start:start + len(text)] == text:
        return start
    best, pos = -1, context.find(text)
    while pos >= 0:
        if best < 0 or abs(pos - start) < abs(best - start):
            best = pos
        pos = context.find(text, pos + 1)
    return best


def read_hub_squad(paths, lang, split, labels=None, *, version2: bool = False,
                   id_prefix_langs: bool = False) -> Examples:
    """SQuAD-schema shards (rajpurkar/squad, squad_v2; google/xtreme XQuAD.L, MLQA.L.L, tydiqa): id, context,
    question, answers{text, answer_start}.

    version2: a question with no answers is a gold null answer (is_impossible), as in SQuAD v2.0.
    id_prefix_langs: keep only `lang`'s questions, told by the id prefix (google/xtreme `tydiqa` holds all
    languages, as the original files do).
    An answer whose offset does not point at its text (contexts stripped by google/xtreme's script) is moved to
    the nearest occurrence of the text; the count is logged.
    """
    spec = {"id": "string", "context": "string", "question": "string", "answers": SPAN_ANSWERS}
    out, moved, where = Examples(paths=paths), 0, []
    for path, i, row in _rows(paths, spec):
        with row_scope():
            qid, context, question, answers = _nonnull(path, i, row, "id", "context", "question", "answers")
            if id_prefix_langs:
                name = qid.split("-", 1)[0]
                if name not in TYDIQA_NAMES:
                    raise DataError(path, _where(i), f"id prefix {name!r}; expected a language name, one of "
                                                     f"{', '.join(TYDIQA_NAMES)}")
                if TYDIQA_NAMES[name] != lang:
                    continue
            texts = _items(path, i, "answers.text", answers["text"], nonblank=True)
            starts = _items(path, i, "answers.answer_start", answers["answer_start"])
            if not texts and not version2:
                raise DataError(path, _where(i), "no answers; expected at least one (SQuAD v1.1-format questions "
                                                 "are all answerable)")
            if len(texts) != len(starts):
                raise DataError(path, _where(i), f"{len(texts)} answer texts but {len(starts)} answer_start values; "
                                                 "expected one offset per text")
            found = []
            for text, start in zip(texts, starts):
                at = _locate_answer(context, text, start)
                if at < 0:
                    raise DataError(path, _where(i), f"answer {text!r} is not in the context; expected answer texts "
                                                     "taken from the context")
                moved += at != start
                found.append(Answer(text, at))
            if not found:  # SQuAD v2.0: unanswerable
                out.append(SpanExample(qid, lang, question, context, (), True))
            else:
                out.append(SpanExample(qid, lang, question, context, tuple(found), False))
            where.append((qid, path, i))
    _check_unique(where)
    if moved:
        log.warning("%s: %d answer offsets moved onto their text (the Hub copy's contexts were stripped)",
                    paths[0], moved)
    return out


# ---- multiple choice -----------------------------------------------------------------------------------------
def _choice_label(path, i, value, n: int) -> int | None:
    if value is None or value == "" or value == -1:
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):  # str.isdigit() also takes "²" and "٣"
            raise DataError(path, _where(i), f"label {value!r}; expected a choice index 0..{n - 1} as a string")
        value = int(value)
    if not 0 <= value < n:
        raise DataError(path, _where(i), f"label {value} is outside 0..{n - 1}; expected a choice index")
    return value


def read_hub_hellaswag(paths, lang, split, labels=None) -> Examples:
    """Rowan/hellaswag: ind, ctx_a, ctx_b, endings (4), label "0".."3" ("": unlabelled). Choices as upstream:
    ctx_b followed by the ending."""
    out = Examples(paths=paths)
    spec = {"ind": "int", "ctx_a": "string", "ctx_b": "string", "endings": "list<string>", "label": "string"}
    where = []
    for path, i, row in _rows(paths, spec):
        with row_scope():
            ind, ctx_a, ctx_b = _nonnull(path, i, row, "ind", "ctx_a", "ctx_b")
            endings = _items(path, i, "endings", row["endings"])
            if len(endings) != 4:
                raise DataError(path, _where(i), f"{len(endings)} endings; expected 4")
            out.append(ChoiceExample(str(ind), lang, ctx_a, tuple(f"{ctx_b} {e}".strip() for e in endings),
                                     _choice_label(path, i, row["label"], 4)))
            where.append((str(ind), path, i))
    _check_unique(where)
    return out


def read_hub_cosmosqa(paths, lang, split, labels=None) -> Examples:
    """allenai/cosmos_qa: id, context, question, answer0..answer3, label (int). First segment context then
    question, as upstream."""
    keys = ["id", "context", "question", "answer0", "answer1", "answer2", "answer3"]
    out, where = Examples(paths=paths), []
    for path, i, row in _rows(paths, {**{k: "string" for k in keys}, "label": "int"}):
        with row_scope():
            id_, context, question, *answers = _nonnull(path, i, row, *keys)
            out.append(ChoiceExample(id_, lang, f"{context} {question}", tuple(answers),
                                     _choice_label(path, i, row["label"], 4)))
            where.append((id_, path, i))
    _check_unique(where)
    return out


def read_hub_commonsenseqa(paths, lang, split, labels=None) -> Examples:
    """tau/commonsense_qa: id, question (the stem), choices{label, text}, answerKey ("" in test: unlabelled)."""
    out, where = Examples(paths=paths), []
    spec = {"id": "string", "question": "string", "choices": CSQA_CHOICES, "answerKey": "string"}
    for path, i, row in _rows(paths, spec):
        with row_scope():
            id_, stem, choices = _nonnull(path, i, row, "id", "question", "choices")
            keys = _items(path, i, "choices.label", choices["label"])
            texts = _items(path, i, "choices.text", choices["text"])
            if len(keys) != len(texts):
                raise DataError(path, _where(i), f"{len(keys)} choice labels but {len(texts)} texts; expected one "
                                                 "label per choice")
            answer = row["answerKey"] or None
            if answer is not None and answer not in keys:
                raise DataError(path, _where(i), f"answerKey {answer!r}; expected one of the choice labels "
                                                 f"{', '.join(keys)}")
            out.append(ChoiceExample(id_, lang, stem, tuple(texts), None if answer is None else keys.index(answer)))
            where.append((id_, path, i))
    _check_unique(where)
    return out


# ---- bitext --------------------------------------------------------------------------------------------------
def _line(text: str) -> str:
    """A sentence as the line-aligned file reader gives it: google/xtreme kept each line's newline."""
    return text.removesuffix("\n").removesuffix("\r")


def read_hub_tatoeba(paths, lang, split, labels=None) -> Bitext:
    """google/xtreme tatoeba.L3: row i = line i of LASER's tatoeba.L3-eng.{L3,eng} (source_sentence, target_sentence
    = English). Line-aligned, so gold = {(i, i)}, as read_tatoeba_aligned gives it. Every row's source_lang must
    be the config's language (tatoeba.L3 -> L3) and its target_lang "eng"."""
    src, tgt = [], []
    spec = {"source_sentence": "string", "target_sentence": "string", "source_lang": "string", "target_lang": "string"}
    for path, i, row in _rows(paths, spec):
        s, t, s_lang, t_lang = _nonnull(path, i, row, "source_sentence", "target_sentence", "source_lang",
                                        "target_lang")
        config = Path(path).parent.name  # tatoeba.deu
        want = config.split(".", 1)[1] if config.startswith("tatoeba.") else None
        if (want is not None and s_lang != want) or t_lang != "eng":
            raise DataError(path, _where(i), f"source_lang {s_lang!r}, target_lang {t_lang!r}; expected "
                                             f"{want or 'the config language'!r} and 'eng' (config {config})")
        src.append(_line(s))
        tgt.append(_line(t))
    ids = tuple(str(i) for i in range(len(src)))
    return Bitext(f"tatoeba-{lang}-{split}", lang, ids, tuple(src), ids, tuple(tgt), frozenset(zip(ids, ids)))

