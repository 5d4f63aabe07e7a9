# GRADED: lstm_cell
import torch
import torch.nn.functional as F


def _preactivations(x, h, W_ih, W_hh, b_ih, b_hh):
    return F.linear(x, W_ih, b_ih) + F.linear(h, W_hh, b_hh)


def _activate(pre):
    i, f, g, o = torch.tensor_split(pre, 4, dim=-1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    i, f, g, o = _activate(_preactivations(x, h, W_ih, W_hh, b_ih, b_hh))
    c_new = torch.addcmul(f * c, i, g)
    return o * torch.tanh(c_new), c_new
