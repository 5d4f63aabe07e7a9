# MUTANT: generate
# WHY: applies the temperature after the softmax, where it has no effect.
# %%
# GRADED: generate
import torch


def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, use_cache=True, generator=None):
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    with torch.no_grad():
        cache = None
        for _ in range(max_new_tokens):
            if not use_cache:
                logits, _ = model(idx)  # (B, T, V): the whole sequence every time
            elif cache is None:
                logits, cache = model(idx)  # the prompt, once
            else:
                logits, cache = model(idx[:, -1:], kv_cache=cache)  # (B, 1, V): only the newest token
            logits = logits[:, -1, :].float()  # (B, V)
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                if top_k is not None:
                    v = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]  # (B, 1), k-th largest
                    logits[logits < v] = float("-inf")
                probs = softmax(logits, dim=-1) / temperature  # noqa: F821 (defined in the softmax cell)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
    return idx
