# MUTANT: gat
# WHY: the softmax runs over all edges of the graph instead of over the incoming edges of each target
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
        e = F.leaky_relu((h * self.att_src).sum(-1)[src] + (h * self.att_dst).sum(-1)[dst], self.negative_slope)
        alpha = torch.softmax(e, dim=0)
        return propagate(h, edges, alpha, reduce="sum"), alpha  # noqa: F821 (the propagate cell)
