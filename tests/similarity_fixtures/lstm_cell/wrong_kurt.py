# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    pre_activation = torch.matmul(x, W_ih.transpose(0, 1)) + torch.matmul(h, W_hh.transpose(0, 1)) + b_ih + b_hh
    forget, inp, cand, outp = torch.chunk(pre_activation, 4, dim=-1)
    cell = torch.sigmoid(forget) * c + torch.sigmoid(inp) * torch.tanh(cand)
    return torch.sigmoid(outp) * torch.tanh(cell), cell
