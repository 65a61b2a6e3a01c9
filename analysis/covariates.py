"""Per-language covariates of the analysis: pretraining size (in characters, not bytes) and a shared-script flag.

Use: `size_table(langs)` -> DataFrame(lang, script, shares_script_with_en, cc100_gib, cc100_gichars,
log_cc100_gichars, wiki_tokens, log_wiki_tokens); `log_pretraining_size(model, lang)` -> the size covariate for a
model's rows (NaN when none); `pretraining_corpus(model)` -> "cc100", "wikipedia" or None.

Pretraining size. CC-100 sizes are given in GiB of UTF-8 text (XLM-R paper, Conneau et al. 2020, Table 6; the
transcription in REFERENCE.md). Bytes overstate languages whose letters take more than one byte: Cyrillic, Greek,
Arabic and Hebrew letters take 2 bytes, Georgian, the Indic scripts, Thai, Myanmar and CJK/Hangul 3 (Unicode
Standard, section 3.9: code points U+0080-07FF take 2 bytes, U+0800-FFFF 3). The covariate is therefore approximate
characters: `cc100_gichars = cc100_gib / bytes per letter of the language's main script`, and its log. Spaces,
digits and punctuation are 1 byte in every script, so for non-Latin scripts this understates characters somewhat; it
removes the 2-3x byte inflation, which is the bulk of the bias. Yoruba is not in CC-100: no size (never imputed).

mBERT was trained on Wikipedia, not CC-100, so its rows use Wikipedia sizes: `log_wiki_tokens`, the log number of
word tokens of the language's Wikipedia (analysis/wikipedia_sizes.csv: rows copied verbatim from
mayhewsw/multilingual-data-stats@0adee01f665177f088fd2596ebc8e3ce697c4311:wiki/wiki.csv; `Tokens` = `wc -w` after the
XLM repo's get-data-wiki.sh extraction and tokenisation of the 2020-10-01 dump; the file's header says what every
column counts). A word count is not inflated by the script's bytes. mBERT used a 2018 dump: the 2020 sizes are a
proxy whose ordering across languages is what the rank statistics use. Which corpus a model was pretrained on is
decided from its name in one place, `pretraining_corpus` (CORPUS_NAMES); a model named neither way gets no size.

Script. URIEL+'s `script` distance describes script type by union over a language's history, so it is not used
(analysis/distances.py). Instead `shares_script_with_en` is 1 when the language's main script today is Latin (ISO
15924 `Latn`), English's, else 0 (ISO 15924 codes; the main script of each XTREME language as in its test data).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from data.languages import cc100_gib, cc100_status, languages, need

# CC-100 size in GiB (XLM-R paper, Table 6) of the languages XLM-R saw, and every language's main script (ISO 15924):
# read from the language rows (data/languages.tsv, the only home of these facts). cc100_status tells "not in CC-100"
# (unseen: an explicit 0 GiB) from "size unknown" (NaN).
CC100_GIB = {tag: cc100_gib(tag) for tag in languages() if cc100_status(tag) == "seen"}
# UTF-8 bytes per letter of each script (Unicode Standard, section 3.9).
UTF8_BYTES = {"Latn": 1, "Cyrl": 2, "Grek": 2, "Arab": 2, "Hebr": 2, "Armn": 2, "Geor": 3, "Beng": 3, "Deva": 3,
              "Mlym": 3, "Taml": 3, "Telu": 3, "Thai": 3, "Mymr": 3, "Jpan": 3, "Kore": 3, "Hans": 3, "Hant": 3,
              "Ethi": 3, "Gujr": 3, "Guru": 3, "Khmr": 3, "Knda": 3, "Laoo": 3, "Orya": 3, "Sinh": 3}
WIKIPEDIA_SIZES = Path(__file__).resolve().parent / "wikipedia_sizes.csv"
# Model name (lower-cased) contains one of these -> the corpus it was pretrained on. The one place this is decided.
CORPUS_NAMES = {"cc100": ("xlm-r", "xlmr", "xlm-roberta"),
                "wikipedia": ("mbert", "multilingual bert", "bert-base-multilingual")}
SIZE_MEASURES = {
    "cc100": "log CC-100 size in approximate Gi characters (GiB / UTF-8 bytes per letter of the main script)",
    "wikipedia": "log Wikipedia size in word tokens (2020-10-01 dump, mayhewsw/multilingual-data-stats wiki.csv)"}


def pretraining_corpus(model: str) -> str | None:
    """"cc100" for XLM-R models, "wikipedia" for mBERT (by name, CORPUS_NAMES); None for any other model."""
    name = model.lower()
    for corpus, keys in CORPUS_NAMES.items():
        if any(k in name for k in keys):
            return corpus
    return None


def uses_cc100(model: str) -> bool:
    """XLM-R models were pretrained on CC-100; mBERT (and any model not named XLM-R) was not."""
    return pretraining_corpus(model) == "cc100"


@lru_cache(maxsize=4)
def wikipedia_tokens(path: Path = WIKIPEDIA_SIZES) -> dict[str, int]:
    """ISO 639-1 code -> word tokens of its Wikipedia (analysis/wikipedia_sizes.csv); a bad row names its line."""
    table = pd.read_csv(path, comment="#", dtype=str)
    out = {}
    skipped = sum(1 for line in Path(path).read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    for i, (wiki, tokens) in enumerate(zip(table["Wiki"], table["Tokens"])):
        try:
            out[wiki] = int(str(tokens).replace(",", ""))
        except ValueError:
            raise ValueError(f"{path}: line {skipped + 2 + i}: Tokens {tokens!r} is not a whole number") \
                from None
    return out


def log_pretraining_size(model: str, lang: str) -> float:
    """The size covariate of a model's language: log approximate Gi characters of CC-100 for XLM-R, log Wikipedia
    word tokens for mBERT; NaN where no size applies (another model, or a language the corpus lacks)."""
    corpus = pretraining_corpus(model)
    if corpus == "cc100" and lang in CC100_GIB:
        return math.log(CC100_GIB[lang] / UTF8_BYTES[need(lang, "script")])
    if corpus == "wikipedia" and lang in wikipedia_tokens():
        return math.log(wikipedia_tokens()[lang])
    return math.nan


def size_table(langs) -> pd.DataFrame:
    """One row per language: main script, the shared-script flag, CC-100 GiB and approximate Gi characters,
    Wikipedia word tokens."""
    rows = []
    for lang in langs:
        script = need(lang, "script")  # a language without its script is an error naming it, never "not Latin"
        status = cc100_status(lang)
        gib = CC100_GIB.get(lang, np.nan)
        chars = gib / UTF8_BYTES[script] if script in UTF8_BYTES else np.nan
        rows.append({"lang": lang, "script": script, "shares_script_with_en": int(script == need("en", "script")),
                     "cc100_status": status, "cc100_gib": cc100_gib(lang), "cc100_gichars": chars, "log_cc100_gichars": np.log(chars),
                     "wiki_tokens": wikipedia_tokens().get(lang, np.nan),
                     "log_wiki_tokens": np.log(wikipedia_tokens().get(lang, np.nan))})
    return pd.DataFrame(rows)
