# VARIANT: train
# F.dropout with keyword names, log_softmax + nll_loss on the indices of the labelled nodes, model.zero_grad()
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
        hidden = F.relu(self.conv1(x, adj_norm))
        hidden = F.dropout(input=hidden, p=self.dropout, training=self.training)
        out = self.conv2(hidden, adj_norm)
        return out


def train_step(model, optimizer, x, adj_norm, y, train_mask):
    model.train()
    model.zero_grad()
    idx = torch.nonzero(train_mask, as_tuple=True)[0]
    logp = F.log_softmax(model(x, adj_norm), dim=-1)
    loss = F.nll_loss(logp[idx], y[idx])
    loss.backward()
    optimizer.step()
    return loss.item()
