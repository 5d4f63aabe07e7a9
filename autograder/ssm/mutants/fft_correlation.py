# MUTANT: fft_conv
# WHY: conjugates the kernel's spectrum, computing a correlation instead of a convolution.
# %%
# GRADED: fft_conv
import torch


def fft_conv(u, K):
    L = u.shape[-1]
    n = 2 * L
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n).conj(), n=n)[..., :L]
