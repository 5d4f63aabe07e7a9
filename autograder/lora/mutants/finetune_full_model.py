# MUTANT: finetune
# WHY: fine-tunes every weight of the model instead of adding and training low-rank adapters.
# %%
# GRADED: finetune
import torch
import torch.nn.functional as F


def finetune(model, batches, target_names, r, alpha, lr):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
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
