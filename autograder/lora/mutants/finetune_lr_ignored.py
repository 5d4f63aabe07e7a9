# MUTANT: finetune
# WHY: ignores the learning rate it is given.
# %%
# GRADED: finetune
import torch
import torch.nn.functional as F


def finetune(model, batches, target_names, r, alpha, lr):
    inject_lora(model, target_names, r, alpha)  # noqa: F821
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], weight_decay=0.0)
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
    return losses
