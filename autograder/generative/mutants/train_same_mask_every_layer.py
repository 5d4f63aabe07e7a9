# MUTANT: train
# WHY: every layer keeps the same features, so those features are never transformed
# %%
# GRADED: train
import torch
import torch.nn as nn


def make_flow(dim, hidden_dim, n_layers):
    d = torch.arange(dim)
    return nn.ModuleList(AffineCoupling(dim, hidden_dim, (d % 2 == 0).float()) for k in range(n_layers))  # noqa: F821 (the coupling cell)


def flow_inverse(flow_layers, z):
    x = z
    for layer in reversed(flow_layers):
        x = layer.inverse(x)
    return x
