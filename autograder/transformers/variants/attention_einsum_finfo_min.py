# VARIANT: attention
# WHY: scales q by 1/sqrt(E) BEFORE the product, computes scores and output with torch.einsum,
# merges the causal mask and a boolean mask into one "allowed" boolean, and fills the forbidden
# scores with torch.finfo(dtype).min instead of -inf (masked_fill). exp(finfo.min - max) is exactly
# 0, so wherever a row has at least one allowed key the result is the same as with -inf.
# %%
# GRADED: attention
import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    """softmax(q k^T / sqrt(E) + mask) v, with an optional lower-right-aligned causal mask."""
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    scores = torch.einsum("...le,...se->...ls", q * (1.0 / math.sqrt(E)), k)  # (..., L, S)
    allowed = None
    if is_causal:
        rows = torch.arange(L, device=q.device).view(L, 1) + (S - L)  # absolute position of query i
        cols = torch.arange(S, device=q.device).view(1, S)
        allowed = cols <= rows  # (L, S), lower-right aligned
    if mask is not None and mask.dtype == torch.bool:
        allowed = mask if allowed is None else allowed & mask  # both must allow
    elif mask is not None:
        scores = scores + mask  # additive float mask
    if allowed is not None:
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    weights = softmax(scores, dim=-1)  # noqa: F821 (defined in the softmax cell)
    return torch.einsum("...ls,...sv->...lv", weights, v)  # (..., L, Ev)
