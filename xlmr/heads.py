"""Task heads on top of the XLM-R encoder. They return logits; losses live in train.py.

    from xlmr.heads import make_head
    head = make_head("pair_cls", hidden_size=768, num_labels=3)
    logits = head(encoder(input_ids, attention_mask))   # (B, 3)

Parameter names follow transformers' XLM-R heads (`dense`, `out_proj`, `classifier`, `qa_outputs`, `layer_norm`,
`decoder`, `bias`) so their weights are easy to compare.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ClassificationHead(nn.Module):
    """RoBERTa's sentence head on `<s>`: dropout -> dense -> tanh -> dropout -> out_proj. (B, T, H) -> (B, C)."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.dropout(hidden[:, 0])  # <s> is always position 0: (B, H)
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class TokenClassificationHead(nn.Module):
    """One label per token: dropout -> linear. (B, T, H) -> (B, T, C)."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(hidden))


class SpanHead(nn.Module):
    """Extractive QA: start and end logits per token. (B, T, H) -> (start (B, T), end (B, T))."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.qa_outputs = nn.Linear(hidden_size, 2)

    def forward(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        start, end = self.qa_outputs(hidden).unbind(dim=-1)  # each (B, T)
        return start, end


class MultipleChoiceHead(nn.Module):
    """One score per choice from its `<s>`: dropout -> linear. (B*N, T, H) with num_choices=N -> (B, N)."""

    def __init__(self, hidden_size: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, 1)

    def forward(self, hidden: torch.Tensor, num_choices: int) -> torch.Tensor:
        assert hidden.shape[0] % num_choices == 0, f"batch {hidden.shape[0]} is not a multiple of {num_choices}"
        scores = self.classifier(self.dropout(hidden[:, 0]))  # (B*N, 1)
        return scores.view(-1, num_choices)


class MLMHead(nn.Module):
    """Masked-LM head: dense -> GELU -> LayerNorm -> decoder tied to the word embeddings + bias. (..., H) -> (..., V).

    Any leading shape works; give it only the masked positions (hidden[mask_positions], (M, H) -> (M, V)): on a full
    (B, T, H) batch the (B, T, 250002) logits are gigabytes.

    The decoder weight *is* `word_embeddings.weight` (shared, not copied), as in XLM-R's pretraining. It is held
    outside this module's parameters, so the head's state_dict and parameters() list only its own tensors and an
    optimizer over encoder + head sees the shared matrix once.
    """

    def __init__(self, hidden_size: int, vocab_size: int, word_embeddings: nn.Embedding, layer_norm_eps: float = 1e-5):
        super().__init__()
        assert word_embeddings.weight.shape == (vocab_size, hidden_size), (
            f"word embeddings {tuple(word_embeddings.weight.shape)} != ({vocab_size}, {hidden_size})")
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self._tied = (word_embeddings,)  # a tuple: not registered as a submodule
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.layer_norm(F.gelu(self.dense(hidden)))
        return F.linear(x, self._tied[0].weight, self.bias)  # decoder weight (V, H) = word embeddings


HEADS = {
    "single_cls": ClassificationHead,
    "pair_cls": ClassificationHead,
    "tag": TokenClassificationHead,
    "span": SpanHead,
    "multiple_choice": MultipleChoiceHead,
}


def make_head(kind: str, hidden_size: int, num_labels: int) -> nn.Module:
    """The head for a task kind. `num_labels` is ignored by "span" (2 logits) and "multiple_choice" (1 per choice)."""
    if kind not in HEADS:
        raise ValueError(f"unknown head kind {kind!r}; known: {', '.join(sorted(HEADS))}")
    if kind in ("span", "multiple_choice"):
        return HEADS[kind](hidden_size)
    return HEADS[kind](hidden_size, num_labels)
