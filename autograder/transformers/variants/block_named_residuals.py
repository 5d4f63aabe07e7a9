# VARIANT: block
# WHY: names every intermediate of the residual stream and adds out of place with torch.add,
# passing the arguments to the attention in another order; the same two pre-norm updates
# x = x + attn(ln1(x)) (causal, with the cache) and x = x + mlp(ln2(x)).
# %%
# GRADED: block
import torch
import torch.nn as nn


class TransformerBlock(nn.Module):
    def __init__(self, d_model, n_heads, mlp_ratio=4, rope=True):
        super().__init__()
        hidden = mlp_ratio * d_model
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, rope=rope)  # noqa: F821 (defined in the mha cell)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, hidden), nn.GELU(), nn.Linear(hidden, d_model))

    def forward(self, x, kv_cache=None):
        normed = self.ln1(x)
        attn_out, new_cache = self.attn(normed, kv_cache=kv_cache, is_causal=True)
        after_attn = torch.add(x, attn_out)
        mlp_out = self.mlp(self.ln2(after_attn))
        out = torch.add(after_attn, mlp_out)
        return out, new_cache
