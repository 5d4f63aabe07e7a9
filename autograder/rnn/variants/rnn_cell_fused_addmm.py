# VARIANT: rnn_cell
# WHY: one fused matrix product: [x | h] @ [W_ih | W_hh]^T with the two biases summed first, through
# torch.addmm. Equal to x W_ih^T + b_ih + h W_hh^T + b_hh in exact arithmetic.
# %%
# GRADED: rnn_cell
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    xh = torch.cat([x, h], dim=1)  # (N, I + H)
    W = torch.cat([W_ih, W_hh], dim=1)  # (H, I + H)
    return torch.addmm(b_ih + b_hh, xh, W.t()).tanh()
