# MUTANT: rnn_cell
# WHY: ReLU instead of tanh (nn.RNNCell's default nonlinearity is tanh)
# %%
# GRADED: rnn_cell
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.relu(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
