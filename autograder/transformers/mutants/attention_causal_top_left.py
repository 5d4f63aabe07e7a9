# MUTANT: attention
# WHY: aligns the causal mask to the first key instead of the last, which is wrong when there are more keys than
#   queries.
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
        scores = torch.where(j <= i, scores, neg_inf)  # lower-right aligned
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = torch.where(mask, scores, neg_inf)  # True = may attend
        else:
            scores = scores + mask  # additive mask
    weights = softmax(scores, dim=-1)  # noqa: F821 (defined in the softmax cell)
    return weights @ v  # (..., L, Ev)
