# MUTANT: proto_logits
# WHY: a prototype is the first support embedding of its class instead of the mean of all of them
# %%
# GRADED: proto_logits
import torch


def proto_logits(support_emb, support_labels, query_emb, n_way):
    prototypes = torch.stack([support_emb[support_labels == c][0] for c in range(n_way)])
    diff = query_emb.unsqueeze(1) - prototypes.unsqueeze(0)  # (Q, N, D)
    return -(diff ** 2).sum(dim=-1)
