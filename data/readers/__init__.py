"""Readers of the shared formats, the ones several tasks' files use; a task whose format is its own keeps its reader
in its file under data/tasks/ (the registry rows say which reader reads each file).

Every reader is `read_x(paths, lang, split, labels) -> Examples` (a list with .paths, .layout, .skipped),
except the retrieval readers, which return one Bitext. Bad files raise data.examples.DataError naming
file:line (or file:id) and what was expected. The Hugging Face Hub's Parquet copies are read by data/readers/hub.py
(pyarrow), into the same examples.
"""
from data.readers.bitext import read_tatoeba_aligned, read_tatoeba_xtreme
from data.readers.classification import read_xtreme_pair_tsv
from data.readers.common import Examples, MissingDataError
from data.readers.span import TYDIQA_NAMES, read_squad_json
from data.readers.tagging import UPOS, read_conllu, read_xtreme_tags

__all__ = ["Examples", "MissingDataError", "TYDIQA_NAMES", "UPOS", "read_conllu", "read_squad_json",
           "read_tatoeba_aligned", "read_tatoeba_xtreme", "read_xtreme_pair_tsv", "read_xtreme_tags"]
