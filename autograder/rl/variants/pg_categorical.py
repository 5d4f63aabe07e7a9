# VARIANT: pg_loss
# WHY: torch.distributions.Categorical for log pi, and torch.std_mean for the standardisation.
# %%
# GRADED: pg_loss
import torch


def policy_gradient_loss(logits, actions, advantages, normalize=True):
    with torch.no_grad():
        adv = advantages.clone()
        if normalize and adv.numel() > 1:
            std, mean = torch.std_mean(adv)
            adv = (adv - mean) / (std + 1e-8)
        elif normalize:
            adv = adv - adv.mean()
    log_prob = torch.distributions.Categorical(logits=logits).log_prob(actions)
    return -(log_prob * adv).mean()
