# MUTANT: proto_logits
# WHY: a prototype is the sum of its class's support embeddings instead of their mean
# %%
# GRADED: proto_logits
import torch.nn.functional as F


def proto_logits(support_emb, support_labels, query_emb, n_way):
    onehot = F.one_hot(support_labels, n_way).to(support_emb.dtype)  # (S, N)
    prototypes = onehot.T @ support_emb
    diff = query_emb.unsqueeze(1) - prototypes.unsqueeze(0)  # (Q, N, D)
    return -(diff ** 2).sum(dim=-1)
