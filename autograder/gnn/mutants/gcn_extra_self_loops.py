# MUTANT: gcn
# WHY: self-loops are added again inside the layer, although adj_norm already holds them
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
        eye = torch.eye(adj_norm.shape[0], dtype=adj_norm.dtype, device=adj_norm.device)
        out = (adj_norm + eye) @ self.linear(x)
        return out if self.bias is None else out + self.bias
