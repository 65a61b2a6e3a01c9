"""UD part-of-speech tagging over every treebank of UD v2.7 that has UPOS, a test split and its text: 180 treebanks
of 102 languages, read and scored as data/tasks/udpos.py reads XTREME's 33 (UD v2.5): every treebank of a language
at once, XTREME's fused words by default (`ud_words=syntactic` for the syntactic words), seqeval span F1 and token
accuracy. Trained on UD v2.7's English treebanks (EWT, GUM, LinES, ParTUT, ...: XTREME's recipe on this release).

Not parallel: each treebank has its own sentences (test sets from 24, Akuntsu, to thousands), so per-language
differences mix transfer with test difficulty and size, as for PAN-X. zh reads every zh_* treebank, as udpos reads
XTREME's: Traditional (GSD, HK, PUD) and Simplified (CFL, GSDSimp, which is GSD converted) characters together.

The release is v2.7 because its list of treebanks and splits can be checked: the Hugging Face copy
`universal-dependencies/universal_dependencies` was built from each treebank's r2.7 tag by a loading script that
names all 183 (huggingface/datasets datasets/universal_dependencies/universal_dependencies.py, `_UD_DATASETS`;
every one has a test file). Three are left out: qhe_hiencs (Hindi-English) and qtd_sagt (Turkish-German) are
code-switched, not one language, and swl_sslc is Swedish Sign Language written as glosses. Treebanks released
without their text (forms `_`: ar_nyuad, en_esl, fr_ftb, gun_dooley, ja_bccwj, ...) are read, and their sentences
skipped and counted (read_conllu), so their languages are scored on the treebanks that have text.

Languages: the rows of data/languages.tsv with a `ud_files` glob, the file-name stem of the language's treebanks
(`<ud code>_*`; Norwegian's `no` code holds two of the table's languages: no_bokmaal is nb, no_nynorsk and
no_nynorsklia are nn).

Files: upstream, ud-treebanks-v2.7.tgz (LINDAT handle 11234/1-3424, the release the Hub copy's citation names); or
the Hub copy (`--source hub`: syntactic words only, see data/readers/hub.py read_hub_ud).
"""
from data import languages
from data import readers as R
from data.readers import hub as H
from data.task import Download, Task, hub_sources, sources

LANGS = tuple(sorted(tag for tag, row in languages.languages().items() if row.ud_files))
SPLITS = ("train", "dev", "test")
VERSION = "ud-treebanks-v2.7"
URL = "https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-3424/ud-treebanks-v2.7.tgz"
# The Hub copy's configs that no language here reads, and why (the other 180 are the languages' treebanks).
LEFT_OUT = {"qhe_hiencs": "code-switched Hindi-English (and its text is withheld)",
            "qtd_sagt": "code-switched Turkish-German",
            "swl_sslc": "Swedish Sign Language, written as glosses"}

TASK = Task(
    name="udpos_all", kind="tag", langs=LANGS, splits=SPLITS, labels=R.UPOS,
    primary_metric="f1", metrics=("span_f1", "tag_accuracy"),
    description="UD v2.7 part-of-speech tagging over every treebank with UPOS, a test split and its text "
                "(102 languages; not parallel)",
    target=True, train_task="udpos_all", display_name="UDPOS-v2.7", parallel_test=False,
    sources=tuple(s for split in SPLITS for s in
                  sources("original", (split,), lambda s: [f"udpos_all/{VERSION}/UD_*/{{udfiles}}-ud-{s}.conllu"],
                          R.read_conllu, options=("ud_words",))
                  + hub_sources((split,), lambda s: f"universal-dependencies/universal_dependencies/{{udfiles}}/{s}/"
                                                    "*.parquet", H.read_hub_ud, revision="refs/convert/parquet")),
    downloads=(Download(URL, "udpos_all", archive=True,
                        include=tuple(f"{VERSION}/*/{languages.need(lang, 'ud_files')}-ud-*.conllu"
                                      for lang in LANGS)),),
    default_source="upstream",
    default_source_why="the UD v2.7 release holds the multiword tokens XTREME's fused words need; the Hub copy's rows "
                       "do not say which words a multiword token spans",
    train_examples=21_787, mean_tokens=25,  # UD v2.7 English train sentences with text: EWT 12,543 + GUM 4,287 +
                                            # LinES 3,176 + ParTUT 1,781 (the Hub card's split sizes)
)
