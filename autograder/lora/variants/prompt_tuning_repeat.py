# VARIANT: prompt_tuning
# WHY: prompt.repeat over the batch, F.pad for the mask and labels
# %%
# GRADED: prompt_tuning
import torch
import torch.nn.functional as F


def prepend_prompt(embeds, attention_mask, labels, prompt):
    n = prompt.size(0)
    virtual = prompt[None].repeat(embeds.size(0), 1, 1)
    return (torch.cat((virtual, embeds), 1),
            F.pad(attention_mask, (n, 0), value=1),
            F.pad(labels, (n, 0), value=-100))
