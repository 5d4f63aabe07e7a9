# GRADED: lstm_cell
import torch


def _sigmoid(z):
    return 1.0 / (1.0 + torch.exp(-z))


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o]."""
    h, c = state
    H = c.shape[1]
    a = torch.inner(x, W_ih) + torch.inner(h, W_hh) + b_ih + b_hh
    c_new = _sigmoid(a[:, H:2 * H]) * c + _sigmoid(a[:, :H]) * torch.tanh(a[:, 2 * H:3 * H])
    return _sigmoid(a[:, 3 * H:]) * torch.tanh(c_new), c_new
