# MUTANT: inject
# WHY: freezes only the wrapped layers, leaving the rest of the model trainable.
# %%
# GRADED: inject
import torch.nn as nn


def inject_lora(model, target_names, r, alpha, dropout=0.0):
    matches = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and any(name.endswith(t) for t in target_names)
    ]
    for name, module in matches:
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child_name, LoRALinear(module, r, alpha, dropout))  # noqa: F821
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
