"""The languages of the study: one row of facts per language variant, read from `data/languages.tsv`.

    python -m data.languages                 # the table: tag, name, script, FLORES code, URIEL code, CC-100 GiB
    python -m data.languages de ace-Arab     # the rows of these tags, every field

`data/languages.tsv` is the only home of per-language facts (its header comment cites every source): the ISO 639
codes, the FLORES-200 code and script of the variant, LASER's Tatoeba file code, the UD, TyDiQA and WikiANN names
the files use, whether words are separated by spaces, the URIEL+ code (and the macrolanguage or standard variety
used when URIEL+ lacks the language, with the reason), the family, and the CC-100 size in GiB or `none` (not in
CC-100: XLM-R never saw it) — decided per language *and script*.

A language's `tag` is the id every task, results row and report uses: the ISO 639-1 code where XTREME uses one
(de, ar, zh, ...), else ISO 639-3, plus `-Script` (ISO 15924) for a variant whose script is not the language's main
one (`zh-Hant`, `ar-Latn`, `ace-Arab`).

Use: `get_language("de").script`; `need("de", "laser")` returns the fact or raises naming the language and the
field; `cc100_status(tag)` -> "seen" | "unseen" | "unknown". A language without a row, or without a fact it is
asked for, is a ValueError naming both — never a default.

Adding a language: one line in data/languages.tsv (tests/test_languages.py checks every field's form, and that
every language of every task has the facts its task needs).
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().with_name("languages.tsv")
COLUMNS = ("tag", "name", "iso639_1", "iso639_3", "flores", "script", "laser", "ud_name", "ud_files", "tydiqa_name",
           "wikiann", "spaces", "uriel", "uriel_note", "uriel_standard", "family", "cc100_gib", "in_sib_xlmr")
NOT_IN_CC100 = "none"  # cc100_gib: the language (in this script) is not in CC-100: XLM-R never saw it
UNKNOWN = "unknown"  # cc100_gib: not established; the analysis treats the size as missing, not as zero


@dataclass(frozen=True)
class Language:
    """One language variant: the columns of data/languages.tsv ("" = the fact does not apply or is not known)."""
    tag: str
    name: str
    iso639_1: str
    iso639_3: str
    flores: str  # FLORES-200 code of this variant, e.g. ace_Arab
    script: str  # ISO 15924 main script of this variant
    laser: str  # LASER Tatoeba file code (tatoeba.<laser>-eng.<laser>)
    ud_name: str  # the UD language name of google/xtreme's udpos.<Name> configs
    ud_files: str  # the file-name stem glob of its UD v2.7 treebanks: af_*, no_bokmaal (data/tasks/udpos_all.py)
    tydiqa_name: str  # TyDiQA-GoldP's id prefix (arabic, bengali, ...)
    wikiann: str  # the Wikipedia code of its WikiANN config (unimelb-nlp/wikiann: als = Alemannic = gsw, ...)
    spaces: str  # "yes" / "no": words separated by spaces
    uriel: str  # the code used in URIEL+ base data ("" = no distance for this language)
    uriel_note: str  # why a fallback code was used
    uriel_standard: str  # the standard variety's code, for the `codes="standard"` sensitivity ("" = uriel)
    family: str
    cc100_gib: str  # GiB of CC-100, "none" (not in CC-100) or "unknown"
    in_sib_xlmr: str  # SIB-200's "in XLM-R?" column, for the cross-check only

    @property
    def space_separated(self) -> bool:
        return need(self.tag, "spaces") == "yes"


def _check_row(path: Path, lineno: int, row: Language) -> None:
    where = f"{path}: line {lineno} ({row.tag or 'no tag'})"
    if not row.tag or row.tag != row.tag.strip():
        raise ValueError(f"{where}: empty or padded tag")
    if row.spaces not in ("yes", "no", ""):
        raise ValueError(f"{where}: spaces {row.spaces!r}; expected yes or no")
    if row.cc100_gib not in ("", NOT_IN_CC100, UNKNOWN):
        try:
            ok = math.isfinite(float(row.cc100_gib)) and float(row.cc100_gib) > 0
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{where}: cc100_gib {row.cc100_gib!r}; expected a positive number of GiB, "
                             f"{NOT_IN_CC100!r} (not in CC-100) or {UNKNOWN!r}")


@lru_cache(maxsize=2)
def read_table(path: Path = TABLE) -> dict[str, Language]:
    """tag -> Language, in file order. A malformed line is a ValueError naming the file and line."""
    out: dict[str, Language] = {}
    header = None
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            if tuple(cells) != COLUMNS:
                raise ValueError(f"{path}: line {lineno}: header {cells}; expected the columns {list(COLUMNS)}")
            header = cells
            continue
        if len(cells) != len(COLUMNS):
            raise ValueError(f"{path}: line {lineno}: {len(cells)} fields; expected {len(COLUMNS)} ({', '.join(COLUMNS)})")
        row = Language(*cells)
        _check_row(path, lineno, row)
        if row.tag in out:
            raise ValueError(f"{path}: line {lineno}: tag {row.tag!r} appears twice")
        out[row.tag] = row
    if header is None:
        raise ValueError(f"{path}: no header line; expected the columns {list(COLUMNS)}")
    return out


def languages() -> dict[str, Language]:
    return read_table(TABLE)


def get_language(tag: str) -> Language:
    """The row of `tag`; ValueError naming it when data/languages.tsv has none."""
    table = languages()
    if tag not in table:
        raise ValueError(f"language {tag!r} has no row in {TABLE.name} (data/languages.tsv); add one with its facts")
    return table[tag]


def need(tag: str, field: str) -> str:
    """The fact `field` of language `tag`; ValueError naming both when the row has none."""
    if field not in COLUMNS:
        raise ValueError(f"unknown language field {field!r}; expected one of {', '.join(COLUMNS)}")
    value = getattr(get_language(tag), field)
    if value == "":
        raise ValueError(f"language {tag!r}: no {field} in data/languages.tsv (a fact this use needs; add it)")
    return value


def by_field(field: str, value: str) -> str:
    """The tag whose `field` equals value (e.g. the FLORES code ace_Arab -> ace-Arab); ValueError when none."""
    hits = [t for t, row in languages().items() if getattr(row, field) == value]
    if len(hits) != 1:
        raise ValueError(f"no single language with {field} {value!r} in data/languages.tsv "
                         f"({'none' if not hits else 'several: ' + ', '.join(hits)})")
    return hits[0]


def cc100_status(tag: str) -> str:
    """"seen" (in CC-100 in this script), "unseen" (not in CC-100: XLM-R never saw it) or "unknown"."""
    value = need(tag, "cc100_gib")
    return "unseen" if value == NOT_IN_CC100 else "unknown" if value == UNKNOWN else "seen"


def cc100_gib(tag: str) -> float:
    """CC-100 GiB; 0.0 for a language not in CC-100 (an explicit zero), NaN where the size is unknown."""
    status = cc100_status(tag)
    return float(need(tag, "cc100_gib")) if status == "seen" else 0.0 if status == "unseen" else math.nan


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m data.languages", description=__doc__.split("\n\n")[0])
    parser.add_argument("tags", nargs="*", help="print every field of these languages")
    args = parser.parse_args(argv)
    if args.tags:
        for tag in args.tags:
            row = get_language(tag)
            print("\n".join(f"{f.name:14} {getattr(row, f.name)}" for f in fields(row)) + "\n")
        return
    for row in languages().values():
        print(f"{row.tag:10} {row.name[:28]:28} {row.script:5} {row.flores:9} {row.uriel or '-':5} {row.cc100_gib}")


if __name__ == "__main__":
    main()
