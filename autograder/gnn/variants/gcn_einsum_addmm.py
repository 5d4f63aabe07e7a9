# VARIANT: gcn
# einsum with the weight matrix itself, the bias through torch.addmm
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

        h = torch.einsum("nf,of->no", x, self.linear.weight)
        if self.bias is None:
            return torch.einsum("ij,jo->io", adj_norm, h)
        return torch.addmm(self.bias.expand(adj_norm.shape[0], -1), adj_norm, h)
