# MUTANT: train
# WHY: never clears the gradients, so each step adds to the previous ones.
# %%
# GRADED: train
import torch


def train_step(model, optimizer, tokens, grad_clip=1.0):
    logits, _ = model(tokens)  # (B, L, V)
    loss = lm_loss(logits, tokens)  # noqa: F821 (defined in the loss cell)
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.item()
