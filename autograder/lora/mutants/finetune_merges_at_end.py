# MUTANT: finetune
# WHY: merges the adapters into the base weights when training ends.
# %%
# GRADED: finetune
import torch
import torch.nn.functional as F


def finetune(model, batches, target_names, r, alpha, lr):
    inject_lora(model, target_names, r, alpha)  # noqa: F821
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    model.train()
    losses = []
    for inputs, targets in batches:
        logits = model(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    for m in model.modules():
        if hasattr(m, "merge"):
            m.merge()
    return losses
