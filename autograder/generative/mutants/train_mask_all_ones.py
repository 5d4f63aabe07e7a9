# MUTANT: train
# WHY: every mask keeps all the features, so no layer transforms anything and the flow ignores the data
# %%
# GRADED: train
import torch
import torch.nn as nn


def make_flow(dim, hidden_dim, n_layers):
    return nn.ModuleList(AffineCoupling(dim, hidden_dim, torch.ones(dim)) for k in range(n_layers))  # noqa: F821 (the coupling cell)


def flow_inverse(flow_layers, z):
    x = z
    for layer in reversed(flow_layers):
        x = layer.inverse(x)
    return x
