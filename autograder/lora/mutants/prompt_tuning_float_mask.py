# MUTANT: prompt_tuning
# WHY: builds the prompt's attention mask entries as floats, changing the mask's type.
# %%
# GRADED: prompt_tuning
import torch


def prepend_prompt(embeds, attention_mask, labels, prompt):
    batch, n = embeds.shape[0], prompt.shape[0]
    virtual = prompt.to(embeds.dtype).unsqueeze(0).expand(batch, -1, -1)
    embeds = torch.cat([virtual, embeds], dim=1)
    attention_mask = torch.cat([torch.ones(batch, n, device=attention_mask.device), attention_mask], dim=1)
    labels = torch.cat([labels.new_full((batch, n), -100), labels], dim=1)
    return embeds, attention_mask, labels
