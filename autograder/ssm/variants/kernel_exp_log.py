# VARIANT: ssm_kernel
# WHY: dA^l computed as exp(l log dA) in complex arithmetic (also for real dA, through a complex
# cast), summed with einsum.
# %%
# GRADED: ssm_kernel
import torch


def ssm_kernel(dA, dB, C, L):
    real_in = not (dA.is_complex() or dB.is_complex() or C.is_complex())
    ctype = torch.complex128 if torch.float64 in (dA.dtype, dB.dtype, C.dtype) or \
        torch.complex128 in (dA.dtype, dB.dtype, C.dtype) else torch.complex64
    logs = torch.log(dA.to(ctype))  # (N,)
    l = torch.arange(L, device=dA.device).to(ctype)  # noqa: E741
    K = torch.einsum("n,nl->l", (C * dB).to(ctype), torch.exp(logs[:, None] * l[None, :])).real
    return K if not real_in else K.to(torch.promote_types(dA.dtype, C.dtype))
