# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    size = h.shape[1]
    y = torch.nn.functional.linear(torch.hstack([x, h]), torch.hstack([W_ih, W_hh]), b_ih + b_hh)
    i = y[:, :size].sigmoid()
    f = y[:, size:2 * size].sigmoid()
    g = y[:, 2 * size:3 * size].tanh()
    o = y[:, 3 * size:].sigmoid()
    c = f * c + i * g
    return o * c, c
