"""Runs of VAE Lens's own trainer as PyTorch modules: ``load_checkpoint(run_dir)``.

The trainer (src/train/model.ts) stores dense layers as ``<name>/w`` ([in, out]) and ``<name>/b``,
little-endian float32 in base64, in ``checkpoints/latest.json`` (src/train/checkpoint.ts); the spec
snapshot ``spec.vae.json`` says the architecture. Layers are built through LAYER_BUILDERS and
activations through ACTIVATIONS, so a new layer kind is one entry in each table.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Tuple

import numpy as np
import torch
from torch import nn

from ._jsonc import loads as load_jsonc
from ._guards import forked_rngs
from .errors import VaeLensInputError

#: The spec's activations (src/core/specSchema.ts ACTIVATIONS) and what tfjs computes for each.
ACTIVATIONS: Dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "linear": nn.Identity,
}

Variables = Mapping[str, torch.Tensor]
LayerBuilder = Callable[[Mapping[str, Any], str, Variables], nn.Module]


def _dense(layer: Mapping[str, Any], name: str, variables: Variables) -> nn.Module:
    """tfjs's dense y = x W + b with W stored [in, out]; torch's Linear holds W^T."""
    w, b = _variable(variables, f"{name}/w"), _variable(variables, f"{name}/b")
    if w.dim() != 2 or b.shape != (w.shape[1],):
        raise VaeLensInputError(f"checkpoint layer {name}: w {tuple(w.shape)} and b {tuple(b.shape)} are not a dense layer")
    lin = nn.Linear(w.shape[0], w.shape[1])
    with torch.no_grad():
        lin.weight.copy_(w.t())
        lin.bias.copy_(b)
    return lin


#: Layer kinds of the spec. Today's specs have `hidden: [widths]` (dense layers); other kinds plug in here.
LAYER_BUILDERS: Dict[str, LayerBuilder] = {"dense": _dense}


def _variable(variables: Variables, name: str) -> torch.Tensor:
    if name not in variables:
        raise VaeLensInputError(f"the checkpoint has no variable {name!r} (it has {sorted(variables)[:12]}...)")
    return variables[name]


def _stack(prefix: str, net: Mapping[str, Any], variables: Variables) -> nn.Sequential:
    activation = str(net.get("activation", "relu"))
    if activation not in ACTIVATIONS:
        raise VaeLensInputError(f"activation {activation!r} has no PyTorch counterpart here (known: {sorted(ACTIVATIONS)})")
    layers: List[nn.Module] = []
    for i, width in enumerate(net.get("hidden", [64, 64])):
        spec = width if isinstance(width, Mapping) else {"kind": "dense", "units": int(width)}
        kind = str(spec.get("kind", "dense"))
        if kind not in LAYER_BUILDERS:
            raise VaeLensInputError(f"layer kind {kind!r} is not supported by load_checkpoint (known: {sorted(LAYER_BUILDERS)})")
        layers.append(LAYER_BUILDERS[kind](spec, f"{prefix}{i}", variables))
        layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class LensVae(nn.Module):
    """The Gaussian VAE of VAE Lens's trainer, in PyTorch: the same parameters, the same maps.

    ``encode(x) -> (nu, log t^2)``, ``decode(z) -> (mu, log s^2)`` (log s^2 per point for VAE-3, else
    the stored [1] or [D] parameter), ``prior_variance() -> a^2`` (ones unless VAE-2).
    """

    def __init__(self, spec_model: Mapping[str, Any], variables: Variables) -> None:
        super().__init__()
        self.model_type = str(spec_model.get("type", "VAE-1"))
        self.encoder = _stack("enc", spec_model.get("encoder", {}), variables)
        self.encoder_mean = _dense({}, "enc_mean", variables)
        self.encoder_log_var = _dense({}, "enc_logvar", variables)
        self.decoder = _stack("dec", spec_model.get("decoder", {}), variables)
        self.decoder_mean = _dense({}, "dec_mean", variables)
        self.decoder_log_var = _dense({}, "dec_logvar", variables) if self.model_type == "VAE-3" else None
        learn_s2 = self.model_type not in ("VAE-0", "VAE-3") and spec_model.get("varianceUpdate", "gradient") == "gradient"
        self.log_s2 = nn.Parameter(_variable(variables, "log_s2").clone(), requires_grad=learn_s2) if self.model_type != "VAE-3" else None
        self.log_a2 = nn.Parameter(_variable(variables, "log_a2").clone()) if self.model_type == "VAE-2" else None

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x.flatten(1))
        return self.encoder_mean(h), self.encoder_log_var(h)

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.decoder(z)
        mu = self.decoder_mean(h)
        if self.decoder_log_var is not None:
            return mu, self.decoder_log_var(h)
        assert self.log_s2 is not None
        return mu, self.log_s2

    def prior_variance(self) -> torch.Tensor:
        if self.log_a2 is None:
            return torch.ones(self.encoder_mean.out_features)
        return self.log_a2.detach().exp()


@dataclass
class LoadedRun:
    model: LensVae
    #: The spec snapshot, parsed (comments allowed).
    spec: Dict[str, Any]
    meta: Dict[str, Any]
    epoch: int
    step: int
    run_dir: str

    @property
    def fixed_variance(self) -> bool:
        return self.model.model_type == "VAE-0"

    def diagnostics_kwargs(self) -> Dict[str, Any]:
        """The Diagnostics arguments that describe this model (prior, fixed variance)."""
        out: Dict[str, Any] = {"fixed_variance": self.fixed_variance, "modules": [self.model]}
        if self.model.log_a2 is not None:
            out["prior_variance"] = self.model.prior_variance
        return out


def _whole_numbers(values: Any, what: str) -> List[int]:
    """A JSON list of whole numbers, 0 or more (3.7, "1" or -1 are damage, not something to round)."""
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise VaeLensInputError(f"{what} must be whole numbers, 0 or more; got {values!r:.60}")
    return [int(v) for v in values]


def _decode_tensor(stored: Mapping[str, Any], name: str) -> torch.Tensor:
    try:
        # Line breaks are fine (base64.encodebytes writes them); any other character outside the
        # alphabet is damage, which b64decode would otherwise skip without a word.
        raw = base64.b64decode("".join(str(stored["data"]).split()), validate=True)
        shape = _whole_numbers(stored["shape"], f"the shape of checkpoint variable {name!r}")
    except (KeyError, TypeError, ValueError) as e:
        raise VaeLensInputError(f"checkpoint variable {name!r} is malformed: {e}") from None
    if len(raw) % 4:
        raise VaeLensInputError(f"checkpoint variable {name!r} holds {len(raw)} bytes, not whole float32 numbers: the file is damaged")
    values = np.frombuffer(raw, dtype="<f4")
    if values.size != int(np.prod(shape)):
        raise VaeLensInputError(f"checkpoint variable {name!r} has {values.size} values for shape {shape}")
    return torch.from_numpy(values.reshape(shape).astype(np.float32))


class _UsedVariables(Dict[str, torch.Tensor]):
    """The checkpoint's variables, remembering which ones the network built from the spec took."""

    def __init__(self, values: Mapping[str, torch.Tensor]) -> None:
        super().__init__(values)
        self.used: set = set()

    def __getitem__(self, name: str) -> torch.Tensor:
        self.used.add(name)
        return super().__getitem__(name)


