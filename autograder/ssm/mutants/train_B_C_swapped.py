# MUTANT: train
# WHY: reads the input and output projections from the features in swapped order.
# %%
# GRADED: train
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


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
        delta_low, C, B = self.x_proj(u).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(delta_low))
        A = -torch.exp(self.A_log)
        return selective_scan(u, delta, A, B, C, self.D)  # noqa: F821 (the selective_scan cell)
