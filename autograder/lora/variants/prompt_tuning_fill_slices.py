# VARIANT: prompt_tuning
# WHY: allocates the outputs and fills slices (prompt by broadcasting), repeat-free
# %%
# GRADED: prompt_tuning
import torch


def prepend_prompt(embeds, attention_mask, labels, prompt):
    B, L, D = embeds.shape
    n = len(prompt)
    out = embeds.new_empty(B, n + L, D)
    out[:, :n] = prompt
    out[:, n:] = embeds
    mask = torch.ones(B, n + L, dtype=attention_mask.dtype, device=attention_mask.device)
    mask[:, n:] = attention_mask
    new_labels = torch.full((B, n + L), -100, dtype=labels.dtype, device=labels.device)
    new_labels[:, n:] = labels
    return out, mask, new_labels
