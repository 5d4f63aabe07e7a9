# MUTANT: block
# WHY: reuses the attention's layer norm before the MLP instead of its own.
# %%
# GRADED: block
import torch.nn as nn


class TransformerBlock(nn.Module):  # noqa: F821 (defined in the block cell)
    def __init__(self, d_model, n_heads, mlp_ratio=4, rope=True):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, rope=rope)  # noqa: F821 (defined in the mha cell)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, mlp_ratio * d_model), nn.GELU(), nn.Linear(mlp_ratio * d_model, d_model)
        )

    def forward(self, x, kv_cache=None):
        a, cache = self.attn(self.ln1(x), is_causal=True, kv_cache=kv_cache)  # (B, L, D)
        x = x + a
        x = x + self.mlp(self.ln1(x))
        return x, cache
