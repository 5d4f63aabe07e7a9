# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    xh = torch.cat([x, h], dim=1)
    W = torch.cat([W_ih, W_hh], dim=1)
    bias = b_ih + b_hh
    projected = xh @ W.T
    gates = projected + bias
    batch = gates.shape[0]
    per_gate = gates.reshape(batch, 4, -1)
    i, f, g, o = per_gate.unbind(dim=1)
    i_act = torch.sigmoid(i)
    f_act = torch.sigmoid(f)
    g_act = torch.tanh(g)
    o_act = torch.sigmoid(o)
    keep = f_act * c
    write = i_act * g_act
    c = keep + write
    squashed = torch.tanh(c)
    h = o_act * squashed
    return h, c
