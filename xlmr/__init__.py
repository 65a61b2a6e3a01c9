"""A minimal XLM-R: encoder (model.py), heads (heads.py), tokenizer (tokenizer.py), checkpoints (checkpoint.py)."""
