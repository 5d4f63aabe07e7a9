# VARIANT: attention
# WHY: turns every mask into one additive float bias: the causal part is built with
# torch.ones(L, S, dtype=bool).tril(S - L) (lower-right alignment as a diagonal offset) and a boolean
# mask becomes 0 / -inf; the bias is then added to the scores. Scales by multiplying with E ** -0.5
# and uses torch.matmul with k.mT. Same scores, same -inf entries as the reference.
# %%
# GRADED: attention
import torch


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    """softmax(q k^T / sqrt(E) + mask) v, with an optional lower-right-aligned causal mask."""
    L, S, E = q.size(-2), k.size(-2), q.size(-1)
    scores = torch.matmul(q, k.mT) * E**-0.5  # (..., L, S)

    def as_bias(allowed):
        zeros = torch.zeros(allowed.shape, dtype=scores.dtype, device=scores.device)
        return zeros.masked_fill(~allowed, float("-inf"))

    if is_causal:
        keep = torch.ones(L, S, dtype=torch.bool, device=q.device).tril(diagonal=S - L)  # j <= i + S - L
        scores = scores + as_bias(keep)
    if mask is not None:
        scores = scores + (as_bias(mask) if mask.dtype == torch.bool else mask)
    return torch.matmul(softmax(scores, dim=-1), v)  # noqa: F821 (defined in the softmax cell)
