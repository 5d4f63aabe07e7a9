# MUTANT: fft_conv
# WHY: keeps the last part of the padded result instead of the first.
# %%
# GRADED: fft_conv
import torch


def fft_conv(u, K):
    L = u.shape[-1]
    n = 2 * L
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n), n=n)[..., L:]
