# MUTANT: gcn
# WHY: the bias is added before the propagation, so it is mixed over the neighbours instead of added once per node
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
        h = self.linear(x)
        if self.bias is not None:
            h = h + self.bias
        return adj_norm @ h
