# MUTANT: coupling
# WHY: the network sees the whole input, not only the kept features, so the layer is no longer invertible
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
        s_raw, t = self.net(x).chunk(2, dim=-1)
        s = torch.tanh(s_raw)
        y = m * x + (1 - m) * (x * torch.exp(s) + t)
        return y, ((1 - m) * s).sum(dim=-1)

    def inverse(self, y):
        m = self.mask.to(y.dtype)
        s_raw, t = self.net(y).chunk(2, dim=-1)
        s = torch.tanh(s_raw)
        return m * y + (1 - m) * (y - t) * torch.exp(-s)
