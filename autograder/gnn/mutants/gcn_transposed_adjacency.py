# MUTANT: gcn
# WHY: the layer multiplies by the transpose of adj_norm: messages travel against the edges
# %%
# GRADED: gcn
import torch
import torch.nn as nn


class GCNLayer(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=False)
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_features))
        else:
            self.register_parameter("bias", None)

    def forward(self, x, adj_norm):
        out = adj_norm.T @ self.linear(x)
        return out if self.bias is None else out + self.bias
