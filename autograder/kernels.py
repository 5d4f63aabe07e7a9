"""The ATen operators behind each forbidden API: what ``policy`` refuses at the dispatcher.

A forbidden function or class is guarded as a Python object (``policy``), but the computation it
stands for is one operator of torch's dispatcher, reachable by many other Python routes:
``torch._VF``, ``torch.ops.aten`` (with a name built at run time), ``torch._C._VariableFunctions``,
the C base class of ``torch.Tensor`` (``super(torch.Tensor, x).softmax(0)``), a fused optimizer
kernel. Every one of them ends in the dispatcher, so that is where they are refused: a Python kernel
is registered for these operators under a dispatch key (``KEY``) that no tensor carries and that the
grader switches on while a question's forbidden APIs are refused; it applies the caller rule and
hands the call on with the key excluded.

Only operators specific to an API are listed: ``aten::add`` stands behind ``torch.add`` but also
behind ``a + b``, so a forbidden ``torch.add`` has no kernel here. A manifest may name operators
itself (``forbidden = ["aten::_softmax"]``).
"""

from __future__ import annotations

import functools

# An autocast key for out-of-tree backends: above autograd (composite operators such as lstm_cell are
# seen before they decompose), with no kernel of torch's own, never carried by a tensor, excluded
# unless switched on: ops without a kernel here fall through at no cost.
KEY = "AutocastPrivateUse1"
AUTOCAST_DEVICE = "privateuseone"  # the device type whose autocast toggles KEY (guarded in the child)

SOFTMAX = ("softmax", "_softmax", "special_softmax", "_safe_softmax", "_masked_softmax")
LOG_SOFTMAX = ("log_softmax", "_log_softmax", "special_log_softmax")
LOGSUMEXP = ("logsumexp", "special_logsumexp")
NLL = ("nll_loss", "nll_loss_nd", "nll_loss_forward", "nll_loss2d", "nll_loss2d_forward")
CONV = ("convolution", "_convolution", "_convolution_mode", "convolution_overrideable", "mkldnn_convolution",
        "cudnn_convolution", "cudnn_convolution_relu", "cudnn_convolution_add_relu", "miopen_convolution",
        "miopen_convolution_relu", "miopen_convolution_add_relu", "miopen_depthwise_convolution",
        "_nnpack_spatial_convolution", "_slow_conv2d_forward", "slow_conv3d", "slow_conv3d_forward",
        "slow_conv_dilated2d", "slow_conv_dilated3d", "_conv_depthwise2d", "conv_depthwise3d", "_mps_convolution",
        "thnn_conv2d", "conv_tbc")
CONV_TRANSPOSE = ("cudnn_convolution_transpose", "miopen_convolution_transpose", "_mps_convolution_transpose",
                  "slow_conv_transpose2d", "slow_conv_transpose3d")
SDPA = ("scaled_dot_product_attention", "_scaled_dot_product_attention_math", "_scaled_dot_product_flash_attention",
        "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_efficient_attention",
        "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_fused_attention_overrideable",
        "_scaled_dot_product_attention_math_for_mps", "_flash_attention_forward", "_efficient_attention_forward",
        "_cudnn_attention_forward", "_triton_scaled_dot_attention")
MHA = ("_native_multi_head_attention", "_triton_multi_head_attention")
RNN_LAYERS = ("_cudnn_rnn", "miopen_rnn", "mkldnn_rnn_layer", "_lstm_mps")
LSTM_CELL = ("lstm_cell", "_thnn_fused_lstm_cell", "quantized_lstm_cell")
GRU_CELL = ("gru_cell", "_thnn_fused_gru_cell", "quantized_gru_cell")
RNN_CELL = ("rnn_tanh_cell", "rnn_relu_cell", "quantized_rnn_tanh_cell", "quantized_rnn_relu_cell")
LSTM = ("lstm", "quantized_lstm", *LSTM_CELL, *RNN_LAYERS)
GRU = ("gru", "quantized_gru", *GRU_CELL, *RNN_LAYERS)
RNN = ("rnn_tanh", "rnn_relu", *RNN_CELL, *RNN_LAYERS)
FUSED_SGD, FUSED_ADAM, FUSED_ADAMW = ("_fused_sgd_", "_fused_sgd"), ("_fused_adam_", "_fused_adam"), \
    ("_fused_adamw_", "_fused_adamw")
MATRIX_EXP = ("linalg_matrix_exp", "matrix_exp")
EIGH = ("linalg_eigh", "_linalg_eigh", "linalg_eigvalsh")
EIG = ("linalg_eig", "linalg_eigvals", "_linalg_eigvals")
SVD = ("linalg_svd", "_linalg_svd", "svd", "linalg_svdvals")


