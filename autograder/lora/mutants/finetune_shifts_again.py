# MUTANT: finetune
# WHY: shifts the targets by one position although they are already the next tokens.
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
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), targets[:, 1:].flatten(), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses
