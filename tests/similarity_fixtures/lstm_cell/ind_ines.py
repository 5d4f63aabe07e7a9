# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    H = h.shape[1]
    z = torch.matmul(x, W_ih.T) + b_ih + torch.matmul(h, W_hh.T) + b_hh
    sig = torch.sigmoid(torch.cat((z[:, :2 * H], z[:, 3 * H:]), dim=1))
    i, f, o = sig[:, :H], sig[:, H:2 * H], sig[:, 2 * H:]
    g = torch.tanh(z[:, 2 * H:3 * H])
    c_next = f * c + i * g
    return o * torch.tanh(c_next), c_next