def load_checkpoint(run_dir: str, checkpoint: str = "latest.json") -> LoadedRun:
    """Rebuild a run of VAE Lens's own trainer (its spec snapshot and checkpoint) as a PyTorch module.

    Raises VaeLensInputError, naming the file, when the run folder is not one VAE Lens wrote or
    its files disagree; the global random generators are left as they were.
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise VaeLensInputError(f"load_checkpoint(run_dir) takes the path of a run folder, got {type(run_dir).__name__}")
    run_dir = os.fspath(run_dir)
    try:
        return _load_checkpoint(run_dir, checkpoint)
    except VaeLensInputError:
        raise
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as e:
        # Files made elsewhere: a list where an object belongs, a folder where a file does, a null field.
        raise VaeLensInputError(f"cannot load the run {run_dir}: its files are not as VAE Lens writes them ({type(e).__name__}: {e})") from None


def _load_checkpoint(run_dir: str, checkpoint: str) -> LoadedRun:
    cp_path = os.path.join(run_dir, "checkpoints", checkpoint)
    spec_path = os.path.join(run_dir, "spec.vae.json")
    for p in (cp_path, spec_path):
        if not os.path.exists(p):
            raise VaeLensInputError(f"{run_dir} is not a run of VAE Lens's trainer with a checkpoint: {p} is missing")
    try:
        with open(cp_path, encoding="utf-8-sig") as f:
            cp = json.load(f)
        with open(spec_path, encoding="utf-8-sig") as f:
            spec = load_jsonc(f.read())
    except ValueError as e:
        raise VaeLensInputError(f"cannot read {cp_path} or {spec_path}: {e}") from None
    if cp.get("version") != 1 or not isinstance(cp.get("variables"), dict):
        raise VaeLensInputError(f"{cp_path} is not a VAE Lens checkpoint (version 1)")
    variables = _UsedVariables({name: _decode_tensor(v, name) for name, v in cp["variables"].items()})
    model_spec = dict(spec.get("model", {}))
    if model_spec.get("type", "VAE-1") != cp.get("modelType"):
        raise VaeLensInputError(f"{spec_path} says {model_spec.get('type', 'VAE-1')} but the checkpoint holds {cp.get('modelType')}")
    # Building the layers draws their initial weights (then replaced): not from the user's generators.
    with forked_rngs():
        model = LensVae(model_spec, variables)
    unused = sorted(set(variables) - variables.used)
    if unused:
        raise VaeLensInputError(f"{cp_path} holds variables that the network of {spec_path} does not have ({', '.join(unused[:6])}): "
                                "the spec snapshot and the checkpoint disagree")
    meta_path = os.path.join(run_dir, "run.json")
    meta: Dict[str, Any] = {}
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8-sig") as f:
            meta = json.load(f)
    epoch, step = _whole_numbers([cp.get("epoch", 0), cp.get("step", 0)], f"{cp_path}: epoch and step")
    return LoadedRun(model=model.eval(), spec=spec, meta=meta, epoch=epoch, step=step,
                     run_dir=run_dir)


__all__ = ["ACTIVATIONS", "LAYER_BUILDERS", "LensVae", "LoadedRun", "load_checkpoint"]
