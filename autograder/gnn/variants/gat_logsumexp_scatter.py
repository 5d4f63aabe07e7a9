# VARIANT: gat
# the per-target log-sum-exp: alpha = exp(e - logsumexp_i), the max by index_reduce, propagate by name
# %%
# GRADED: gat
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class GATLayer(nn.Module):
    def __init__(self, in_features, out_features, negative_slope=0.2):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        bound = math.sqrt(6.0 / (out_features + 1))
        self.att_src = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        self.att_dst = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        self.negative_slope = negative_slope

    def forward(self, x, edge_index):

        n = x.shape[0]
        loops = torch.arange(n, device=x.device)
        edges = torch.cat([edge_index, loops.repeat(2, 1)], dim=1)
        src, dst = edges
        h = self.linear(x)
        a_src = h @ self.att_src
        a_dst = h @ self.att_dst
        e = F.leaky_relu(a_src[src] + a_dst[dst], negative_slope=self.negative_slope)
        m = torch.zeros(n, dtype=e.dtype, device=e.device).index_reduce(0, dst, e, "amax", include_self=False)
        lse = m + torch.log(torch.zeros_like(m).index_add(0, dst, torch.exp(e - m[dst])))
        alpha = torch.exp(e - lse[dst])
        return propagate(h, edges, edge_weight=alpha), alpha  # noqa: F821 (the propagate cell)
