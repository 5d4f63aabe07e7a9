# MUTANT: proto_logits
# WHY: the prototypes average query embeddings instead of support embeddings
# %%
# GRADED: proto_logits
import torch.nn.functional as F


def proto_logits(support_emb, support_labels, query_emb, n_way):
    onehot = F.one_hot(support_labels, n_way).to(support_emb.dtype)  # (S, N)
    prototypes = onehot.T @ query_emb / onehot.sum(dim=0).unsqueeze(-1)
    diff = query_emb.unsqueeze(1) - prototypes.unsqueeze(0)  # (Q, N, D)
    return -(diff ** 2).sum(dim=-1)
