"""WikiANN named entities in every language of its Hugging Face Hub copy (unimelb-nlp/wikiann: 176 Wikipedias, the
balanced train/dev/test splits of Rahimi et al., ACL 2019), scored as XTREME scores PAN-X, its 40-language subset
(data/tasks/panx.py: PER, ORG, LOC in IOB2, seqeval span F1). Trained on PAN-X's English train, which is WikiANN's
`en` config: a panx run's head scores this task too (evaluate.py --task panx_all).

Not parallel: each Wikipedia's sentences are its own, and the test sets range from 100 to 10,000 sentences (the
card's split sizes), so per-language differences mix transfer with test difficulty and size, as for PAN-X.

Languages: the rows of data/languages.tsv with a `wikiann` code, the Wikipedia code that names the Hub config (and
the folder of its Parquet files, `<code>/{validation,test}-00000-of-00001.parquet`, the card's `configs:`). 175 of
the 176: `simple` (Simple English) is English, not a language to transfer to. Where a Wikipedia code is not the
language (`als` is the Alemannic Wikipedia, gsw, though the card lists "Tosk Albanian"; `bh` is Bhojpuri; `no` is
Bokmal), the table's header says so.

Files: the Hub copy (the default; its schema, huggingface/datasets datasets/wikiann/README.md `dataset_info`, is
PAN-X's on google/xtreme: `tokens`, `ner_tags` ClassLabel(O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC), plus `langs`
and `spans`, which are not read), or the original per-Wikipedia folders `panx/panx_dataset/<code>/{dev,test}` of the
Rahimi et al. release that data/tasks/panx.py reads for XTREME's 40 (`<code>:token<TAB>tag` lines; the Hub copy's loading script, before its Parquet conversion, read
`<code>.tar.gz` of that release for each config). XTREME's AmazonPhotos.zip is documented for its 40 languages only,
so `data.download` takes the Hub copy.
"""
from data import languages
from data.readers import hub as H
from data.task import Task, hub_sources, p, sources
from data.tasks import panx

LANGS = tuple(sorted(tag for tag, row in languages.languages().items() if row.wikiann))
SPLITS = ("dev", "test")

TASK = Task(
    name="panx_all", kind="tag", langs=LANGS, splits=SPLITS, labels=panx.LABELS, primary_metric="f1",
    metrics=("span_f1",),
    description="WikiANN named entities over the 175 languages of its Hub copy (PER, ORG, LOC; not parallel)",
    target=True, train_task="panx", display_name="WikiANN-175", parallel_test=False,
    sources=tuple(s for split in SPLITS for s in
                  sources("original", (split,), lambda s: [f"panx/panx_dataset/{{wiki}}/{s}"],
                          panx.read_panx_original)
                  + hub_sources((split,), lambda s: f"unimelb-nlp/wikiann/{{wiki}}/{s}-*.parquet",
                                p(H.read_hub_tags, tags="ner_tags", names=H.PANX_NAMES))),
    downloads=(),
    default_source="hub",
    default_source_why="unimelb-nlp/wikiann holds all 176 Wikipedias with their test labels; XTREME's upstream "
                       "AmazonPhotos.zip (data/tasks/panx.py, a manual download) is documented for 40 of them",
    train_examples=20_000, mean_tokens=12,  # PAN-X English train
)
