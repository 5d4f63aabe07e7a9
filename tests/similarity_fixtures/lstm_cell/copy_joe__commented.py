# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    # unpack the previous state
    h, c = state
    # pre-activations of the four gates, (N, 4H)
    gates = (W_ih @ x.T + W_hh @ h.T).T + b_ih + b_hh
    H = gates.shape[1] // 4  # hidden size
    # gates
    i_t = torch.sigmoid(gates[:, 0:H])  # input
    f_t = torch.sigmoid(gates[:, H:2 * H])  # forget
    g_t = torch.tanh(gates[:, 2 * H:3 * H])  # candidate
    o_t = torch.sigmoid(gates[:, 3 * H:4 * H])  # output
    # new cell and hidden state
    c_t = f_t * c + i_t * g_t
    h_t = o_t * torch.tanh(c_t)
    return h_t, c_t
