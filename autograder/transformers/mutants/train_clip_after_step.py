# MUTANT: train
# WHY: clips the gradients after the optimizer step, when it no longer changes anything.
# DIAGNOSE: no
# %%
# GRADED: train
import torch


def train_step(model, optimizer, tokens, grad_clip=1.0):
    optimizer.zero_grad(set_to_none=True)
    logits, _ = model(tokens)  # (B, L, V)
    loss = lm_loss(logits, tokens)  # noqa: F821 (defined in the loss cell)
    loss.backward()
    optimizer.step()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    return loss.item()
