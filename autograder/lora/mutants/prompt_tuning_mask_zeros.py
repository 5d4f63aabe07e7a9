# MUTANT: prompt_tuning
# WHY: marks the prompt positions as padding in the attention mask.
# %%
# GRADED: prompt_tuning
import torch


def prepend_prompt(embeds, attention_mask, labels, prompt):
    batch, n = embeds.shape[0], prompt.shape[0]
    virtual = prompt.to(embeds.dtype).unsqueeze(0).expand(batch, -1, -1)
    embeds = torch.cat([virtual, embeds], dim=1)
    attention_mask = torch.cat([attention_mask.new_zeros(batch, n), attention_mask], dim=1)
    labels = torch.cat([labels.new_full((batch, n), -100), labels], dim=1)
    return embeds, attention_mask, labels
