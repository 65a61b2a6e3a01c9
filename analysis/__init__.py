"""The analysis behind correlate.py: per-language zero-shot drop (and intermediate-task effect) against linguistic
distance from English. Imports task facts from data/tasks.py and nothing from models or training.

    scores.py      results files -> one score per cell -> drops, effects (per seed)
    distances.py   URIEL+ distances from English (python -m analysis.distances)
    covariates.py  pretraining size (CC-100 characters for XLM-R, Wikipedia tokens for mBERT), the shared-script flag
    tokenization.py  tokenizer fertility and vocabulary overlap with English (correlate.py --spm --data-dir)
    stats.py       per-test statistics, right at n = 5-15
    models.py      pooled mixed models with a language-level permutation p
    simulate.py    the after-intermediate design validated by simulation; the power table
    run.py         the pre-specified primary test and the whole pipeline
    report.py      report.md (first screen, then the appendix)
    plots.py       the figures
"""
