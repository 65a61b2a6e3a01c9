"""UD v2.5 part-of-speech tagging (17 UPOS tags), every treebank of a language read directly.

A multiword token is one word (XTREME's fused forms, the default) or its syntactic words (read option
`ud_words=syntactic`): see data/readers/tagging.py `read_conllu`. Scored with seqeval's span F1 as XTREME does, and
token accuracy. The Hub's udpos.<UD name> configs hold syntactic words.
"""
from data import readers as R
from data.readers import hub as H
from data.task import Download, Task, hub_sources, p, sources

LANGS = tuple("af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi yo zh"
              .split())
SPLITS = ("train", "dev", "test")
HUB_READ = p(H.read_hub_tags, tags="pos_tags", names=H.UPOS_NAMES, tokenization="ud_words=syntactic",
             refuse_configs=H.UDPOS_HUB_REFUSED)  # configs that also hold other languages' treebanks (Greek, ...)

TASK = Task(
    name="udpos", kind="tag", langs=LANGS, splits=SPLITS, labels=R.UPOS,
    primary_metric="f1", metrics=("span_f1", "tag_accuracy"),
    description="UD v2.5 part-of-speech tagging (scored with seqeval span F1 as XTREME does; token accuracy too)",
    target=True, train_task="udpos", display_name="UDPOS", parallel_test=False,
    sources=(
        *[s for split in SPLITS for s in
          sources("original", (split,), lambda s: [f"udpos/ud-treebanks-v2.5/UD_*/{{lang}}_*-ud-{s}.conllu"],
                  R.read_conllu, options=("ud_words",))
          + hub_sources((split,), lambda s: f"google/xtreme/udpos.{{udname}}/{s}-*.parquet", HUB_READ)],
        *sources("xtreme", SPLITS, lambda s: [f"udpos/{s}-{{lang}}.tsv"],
                 p(R.read_xtreme_tags, tokenization="ud_words=fused")),  # XTREME's conversion fused them
    ),
    # UD v2.5 (the version of XTREME's paper and jiant's downloader; XTREME's script later moved to v2.7):
    # UD_*/L_*-ud-{train,dev,test}.conllu for the 33 XTREME languages. URL: jiant dl_datasets/xtreme.py.
    downloads=(Download("https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-3105/"
                        "ud-treebanks-v2.5.tgz", "udpos", archive=True,
                        include=tuple(f"ud-treebanks-v2.5/*/{lang}_*.conllu" for lang in LANGS)),),
    default_source="upstream",
    default_source_why="google/xtreme's udpos.* takes every treebank whose folder name contains the language name "
                       "(Old French in French, ...) and drops words whose form is '_'",
    train_examples=21_253, mean_tokens=25,  # UD v2.5 English train sentences
)
