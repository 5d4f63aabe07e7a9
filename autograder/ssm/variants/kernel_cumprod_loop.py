# VARIANT: ssm_kernel
# WHY: builds the powers of dA step by step in a Python loop (p = p * dA), then a matrix-vector
# product with C dB; the real part taken with torch.real only for complex tensors.
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    p = torch.ones_like(dA)
    cols = []
    for _ in range(L):
        cols.append(p)
        p = p * dA
    V = torch.stack(cols, dim=0)  # (L, N): Vandermonde matrix
    K = V @ (C * dB)
    return torch.real(K) if K.is_complex() else K
