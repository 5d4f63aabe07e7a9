# MUTANT: loss
# WHY: always skips the default padding label, whatever ignore label it is given.
# %%
# GRADED: loss
import torch


def lm_loss(logits, tokens, ignore_index=-100):
    if logits.dim() != 3 or tokens.shape != logits.shape[:2]:
        raise ValueError(f"expected logits (B, L, V) and tokens (B, L), got {tuple(logits.shape)} "
                         f"and {tuple(tokens.shape)}")
    z = logits[:, :-1, :]  # (B, L-1, V): predictions for positions 1 .. L-1
    z = z.to(torch.promote_types(z.dtype, torch.float32))  # log-sum-exp in at least float32
    target = tokens[:, 1:]  # (B, L-1)
    valid = target != -100  # (B, L-1)
    z = z - z.amax(dim=-1, keepdim=True).detach()  # shifted logits: max is 0
    log_norm = torch.log(torch.exp(z).sum(dim=-1))  # (B, L-1), log-sum-exp of the shifted logits
    picked = z.gather(-1, target.masked_fill(~valid, 0).unsqueeze(-1)).squeeze(-1)  # (B, L-1)
    nll = torch.where(valid, log_norm - picked, torch.zeros_like(log_norm))  # -log p(target)
    return nll.sum() / valid.sum()
