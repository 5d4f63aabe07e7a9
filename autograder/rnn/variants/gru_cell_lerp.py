# VARIANT: gru_cell
# WHY: chunk(3) on the two projections and torch.lerp for the interpolation: lerp(n, h, z) = n + z (h - n)
# = (1 - z) n + z h.
# %%
# GRADED: gru_cell
import torch
import torch.nn.functional as F


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    i_r, i_z, i_n = F.linear(x, W_ih, b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = F.linear(h, W_hh, b_hh).chunk(3, dim=1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return torch.lerp(n, h, z)
