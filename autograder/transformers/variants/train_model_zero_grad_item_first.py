# VARIANT: train
# WHY: clears the gradients through model.zero_grad() (the optimiser holds the model's
# parameters), reads the loss value with .detach().item() before backward, and clips with
# clip_grad_norm_ called with keyword arguments (max_norm, norm_type=2). Same step.
# %%
# GRADED: train
import torch


def train_step(model, optimizer, tokens, grad_clip=1.0):
    """One optimisation step on the next-token loss of tokens (B, L); returns the loss as a float."""
    model.zero_grad(set_to_none=True)
    logits = model(tokens)[0]
    loss = lm_loss(logits, tokens)  # noqa: F821 (defined in the loss cell)
    value = loss.detach().item()
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(parameters=model.parameters(), max_norm=grad_clip, norm_type=2.0)
    optimizer.step()
    return value
