"""COPA (Roemmele et al. 2011), SuperGLUE's copy: choose the more plausible cause or effect of a premise, 2 choices;
400 train, 100 val (the English train and dev sets of XCOPA; XCOPA's val is this val translated). Input as jiant's
COPA task builds it (data/readers/copa.py). SuperGLUE's test file has no labels.
"""
from data.readers.copa import read_copa_jsonl
from data.task import EN, Download, Task, sources

TASK = Task(
    name="copa", kind="multiple_choice", langs=EN, splits=("train", "dev"), labels=None, primary_metric="accuracy",
    metrics=("accuracy",), eval_split="dev", description="COPA (SuperGLUE): causal commonsense, 2 choices",
    sources=tuple(sources("original", ("train", "dev"), lambda s: [f"copa/COPA/{'val' if s == 'dev' else s}.jsonl"],
                          read_copa_jsonl)),
    # SuperGLUE v2 (the URL of SuperGLUE's download script; jiant's downloader takes the same archive)
    downloads=(Download("https://dl.fbaipublicfiles.com/glue/superglue/data/v2/COPA.zip", "copa", archive=True),),
    default_source="upstream", default_source_why="SuperGLUE's archive, as every COPA reference reads it",
    train_examples=400, mean_tokens=40,
)
