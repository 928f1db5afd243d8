"""Runs of VAE Lens's own trainer as PyTorch modules: ``load_checkpoint(run_dir)``.

The trainer (src/train/model.ts) stores each layer with weights as ``<name>/w`` (dense [in, out],
conv2d [k, k, in, out], conv2dTranspose [k, k, out, in]) and ``<name>/b``,
little-endian float32 in base64, in ``checkpoints/latest.json`` (src/train/checkpoint.ts); the spec
snapshot ``spec.vae.json`` says the architecture and run.json the images' shape. Layers are built through LAYER_BUILDERS and
activations through ACTIVATIONS, so a new layer kind is one entry in each table.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._jsonc import loads as load_jsonc
from ._guards import forked_rngs
from .diagnostics import _given_device
from .errors import VaeLensInputError

#: The spec's activations (src/core/layers.ts ACTIVATIONS) and what tfjs computes for each.
ACTIVATIONS: Dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "leakyRelu": lambda: nn.LeakyReLU(0.2),
    # The trainer's GELU is the tanh form (src/train/layers.ts).
    "gelu": lambda: nn.GELU(approximate="tanh"),
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "linear": nn.Identity,
}

Variables = Mapping[str, torch.Tensor]
Shape = Tuple[int, ...]
#: (layer as the spec writes it, checkpoint name, variables, input shape) -> (module, output shape).
#: Shapes are per example as the trainer has them: (D,) flat, (height, width, channels) images.
LayerBuilder = Callable[[Mapping[str, Any], str, Variables, Shape], Tuple[nn.Module, Shape]]


def _dense(layer: Mapping[str, Any], name: str, variables: Variables, shape: Shape = ()) -> Tuple[nn.Module, Shape]:
    """tfjs's dense y = x W + b with W stored [in, out]; torch's Linear holds W^T."""
    w, b = _variable(variables, f"{name}/w"), _variable(variables, f"{name}/b")
    if w.dim() != 2 or b.shape != (w.shape[1],) or (shape and shape != (w.shape[0],)):
        raise VaeLensInputError(f"checkpoint layer {name}: w {tuple(w.shape)} and b {tuple(b.shape)} are not a dense layer"
                                + (f" on an input of shape {shape}: the spec snapshot and the checkpoint disagree" if shape else ""))
    # In the checkpoint's dtype and on its device, not torch's defaults (which a script may have set to float64 or float16,
    # or to CUDA tensors), as the layers made from its tensors are.
    lin = nn.Linear(w.shape[0], w.shape[1], dtype=w.dtype, device=w.device)
    with torch.no_grad():
        lin.weight.copy_(w.t())
        lin.bias.copy_(b)
    return lin, (int(w.shape[1]),)


class _Conv(nn.Module):
    """tfjs's conv2d or conv2dTranspose on NHWC images, with its padding: "same" pads
    (out - 1) * stride + kernel - in in all, the odd one after, as TensorFlow does (torch's
    padding="same" pads the other side and takes no stride)."""

    def __init__(self, transposed: bool, w: torch.Tensor, b: torch.Tensor, stride: int, padding: str,
                 input_hw: Tuple[int, int], output_hw: Tuple[int, int]) -> None:
        super().__init__()
        # conv2d filters are stored [k, k, in, out], conv2dTranspose's [k, k, out, in]: torch wants
        # [out, in, k, k] and [in, out, k, k], one permutation for both.
        self.weight = nn.Parameter(w.permute(3, 2, 0, 1).contiguous())
        self.bias = nn.Parameter(b.clone())
        self.transposed, self.stride, self.padding = transposed, stride, padding
        self.input_hw, self.output_hw = input_hw, output_hw

    def _before(self, i: int) -> int:
        """Padding before the rows (i = 0) or columns (i = 1); 0 for "valid"."""
        if self.padding != "same":
            return 0
        k, s = int(self.weight.shape[2 + i]), self.stride
        small, large = (self.input_hw[i], self.output_hw[i]) if self.transposed else (self.output_hw[i], self.input_hw[i])
        return max((small - 1) * s + k - large, 0) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.permute(0, 3, 1, 2)
        (oh, ow), top, left = self.output_hw, self._before(0), self._before(1)
        if not self.transposed:
            if self.padding == "same":
                k = self.weight.shape[2:]
                rows = max((oh - 1) * self.stride + int(k[0]) - self.input_hw[0], 0)
                cols = max((ow - 1) * self.stride + int(k[1]) - self.input_hw[1], 0)
                h = F.pad(h, (left, cols - left, top, rows - top))
            y = F.conv2d(h, self.weight, self.bias, self.stride)
        else:
            # The full transposed convolution, (in - 1) * stride + kernel, cut to the output from the
            # padding on; where the kernel is shorter than the stride, "same" ends in zeros.
            full = F.conv_transpose2d(h, self.weight, None, self.stride)[:, :, top:top + oh, left:left + ow]
            y = F.pad(full, (0, ow - full.shape[3], 0, oh - full.shape[2])) + self.bias.view(1, -1, 1, 1)
        return y.permute(0, 2, 3, 1)


def _conv_output(transposed: bool, size: int, kernel: int, stride: int, padding: str) -> int:
    if not transposed:
        return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1
    return size * stride if padding == "same" else (size - 1) * stride + kernel


def _conv(transposed: bool) -> LayerBuilder:
    kind = "conv2dTranspose" if transposed else "conv2d"

    def build(layer: Mapping[str, Any], name: str, variables: Variables, shape: Shape) -> Tuple[nn.Module, Shape]:
        w, b = _variable(variables, f"{name}/w"), _variable(variables, f"{name}/b")
        k, filters = int(layer["kernel"]), int(layer["filters"])
        stride, padding = int(layer.get("stride", 1)), str(layer.get("padding", "same"))
        if len(shape) != 3:
            raise VaeLensInputError(f"spec layer {name}: {kind} needs an image input (height x width x channels), and its input is {shape}")
        channels = w.shape[3] if transposed else w.shape[2]
        if tuple(w.shape[:2]) != (k, k) or b.shape != (filters,) or channels != shape[2]:
            raise VaeLensInputError(f"checkpoint layer {name}: w {tuple(w.shape)} and b {tuple(b.shape)} are not a {kind} "
                                    f"layer of {filters} {k}x{k} filters on an input of shape {shape}: the spec snapshot and the checkpoint disagree")
        out = tuple(_conv_output(transposed, s, k, stride, padding) for s in shape[:2])
        return _Conv(transposed, w, b, stride, padding, (shape[0], shape[1]), (out[0], out[1])), (out[0], out[1], filters)

    return build


class _Reshape(nn.Module):
    """Each example to `shape` (flatten: to one axis), in the trainer's (NHWC) order."""

    def __init__(self, shape: Shape) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class _Upsample(nn.Module):
    """Nearest-neighbour upsampling of NHWC images by `size`."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat_interleave(self.size, 1).repeat_interleave(self.size, 2)


def _reshape(layer: Mapping[str, Any], name: str, variables: Variables, shape: Shape) -> Tuple[nn.Module, Shape]:
    out = tuple(int(v) for v in layer["shape"])
    if int(np.prod(out)) != int(np.prod(shape)):
        raise VaeLensInputError(f"spec layer {name}: cannot reshape {shape} to {out}")
    return _Reshape(out), out


def _flatten(layer: Mapping[str, Any], name: str, variables: Variables, shape: Shape) -> Tuple[nn.Module, Shape]:
    out = (int(np.prod(shape)),)
    return _Reshape(out), out


def _upsample(layer: Mapping[str, Any], name: str, variables: Variables, shape: Shape) -> Tuple[nn.Module, Shape]:
    s = int(layer.get("size", 2))
    if len(shape) != 3:
        raise VaeLensInputError(f"spec layer {name}: upsample2d needs an image input, not {shape}")
    return _Upsample(s), (shape[0] * s, shape[1] * s, shape[2])


#: The spec's layer types (src/core/layers.ts LAYER_TYPES).
LAYER_BUILDERS: Dict[str, LayerBuilder] = {
    "dense": _dense,
    "conv2d": _conv(False),
    "conv2dTranspose": _conv(True),
    "upsample2d": _upsample,
    "flatten": _flatten,
    "reshape": _reshape,
}
WEIGHTED = ("dense", "conv2d", "conv2dTranspose")


def _variable(variables: Variables, name: str) -> torch.Tensor:
    if name not in variables:
        raise VaeLensInputError(f"the checkpoint has no variable {name!r} (it has {sorted(variables)[:12]}...)")
    return variables[name]


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise VaeLensInputError(f"activation {name!r} has no PyTorch counterpart here (known: {sorted(ACTIVATIONS)})")
    return ACTIVATIONS[name]()


def _layers(net: Mapping[str, Any], prefix: str, decoder: bool, dim: int) -> List[Tuple[Dict[str, Any], str]]:
    """The network's layers as the spec gives them, with their checkpoint names and activations
    resolved as src/core/layers.ts does: the `hidden` shorthand's dense layers (and the decoder's
    output layer `dec_mean`), or `layers`, whose decoder output layer (its last with weights) is linear
    unless it says otherwise."""
    activation = str(net.get("activation", "relu"))
    if "layers" not in net:
        out = [({"type": "dense", "units": int(u), "activation": activation}, f"{prefix}{i}") for i, u in enumerate(net.get("hidden", [64, 64]))]
        if decoder:
            out.append(({"type": "dense", "units": dim, "activation": "linear"}, "dec_mean"))
        return out
    layers = [dict(layer) for layer in net["layers"]]
    for layer in layers:
        if str(layer.get("type")) not in LAYER_BUILDERS:
            raise VaeLensInputError(f"layer type {layer.get('type')!r} is not supported by load_checkpoint (known: {sorted(LAYER_BUILDERS)})")
        if layer["type"] in WEIGHTED:
            layer.setdefault("activation", activation)
    weighted = [i for i, layer in enumerate(net["layers"]) if layer.get("type") in WEIGHTED]
    if decoder and weighted and "activation" not in net["layers"][weighted[-1]]:
        layers[weighted[-1]]["activation"] = "linear"
    return [(layer, f"{prefix}{i}") for i, layer in enumerate(layers)]


def _build(layers: List[Tuple[Dict[str, Any], str]], variables: Variables, shape: Shape,
           activation: Optional[str] = None) -> Tuple[nn.Sequential, Shape]:
    """The layers as one Sequential from an input of `shape`, each weighted one followed by its
    activation (or `activation`, for VAE-3's variance twin)."""
    modules: List[nn.Module] = []
    for layer, name in layers:
        module, shape = LAYER_BUILDERS[str(layer["type"])](layer, name, variables, shape)
        modules.append(module)
        if layer["type"] in WEIGHTED:
            modules.append(_activation(activation or str(layer["activation"])))
    return nn.Sequential(*modules), shape


def network_data_shape(dim: int, image_shape: Optional[Sequence[int]]) -> Shape:
    """The data's shape as the trainer's networks see it (src/core/layers.ts networkDataShape)."""
    if image_shape and int(np.prod(image_shape)) == dim:
        if len(image_shape) == 2:
            return (int(image_shape[0]), int(image_shape[1]), 1)
        if len(image_shape) == 3:
            return tuple(int(v) for v in image_shape)
    return (dim,)


class LensVae(nn.Module):
    """The Gaussian VAE of VAE Lens's trainer, in PyTorch: the same parameters, the same maps.

    ``encode(x) -> (nu, log t^2)`` takes rows of D values in the trainer's order, flat or as images
    height x width x channels (images in another arrangement, such as PyTorch's channels first, are
    refused: reshaped, they would be other images); ``decode(z) -> (mu, log s^2)`` gives mu as
    [rows, D] in that order and log s^2 per point for VAE-3, else the stored [1] or [D] parameter;
    ``prior_variance() -> a^2`` (ones unless VAE-2).
    """

    def __init__(self, spec_model: Mapping[str, Any], variables: Variables, dim: Optional[int] = None,
                 image_shape: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        self.model_type = str(spec_model.get("type", "VAE-1"))
        encoder, decoder = spec_model.get("encoder", {}), spec_model.get("decoder", {})
        if dim is None:
            if "layers" in encoder:
                raise VaeLensInputError("LensVae needs the data's dimension D (dim) for a network given as layers")
            # An MLP reads D values: its first layer's inputs.
            dim = int(_variable(variables, "enc0/w" if encoder.get("hidden", [64, 64]) else "enc_mean/w").shape[0])
        self.dim = dim
        self.data_shape = network_data_shape(dim, image_shape) if "layers" in encoder else (dim,)
        #: One example as the trainer held it (images height x width x channels), whatever the encoder reads.
        self.example_shape = network_data_shape(dim, image_shape)
        try:
            self.encoder, features = _build(_layers(encoder, "enc", False, dim), variables, self.data_shape)
        except VaeLensInputError as e:
            if image_shape is None and len(self.data_shape) == 1:
                raise VaeLensInputError(f"{e}: the images' shape is not known (load_checkpoint reads it from run.json's "
                                        "dataset.imageShape, else from the spec's data.shape; LensVae takes it as image_shape)") from None
            raise
        features = (int(np.prod(features)),)
        self.encoder_mean, _ = _dense({}, "enc_mean", variables, features)
        self.encoder_log_var, _ = _dense({}, "enc_logvar", variables, features)
        layers = _layers(decoder, "dec", True, dim)
        weighted = [i for i, (layer, _) in enumerate(layers) if layer["type"] in WEIGHTED]
        if not weighted:
            raise VaeLensInputError("the spec's decoder has no layer with weights (dense, conv2d or conv2dTranspose)")
        out = weighted[-1]
        latent = (int(_variable(variables, "enc_mean/w").shape[1]),)
        self.decoder, hidden = _build(layers[:out], variables, latent)
        self.decoder_mean, mean_shape = _build(layers[out:out + 1], variables, hidden)
        self.decoder_rest, data = _build(layers[out + 1:], variables, mean_shape)
        if int(np.prod(data)) != dim:
            raise VaeLensInputError(f"the spec's decoder ends in shape {data}, not the checkpoint's {dim} data values")
        self.decoder_log_var = _build([(layers[out][0], "dec_logvar")], variables, hidden, "linear")[0] if self.model_type == "VAE-3" else None
        learn_s2 = self.model_type not in ("VAE-0", "VAE-3") and spec_model.get("varianceUpdate", "gradient") == "gradient"
        self.log_s2 = nn.Parameter(_variable(variables, "log_s2").clone(), requires_grad=learn_s2) if self.model_type != "VAE-3" else None
        self.log_a2 = nn.Parameter(_variable(variables, "log_a2").clone()) if self.model_type == "VAE-2" else None

    def _check_rows(self, x: torch.Tensor) -> None:
        """Refuses a batch of images in another arrangement than the trainer's: reshaped, its numbers
        would be other images (PyTorch's (N, C, H, W) read as (N, H, W, C)), not an error."""
        row = tuple(int(v) for v in x.shape[1:])
        if len(row) <= 1 or len(self.example_shape) != 3 or row == self.example_shape:
            return
        h, w, c = self.example_shape
        # One channel: (H, W), (1, H, W) and (H, W, 1) hold their numbers in the same order.
        if c == 1 and row in ((h, w), (1, h, w)):
            return
        if row == (c, h, w):
            raise VaeLensInputError(f"LensVae.encode: x holds images of {row}, channels first as PyTorch keeps them; this run's networks read "
                                    f"{self.example_shape}, channels last as the trainer holds images: pass x.permute(0, 2, 3, 1)")
        raise VaeLensInputError(f"LensVae.encode: x holds examples of shape {row}; this run's networks read images of {self.example_shape} "
                                f"(height, width, channels), or rows of {self.dim} values in that order")

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        self._check_rows(x)
        h = self.encoder(x.reshape(x.shape[0], *self.data_shape)).flatten(1)
        return self.encoder_mean(h), self.encoder_log_var(h)

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.decoder(z)
        mu = self.decoder_rest(self.decoder_mean(h)).reshape(z.shape[0], self.dim)
        if self.decoder_log_var is not None:
            return mu, self.decoder_rest(self.decoder_log_var(h)).reshape(z.shape[0], self.dim)
        assert self.log_s2 is not None
        return mu, self.log_s2

    def prior_variance(self) -> torch.Tensor:
        if self.log_a2 is None:
            weight = self.encoder_mean.weight
            return torch.ones(self.encoder_mean.out_features, dtype=weight.dtype, device=weight.device)
        # exp of a float16 or bfloat16 log_a2 in float32: in its own dtype it rounds a_h^2 (and H_prior) by up to 2^-9.
        log_a2 = self.log_a2.detach()
        return log_a2.to(torch.float32 if log_a2.dtype in (torch.float16, torch.bfloat16) else log_a2.dtype).exp()


@dataclass
class LoadedRun:
    model: LensVae
    #: The spec snapshot, parsed (comments allowed).
    spec: Dict[str, Any]
    meta: Dict[str, Any]
    #: Whole epochs the weights were trained.
    epoch: int
    #: Optimizer steps in all, those of ``batches_done`` included.
    step: int
    run_dir: str
    #: Batches of epoch ``epoch + 1`` trained as well: a run stopped within an epoch (0 for a whole one).
    batches_done: int = 0

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


def _stated_image_shape(spec: Mapping[str, Any]) -> Optional[List[int]]:
    """One example's shape as the spec's data.shape states it, channels last as the trainer keeps it
    (src/core/imageLayout.ts channelsLast): where run.json, which records it, is missing."""
    data = spec.get("data")
    if not isinstance(data, dict) or data.get("shape") is None:
        return None
    shape = _whole_numbers(data["shape"], "the spec's data.shape")
    if data.get("layout") == "channels-first" and len(shape) == 3:
        return [shape[1], shape[2], shape[0]]
    return shape


def _kind_of(v: Any) -> str:
    """A JSON value as a message names it: a list, an object, or the value itself, cut short."""
    return "a list" if isinstance(v, list) else "an object" if isinstance(v, dict) else json.dumps(v)[:40]


def _check_checkpoint_kind(cp: Any, cp_path: str) -> None:
    """A checkpoint of the trainer's version 1: what the file holds instead, and a newer version named as such."""
    if not isinstance(cp, dict):
        raise VaeLensInputError(f"{cp_path} holds {_kind_of(cp)}, not a checkpoint object")
    v = cp.get("version")
    if isinstance(v, int) and not isinstance(v, bool) and v > 1:
        raise VaeLensInputError(f"{cp_path} is checkpoint version {v}, written by a newer version of VAE Lens; this one reads version 1")
    if "version" not in cp:
        raise VaeLensInputError(f'{cp_path} has no "version": it is not a VAE Lens checkpoint')
    if v != 1:
        raise VaeLensInputError(f'{cp_path}: its "version" is {v!r:.40}, where this version reads 1')
    if not isinstance(cp.get("variables"), dict):
        raise VaeLensInputError(f'{cp_path}: its "variables" must be an object (name: {{shape, data}}), not {_kind_of(cp.get("variables"))}')


def load_checkpoint(run_dir: str, checkpoint: str = "latest.json", device: Optional[Union[str, torch.device]] = None) -> LoadedRun:
    """Rebuild a run of VAE Lens's own trainer (its spec snapshot and checkpoint) as a PyTorch module, on
    ``device`` (default the CPU): every layer, the variances and the prior.

    Raises VaeLensInputError, naming the file, when the run folder is not one VAE Lens wrote or
    its files disagree; the global random generators are left as they were.
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise VaeLensInputError(f"load_checkpoint(run_dir) takes the path of a run folder, got {type(run_dir).__name__}")
    run_dir = os.fspath(run_dir)
    where = _given_device(device) or torch.device("cpu")
    try:
        return _load_checkpoint(run_dir, checkpoint, where)
    except VaeLensInputError:
        raise
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as e:
        # Files made elsewhere: a list where an object belongs, a folder where a file does, a null field.
        raise VaeLensInputError(f"cannot load the run {run_dir}: its files are not as VAE Lens writes them ({type(e).__name__}: {e})") from None


def _load_checkpoint(run_dir: str, checkpoint: str, device: torch.device) -> LoadedRun:
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
    _check_checkpoint_kind(cp, cp_path)
    if not isinstance(spec, dict):
        raise VaeLensInputError(f"{spec_path} holds {_kind_of(spec)}, not a spec object")
    # On the device from the start: every layer is made from these, or beside them.
    variables = _UsedVariables({name: _decode_tensor(v, name).to(device) for name, v in cp["variables"].items()})
    model_spec = dict(spec.get("model", {}))
    if model_spec.get("type", "VAE-1") != cp.get("modelType"):
        raise VaeLensInputError(f"{spec_path} says {model_spec.get('type', 'VAE-1')} but the checkpoint holds {cp.get('modelType')}")
    meta_path = os.path.join(run_dir, "run.json")
    meta: Dict[str, Any] = {}
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8-sig") as f:
            meta = json.load(f)
    # Convolutional layers need the images' shape, which run.json keeps (the checkpoint has D).
    dim = cp.get("dim")
    dim = _whole_numbers([dim], f"{cp_path}: dim")[0] if dim is not None else None
    image_shape = (meta.get("dataset") or {}).get("imageShape")
    image_shape = _whole_numbers(image_shape, f"{meta_path}: dataset.imageShape") if image_shape is not None else _stated_image_shape(spec)
    # Building the layers draws their initial weights (then replaced): not from the user's generators.
    with forked_rngs():
        model = LensVae(model_spec, variables, dim, image_shape)
    unused = sorted(set(variables) - variables.used)
    if unused:
        raise VaeLensInputError(f"{cp_path} holds variables that the network of {spec_path} does not have ({', '.join(unused[:6])}): "
                                "the spec snapshot and the checkpoint disagree")
    epoch, step, batches_done = _whole_numbers([cp.get("epoch", 0), cp.get("step", 0), cp.get("batchesDone", 0)],
                                               f"{cp_path}: epoch, step and batchesDone")
    return LoadedRun(model=model.eval(), spec=spec, meta=meta, epoch=epoch, step=step,
                     run_dir=run_dir, batches_done=batches_done)


__all__ = ["ACTIVATIONS", "LAYER_BUILDERS", "LensVae", "LoadedRun", "load_checkpoint"]
