# VARIANT: train
# dropout before the ReLU (the same mask gives the same numbers), reduction='none' then a masked mean,
# zero_grad(set_to_none=False)
# %%
# GRADED: train
import torch
import torch.nn as nn
import torch.nn.functional as F


class GCN(nn.Module):
    def __init__(self, in_features, hidden_features, num_classes, dropout=0.5):
        super().__init__()
        self.conv1 = GCNLayer(in_features, hidden_features)  # noqa: F821 (the gcn cell)
        self.conv2 = GCNLayer(hidden_features, num_classes)  # noqa: F821 (the gcn cell)
        self.dropout = dropout

    def forward(self, x, adj_norm):
        h = self.conv1(x, adj_norm)
        h = torch.relu(F.dropout(h, p=self.dropout, training=self.training))
        return self.conv2(h, adj_norm)


def train_step(model, optimizer, x, adj_norm, y, train_mask):
    model.train(True)
    optimizer.zero_grad(set_to_none=False)
    per_node = F.cross_entropy(model(x, adj_norm), y, reduction="none")  # (N,)
    loss = per_node[train_mask].sum() / train_mask.sum()
    loss.backward()
    optimizer.step()
    return float(loss.detach())
