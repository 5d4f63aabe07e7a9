# MUTANT: block
# WHY: normalises after each residual addition instead of before each sublayer.
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
        a, cache = self.attn(x, is_causal=True, kv_cache=kv_cache)  # (B, L, D)
        x = self.ln1(x + a)
        x = self.ln2(x + self.mlp(x))
        return x, cache
