# MUTANT: train
# WHY: dropout stays on in evaluation mode
# %%
# GRADED: train
import torch.nn as nn
import torch.nn.functional as F


class GCN(nn.Module):
    def __init__(self, in_features, hidden_features, num_classes, dropout=0.5):
        super().__init__()
        self.conv1 = GCNLayer(in_features, hidden_features)  # noqa: F821 (the gcn cell)
        self.conv2 = GCNLayer(hidden_features, num_classes)  # noqa: F821 (the gcn cell)
        self.dropout = dropout

    def forward(self, x, adj_norm):
        h = F.relu(self.conv1(x, adj_norm))
        h = F.dropout(h, self.dropout, training=True)
        return self.conv2(h, adj_norm)


def train_step(model, optimizer, x, adj_norm, y, train_mask):
    model.train()
    optimizer.zero_grad()
    logits = model(x, adj_norm)
    loss = F.cross_entropy(logits[train_mask], y[train_mask])
    loss.backward()
    optimizer.step()
    return loss.item()
