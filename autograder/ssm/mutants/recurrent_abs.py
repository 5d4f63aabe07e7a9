# MUTANT: ssm_recurrent
# WHY: outputs the magnitude of the complex readout instead of its real part.
# %%
# GRADED: ssm_recurrent
import torch


def ssm_recurrent(dA, dB, C, u):
    h = torch.zeros_like(dA * dB)
    ys = []
    for k in range(u.shape[0]):
        h = dA * h + dB * u[k]
        ys.append((C * h).sum().abs())
    return torch.stack(ys)
