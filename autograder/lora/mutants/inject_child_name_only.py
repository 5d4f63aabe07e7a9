# MUTANT: inject
# WHY: matches target names against the last part of each layer's name only, so full dotted names never match.
# %%
# GRADED: inject
import torch.nn as nn


def inject_lora(model, target_names, r, alpha, dropout=0.0):
    for p in model.parameters():
        p.requires_grad_(False)
    matches = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and name.rpartition('.')[2] in target_names
    ]
    for name, module in matches:
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child_name, LoRALinear(module, r, alpha, dropout))  # noqa: F821
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
