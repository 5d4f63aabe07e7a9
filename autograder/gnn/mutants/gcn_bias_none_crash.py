# MUTANT: gcn
# WHY: the layer always adds self.bias, which fails when the layer has no bias
# CORNER: bias=False
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
        return adj_norm @ self.linear(x) + self.bias
