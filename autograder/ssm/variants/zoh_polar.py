# VARIANT: discretize_zoh
# WHY: builds exp(dt A) for complex A by hand from its modulus and angle (torch.polar), and the
# real case with exp; dB from (dA - 1) / A.
# %%
# GRADED: discretize_zoh
import torch


def discretize_zoh(A, B, dt):
    if A.is_complex():
        dA = torch.polar(torch.exp(dt * A.real), dt * A.imag)
    else:
        dA = torch.exp(A * dt)
    return dA, B * (dA - 1) / A
