# MUTANT: ssm_recurrent
# WHY: feeds the previous input into the state instead of the current one.
# DIAGNOSE: no
# %%
# GRADED: ssm_recurrent
import torch


def ssm_recurrent(dA, dB, C, u):
    h = torch.zeros_like(dA * dB)
    ys = []
    for k in range(u.shape[0]):
        h = dA * h + dB * (u[k - 1] if k > 0 else 0.0)
        y = (C * h).sum()
        ys.append(y.real if y.is_complex() else y)
    return torch.stack(ys)
