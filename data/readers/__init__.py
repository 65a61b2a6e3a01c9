"""Readers of the published task files, one per format (not per copy); data/tasks.py says which file each reads.

Every reader is `read_x(paths, lang, split, labels) -> Examples` (a list with .paths, .layout, .skipped),
except the retrieval readers, which return one Bitext. Bad files raise data.examples.DataError naming
file:line (or file:id) and what was expected. The Hugging Face Hub's Parquet copies are read by data/readers/hub.py
(pyarrow), into the same examples.
"""
from data.readers.bitext import read_bucc, read_tatoeba_aligned, read_tatoeba_xtreme
from data.readers.choice import read_commonsenseqa, read_cosmosqa, read_hellaswag
from data.readers.classification import (read_anli_jsonl, read_anli_plus, read_glue_mnli, read_glue_qqp,
                                         read_glue_sst2, read_nli_jsonl, read_pawsx_original, read_xnli_mt_train,
                                         read_xnli_original, read_xtreme_pair_tsv)
from data.readers.common import Examples, MissingDataError
from data.readers.span import TYDIQA_NAMES, read_squad_json
from data.readers.tagging import UPOS, read_ccg, read_ccg_labels, read_conllu, read_panx_original, read_xtreme_tags

__all__ = ["Examples", "MissingDataError", "TYDIQA_NAMES", "UPOS", "read_anli_jsonl", "read_anli_plus", "read_bucc",
           "read_ccg", "read_ccg_labels", "read_commonsenseqa", "read_conllu", "read_cosmosqa", "read_glue_mnli",
           "read_glue_qqp", "read_glue_sst2", "read_hellaswag", "read_nli_jsonl", "read_panx_original",
           "read_pawsx_original", "read_squad_json", "read_tatoeba_aligned", "read_tatoeba_xtreme",
           "read_xnli_mt_train", "read_xnli_original", "read_xtreme_pair_tsv", "read_xtreme_tags"]
