# VARIANT: inject
# WHY: a recursive walk over named_children building qualified names, freezing afterwards except LoRA
# parameters (by name), counting with a loop
# %%
# GRADED: inject
import torch.nn as nn


def inject_lora(model, target_names, r, alpha, dropout=0.0):
    def visit(module, prefix):
        for child_name, child in list(module.named_children()):
            qualified = prefix + child_name
            if isinstance(child, nn.Linear) and qualified.endswith(tuple(target_names)):
                module.add_module(child_name, LoRALinear(child, r, alpha, dropout=dropout))  # noqa: F821
            else:
                visit(child, qualified + ".")

    visit(model, "")
    count = 0
    for name, p in model.named_parameters():
        keep = name.split(".")[-1] in ("lora_A", "lora_B")
        p.requires_grad = keep
        if keep:
            count += p.numel()
    return count
