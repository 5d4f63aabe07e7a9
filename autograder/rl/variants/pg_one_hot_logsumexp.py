# VARIANT: pg_loss
# WHY: log pi as the chosen logit minus logsumexp, picked with a one-hot mask; the variance via var().sqrt().
# %%
# GRADED: pg_loss
import torch


def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages.detach().reshape(-1)
    if normalize:
        spread = adv.var().sqrt() if adv.numel() > 1 else adv.new_tensor(1.0)
        adv = (adv - adv.mean()) / (spread + 1e-8)
    one_hot = torch.nn.functional.one_hot(actions, logits.shape[-1]).to(logits.dtype)
    log_pi = (logits * one_hot).sum(-1) - torch.logsumexp(logits, dim=-1)
    return -(log_pi.reshape(-1) * adv).sum() / adv.numel()
