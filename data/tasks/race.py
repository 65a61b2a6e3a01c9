"""RACE (Lai et al., EMNLP 2017): English exam reading comprehension, 4 choices; the default English training set of
Belebele. Files: CMU's RACE.tar.gz, `RACE/{train,dev,test}/{high,middle}/*.txt` (one JSON passage a file with its
questions, options and answer letters). Input: data/readers/reading.py.
"""
from data.readers.reading import read_race
from data.task import EN, Download, Source, Task

SPLITS = ("train", "dev", "test")

TASK = Task(
    name="race", kind="multiple_choice", langs=EN, splits=SPLITS, labels=None, primary_metric="accuracy",
    metrics=("accuracy",), eval_split="dev", description="RACE: English exam reading comprehension (4 choices)",
    sources=tuple(Source("original", s, (f"race/RACE/{s}/*/*.txt",), read_race) for s in SPLITS),
    # the URL of the RACE page and of the Belebele authors' assemble_training_set.py
    downloads=(Download("https://www.cs.cmu.edu/~glai1/data/race/RACE.tar.gz", "race", archive=True),),
    default_source="upstream", default_source_why="the authors' archive",
    train_examples=87_866, mean_tokens=1_600,  # 87,866 train questions (Lai et al. 2017); ~350-token passages x 4
)
