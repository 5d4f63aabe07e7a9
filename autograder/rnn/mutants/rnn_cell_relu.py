# MUTANT: rnn_cell
# WHY: uses a ReLU instead of tanh as the nonlinearity.
# %%
# GRADED: rnn_cell
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.relu(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
