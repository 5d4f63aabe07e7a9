# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """LSTM cell, gates in the order input, forget, cell, output."""
    hidden, cell = state
    size = hidden.shape[1]
    pre = x @ W_ih.T + b_ih + hidden @ W_hh.T + b_hh  # all four gates at once
    in_g = torch.sigmoid(pre[:, :size])
    forget_g = torch.sigmoid(pre[:, size:2 * size])
    cand = torch.tanh(pre[:, 2 * size:3 * size])
    out_g = torch.sigmoid(pre[:, 3 * size:])
    new_cell = forget_g * cell + in_g * cand
    new_hidden = out_g * torch.tanh(new_cell)
    return new_hidden, new_cell
