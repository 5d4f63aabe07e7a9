# VARIANT: train
# WHY: the sampler written recursively, masks from a bool parity test
# %%
# GRADED: train
import torch
import torch.nn as nn


def make_flow(dim, hidden_dim, n_layers):
    return nn.ModuleList([AffineCoupling(dim, hidden_dim, torch.tensor([float((i + k) % 2 == 0) for i in range(dim)]))  # noqa: F821 (the coupling cell)
                          for k in range(n_layers)])


def flow_inverse(flow_layers, z):
    layers = list(flow_layers)
    if not layers:
        return z
    return flow_inverse(layers[:-1], layers[-1].inverse(z))
