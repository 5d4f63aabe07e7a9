# MUTANT: lstm_cell
# WHY: reads the LSTM's gates from the weights in another framework's order.
# %%
# GRADED: lstm_cell
import torch


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[-1]
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new
