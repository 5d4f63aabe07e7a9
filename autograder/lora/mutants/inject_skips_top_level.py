# MUTANT: inject
# WHY: only looks inside submodules, skipping target layers that sit directly on the model.
# %%
# GRADED: inject
import torch.nn as nn


def inject_lora(model, target_names, r, alpha, dropout=0.0):
    for p in model.parameters():
        p.requires_grad_(False)
    matches = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and any(name.endswith(t) for t in target_names)
    ]
    for name, module in matches:
        parent_name, _, child_name = name.rpartition(".")
        if not parent_name:
            continue
        parent = model.get_submodule(parent_name)
        setattr(parent, child_name, LoRALinear(module, r, alpha, dropout))  # noqa: F821
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
