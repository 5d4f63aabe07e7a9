# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    H = W_hh.shape[1]
    i = torch.sigmoid(x @ W_ih[0:H].T + h @ W_hh[0:H].T + b_ih[0:H] + b_hh[0:H])
    f = torch.sigmoid(x @ W_ih[H:2 * H].T + h @ W_hh[H:2 * H].T + b_ih[H:2 * H] + b_hh[H:2 * H])
    g = torch.tanh(x @ W_ih[2 * H:3 * H].T + h @ W_hh[2 * H:3 * H].T + b_ih[2 * H:3 * H] + b_hh[2 * H:3 * H])
    o = torch.sigmoid(x @ W_ih[3 * H:4 * H].T + h @ W_hh[3 * H:4 * H].T + b_ih[3 * H:4 * H] + b_hh[3 * H:4 * H])
    c2 = f * c + i * g
    return o * torch.tanh(c2), c2
