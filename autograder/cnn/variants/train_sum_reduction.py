# VARIANT: train
# WHY: sums the per-example losses (reduction='sum'), divides by the batch size for the step,
#      zero_grad(set_to_none=False) after the step, the device from the first buffer-or-parameter
# %%
# GRADED: train
import torch
import torch.nn.functional as F


def train_epoch(model, optimizer, loader, augment=None):
    """One epoch of training with cross-entropy; returns the mean loss per example (a Python float).

    loader yields (x, y) batches: x (B, C, H, W), y (B,) class indices. augment: None or a callable
    x -> x applied to each batch of images before the forward pass.
    """
    model.train(True)
    device = next(iter(model.parameters())).device
    summed, seen = torch.zeros((), dtype=torch.float64), 0
    optimizer.zero_grad(set_to_none=False)
    for images, labels in loader:
        images = images.to(device)
        labels = labels.to(device)
        images = images if augment is None else augment(images)
        batch_sum = F.cross_entropy(model(images), labels, reduction="sum")
        (batch_sum / labels.numel()).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        summed += batch_sum.detach().double().cpu()
        seen += labels.numel()
    return float(summed / seen)
