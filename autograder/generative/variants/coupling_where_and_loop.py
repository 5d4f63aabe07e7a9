# VARIANT: coupling
# WHY: torch.where on a boolean mask, and the log-det as a loop over the transformed features
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
        keep = self.mask.bool()
        s_raw, t = self.net(torch.where(keep, x, torch.zeros_like(x))).chunk(2, dim=-1)
        s = torch.tanh(s_raw)
        y = torch.where(keep, x, x * s.exp() + t)
        log_det = x.new_zeros(x.shape[0])
        for d in range(x.shape[1]):
            if not keep[d]:
                log_det = log_det + s[:, d]
        return y, log_det

    def inverse(self, y):
        keep = self.mask.bool()
        s_raw, t = self.net(torch.where(keep, y, torch.zeros_like(y))).chunk(2, dim=-1)
        return torch.where(keep, y, (y - t) / torch.tanh(s_raw).exp())
