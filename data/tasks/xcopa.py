"""XCOPA (Ponti et al., EMNLP 2020): COPA's val and test translated into 11 languages, 2-way causal commonsense
multiple choice; trained on English COPA (data/tasks/copa.py; XTREME-R trains SIQA first, which is an intermediate
task here). Parallel. No English file: its scores are levels, not drops against English (the XCOPA leaderboard row
in shared/published has no English score either).

Files: cambridgeltl/xcopa `data/<lang>/{val,test}.<lang>.jsonl` (COPA's JSONL plus `changed`), named by the
language's tag.
"""
from data.readers.copa import read_copa_jsonl
from data.task import Download, Task, sources

LANGS = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")
FILES = {"dev": "val", "test": "test"}
REPO = "https://raw.githubusercontent.com/cambridgeltl/xcopa/master/data"

TASK = Task(
    name="xcopa", kind="multiple_choice", langs=LANGS, splits=("dev", "test"), labels=None, primary_metric="accuracy",
    metrics=("accuracy",), description="XCOPA: COPA translated into 11 languages; trains on English COPA",
    target=True, train_task="copa", display_name="XCOPA", parallel_test=True,
    sources=tuple(sources("original", FILES, lambda s: [f"xcopa/data/{{lang}}/{FILES[s]}.{{lang}}.jsonl"],
                          read_copa_jsonl)),
    downloads=tuple(Download(f"{REPO}/{lang}/{f}.{lang}.jsonl", f"xcopa/data/{lang}/{f}.{lang}.jsonl")
                    for lang in LANGS for f in FILES.values()),
    default_source="upstream", default_source_why="the authors' JSONL files",
    train_examples=400, mean_tokens=40,  # English COPA train
)
