# MUTANT: train
# WHY: the sampler applies the inverses first layer first instead of last layer first
# %%
# GRADED: train
import torch
import torch.nn as nn


def make_flow(dim, hidden_dim, n_layers):
    d = torch.arange(dim)
    return nn.ModuleList(AffineCoupling(dim, hidden_dim, ((d + k) % 2 == 0).float()) for k in range(n_layers))  # noqa: F821 (the coupling cell)


def flow_inverse(flow_layers, z):
    x = z
    for layer in flow_layers:
        x = layer.inverse(x)
    return x
