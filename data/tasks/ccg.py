"""CCG supertagging on CCGbank 1.1 (LDC2005T13, licensed), in jiant's preprocessed form; token accuracy.

The supertag set is read from tags_to_id.json under DATA_DIR (`label_file`). No Hub copy exists.
"""
from data import readers as R
from data.task import EN, Download, Task, sources

SPLITS = ("train", "dev", "test")
MANUAL = (
    "CCG supertagging uses CCGbank 1.1 (LDC2005T13), licensed by the Linguistic Data Consortium\n"
    "  (https://catalog.ldc.upenn.edu/LDC2005T13), in jiant's preprocessed form: ccg.train.tsv, ccg.dev.tsv,\n"
    "  ccg.test.tsv (sentence<TAB>supertags, one sentence a line) and tags_to_id.json. Once you have made them\n"
    "  from your copy of CCGbank, pack them (tar czf ccg.tgz ccg.*.tsv tags_to_id.json) and run\n"
    "  python -m data.download --tasks ccg --out {data_dir} --from-file ccg=PATH/TO/ccg.tgz\n"
    "  (or save the archive as {data_dir}/downloads/ccg.tgz and rerun); the four files go to {data_dir}/ccg/.")

TASK = Task(
    name="ccg", kind="tag", langs=EN, splits=SPLITS, labels=None, primary_metric="accuracy",
    metrics=("tag_accuracy",), eval_split="dev", label_file="ccg/tags_to_id.json",
    description="CCGbank supertagging (token accuracy)",
    sources=tuple(sources("original", SPLITS, lambda s: [f"ccg/ccg.{s}.tsv", "ccg/tags_to_id.json"], R.read_ccg)),
    # any folder depth in the archive (flatten=True)
    downloads=(Download("", "ccg", archive=True, file_name="ccg.tgz", manual=MANUAL, flatten=True,
                        include=("*ccg.train.tsv", "*ccg.dev.tsv", "*ccg.test.tsv", "*tags_to_id.json")),),
    default_source="upstream", default_source_why="CCGbank is licensed (LDC): there is no Hub copy",
    train_examples=39_604, mean_tokens=30,  # CCGbank sections 02-21
)
