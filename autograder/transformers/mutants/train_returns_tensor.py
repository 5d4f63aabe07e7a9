# MUTANT: train
# WHY: returns the loss as a tensor instead of a plain number.
# %%
# GRADED: train
import torch


def train_step(model, optimizer, tokens, grad_clip=1.0):
    optimizer.zero_grad(set_to_none=True)
    logits, _ = model(tokens)  # (B, L, V)
    loss = lm_loss(logits, tokens)  # noqa: F821 (defined in the loss cell)
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach()
