# VARIANT: coupling
# WHY: s and t read by slicing the net's output, and the kept features added back as x * m
# %%
# GRADED: coupling
import torch
import torch.nn as nn


class AffineCoupling(nn.Module):
    def __init__(self, dim, hidden_dim, mask):
        super().__init__()
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32).reshape(dim))
        self.net = nn.Sequential(nn.Linear(dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                 nn.Linear(hidden_dim, 2 * dim))

    def forward(self, x):
        m = self.mask.to(x.dtype)
        out = self.net(x * m)
        d = x.shape[-1]
        s = torch.tanh(out[..., :d]) * (1 - m)
        t = out[..., d:] * (1 - m)
        return x * torch.exp(s) + t, s.sum(-1)

    def inverse(self, y):
        m = self.mask.to(y.dtype)
        out = self.net(y * m)
        d = y.shape[-1]
        s = torch.tanh(out[..., :d]) * (1 - m)
        t = out[..., d:] * (1 - m)
        return (y - t) * torch.exp(-s)
