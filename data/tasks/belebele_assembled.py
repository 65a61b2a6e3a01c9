"""The Belebele authors' assembled English training set: SciQ, MCScript2.0, MCTest, MultiRC, RACE and ReClor in the
Belebele format, written by facebookresearch/belebele `assemble_training_set.py` as one TSV (pandas `to_csv`, with a
`split` column: train and dev). Its licences differ by source (ReClor is non-commercial), so it is built by hand:

    python assemble_training_set.py --downloads_path /tmp/bb --output_file belebele_training_set.tsv
    python -m data.download --tasks belebele_assembled --from-file belebele_assembled=belebele_training_set.tsv

(or copy the file to DATA_DIR/belebele_assembled/belebele_training_set.tsv). Input: data/readers/reading.py.
"""
from data.readers.reading import read_belebele_assembled
from data.task import EN, Download, Source, Task

FILE = "belebele_assembled/belebele_training_set.tsv"
MANUAL = (
    "The Belebele training set is assembled by the authors' script from six data sets (ReClor's licence is\n"
    "  non-commercial): in a clone of https://github.com/facebookresearch/belebele run\n"
    "  python assemble_training_set.py --downloads_path /tmp/bb --output_file belebele_training_set.tsv\n"
    "  then python -m data.download --tasks belebele_assembled --out {data_dir} "
    "--from-file belebele_assembled=belebele_training_set.tsv")

TASK = Task(
    name="belebele_assembled", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None,
    primary_metric="accuracy", metrics=("accuracy",), eval_split="dev",
    description="The Belebele authors' assembled English MC training set (SciQ, MCScript2.0, MCTest, MultiRC, RACE, "
                "ReClor)",
    sources=tuple(Source("original", s, (FILE,), read_belebele_assembled) for s in ("train", "dev")),
    downloads=(Download("", FILE, file_name="belebele_training_set.tsv", manual=MANUAL),),
    default_source="upstream", default_source_why="built by the authors' script from six sources: a manual step",
    train_examples=67_000, mean_tokens=1_200,  # [R] rough: the paper's assembled set, passages of <= 25 sentences
)