def _same(ops: tuple[str, ...], *apis: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(apis, ops)


# API (as manifests write it) -> operators (without the ``aten::`` prefix; every overload of each)
API_KERNELS: dict[str, tuple[str, ...]] = {
    **_same(SOFTMAX, "torch.softmax", "torch.Tensor.softmax", "torch.nn.functional.softmax", "torch.special.softmax",
            "torch._softmax", "torch.nn.Softmax"),
    **_same(LOG_SOFTMAX, "torch.log_softmax", "torch.Tensor.log_softmax", "torch.nn.functional.log_softmax",
            "torch.special.log_softmax", "torch._log_softmax", "torch.nn.LogSoftmax"),
    **_same(LOGSUMEXP, "torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp"),
    **_same(("cross_entropy_loss", *NLL), "torch.nn.functional.cross_entropy", "torch.nn.CrossEntropyLoss"),
    **_same(NLL, "torch.nn.functional.nll_loss", "torch.nn.NLLLoss"),
    **_same(("conv1d", *CONV), "torch.nn.functional.conv1d", "torch.conv1d", "torch.nn.Conv1d"),
    **_same(("conv2d", *CONV), "torch.nn.functional.conv2d", "torch.conv2d", "torch.nn.Conv2d"),
    **_same(("conv3d", *CONV), "torch.nn.functional.conv3d", "torch.conv3d", "torch.nn.Conv3d"),
    **_same(("conv_transpose1d", *CONV, *CONV_TRANSPOSE), "torch.nn.functional.conv_transpose1d",
            "torch.conv_transpose1d", "torch.nn.ConvTranspose1d"),
    **_same(("conv_transpose2d", *CONV, *CONV_TRANSPOSE), "torch.nn.functional.conv_transpose2d",
            "torch.conv_transpose2d", "torch.nn.ConvTranspose2d"),
    **_same(("conv_transpose3d", *CONV, *CONV_TRANSPOSE), "torch.nn.functional.conv_transpose3d",
            "torch.conv_transpose3d", "torch.nn.ConvTranspose3d"),
    **_same(CONV, "torch.convolution", "torch._convolution", "torch._convolution_mode", "torch.mkldnn_convolution",
            "torch.cudnn_convolution", "torch.miopen_convolution", "torch._nnpack_spatial_convolution"),
    "torch.conv_tbc": ("conv_tbc",),
    "torch.nn.functional.scaled_dot_product_attention": SDPA,
    **_same(MHA, "torch.nn.MultiheadAttention", "torch.nn.functional.multi_head_attention_forward"),
    "torch.nn.TransformerEncoderLayer": ("_transformer_encoder_layer_fwd", *MHA),
    "torch.nn.TransformerDecoderLayer": MHA,
    "torch.nn.LSTM": LSTM, "torch.nn.LSTMCell": LSTM_CELL, "torch.nn.GRU": GRU, "torch.nn.GRUCell": GRU_CELL,
    "torch.nn.RNN": RNN, "torch.nn.RNNCell": RNN_CELL,
    "torch.nn.RNNBase": tuple(dict.fromkeys(LSTM + GRU + RNN)),
    "torch.nn.RNNCellBase": LSTM_CELL + GRU_CELL + RNN_CELL,
    **_same(FUSED_SGD, "torch.optim.SGD", "torch.optim.sgd", "torch._fused_sgd_"),
    **_same(FUSED_ADAM, "torch.optim.Adam", "torch.optim.adam", "torch._fused_adam_"),
    **_same(FUSED_ADAMW + FUSED_ADAM, "torch.optim.AdamW", "torch.optim.adamw", "torch._fused_adamw_"),
    "torch.optim._functional": FUSED_SGD + FUSED_ADAM + FUSED_ADAMW + ("_fused_adagrad_", "_fused_adagrad"),
    **_same(MATRIX_EXP, "torch.linalg.matrix_exp", "torch.matrix_exp", "torch.Tensor.matrix_exp"),
    **_same(EIGH, "torch.linalg.eigh", "torch.linalg.eigvalsh"),
    **_same(EIG, "torch.linalg.eig", "torch.linalg.eigvals"),
    **_same(SVD, "torch.linalg.svd", "torch.svd", "torch.Tensor.svd", "torch.linalg.svdvals"),
}

# API -> further Python objects that compute it below the named function (guarded like it)
API_OBJECTS: dict[str, tuple[str, ...]] = {
    "numpy.convolve": ("numpy._core.multiarray.correlate", "numpy.core.multiarray.correlate"),
    "numpy.correlate": ("numpy._core.multiarray.correlate2", "numpy.core.multiarray.correlate2"),
}


def operators(apis) -> dict[str, str]:
    """``aten::<op>`` -> the API it stands behind, for the APIs of one question."""
    out: dict[str, str] = {}
    for api in apis:
        if api.startswith("aten::"):
            out.setdefault(api, api)
        for op in API_KERNELS.get(api, ()):
            out.setdefault(f"aten::{op}", api)
    return out


@functools.cache
def _all_op_names() -> frozenset[str]:
    import torch

    return frozenset(torch._C._dispatch_get_all_op_names())


@functools.cache
def _overload_index() -> dict[str, tuple[str, ...]]:
    """``name`` -> its overloads as ``name.overload`` (``name`` for the default), for every ``aten::`` op; built
    once per process (every test's forbid window asks, and a scan of all operators takes milliseconds)."""
    index: dict[str, list[str]] = {}
    for full in _all_op_names():
        if full.startswith("aten::"):
            base, _, overload = full.removeprefix("aten::").partition(".")
            index.setdefault(base, []).append(f"{base}.{overload}" if overload else base)
    return {base: tuple(sorted(names)) for base, names in index.items()}


def overloads(op: str) -> list[str]:
    """Every registered overload of ``aten::<op>`` as ``name.overload`` (``name`` for the default)."""
    return list(_overload_index().get(op.removeprefix("aten::"), ()))
