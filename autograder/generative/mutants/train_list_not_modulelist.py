# MUTANT: train
# WHY: the layers are returned in a plain Python list, so their parameters are invisible to the optimiser and .to()
# %%
# GRADED: train
import torch


def make_flow(dim, hidden_dim, n_layers):
    d = torch.arange(dim)
    return [AffineCoupling(dim, hidden_dim, ((d + k) % 2 == 0).float()) for k in range(n_layers)]  # noqa: F821 (the coupling cell)


def flow_inverse(flow_layers, z):
    x = z
    for layer in reversed(flow_layers):
        x = layer.inverse(x)
    return x
