# MUTANT: pg_loss
# WHY: the advantages keep their gradient, so the loss also pushes on the critic and rewards
# %%
# GRADED: pg_loss
import torch


def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages
    if normalize:
        std = adv.std() if adv.numel() > 1 else torch.ones((), dtype=adv.dtype, device=adv.device)
        adv = (adv - adv.mean()) / (std + 1e-8)
    chosen = logits.log_softmax(dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * adv).mean()
