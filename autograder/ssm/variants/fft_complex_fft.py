# VARIANT: fft_conv
# WHY: the full complex FFT (torch.fft.fft / ifft) on signals zero-padded by hand with F.pad,
# then the real part of the first L outputs.
# %%
# GRADED: fft_conv
import torch
import torch.nn.functional as F


def fft_conv(u, K):
    L = u.shape[-1]
    up, Kp = F.pad(u, (0, L)), F.pad(K, (0, L))
    return torch.fft.ifft(torch.fft.fft(up) * torch.fft.fft(Kp)).real[..., :L]
