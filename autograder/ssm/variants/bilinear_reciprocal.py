# VARIANT: discretize_bilinear
# WHY: computes the inverse (1 - dt A / 2)^-1 once with torch.reciprocal and multiplies.
# %%
# GRADED: discretize_bilinear
import torch


def discretize_bilinear(A, B, dt):
    inv = torch.reciprocal(1 - A * (dt / 2))
    return (1 + A * (dt / 2)) * inv, inv * B * dt
