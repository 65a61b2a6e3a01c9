"""Which torch device to run on: `pick_device("cuda:1")`, or the default — CUDA when torch sees it, else CPU."""
from __future__ import annotations

import torch


def pick_device(name: str | None = None) -> torch.device:
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
