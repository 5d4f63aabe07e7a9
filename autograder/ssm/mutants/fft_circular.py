# MUTANT: fft_conv
# WHY: convolves without zero padding, so late inputs wrap around to the start.
# %%
# GRADED: fft_conv
import torch


def fft_conv(u, K):
    L = u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u) * torch.fft.rfft(K), n=L)
