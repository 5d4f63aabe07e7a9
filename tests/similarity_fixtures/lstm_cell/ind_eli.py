# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[-1]
    pre = torch.mm(x, W_ih.t()) + torch.mm(h, W_hh.t()) + b_ih + b_hh
    acts = [torch.sigmoid, torch.sigmoid, torch.tanh, torch.sigmoid]
    out = []
    for k in range(4):
        out.append(acts[k](pre[:, k * H:(k + 1) * H]))
    i, f, g, o = out
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new
