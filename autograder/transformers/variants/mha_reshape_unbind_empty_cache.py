# VARIANT: mha
# WHY: projects with F.linear on the module's own parameters, reshapes the fused output once to
# (B, L, 3, nh, hd) and unbinds q, k, v after one permute (the same [q | k | v] / contiguous-heads
# layout), starts from an EMPTY past cache (size 0 along dim 2) so that it always concatenates,
# and merges heads with transpose + contiguous + view. Results are the reference's.
# %%
# GRADED: mha
import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, rope=False, rope_base=10000.0, bias=True):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"n_heads={n_heads} does not divide d_model={d_model}")
        if rope and (d_model // n_heads) % 2 == 1:
            raise ValueError("RoPE rotates pairs: the head dimension must be even")
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.rope, self.rope_base = rope, rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, is_causal=False, kv_cache=None):
        B, L, D = x.shape
        nh, hd = self.n_heads, self.head_dim
        fused = F.linear(x, self.qkv.weight, self.qkv.bias)  # (B, L, 3D)
        q, k, v = fused.reshape(B, L, 3, nh, hd).permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, nh, L, hd)
        if kv_cache is None:
            empty = x.new_zeros(B, nh, 0, hd)
            kv_cache = (empty, empty)
        past_k, past_v = kv_cache
        start = past_k.size(2)
        if self.rope:
            positions = torch.arange(start, start + L, device=x.device)
            q = apply_rope(q, positions, self.rope_base)  # noqa: F821 (defined in the rope cell)
            k = apply_rope(k, positions, self.rope_base)  # noqa: F821 (defined in the rope cell)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        y = scaled_dot_product_attention(q, k, v, mask, is_causal)  # noqa: F821 (defined in the attention cell)
        y = y.transpose(1, 2).contiguous().view(B, L, D)
        return F.linear(y, self.proj.weight, self.proj.bias), (k, v)
