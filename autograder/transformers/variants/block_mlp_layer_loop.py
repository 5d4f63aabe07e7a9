# VARIANT: block
# WHY: runs the MLP by iterating over the layers of the Sequential by hand, calls the attention
# with positional arguments (x, mask=None, is_causal=True, kv_cache) and unpacks its (y, cache) by
# index. Same computation as the reference. (The residual adds stay out of place: ln2 saves its
# input for backward, so `h += mlp(ln2(h))` would break autograd.)
# %%
# GRADED: block
import torch.nn as nn


class TransformerBlock(nn.Module):
    def __init__(self, d_model, n_heads, mlp_ratio=4, rope=True):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, rope=rope)  # noqa: F821 (defined in the mha cell)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, d_model * mlp_ratio),
            nn.GELU(),
            nn.Linear(d_model * mlp_ratio, d_model),
        )

    def forward(self, x, kv_cache=None):
        result = self.attn(self.ln1(x), None, True, kv_cache)  # (y, (k, v))
        h = x + result[0]  # a new tensor: the caller's x is untouched
        m = self.ln2(h)
        for layer in self.mlp:
            m = layer(m)
        h = h + m
        return h, result[1]
