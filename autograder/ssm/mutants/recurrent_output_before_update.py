# MUTANT: ssm_recurrent
# WHY: reads the output before updating the state, so it lags one step behind.
# %%
# GRADED: ssm_recurrent
import torch


def ssm_recurrent(dA, dB, C, u):
    h = torch.zeros_like(dA * dB)
    ys = []
    for k in range(u.shape[0]):
        y = (C * h).sum()
        ys.append(y.real if y.is_complex() else y)
        h = dA * h + dB * u[k]
    return torch.stack(ys)
