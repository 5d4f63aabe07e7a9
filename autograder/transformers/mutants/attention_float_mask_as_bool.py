# MUTANT: attention
# WHY: treats an additive (float) mask as a yes/no mask instead of adding it to the scores.
# %%
# GRADED: attention
import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    L, S, E = q.size(-2), k.size(-2), q.size(-1)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(E)  # (..., L, S)
    neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
    if is_causal:
        i = torch.arange(L, device=q.device).unsqueeze(1)  # (L, 1)
        j = torch.arange(S, device=q.device).unsqueeze(0)  # (1, S)
        scores = torch.where(j <= i + (S - L), scores, neg_inf)  # lower-right aligned
    if mask is not None:
        scores = torch.where(mask != 0, scores, neg_inf)
    weights = softmax(scores, dim=-1)  # noqa: F821 (defined in the softmax cell)
    return weights @ v  # (..., L, Ev)
