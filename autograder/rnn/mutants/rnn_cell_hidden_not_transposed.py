# MUTANT: rnn_cell
# WHY: h @ W_hh instead of h @ W_hh.T (no shape error: W_hh is square)
# %%
# GRADED: rnn_cell
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh + b_hh)
