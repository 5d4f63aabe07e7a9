# VARIANT: train
# WHY: masks built as 1 - previous mask, layers appended in a loop, and the inverse by index
# %%
# GRADED: train
import torch
import torch.nn as nn


def make_flow(dim, hidden_dim, n_layers):
    layers = nn.ModuleList()
    mask = torch.tensor([1.0 if d % 2 == 0 else 0.0 for d in range(dim)])
    for _ in range(n_layers):
        layers.append(AffineCoupling(dim, hidden_dim, mask))  # noqa: F821 (the coupling cell)
        mask = 1 - mask
    return layers


def flow_inverse(flow_layers, z):
    for k in range(len(flow_layers) - 1, -1, -1):
        z = flow_layers[k].inverse(z)
    return z
