"""The LoRA assignment's base model: it loads, it is the file its script writes, and the script is deterministic."""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
from pathlib import Path

import pytest
import torch

from shared.tinygpt import VOCAB, WEIGHTS, CharGPT, TinyGPTConfig, finetune_task, load_tinygpt, restyle, state_digest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("train_lora_base", ROOT / "scripts" / "train_lora_base.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_weights_are_small_and_load():
    assert WEIGHTS.is_file() and WEIGHTS.stat().st_size < 5_000_000
    model, tok = load_tinygpt()
    assert not model.training and tok.vocab_size == len(VOCAB) == model.cfg.vocab_size
    logits = model(tok.encode("def f(x):\n    return x").unsqueeze(0))
    assert logits.shape == (1, 22, len(VOCAB)) and torch.isfinite(logits).all()


def test_shipped_file_is_what_the_script_wrote():
    """the recorded digest matches the tensors, and the recorded run used the script's defaults"""
    ckpt = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    assert state_digest(ckpt["state_dict"]) == ckpt["meta"]["digest"]
    script = _script()
    for key, value in script.DEFAULTS.items():
        assert ckpt["meta"][key] == value, f"the shipped weights were trained with {key}={ckpt['meta'][key]}"
    assert ckpt["config"] == TinyGPTConfig().__dict__


def test_weights_ship_with_the_package():
    """By folder: every file under shared/ is package data (the weights, and whatever data comes later)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "**/*" in data.get("shared", [])


def test_the_base_model_knows_python():
    """pre-trained: below the uniform guess even on the restyled task"""
    import torch.nn.functional as F

    model, _ = load_tinygpt()
    x, y = finetune_task(32, 64, seed=0, split="val")
    with torch.no_grad():
        task = F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
    assert task < torch.log(torch.tensor(float(len(VOCAB)))).item()
    assert restyle("def my_f(x): pass") == "def_my f(x):_pass"


def test_causal_and_embeds_route():
    torch.manual_seed(0)
    model = CharGPT(TinyGPTConfig(block_size=12, d_model=16, n_heads=2, n_layers=2)).eval()
    idx = torch.randint(0, len(VOCAB), (2, 10))
    other = idx.clone()
    other[:, 6:] = torch.randint(0, len(VOCAB), (2, 4))
    a, b = model(idx), model(other)
    torch.testing.assert_close(a[:, :6], b[:, :6])  # the future does not leak
    torch.testing.assert_close(model(embeds=model.embed(idx)), a)
    mask = torch.ones_like(idx)
    mask[:, 3] = 0  # a masked key: later positions ignore what is there
    c = model(idx, attention_mask=mask)
    idx2 = idx.clone()
    idx2[:, 3] = (idx[:, 3] + 1) % len(VOCAB)
    torch.testing.assert_close(model(idx2, attention_mask=mask)[:, 4:], c[:, 4:])


def test_script_is_deterministic(tmp_path):
    """two tiny runs of the training script give bit-for-bit the same weights (about 10 s)"""
    script = _script()
    digests = []
    threads = torch.get_num_threads()
    try:
        for i in range(2):
            out = tmp_path / f"run{i}.pt"
            script.main(["--steps", "6", "--batch", "4", "--seq", "32", "--max-chars", "20000",
                         "--d-model", "16", "--n-layers", "1", "--out", str(out)])
            digests.append(torch.load(out, weights_only=True)["meta"]["digest"])
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(False)
    assert digests[0] == digests[1]


@pytest.mark.skipif(os.environ.get("LORA_FULL_REPRO") != "1",
                    reason="the full rerun takes 30 s to minutes: set LORA_FULL_REPRO=1 to check the shipped weights")
def test_full_rerun_reproduces_the_shipped_weights(tmp_path):
    """bit for bit on the same torch version and kind of CPU; on another kind of CPU (other kernels,
    other rounding) the same validation loss to 1e-2 and every weight within 0.05"""
    out = tmp_path / "rerun.pt"
    _script().main(["--out", str(out)])
    shipped, rerun = torch.load(WEIGHTS, weights_only=True), torch.load(out, weights_only=True)
    if rerun["meta"]["torch"] != shipped["meta"]["torch"]:
        pytest.skip(f"weights were trained with torch {shipped['meta']['torch']}, this is {rerun['meta']['torch']}")
    if shipped["meta"].get("cpu") == rerun["meta"]["cpu"]:
        assert rerun["meta"]["digest"] == shipped["meta"]["digest"], sys.version
        return
    assert abs(rerun["meta"]["val_loss"] - shipped["meta"]["val_loss"]) < 1e-2
    worst = max(float((rerun["state_dict"][k] - w).abs().max()) for k, w in shipped["state_dict"].items())
    assert worst < 0.05, worst
