"""Readers of word-tagging files: UD `.conllu` treebanks, XTREME's `token\\ttag` TSVs, WikiANN/PAN-X splits, CCG.

Every reader takes `(paths, lang, split, labels)` and returns `Examples` of TagExample (one tag per word).
UD `.conllu` is read as XTREME's download prepares it (a multiword token is one word with one UPOS; see
read_conllu), or as syntactic words with `ud_words="syntactic"`; Examples.tokenization says which.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from data.examples import DataError, TagExample
from data.readers.common import (Examples, check_label, check_unique_ids, iter_lines, row_scope,
                                 split_row)

UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X")

UD_WORDS = ("fused", "syntactic")  # how read_conllu reads a multiword token (see its docstring)
WITHHELD = "text withheld (every form '_', or all but one, as XTREME drops)"  # read_conllu's skip reason

# XTREME's POS precedence lists for a multiword token whose words tie for the highest position in the tree
# (POSRANKPRECEDENCEDICT in xtreme's third_party/ud-conversion-tools/conllu_to_conll.py, chosen by the
# treebank file's language prefix, which download_data.sh passes as --lang): earlier = preferred.
POS_PRECEDENCE = {
    "default": ("VERB", "NOUN", "PROPN", "PRON", "ADJ", "NUM", "ADV", "INTJ", "AUX", "ADP", "DET", "PART", "CCONJ",
                "SCONJ", "X", "PUNCT"),
    "es": ("VERB", "AUX", "PRON", "ADP", "DET"),
    "fr": ("VERB", "AUX", "PRON", "NOUN", "ADJ", "ADV", "ADP", "DET", "PART", "SCONJ", "CONJ"),
    "it": ("VERB", "AUX", "ADV", "PRON", "ADP", "DET", "INTJ"),
}


def _heads(head: str, deps: str) -> list[int]:
    """The word's parents in XTREME's graph: the basic HEAD and every enhanced DEPS head that is a whole number
    (xtreme's CoNLLReader adds both as edges; heads of empty nodes such as `8.1` are left out, as there)."""
    parents = [int(head)] if head.isascii() and head.isdigit() else []
    if deps != "_":
        for pair in deps.split("|"):
            first = pair.split(":", 1)[0]
            if first.isascii() and first.isdigit():
                parents.append(int(first))
    return parents


def _ancestor_count(word: int, parents: dict[int, list[int]]) -> int:
    """How many nodes (the root 0 included) reach `word` through parent edges: its depth in a tree; more when
    enhanced dependencies add paths (networkx.ancestors, which xtreme's heuristic counts)."""
    seen, todo = set(), list(parents.get(word, ()))
    while todo:
        node = todo.pop()
        if node != word and node not in seen:
            seen.add(node)
            todo.extend(parents.get(node, ()))
    return len(seen)


def fused_head(span: Sequence[int], parents: dict[int, list[int]], upos: dict[int, str],
               precedence: Sequence[str]) -> int:
    """The word of a multiword token whose POS the fused word takes (xtreme's _choose_spanhead_from_heuristics):
    the one word of the span with the fewest ancestors; when several tie, the first of them (in span order) whose
    UPOS comes earliest in `precedence`. A UPOS absent from the list ranks after every listed one; xtreme's
    converter stops with an error there (list.index) and leaves out the whole treebank file."""
    depth = {w: _ancestor_count(w, parents) for w in span}
    top = min(depth.values())
    highest = [w for w in span if depth[w] == top]
    rank = {pos: i for i, pos in enumerate(precedence)}
    return min(highest, key=lambda w: rank.get(upos[w], len(precedence)))  # min keeps the first of equals


def withheld(words: Sequence[str]) -> bool:
    """A sentence of a treebank distributed without its text: every form `_`, or all but one (XTREME drops these;
    the readers skip and count them under WITHHELD)."""
    n_blank = sum(w == "_" for w in words)
    return bool(n_blank) and n_blank >= len(words) - 1


def _xtreme_form(form: str) -> str:
    """utils_preprocess.py --task udpos: spaces and ZWNJ (U+200C) inside a word are removed (Vietnamese
    `học sinh` -> `họcsinh`, Persian ZWNJ compounds)."""
    return form.replace("\u200c", "").replace(" ", "")


def _read_conllu_file(path: Path, lang: str, labels, skipped: dict[str, int], ud_words: str) -> list[TagExample]:
    """One treebank file; see read_conllu for what a word is."""
    expected = "CoNLL-U: 10 tab-separated columns per word line, '#' comments, a blank line after each sentence"
    precedence = POS_PRECEDENCE.get(path.name.split("_")[0], POS_PRECEDENCE["default"])
    out: list[TagExample] = []
    forms, tags, parents, ranges, sent_id, start = [], [], {}, [], None, None

    def flush(end_line: int):
        nonlocal forms, tags, parents, ranges, sent_id, start
        if forms:
            words, word_tags = forms, tags
            if ud_words == "fused" and ranges:
                words, word_tags = _fuse(path, forms, tags, parents, ranges, precedence)
            for first, last, _, range_line in ranges if ud_words != "fused" else ():  # _fuse checks its own
                if last > len(forms):
                    raise DataError(path, range_line, f"multiword token {first}-{last} but the sentence has "
                                                      f"{len(forms)} words; expected a range over words of the sentence")
            if withheld(words):
                skipped[WITHHELD] += 1
            else:
                id_ = f"{path.name}:{sent_id if sent_id is not None else start}"
                out.append(TagExample(id_, lang, tuple(_xtreme_form(w) for w in words), tuple(word_tags)))
        elif sent_id is not None:
            raise DataError(path, end_line, "sentence without word lines; expected word lines after the comments")
        forms, tags, parents, ranges, sent_id, start = [], [], {}, [], None, None

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
            if "." in token_id:  # empty node: no surface word
                continue
            if "-" in token_id:  # multiword token: the surface form of the words in its range
                first, _, last = token_id.partition("-")
                if not (first.isascii() and first.isdigit() and last.isascii() and last.isdigit()
                        and int(first) == len(forms) + 1 < int(last)):  # ASCII: '²'.isdigit() is True
                    raise DataError(path, lineno, f"multiword token id {token_id!r}; expected a range "
                                                  f"{len(forms) + 1}-N (N > {len(forms) + 1}) before its words")
                ranges.append((int(first), int(last), cols[1].strip(), lineno))
                continue
            if not (token_id.isascii() and token_id.isdigit()) or int(token_id) != len(forms) + 1:
                raise DataError(path, lineno, f"word id {token_id!r}; expected {len(forms) + 1} (ids count up from "
                                              "1 in each sentence)")
            if not cols[1].strip():
                raise DataError(path, lineno, f"empty FORM for word {token_id}; expected the word ('_' when the "
                                              "text is withheld)")
            tag = check_label(path, lineno, cols[3], labels)
            if start is None:
                start = lineno
            parents[len(forms) + 1] = _heads(cols[6], cols[8])
            forms.append(cols[1].strip())
            tags.append(tag)
    flush(lineno + 1)
    return out


def _fuse(path, forms, tags, parents, ranges, precedence) -> tuple[list[str], list[str]]:
    """Replace the words of each multiword token by its surface form with the POS of fused_head."""
    upos = {i + 1: t for i, t in enumerate(tags)}
    words, word_tags, i = [], [], 1
    by_start = {first: (last, form, lineno) for first, last, form, lineno in ranges}
    while i <= len(forms):
        if i in by_start:
            last, form, lineno = by_start[i]
            if last > len(forms):
                raise DataError(path, lineno, f"multiword token {i}-{last} but the sentence has {len(forms)} words; "
                                              "expected a range over words of the sentence")
            words.append(form)
            word_tags.append(upos[fused_head(range(i, last + 1), parents, upos, precedence)])
            i = last + 1
        else:
            words.append(forms[i - 1])
            word_tags.append(tags[i - 1])
            i += 1
    return words, word_tags


def read_conllu(paths, lang, split, labels, ud_words: str = "fused") -> Examples:
    """All of a language's UD treebank files for one split, read the way XTREME's download prepares UD-POS.

    Files are read in the order of their file names (XTREME gathers every treebank of a language into one folder
    and reads it sorted by name: en_ewt, en_gum, en_lines, en_partut, en_pud). Examples.tokenization says which
    words were read:

    - ud_words="fused" (the default; XTREME's, which the published baselines use): a multiword token (`1-2
      didn't`, French `du` = `de le`) is one word, its surface form, tagged with the UPOS of one of its words
      (fused_head: the word highest in the dependency tree, ties broken by POS_PRECEDENCE). This is what
      download_data.sh runs: third_party/ud-conversion-tools/conllu_to_conll.py --lang L
      --replace_subtokens_with_fused_forms --print_fused_forms (rule in lib/conll.py, _keep_fused_form and
      _choose_spanhead_from_heuristics; lists in conllu_to_conll.py), google-research/xtreme.
    - ud_words="syntactic": the syntactic words (integer ids) with their own UPOS (`did/AUX n't/PART`): more words
      than XTREME's files (English EWT dev: 27,869 vs 27,480), so scores are not comparable with XTREME's.

    In both, as xtreme's utils_preprocess.py --task udpos does: forms are stripped, spaces and ZWNJ inside a form
    are removed, and a sentence whose forms are all `_` but at most one (treebanks distributed without their
    text) is skipped and counted. Empty nodes (`8.1`) are never words. Long sentences are kept whole here
    (XTREME cuts them at the model's max length only when featurizing).
    Departure on purpose: where the tied words of a multiword token have a UPOS missing from XTREME's list (e.g.
    PROPN for French), XTREME's converter crashes and that treebank file is left out; here it ranks last.
    """
    if ud_words not in UD_WORDS:
        raise ValueError(f"ud_words={ud_words!r}; expected one of {', '.join(UD_WORDS)}")
    out = Examples(paths=paths)
    out.tokenization = f"ud_words={ud_words}"
    for path in sorted((Path(p) for p in paths), key=lambda p: (p.name, str(p))):
        file_skips = {WITHHELD: 0}
        part = _read_conllu_file(path, lang, labels, file_skips, ud_words)
        check_unique_ids(path, (e.id for e in part))
        out.extend(part)
        out.add_skips(file_skips, path)
    return out


def read_tag_lines(path, lang, labels, expected: str, split_token, columns=(1, 2)):
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
            if not word.strip():
                raise DataError(path, lineno, f"empty word; expected {expected}")
            tag = check_label(path, lineno, cols[1], labels) if ncols == 2 else None
            if start is None:
                start = lineno
            words.append(word)
            tags.append(tag)
    return out


def read_xtreme_tags(paths, lang, split, labels, tokenization: str = "") -> Examples:
    """XTREME's `udpos/` and `panx/` `{split}-L.tsv`: `token\\ttag` per line (test files: `token` only → tags None).
    tokenization: what the registry knows about the words (UD-POS: XTREME's fused forms), for the report."""
    (path,) = paths
    rows = read_tag_lines(path, lang, labels, "token<TAB>tag per line (test: token only), blank line between "
                                               "sentences", lambda p, n, tok: tok)
    out = Examples(rows, paths=paths)
    out.tokenization = tokenization
    return out
