# MUTANT: mha
# WHY: rotates with the default base instead of the one it was given.
# %%
# GRADED: mha
import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):  # noqa: F821 (defined in the mha cell)
    def __init__(self, d_model, n_heads, rope=False, rope_base=10000.0, bias=True):
        super().__init__()
        # Raise ValueError if d_model % n_heads != 0, or if rope and the head dimension is odd.
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        if rope and (d_model // n_heads) % 2 != 0:
            raise ValueError(f"RoPE needs an even head dimension, got {d_model // n_heads}")
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.rope, self.rope_base = rope, rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, is_causal=False, kv_cache=None):
        B, L, D = x.shape
        nh, hd = self.n_heads, self.head_dim
        q, k, v = self.qkv(x).split(D, dim=-1)  # (B, L, D) each
        q = q.view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        k = k.view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        v = v.view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        s_past = 0 if kv_cache is None else kv_cache[0].size(2)
        if self.rope:
            positions = torch.arange(s_past, s_past + L, device=x.device)  # (L,)
            q = apply_rope(q, positions)  # noqa: F821 (defined in the rope cell)
            k = apply_rope(k, positions)  # noqa: F821 (defined in the rope cell)
        if kv_cache is not None:
            k = torch.cat([kv_cache[0], k], dim=2)  # (B, nh, S, hd)
            v = torch.cat([kv_cache[1], v], dim=2)  # (B, nh, S, hd)
        y = scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal)  # noqa: F821 (defined in the attention cell)
        y = y.transpose(1, 2).reshape(B, L, D)  # (B, L, D), heads side by side
        return self.proj(y), (k, v)
