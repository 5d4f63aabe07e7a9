# MUTANT: ssm_recurrent
# WHY: doubles the real part of the readout.
# %%
# GRADED: ssm_recurrent
import torch


def ssm_recurrent(dA, dB, C, u):
    h = torch.zeros_like(dA * dB)
    ys = []
    for k in range(u.shape[0]):
        h = dA * h + dB * u[k]
        y = (C * h).sum()
        ys.append(2 * y.real if y.is_complex() else 2 * y)
    return torch.stack(ys)
