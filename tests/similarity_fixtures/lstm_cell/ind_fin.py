# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    N, H = h.shape
    gates = torch.addmm(b_ih, x, W_ih.t()) + torch.addmm(b_hh, h, W_hh.t())
    gates = gates.view(N, 4, H)
    i = gates[:, 0].sigmoid()
    f = gates[:, 1].sigmoid()
    g = gates[:, 2].tanh()
    o = gates[:, 3].sigmoid()
    c_out = f * c + i * g
    h_out = o * c_out.tanh()
    return (h_out, c_out)
