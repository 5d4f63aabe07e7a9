# MUTANT: proto_logits
# WHY: the squared norm of the query is dropped from the expanded distance, so logits are not minus squared distances
# %%
# GRADED: proto_logits
import torch.nn.functional as F


def proto_logits(support_emb, support_labels, query_emb, n_way):
    onehot = F.one_hot(support_labels, n_way).to(support_emb.dtype)  # (S, N)
    prototypes = onehot.T @ support_emb / onehot.sum(dim=0).unsqueeze(-1)
    return 2 * query_emb @ prototypes.T - (prototypes ** 2).sum(dim=-1)
