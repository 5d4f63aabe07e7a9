# MUTANT: gat
# WHY: the softmax is normalised over the edges leaving each source instead of the edges arriving at each target
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
        N = x.shape[0]
        loops = torch.arange(N, device=x.device)
        edges = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
        src, dst = edges[0], edges[1]
        h = self.linear(x)
        s = (h * self.att_src).sum(-1)[src]
        d = (h * self.att_dst).sum(-1)[dst]
        e = F.leaky_relu(s + d, self.negative_slope)
        grp = src
        e_max = e.new_full((N,), float("-inf")).scatter_reduce(0, grp, e, reduce="amax")
        w = torch.exp(e - e_max[grp].detach())
        alpha = w / w.new_zeros(N).index_add(0, grp, w)[grp]
        return propagate(h, edges, alpha, reduce="sum"), alpha  # noqa: F821 (the propagate cell)
