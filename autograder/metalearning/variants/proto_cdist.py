# VARIANT: proto_logits
# WHY: prototypes by a loop over classes, distances with torch.cdist squared.
# %%
# GRADED: proto_logits
import torch


def proto_logits(support_emb, support_labels, query_emb, n_way):
    prototypes = torch.stack([support_emb[support_labels == c].mean(dim=0) for c in range(n_way)])  # (N, D)
    return -torch.cdist(query_emb, prototypes) ** 2
