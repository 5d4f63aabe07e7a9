# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o]."""
    h, c = state
    n_h = c.size(1)
    act = torch.baddbmm(b_ih.expand(x.shape[0], 1, -1), x.unsqueeze(1), W_ih.T.expand(x.shape[0], -1, -1))
    act = act.squeeze(1) + h @ W_hh.T
    i_g = torch.sigmoid(act[:, 0 * n_h:1 * n_h])
    f_g = torch.sigmoid(act[:, 1 * n_h:2 * n_h])
    g_g = torch.tanh(act[:, 2 * n_h:3 * n_h])
    o_g = torch.sigmoid(act[:, 3 * n_h:4 * n_h])
    new_c = f_g * c + i_g * g_g
    return o_g * torch.tanh(new_c), new_c
