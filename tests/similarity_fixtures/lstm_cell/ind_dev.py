# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    H = W_hh.shape[1]

    def gate(k, act):
        rows = slice(k * H, (k + 1) * H)
        return act(x @ W_ih[rows].T + h @ W_hh[rows].T + b_ih[rows] + b_hh[rows])

    i = gate(0, torch.sigmoid)
    f = gate(1, torch.sigmoid)
    g = gate(2, torch.tanh)
    o = gate(3, torch.sigmoid)
    c2 = f * c + i * g
    return o * torch.tanh(c2), c2
