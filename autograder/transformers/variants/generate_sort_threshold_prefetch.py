# VARIANT: generate
# WHY: decorated with @torch.no_grad() instead of a with-block; the cached loop is restructured:
# the prompt is run once before the loop and each new token is fed right after it is drawn (except
# after the last), so the model calls are the same (prompt, then one token with the cache). The
# k-th largest logit comes from torch.sort (descending) instead of torch.topk and the filter is
# torch.where(logits >= kth, logits, -inf); greedy uses torch.argmax(...).unsqueeze(-1).
# %%
# GRADED: generate
import torch


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, use_cache=True, generator=None):
    """Append max_new_tokens sampled tokens to idx (B, L); returns (B, L + max_new_tokens)."""
    if temperature < 0:
        raise ValueError("temperature must be non-negative")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be at least 1")

    def pick(last_logits):
        last_logits = last_logits.float()  # (B, V)
        if temperature == 0:
            return torch.argmax(last_logits, dim=-1).unsqueeze(-1)
        last_logits = last_logits / temperature
        if top_k is not None:
            k = min(top_k, last_logits.shape[-1])
            kth = torch.sort(last_logits, dim=-1, descending=True).values[:, k - 1 : k]  # (B, 1)
            last_logits = torch.where(last_logits >= kth, last_logits, torch.full_like(last_logits, float("-inf")))
        probs = softmax(last_logits, dim=-1)  # noqa: F821 (defined in the softmax cell)
        return torch.multinomial(probs, num_samples=1, generator=generator)

    out = idx
    if max_new_tokens <= 0:
        return out
    if use_cache:
        logits, cache = model(out)
        for step in range(max_new_tokens):
            nxt = pick(logits[:, -1, :])
            out = torch.cat((out, nxt), dim=1)
            if step + 1 < max_new_tokens:
                logits, cache = model(nxt, kv_cache=cache)  # nxt is (B, 1): the newest token
    else:
        for _ in range(max_new_tokens):
            logits, _ = model(out)
            out = torch.cat((out, pick(logits[:, -1, :])), dim=1)
    return out
