# MUTANT: pg_loss
# WHY: log pi is computed as the log of a softmax, which overflows for large logits
# CORNER: logits of size 1000
# %%
# GRADED: pg_loss
import torch


def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages.detach()
    if normalize:
        std = adv.std() if adv.numel() > 1 else torch.ones((), dtype=adv.dtype, device=adv.device)
        adv = (adv - adv.mean()) / (std + 1e-8)
    chosen = torch.log(logits.exp() / logits.exp().sum(-1, keepdim=True)).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * adv).mean()
