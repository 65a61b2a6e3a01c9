"""FSDP2 sharding for train.py's `train.fsdp: true`: every encoder layer its own shard group, then the root.

    from xlmr.fsdp import shard, full_state_dict, init_adam_state, save_sharded, load_sharded
    shard(model, model.encoder, "cuda", world_size, param_dtype=torch.bfloat16)   # in place, after .to(device)
    init_adam_state(optimizer)                 # every parameter's state now: checkpoints hold every key
    save_sharded(folder, model, optimizer)     # collective: each rank writes its shards (torch.distributed.checkpoint)
    load_sharded(folder, model, optimizer)     # collective: the same world size reads them back
    full = full_state_dict(model)              # collective: the unsharded state dict on rank 0 (CPU), {} elsewhere

What it does (torch.distributed.fsdp.fully_shard, the per-parameter FSDP2 of torch >= 2.4):
- an explicit 1-D device mesh over all ranks (`init_device_mesh(device_type, (world_size,))`; "cpu" with gloo in
  the tests);
- `fully_shard` on each module of the encoder's layer list (found generically: the encoder's ModuleList children,
  whatever the layer class, post-LN or pre-LN), then on the root (the model with its embeddings, final norms and
  heads: the root group also holds the word embeddings that a tied MLM decoder reads);
- `MixedPrecisionPolicy(param_dtype, reduce_dtype=float32)`: bf16 compute on GPU, fp32 gradient reduction; with
  param_dtype None (CPU tests) everything stays fp32, so a sharded step equals the unsharded one up to summation
  order;
- activation checkpointing stays the encoder's own (torch.utils.checkpoint per layer, non-reentrant), which
  composes with FSDP2's per-layer all-gathers.
Only torch and the model's own modules are used here; train.py decides when.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def encoder_layers(encoder: nn.Module) -> list[nn.Module]:
    """The encoder's transformer layers: the modules of its ModuleList child(ren), in order."""
    layers = [m for child in encoder.children() if isinstance(child, nn.ModuleList) for m in child]
    assert layers, f"{type(encoder).__name__} has no ModuleList of layers to shard"
    return layers


def shard(model: nn.Module, encoder: nn.Module, device_type: str, world_size: int, param_dtype=None):
    """Shard `model` (which contains `encoder`) in place over all `world_size` ranks; returns the device mesh."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mesh = init_device_mesh(device_type, (world_size,))
    policy = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=torch.float32)
    for layer in encoder_layers(encoder):
        fully_shard(layer, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    return mesh


def init_adam_state(optimizer: torch.optim.Optimizer) -> None:
    """Create Adam(W)'s state for every parameter now, as each parameter's first step would (step 0, zero moments),
    so that a sharded checkpoint holds the same keys whichever tasks a multi-task run has drawn so far (a fresh
    optimizer loading it expects state for every parameter). One step at lr 0 with zero gradients creates the
    state and changes no parameter (decoupled decay multiplies by 1 - 0 * wd); the step counts go back to 0."""
    assert isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)), type(optimizer).__name__
    assert not optimizer.state, "init_adam_state is for a new optimizer"
    lrs = [group["lr"] for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        group["lr"] = 0.0
        for p in group["params"]:
            p.grad = torch.zeros_like(p)
    optimizer.step()
    for group, lr in zip(optimizer.param_groups, lrs):
        group["lr"] = lr
    for state in optimizer.state.values():
        state["step"].zero_()
    optimizer.zero_grad(set_to_none=True)


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The unsharded state dict, gathered to rank 0 on the CPU ({} on the other ranks). Every rank must call it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def save_sharded(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Model and optimizer state, each rank writing its own shards into `folder` (torch.distributed.checkpoint)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    model_state, optim_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optimizer": optim_state}, checkpoint_id=str(folder))


def load_sharded(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Read save_sharded's folder back into the sharded model and optimizer (same world size)."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    model_state, optim_state = get_state_dict(model, optimizer)
    state = {"model": model_state, "optimizer": optim_state}
    dcp.load(state, checkpoint_id=str(folder))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
