# VARIANT: train
# WHY: slices x_proj's output by hand instead of split, writes softplus as logaddexp(0, x), and
# negates with torch.neg.
# %%
# GRADED: train
import math

import torch
import torch.nn as nn


class SelectiveSSM(nn.Module):
    def __init__(self, d_model, d_state=16, dt_rank=None):
        super().__init__()
        self.d_model, self.d_state = d_model, d_state
        self.dt_rank = dt_rank if dt_rank is not None else math.ceil(d_model / 16)
        self.x_proj = nn.Linear(d_model, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, d_model)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(d_model, 1))
        self.D = nn.Parameter(torch.ones(d_model))

    def forward(self, u):
        z = self.x_proj(u)
        r, n = self.dt_rank, self.d_state
        pre = self.dt_proj(z[..., :r])
        delta = torch.logaddexp(torch.zeros_like(pre), pre)
        return selective_scan(u, delta, torch.neg(self.A_log.exp()), z[..., r:r + n], z[..., r + n:], self.D)  # noqa: F821 (the selective_scan cell)
