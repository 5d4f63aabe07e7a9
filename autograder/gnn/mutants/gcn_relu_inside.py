# MUTANT: gcn
# WHY: the layer applies a ReLU, which belongs to the network between layers, not to the layer
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
        out = adj_norm @ self.linear(x)
        if self.bias is not None:
            out = out + self.bias
        return torch.relu(out)
