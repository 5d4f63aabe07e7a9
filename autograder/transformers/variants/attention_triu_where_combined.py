# VARIANT: attention
# WHY: builds the FORBIDDEN causal positions with torch.triu(ones, diagonal=S - L + 1) (the
# complement of the lower-right tril), ORs them with the complement of a boolean mask, and applies a
# single torch.where to -inf; the scores are divided by sqrt(E) computed as a tensor in the
# scores' dtype, with Tensor.matmul instead of the @ operator.
# %%
# GRADED: attention
import torch


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    """softmax(q k^T / sqrt(E) + mask) v, with an optional lower-right-aligned causal mask."""
    L, S, E = q.shape[-2], k.shape[-2], q.shape[-1]
    scale = torch.tensor(float(E), dtype=q.dtype, device=q.device).sqrt()
    scores = q.matmul(k.transpose(-1, -2)) / scale  # (..., L, S)
    blocked = None
    if is_causal:
        blocked = torch.ones(L, S, dtype=torch.bool, device=q.device).triu(diagonal=S - L + 1)  # j > i + S - L
    if mask is not None:
        if mask.dtype == torch.bool:
            blocked = ~mask if blocked is None else blocked | ~mask
        else:
            scores = scores + mask
    if blocked is not None:
        scores = torch.where(blocked, torch.full_like(scores, float("-inf")), scores)
    weights = softmax(scores, dim=-1)  # noqa: F821 (defined in the softmax cell)
    return weights.matmul(v)
