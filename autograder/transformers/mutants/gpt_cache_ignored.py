# MUTANT: gpt
# WHY: never passes the cache to the blocks, so positions restart at zero and the context is lost.
# %%
# GRADED: gpt
import torch.nn as nn


class TinyGPT(nn.Module):
    def __init__(self, vocab_size, d_model=64, n_heads=4, n_layers=2):
        super().__init__()
        self.vocab_size = vocab_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList([TransformerBlock(d_model, n_heads) for _ in range(n_layers)])  # noqa: F821 (defined in the block cell)
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx, kv_cache=None):
        if kv_cache is not None and len(kv_cache) != len(self.blocks):
            raise ValueError(f"kv_cache has {len(kv_cache)} entries, the model has {len(self.blocks)} blocks")
        x = self.tok_emb(idx)  # (B, L, D)
        caches = []
        for block in self.blocks:
            x, cache = block(x)
            caches.append(cache)
        return self.head(self.ln_f(x)), caches  # (B, L, V)
