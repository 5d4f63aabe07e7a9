# MUTANT: fft_conv
# WHY: pads a little too short, so the last term of the convolution wraps onto the first output.
# %%
# GRADED: fft_conv
import torch


def fft_conv(u, K):
    L = u.shape[-1]
    n = max(2 * L - 2, L)
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n), n=n)[..., :L]
