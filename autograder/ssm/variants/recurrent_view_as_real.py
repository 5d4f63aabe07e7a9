# VARIANT: ssm_recurrent
# WHY: the output is computed as Re(C) Re(h) - Im(C) Im(h) (the real part of the product by hand),
# and the outputs are written into a preallocated tensor.
# %%
# GRADED: ssm_recurrent
import torch


def ssm_recurrent(dA, dB, C, u):
    L = u.shape[0]
    h = 0 * dA * dB
    y = u.new_zeros(L)
    for k in range(L):
        h = h * dA + u[k] * dB
        if h.is_complex() or C.is_complex():
            hc, cc = h + 0j, C + 0j
            value = (cc.real * hc.real - cc.imag * hc.imag).sum().reshape(1)
            y = y.index_put((torch.tensor([k], device=u.device),), value)
        else:
            y = y.index_put((torch.tensor([k], device=u.device),), (C * h).sum().reshape(1))
    return y
