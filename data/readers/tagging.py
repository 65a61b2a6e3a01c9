"""Readers of word-tagging files: UD `.conllu` treebanks, XTREME's `token\\ttag` TSVs, WikiANN/PAN-X splits, CCG.

Every reader takes `(paths, lang, split, labels)` and returns `Examples` of TagExample (one tag per word).
"""
from __future__ import annotations

from pathlib import Path

from data.examples import DataError, TagExample
from data.readers.common import (Examples, check_label, check_unique_ids, iter_lines, load_json, row_scope,
                                 split_row)

UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X")


def _read_conllu_file(path: Path, lang: str, labels, skipped: dict[str, int]) -> list[TagExample]:
    """One treebank file. Words are the syntactic words (integer ids) with their UPOS; multiword-token lines
    (`1-2`, the surface form of a contraction) and empty nodes (`1.1`) carry no UPOS of their own and are
    passed over. Sentences whose forms are all `_` (treebanks distributed without their text) are skipped
    and counted."""
    expected = "CoNLL-U: 10 tab-separated columns per word line, '#' comments, a blank line after each sentence"
    out: list[TagExample] = []
    words, tags, sent_id, start = [], [], None, None

    def flush(end_line: int):
        nonlocal words, tags, sent_id, start
        if words:
            if all(w == "_" for w in words):
                skipped["text withheld (all forms '_')"] += 1
            else:
                id_ = f"{path.name}:{sent_id if sent_id is not None else start}"
                out.append(TagExample(id_, lang, tuple(words), tuple(tags)))
        elif sent_id is not None:
            raise DataError(path, end_line, "sentence without word lines; expected word lines after the comments")
        words, tags, sent_id, start = [], [], None, None

    lineno = 0
    for lineno, line in iter_lines(path, expected):
        if not line.strip():
            flush(lineno)
            continue
        if line.startswith("#"):
            if line.startswith("# sent_id") and "=" in line:
                sent_id = line.split("=", 1)[1].strip()
            continue
        with row_scope():
            cols = split_row(path, lineno, line, 10, expected)
            token_id = cols[0]
            if "-" in token_id or "." in token_id:  # multiword token range or empty node
                continue
            if not token_id.isdigit() or int(token_id) != len(words) + 1:
                raise DataError(path, lineno, f"word id {token_id!r}; expected {len(words) + 1} (ids count up from "
                                              "1 in each sentence)")
            tag = check_label(path, lineno, cols[3], labels)
            if start is None:
                start = lineno
            words.append(cols[1])
            tags.append(tag)
    flush(lineno + 1)
    return out


def read_conllu(paths, lang, split, labels) -> Examples:
    """All of a language's treebank files for one split, in sorted path order (deterministic)."""
    out = Examples(paths=paths)
    for path in sorted(Path(p) for p in paths):
        file_skips = {"text withheld (all forms '_')": 0}
        part = _read_conllu_file(path, lang, labels, file_skips)
        check_unique_ids(path, (e.id for e in part))
        out.extend(part)
        out.add_skips(file_skips, path)
    return out


def _read_tag_lines(path, lang, labels, expected: str, split_token, columns=(1, 2)):
    """Shared loop of the `token<TAB>tag` formats: blank line between sentences. The file's first word line decides
    between the allowed column counts (XTREME's test files have no tag column); every line must be like it."""
    out: list[TagExample] = []
    words, tags, start, ncols = [], [], None, None
    for lineno, line in [*iter_lines(path, expected), (None, "")]:
        if not line.strip():
            if words:
                out.append(TagExample(f"{Path(path).name}:{start}", lang, tuple(words),
                                      tuple(tags) if ncols == 2 else None))
            words, tags, start = [], [], None
            continue
        with row_scope():
            cols = split_row(path, lineno, line, columns if ncols is None else ncols, expected)
            if ncols is None:
                ncols = len(cols)  # XTREME's test files have no tag column
            word = split_token(path, lineno, cols[0])
            tag = check_label(path, lineno, cols[1], labels) if ncols == 2 else None
            if start is None:
                start = lineno
            words.append(word)
            tags.append(tag)
    return out


def read_xtreme_tags(paths, lang, split, labels) -> Examples:
    """XTREME's `udpos/` and `panx/` `{split}-L.tsv`: `token\\ttag` per line (test files: `token` only → tags None)."""
    (path,) = paths
    rows = _read_tag_lines(path, lang, labels, "token<TAB>tag per line (test: token only), blank line between "
                                               "sentences", lambda p, n, tok: tok)
    return Examples(rows, paths=paths)


def read_panx_original(paths, lang, split, labels) -> Examples:
    """WikiANN/PAN-X `panx_dataset/L/{train,dev,test}`: `L:token\\ttag` per line, blank line between sentences."""
    (path,) = paths
    prefix = f"{lang}:"

    def strip_prefix(p, lineno, token):
        if not token.startswith(prefix):
            raise DataError(p, lineno, f"token {token!r}; expected the language prefix {prefix!r}")
        return token[len(prefix):]

    rows = _read_tag_lines(path, lang, labels, f"{prefix}token<TAB>tag per line, blank line between sentences",
                           strip_prefix, columns=(2,))
    return Examples(rows, paths=paths)


def read_ccg_labels(path) -> tuple[str, ...]:
    """`tags_to_id.json`: {tag: id} with ids 0..n-1 → the tags in id order."""
    expected = "a JSON object mapping each CCG supertag to its id 0..n-1"
    mapping = load_json(path, expected)
    if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
        raise DataError(path, None, f"not a tag→int mapping; expected {expected}")
    ids = sorted(mapping.values())
    if ids != list(range(len(ids))):
        raise DataError(path, None, f"ids are not 0..{len(ids) - 1} without gaps; expected {expected}")
    return tuple(sorted(mapping, key=mapping.get))


def read_ccg(paths, lang, split, labels=None) -> Examples:
    """CCG TSV (one sentence per line: space-tokenized text, a tab, space-separated supertags) and the
    tags_to_id.json that gives the label set."""
    path, tags_path = paths
    labels = frozenset(read_ccg_labels(tags_path))  # ~1,300 supertags: a set for the membership test
    expected = "space-tokenized sentence<TAB>space-separated supertags, one sentence per line"
    out = Examples(paths=paths)
    for lineno, line in iter_lines(path, expected):
        if not line.strip():
            continue
        with row_scope():
            text, tag_text = split_row(path, lineno, line, 2, expected)
            words, tags = text.split(" "), tag_text.split(" ")
            if len(words) != len(tags):
                raise DataError(path, lineno, f"{len(words)} words but {len(tags)} supertags; expected one tag per "
                                              "word")
            for tag in tags:
                check_label(path, lineno, tag, labels)
            out.append(TagExample(f"{Path(path).name}:{lineno}", lang, tuple(words), tuple(tags)))
    return out
