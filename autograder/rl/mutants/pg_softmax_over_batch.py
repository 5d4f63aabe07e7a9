# MUTANT: pg_loss
# WHY: the log-softmax runs over the batch axis instead of the action axis
# %%
# GRADED: pg_loss
import torch


def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages.detach()
    if normalize:
        std = adv.std() if adv.numel() > 1 else torch.ones((), dtype=adv.dtype, device=adv.device)
        adv = (adv - adv.mean()) / (std + 1e-8)
    chosen = logits.log_softmax(dim=0).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * adv).mean()
