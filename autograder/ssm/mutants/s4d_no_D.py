# MUTANT: s4d
# WHY: leaves out the skip connection from the input to the output.
# %%
# GRADED: s4d
import math

import torch
import torch.nn as nn


class S4DLayer(nn.Module):
    def __init__(self, d_model, d_state=64, dt_min=1e-3, dt_max=1e-1):
        super().__init__()
        H, N2 = d_model, d_state // 2
        log_dt = torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self.log_dt = nn.Parameter(log_dt)
        self.A_re_log = nn.Parameter(torch.log(0.5 * torch.ones(H, N2)))
        self.A_im = nn.Parameter(math.pi * torch.arange(N2, dtype=torch.float32).repeat(H, 1))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(H, N2, dtype=torch.cfloat) * 0.5 ** 0.5))
        self.D = nn.Parameter(torch.randn(H))

    def kernel(self, L):
        dt = torch.exp(self.log_dt)
        A = torch.complex(-torch.exp(self.A_re_log), self.A_im)
        C = torch.view_as_complex(self.C)
        dtA = A * dt.unsqueeze(-1)
        C_bar = C * (torch.exp(dtA) - 1) / A
        powers = torch.exp(dtA.unsqueeze(-1) * torch.arange(L, device=A.device))
        return 2 * torch.einsum("hn,hnl->hl", C_bar, powers).real

    def forward(self, u):
        L = u.shape[-1]
        K = self.kernel(L)
        n = 2 * L
        y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n), n=n)[..., :L]
        return y
