# MUTANT: train
# WHY: never puts the model in training mode, so batch norm and dropout behave as in evaluation.
# %%
# GRADED: train
import torch.nn.functional as F


def train_epoch(model, optimizer, loader, augment=None):
    """One epoch of training with cross-entropy; returns the mean loss per example (a Python float).

    loader yields (x, y) batches: x (B, C, H, W), y (B,) class indices. augment: None or a callable
    x -> x applied to each batch of images before the forward pass.
    """
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        if augment is not None:
            x = augment(x)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
