# MUTANT: prompt_tuning
# WHY: puts the learned prompt after the sequence instead of before it.
# %%
# GRADED: prompt_tuning
import torch


def prepend_prompt(embeds, attention_mask, labels, prompt):
    batch, n = embeds.shape[0], prompt.shape[0]
    virtual = prompt.to(embeds.dtype).unsqueeze(0).expand(batch, -1, -1)
    embeds = torch.cat([embeds, virtual], dim=1)
    attention_mask = torch.cat([attention_mask, attention_mask.new_ones(batch, n)], dim=1)
    labels = torch.cat([labels, labels.new_full((batch, n), -100)], dim=1)
    return embeds, attention_mask, labels
