"""One diagnostics pass in PyTorch: encode each fixed point once, decode S samples per point,
and add up the sums of _record.PassSums, block by block.

The networks run in the model's dtype on the model's device. Everything after them runs on the
pass's own device, ``accumulation_device``: the model's, or the CPU where the model's device holds
no float64 (Apple's MPS); every encoder and decoder output is moved there, wherever the model
put it. The per-pixel arithmetic runs in the decoder output's dtype, float32 for a float16 or
bfloat16 output (whose squares underflow and whose exp(-log s^2) overflows), float64 where an
exponential or a square would leave the working dtype's range; every sum is accumulated in float64, and the per-point (latent-sized) terms are computed in float64. The noise
of block c in pass p comes from a generator seeded with (seed, p, c), so a point's samples depend
on the point and the pass, never on which rank evaluates it or how many ranks there are.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ._record import LOG_2PI, LOG_2PIE, PassSums
from .errors import VaeLensInputError

Encode = Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]
Decode = Callable[[torch.Tensor], object]

LIKELIHOODS = ("gaussian", "bernoulli", "categorical")
#: What the second of an encoder's (mean, ...) outputs may be: Diagnostics' ``encoder_scale``.
ENCODER_SCALES = ("log_variance", "variance", "std", "log_std")
#: The same choices for a Gaussian decoder's (mean, ...): Diagnostics' ``decoder_scale``.
DECODER_SCALES = ENCODER_SCALES
#: A model attribute each scale might be held in, for the examples the errors give.
SCALE_ATTRIBUTES = {"log_variance": "log_var", "variance": "var", "std": "std", "log_std": "log_std"}
#: Points an encoder's outputs must cover before they are said to look like a scale.
SCALE_CHECK_POINTS = 16
#: Where a torch.distributions.Bernoulli or Categorical holds what ``decoder_output`` names.
DISTRIBUTION_ATTRIBUTES = {"logits": "p.logits", "probabilities": "p.probs"}
#: What a Bernoulli or categorical decoder returns: Diagnostics' ``decoder_output``. Log-probabilities of
#: categories (a log_softmax at the end) read as logits do, since softmax(log p) = p; a Bernoulli's
#: (a logsigmoid at the end) do not, since sigmoid(log p) is not p.
DECODER_OUTPUTS = ("logits", "probabilities", "log_probabilities")
#: Probabilities are read with their logarithms floored at -100, as torch's binary_cross_entropy (the loss
#: a decoder ending in a sigmoid trains with) floors them: 0 and 1 give a finite log-likelihood.
PROBABILITY_FLOOR = math.exp(-100.0)
#: Values a first block of decoder outputs must hold before they are said to look like probabilities.
PROBABILITY_CHECK_VALUES = 256
#: How far from 1 a row's categorical outputs may sum and still look like probabilities.
PROBABILITY_SUM_TOLERANCE = 1e-4
#: Device types that hold no float64: the pass's float64 arithmetic runs on the CPU for them.
NO_FLOAT64_DEVICES = ("mps",)
#: Output dtypes whose per-element arithmetic runs in float32.
LOW_PRECISION = (torch.float16, torch.bfloat16)
#: The default block's budget: bytes of float32 per data value a block of decoder rows may hold at once
#: (the decoder's output and its last activations, the difference, its square, a per-point variance and its
#: weights), and the bytes all of them may take.
BLOCK_VALUE_BYTES = 4 * 8
BLOCK_BYTES = 128 * 2 ** 20
MIN_BLOCK_ROWS, MAX_BLOCK_ROWS = 16, 1024
#: Rows of [rows, D] converted to float64 at once to weight a per-dimension variance.
WEIGHT_CHUNK_BYTES = 8 * 2 ** 20


def accumulation_device(device: torch.device) -> torch.device:
    """Where a pass on a model on ``device`` keeps its float64 sums and does its arithmetic after the
    networks: that device, or the CPU where it holds no float64."""
    return torch.device("cpu") if device.type in NO_FLOAT64_DEVICES else device


def working_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype of the per-element arithmetic on outputs of ``dtype``: float32 for float16 and bfloat16."""
    return torch.float32 if dtype in LOW_PRECISION else dtype


def default_block_rows(dim: int) -> int:
    """Decoder rows per block for data points of ``dim`` values: BLOCK_BYTES at BLOCK_VALUE_BYTES per value,
    between MIN_BLOCK_ROWS and MAX_BLOCK_ROWS."""
    return int(min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, BLOCK_BYTES // (max(1, dim) * BLOCK_VALUE_BYTES))))


def is_out_of_memory(e: BaseException) -> bool:
    """A torch allocation failure (CUDA's, MPS's or the CPU allocator's)."""
    text = str(e).lower()
    return isinstance(e, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def out_of_memory_error(setup: "PassSetup", what: str) -> VaeLensInputError:
    return VaeLensInputError(
        f"{what} ran out of memory on {setup.device} with block_rows={setup.block_rows} (decoder rows evaluated at once): "
        f"pass a smaller block_rows to Diagnostics"
    )


def model_input(setup: "PassSetup", z: torch.Tensor) -> torch.Tensor:
    """Latents as the decoder takes them: cast to the model's dtype where they are, then moved to its device
    (a device without float64 never sees them in float64)."""
    return z.to(setup.dtype).to(setup.device)


def model_points(points: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Points as the encoder takes them: cast where they are, then moved (a device without float64 never sees
    float64), and always a tensor of the encoder's own. Where the cast and the move change nothing, ``.to`` gives
    back the pass's own points, which an encoder working on its input in place (``x.mul_(0.5)``) would change
    for the likelihood that reads them and for every later pass."""
    out = points.to(dtype).to(device)
    if out.device == points.device and out.data_ptr() == points.data_ptr():
        out = out.clone(memory_format=torch.contiguous_format)
    return out


def encoder_input(setup: "PassSetup", points: torch.Tensor) -> torch.Tensor:
    """Points as the pass hands them to the encoder: in the model's dtype, or as they are for a categorical
    decoder's class indices (but float64 indices for a device without float64)."""
    here = accumulation_device(setup.device)
    if setup.likelihood != "categorical" or (here != setup.device and points.dtype == torch.float64):
        return model_points(points, setup.dtype, setup.device)
    return model_points(points, points.dtype, setup.device)


def callable_name(fn: object) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(type(fn), "__qualname__", None) or repr(fn)
    return str(name)


def shape_of(t: object) -> str:
    return str(tuple(t.shape)) if isinstance(t, torch.Tensor) else type(t).__name__


@dataclass
class PassSetup:
    encode: Encode
    decode: Decode
    #: The fixed points, [N, ...] on the CPU.
    points: torch.Tensor
    samples: int
    seed: int
    #: Decoder rows per block (points per block = rows // samples).
    block_rows: int
    likelihood: str
    fixed_variance: bool
    #: a_h^2 now, or None for the unit prior.
    prior_variance: Optional[torch.Tensor]
    device: torch.device
    dtype: torch.dtype
    #: What the encoder's second output is (one of ENCODER_SCALES).
    encoder_scale: str = "log_variance"
    #: What a Gaussian decoder's second output is (one of DECODER_SCALES).
    decoder_scale: str = "log_variance"
    #: What a Bernoulli or categorical decoder returns (one of DECODER_OUTPUTS).
    decoder_output: str = "logits"


@dataclass
class PassResult:
    sums: PassSums
    #: "fixed" | "scalar" | "per-dimension" | "latent", or "none" for a non-Gaussian decoder.
    variance_kind: str
    #: log s^2 of a homoscedastic decoder (1 or D values), else None: the log-variance, which an extreme one
    #: (1e6, -1e6) keeps finite where its exponential would not be.
    decoder_log_variance: Optional[np.ndarray]
    prior_variance: np.ndarray
    #: The encoder's second output, read as a log-variance, looks like a standard deviation or a variance.
    scale_like: bool = False
    #: A Bernoulli or categorical decoder's outputs, read as logits, look like probabilities.
    probability_like: bool = False


def points_per_block(setup: PassSetup) -> int:
    return max(1, setup.block_rows // setup.samples)


def blocks(n: int, per_block: int) -> List[Tuple[int, int]]:
    return [(s, min(s + per_block, n)) for s in range(0, n, per_block)]


def block_noise(seed: int, pass_id: int, block: int, rows: int, latent_dim: int) -> torch.Tensor:
    """Standard normal noise for one block, from its own generator (the user's RNGs are not used)."""
    state = np.random.SeedSequence([seed & 0xFFFFFFFF, pass_id & 0xFFFFFFFF, block]).generate_state(2, np.uint32)
    g = torch.Generator(device="cpu")
    g.manual_seed(int(state[0]) << 32 | int(state[1]))
    return torch.randn(rows, latent_dim, generator=g, dtype=torch.float64)


def run_pass(setup: PassSetup, pass_id: int, rank: int = 0, world: int = 1) -> PassResult:
    """This rank's share of the pass: blocks rank, rank + world, ...

    Every rank evaluates as many blocks (a model sharded across ranks, FSDP or ZeRO-3, gathers its weights
    inside each forward call, collectively): a rank with fewer blocks of its own evaluates point 0 for the
    rest and discards the sums, as does a rank whose block failed, which raises that error once the others'
    count is reached."""
    n = setup.points.shape[0]
    per = points_per_block(setup)
    all_blocks = blocks(n, per)
    mine = [(c, span) for c, span in enumerate(all_blocks) if c % world == rank]
    # The rows of each rank's first block: block `rank`, or padding of one point where there are fewer blocks.
    first_rows = {(hi - lo) * setup.samples for lo, hi in (all_blocks[r] if r < len(all_blocks) else (0, 1) for r in range(world))}
    D = int(np.prod(setup.points.shape[1:])) if setup.points.dim() > 1 else 1
    # One process asks only where its own block needs it.
    ambiguous_rows = frozenset(first_rows & ({1, D} | point_axes(tuple(setup.points.shape[1:])))) if world > 1 else frozenset()
    acc: Optional[_Accumulator] = None
    error: Optional[Exception] = None
    for i in range(-(-len(all_blocks) // world)):
        try:
            if i < len(mine) and error is None:
                c, (lo, hi) = mine[i]
                acc = _block(setup, pass_id, c, lo, hi, acc, ambiguous_rows=ambiguous_rows)
            else:
                # Padding (or more ranks than blocks): the shapes (from point 0) and zeros.
                acc = _block(setup, pass_id, 0, 0, 1, acc, shapes_only=True, ambiguous_rows=ambiguous_rows)
        except Exception as e:
            if isinstance(e, RuntimeError) and is_out_of_memory(e):
                e = out_of_memory_error(setup, "The diagnostics pass")
            if world == 1:
                raise e
            error = error or e
    if error is not None:
        raise error
    assert acc is not None
    return acc.result(setup)


class _Accumulator:
    """Float64 running sums on the pass's device; read back to the host once per pass."""

    def __init__(self, latent_dim: int, dim: int, samples: int, device: torch.device, kind: str,
                 decoder_log_variance: Optional[torch.Tensor], prior_variance: torch.Tensor) -> None:
        self.latent_dim, self.dim, self.samples = latent_dim, dim, samples
        self.kind = kind
        self.decoder_log_variance = decoder_log_variance
        self.prior_variance = prior_variance
        self.scale_like = False
        self.probability_like = False
        z = lambda *shape: torch.zeros(*shape, dtype=torch.float64, device=device)  # noqa: E731
        self.scalars = z(len(PassSums.SCALARS))
        self.kl_per_latent = z(latent_dim)
        self.second_moment = z(latent_dim)
        self.sq_err = z(dim)

    def add(self, name: str, value: torch.Tensor) -> None:
        i = PassSums.SCALARS.index(name)
        self.scalars[i] += value

    def result(self, setup: PassSetup) -> PassResult:
        v = torch.cat([self.scalars, self.kl_per_latent, self.second_moment, self.sq_err]).cpu().numpy()
        sums = PassSums.from_vector(v, self.latent_dim, self.dim, self.samples)
        dv = None if self.decoder_log_variance is None else self.decoder_log_variance.detach().cpu().numpy().astype(np.float64)
        return PassResult(sums, self.kind, dv, self.prior_variance.detach().cpu().numpy().astype(np.float64), self.scale_like,
                          self.probability_like)


def _check_finite(t: torch.Tensor, what: str) -> None:
    if t.is_complex() or not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64)):
        raise VaeLensInputError(f"{what} is a tensor of {t.dtype}; the pass needs real numbers (a floating-point tensor)")
    if t.is_meta:
        raise VaeLensInputError(f"{what} is on the 'meta' device: it has no values")
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise VaeLensInputError(f"{what} of shape {shape_of(t)} has {bad} non-finite values (NaN or infinity)")


def _check_scale_finite(second: torch.Tensor, scale: str, what: str, keyword: str) -> None:
    """_check_finite for a network's second output, saying where a standard deviation or a variance overflowed its
    dtype (1e30 in float16), as log_variance_of says where one underflowed."""
    if scale in ("std", "variance") and second.is_floating_point() and not second.is_meta:
        over = torch.isposinf(second)
        if bool(over.any()) and not bool(torch.isnan(second).any()):
            kind = "standard deviation" if scale == "std" else "variance"
            raise VaeLensInputError(
                f"{what} of shape {shape_of(second)} has {int(over.sum())} infinite value{'' if int(over.sum()) == 1 else 's'} "
                f"(the first at index {over.nonzero()[0].tolist()}): a {kind} that overflowed {second.dtype} (its largest "
                f"value is {torch.finfo(second.dtype).max:.4g}; {keyword}={scale!r} is taken as said); return its logarithm "
                f"instead, computed before it is exponentiated, and pass {keyword}='log_std' or 'log_variance'"
            )
    _check_finite(second, what)


def _normal(out: object) -> Optional[torch.distributions.Normal]:
    """A torch.distributions.Normal, or the Normal inside an Independent (as reinterpreted batch dims)."""
    while isinstance(out, torch.distributions.Independent):
        out = out.base_dist
    return out if isinstance(out, torch.distributions.Normal) else None


#: How an encoder of a spatial latent is flattened, in the advice its error gives: a tuple's tensors, or a
#: distribution's mean and log-variance (a Normal or an Independent cannot be iterated).
SPATIAL_TUPLE_ENCODE = "tuple(t.flatten(1) for t in model.encode(x))"
SPATIAL_DISTRIBUTION_ENCODE = "(lambda q: (q.mean.flatten(1), q.variance.log().flatten(1)))(model.encode(x))"
#: The same for an encoder whose outputs have a leading axis of 1 ([1, batch, H]).
SQUEEZED_TUPLE_ENCODE = "tuple(t.squeeze(0) for t in model.encode(x))"
SQUEEZED_DISTRIBUTION_ENCODE = "(lambda q: (q.mean.squeeze(0), q.variance.log().squeeze(0)))(model.encode(x))"


def _encode(setup: PassSetup, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The encoder's mean and log-variance log t^2 for a batch, in float64."""
    mean, log_var, _ = _encoder_outputs(setup, x)
    return mean, log_var


def _encoder_outputs(setup: PassSetup, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, bool]:
    """The encoder's mean and log-variance, and whether they came as a tuple read as ``encoder_scale`` says
    (not as a distribution, whose scale is unambiguous)."""
    name = callable_name(setup.encode)
    out = setup.encode(x)
    q = _normal(out)
    scale = setup.encoder_scale
    here = accumulation_device(setup.device)
    if q is not None:
        # q(z|x) as a distribution: its mean and log-variance, which its shape alone does not mix up
        # (whatever encoder_scale says of a tuple). The log in float64, as a (mean, std) said is read: a bfloat16
        # one rounds log t^2 by up to 2^-7, alike for the points that share a width, and float16 has no CPU log.
        out, scale = (q.loc, 2.0 * q.scale.detach().to(here).to(torch.float64).log()), "log_variance"
    P = x.shape[0]
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out)):
        raise VaeLensInputError(
            f"encode ({name}) must return (mean, {scale}), two tensors of shape [batch, H]; "
            f"for a batch of shape {shape_of(x)} it returned {_describe(out)}" + _pick_advice(out, "encode", "x", scale)
            + ("; q(z|x) is read as a diagonal Gaussian: a torch.distributions.Normal (or an Independent of one)"
               if isinstance(out, torch.distributions.Distribution) else "")
        )
    mean, second = out
    if mean.dim() == 2 and second.dim() <= 2 and broadcasts(tuple(second.shape), tuple(mean.shape)):
        # One variance per point ([P, 1]: an isotropic posterior) or per latent ([H]), as a KL term broadcasts it.
        second = second.expand_as(mean)
    if mean.dim() != 2 or mean.shape[0] != P or tuple(second.shape) != tuple(mean.shape):
        raise VaeLensInputError(
            f"encode ({name}) returned mean of shape {shape_of(mean)} and {scale} of shape {shape_of(second)} "
            f"for a batch of shape {shape_of(x)}: the mean must be [{P}, H], and the {scale} [{P}, H] or a shape that "
            f"broadcasts to it ([{P}, 1], [H])"
            + (f"; for latents with more axes (a spatial [batch, c, h, w] latent) flatten them in encode and undo it in decode: "
               f"encode=lambda x: {SPATIAL_DISTRIBUTION_ENCODE if q is not None else SPATIAL_TUPLE_ENCODE}, "
               f"decode=lambda z: model.decode(z.unflatten(1, {tuple(mean.shape[1:])}))"
               if mean.dim() > 2 and mean.shape[0] == P and tuple(second.shape) == tuple(mean.shape) else "")
            + (f"; a leading axis of 1 (a recurrent encoder's [1, batch, H]) is dropped with encode=lambda x: "
               f"{SQUEEZED_DISTRIBUTION_ENCODE if q is not None else SQUEEZED_TUPLE_ENCODE}"
               if mean.dim() == 3 and tuple(mean.shape[:2]) == (1, P) and second.dim() == 3 and second.shape[0] == 1 else "")
        )
    _check_finite(mean, f"encode ({name}): mean")
    _check_scale_finite(second, scale, f"encode ({name}): {scale}", "encoder_scale")
    return (mean.detach().to(here).to(torch.float64),
            log_variance_of(second.detach().to(here), scale, f"encode ({name}): {scale}"), q is None)


def log_variance_of(second: torch.Tensor, scale: str, what: str, keyword: str = "encoder_scale",
                    positive: bool = True) -> torch.Tensor:
    """An encoder's or decoder's second output, read as ``scale`` (the argument ``keyword``) says, as the
    log-variance it stands for (float64). A standard deviation or a variance of 0 or less is refused,
    unless ``positive`` is False: it then stands for -inf (0) or NaN (below 0), which its reader leaves out."""
    v = second.detach().to(torch.float64)
    if scale == "log_variance":
        return v
    if scale == "log_std":
        return 2.0 * v
    if positive and bool((v <= 0).any()):
        kind = "standard deviation" if scale == "std" else "variance"
        network = keyword.split("_")[0]
        zeros = int((v == 0).sum())
        if not bool((v < 0).any()):
            # Only zeros: a posterior too narrow for the network's dtype, not a log-variance passed as a scale.
            raise VaeLensInputError(
                f"{what} of shape {shape_of(second)} has {zeros} value{'' if zeros == 1 else 's'} of exactly 0 (the first at "
                f"index {(v == 0).nonzero()[0].tolist()}) and none below: a {kind} that underflowed in {second.dtype} "
                f"({keyword}={scale!r} is taken as said), whose logarithm is -inf; return its logarithm instead, computed "
                f"before it is exponentiated, and pass {keyword}='log_std' or 'log_variance'"
            )
        raise VaeLensInputError(
            f"{what} of shape {shape_of(second)} has {int((v <= 0).sum())} values of 0 or less (the smallest "
            f"{float(v.min()):.4g}), but {keyword}={scale!r} says it is a {kind}, which is positive; if the "
            f"{network} returns a log-variance, pass {keyword}='log_variance' (or 'log_std' for log sigma)"
        )
    return v.log() if scale == "variance" else 2.0 * v.log()


def decoder_log_variance(setup: PassSetup, second: object, name: str, finite: bool = True) -> torch.Tensor:
    """A Gaussian decoder's second output (a tensor, or a number for a fixed variance), checked (for
    finite values, and a standard deviation or a variance for positive ones, unless ``finite`` is False:
    these then give a log-variance that is not finite) and read as ``decoder_scale`` says, as the log-variance
    it stands for, on the pass's device: a log-variance as it is, any other scale converted in float64 and kept
    so (rounding it back to a bfloat16 would move the variance the records hold); the per-element branch of the
    pass casts it to the output's own working dtype, where its arithmetic runs."""
    scale = setup.decoder_scale
    here = accumulation_device(setup.device)
    if isinstance(second, (int, float)) and not isinstance(second, bool):
        # A fixed variance written as a number: one value.
        second = torch.tensor(float(second), dtype=torch.float64, device=here)
    assert isinstance(second, torch.Tensor)
    # Wherever the model keeps it (a parameter on another device than the mean's, a model split over devices).
    second = second.detach().to(here)
    what = f"decode ({name}): {scale}"
    if finite:
        _check_scale_finite(second, scale, what, "decoder_scale")
    if scale == "log_variance":
        return second
    return log_variance_of(second, scale, what, "decoder_scale", positive=finite)


def looks_like_a_scale(nu: torch.Tensor, log_t2: torch.Tensor, a2: torch.Tensor) -> bool:
    """Whether an encoder's second output, read as a log-variance, is more likely a standard deviation
    or a variance: positive for every point and latent, and, in some latent whose means spread over
    at least half the prior's variance, a posterior wider than the prior at every point.

    A log-variance encoder's KL term works against exactly that: a latent that carries information
    (its means spread) gets posteriors narrower than the prior, and a collapsed one (posteriors equal
    to the prior: positive log-variances under a learned prior wider than one) means that do not
    spread. A positive scale read as a log-variance gives variances above one. The check is one-sided:
    it does not find every scale, and says nothing where it is unsure.
    """
    if nu.shape[0] < SCALE_CHECK_POINTS or not bool((log_t2 > 0).all()):
        return False
    wider = (log_t2 > a2.log()).all(0)
    spread = nu.var(0) >= 0.5 * a2
    return bool((wider & spread).any())


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _held_values(out: object) -> Optional[Dict[str, object]]:
    """What a container a network returned holds, by name: a dict's (a Hugging Face ModelOutput's) items, a
    dataclass's fields, or an object's attributes (diffusers' DiagonalGaussianDistribution); None for others."""
    if isinstance(out, torch.distributions.Distribution):
        # Its tensors (a loc, a Cholesky factor) are not a mean and a log-variance to pick.
        return None
    if isinstance(out, Mapping):
        return {str(k): v for k, v in out.items()}
    if dataclasses.is_dataclass(out) and not isinstance(out, type):
        return {f.name: getattr(out, f.name) for f in dataclasses.fields(out)}
    held = getattr(out, "__dict__", None)
    if isinstance(held, dict) and any(isinstance(v, torch.Tensor) for v in held.values()):
        return {str(k): v for k, v in held.items() if not str(k).startswith("_")}
    return None


def _describe(out: object) -> str:
    if isinstance(out, (tuple, list)):
        return f"a {type(out).__name__} of {len(out)}: " + ", ".join(shape_of(t) for t in out)
    if isinstance(out, torch.Tensor):
        return f"a {type(out).__name__} of shape {shape_of(out)}"
    if isinstance(out, torch.distributions.Distribution):
        return f"a {type(out).__name__} of batch shape {tuple(out.batch_shape)} and event shape {tuple(out.event_shape)}"
    held = _held_values(out)
    if held is None:
        return type(out).__name__
    return f"{type(out).__name__} holding " + ", ".join(f"{k} {shape_of(v)}" for k, v in list(held.items())[:12])


def _describe_value(v: object) -> str:
    """A value that is not a tensor, by type, with a numpy value's dtype and shape."""
    if isinstance(v, np.ndarray):
        return f"a numpy array of {v.dtype} and shape {v.shape}"
    if isinstance(v, np.generic):
        return f"a numpy {type(v).__name__} ({v!r})"
    return f"a {type(v).__name__} ({v!r:.60})"


def _pick_advice(out: object, network: str, argument: str, scale: str) -> str:
    """For a container holding two tensors or more, the lambda that picks two of them, as the pass takes them."""
    held = _held_values(out)
    names = [k for k, v in (held or {}).items() if isinstance(v, torch.Tensor)]
    if len(names) < 2:
        return ""
    pick = (lambda k: f"o[{k!r}]") if isinstance(out, Mapping) else (lambda k: f"o.{k}")  # noqa: E731
    return (f"; pick its mean and its {scale}, in that order, with a lambda, such as {network}=lambda {argument}: "
            f"(lambda o: ({pick(names[0])}, {pick(names[1])}))(model.{network}({argument}))")


def _check_layout(t: torch.Tensor, x: torch.Tensor, what: str) -> None:
    """A decoder output with D values per row is compared with the data value by value in memory
    order: a flat row, or the data point's own shape (up to axes of length 1), lines them up. The
    same values in another layout, such as channels last for channels-first data, would pair each
    mean with another pixel and give a finite, wrong ELBO."""
    def core(shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return tuple(n for n in shape if n != 1)

    row, point = core(tuple(t.shape[1:])), core(tuple(x.shape[1:]))
    if len(row) > 1 and len(point) > 1 and row != point:
        raise VaeLensInputError(
            f"{what} has shape {shape_of(t)}, and the data points have shape {tuple(x.shape[1:])}: the same number of values "
            f"in another layout would be compared with the wrong data values (channels last against channels first?). "
            f"Return [{t.shape[0]}, {', '.join(map(str, x.shape[1:]))}] or flat rows [{t.shape[0]}, {int(np.prod(x.shape[1:]))}]"
        )


def broadcasts(shape: Tuple[int, ...], point: Tuple[int, ...]) -> bool:
    """Whether ``shape`` broadcasts to ``point`` by torch's rule: aligned from the right, each axis 1 or the point's,
    any axes before the point's of length 1."""
    extra = len(shape) - len(point)
    if any(n != 1 for n in shape[:max(0, extra)]):
        return False
    return all(n in (1, p) for n, p in zip(shape[max(0, extra):], point[max(0, -extra):]))


def broadcast_to_point(log_var: torch.Tensor, point: Tuple[int, ...]) -> torch.Tensor:
    """A decoder's log-variance that broadcasts to one data point, as a loss broadcasts it against [batch, *point]
    (one per channel, [C, 1, 1] or [1, C, 1, 1]; one per column, [W]; one per pixel without the channel axis of
    1, [H, W]), as the [1, *point] of D values it stands for; anything else (one value, D values flat, which a
    block of D latent rows makes ambiguous, D values in another shape, a row per latent row) as it is."""
    D = int(np.prod(point))
    if log_var.numel() == 1 or (log_var.dim() == 1 and log_var.numel() == D) or not broadcasts(tuple(log_var.shape), point):
        return log_var
    return log_var.reshape(log_var.shape[max(0, log_var.dim() - len(point)):]).expand(*point).reshape(1, *point)


def broadcast_per_row(log_var: torch.Tensor, rows: int, point: Tuple[int, ...]) -> torch.Tensor:
    """A decoder's log-variance of one row per latent row that broadcasts to each point, [rows, C, 1, 1] (a
    per-channel variance that depends on z), as the [rows, *point] it stands for; anything else as it is."""
    if log_var.dim() != len(point) + 1 or log_var.shape[0] != rows or log_var.numel() in (rows, rows * int(np.prod(point))):
        return log_var
    if not broadcasts(tuple(log_var.shape[1:]), point):
        return log_var
    return log_var.expand(rows, *point)


def point_axes(point: Tuple[int, ...]) -> FrozenSet[int]:
    """Row counts at which one value per latent row can also be a variance that broadcasts to the point: the
    lengths of its axes, where it has two or more."""
    return frozenset(n for n in point if n > 1) if len(point) >= 2 else frozenset()


def row_or_point(log_var: torch.Tensor, rows: int, point: Tuple[int, ...]) -> bool:
    """Whether a log-variance of one value per latent row ([rows, 1], [rows, 1, 1]) also broadcasts to the point,
    an axis of which is ``rows`` long ([C, 1, 1] at a block of C rows): its shape alone does not say which."""
    return (rows > 1 and 2 <= log_var.dim() <= len(point) and log_var.shape[0] == rows and log_var.numel() == rows
            and broadcasts(tuple(log_var.shape), point))


def one_variance_per_row(log_var: torch.Tensor, rows: int, dim: int, known: Optional[str] = None) -> torch.Tensor:
    """A decoder's log-variance of one value per latent row, [rows, 1] (an isotropic variance that
    depends on z, as a per-image sigma), as the [rows, D] it stands for; anything else as it is. A
    single row is one value per row only where the pass already knows the variance is per point."""
    if log_var.dim() >= 2 and log_var.shape[0] == rows and log_var.numel() == rows and (rows > 1 or known == "latent"):
        return log_var.reshape(rows, 1).expand(rows, dim)
    return log_var


def _variance_kind(log_var: torch.Tensor, rows: int, dim: int, fixed: bool, name: str, x_shape: str,
                   known: Optional[str] = None, scale: str = "log_variance") -> str:
    """Scalar (one value), per dimension (D values) or per point (one row per decoded z: VAE-3).

    The shape alone can be ambiguous: a block of one row gives [1, D] either way, and a flat [D]
    has as many values as a block of D rows of one value. A flat tensor of D values is per
    dimension, a row per latent row is per point, and where one row is both, the kind the pass's
    earlier blocks showed decides (per dimension if there were none).
    """
    if log_var.numel() == 1:
        return "fixed" if fixed else "scalar"
    per_row = log_var.dim() >= 2 and log_var.shape[0] == rows and log_var.numel() == rows * dim
    per_dim = log_var.numel() == dim and (log_var.dim() <= 1 or log_var.shape[0] == 1)
    if per_dim and not (per_row and known == "latent"):
        return "fixed" if fixed else "per-dimension"
    if per_row:
        if fixed:
            raise VaeLensInputError(
                f"decode ({name}) returned a {scale} per point, shape {shape_of(log_var)}, but fixed_variance=True "
                "says the decoder variance is fixed"
            )
        return "latent"
    raise VaeLensInputError(
        f"decode ({name}) returned {scale} of shape {shape_of(log_var)} for {rows} latent rows and data points of "
        f"shape {x_shape} (D={dim}): it must be one value; D values, flat ([{dim}] or [1, {dim}]) or in the data "
        f"point's shape, with or without a leading 1 ([1, *{x_shape}]), or a shape that broadcasts to it ([C, 1, 1] or "
        f"[1, C, 1, 1]: one per channel); or one row per latent row, [{rows}, ...], of D values, of 1, or broadcasting to "
        f"the point ([{rows}, C, 1, 1])"
    )


def _unsampleable(setup: PassSetup, nu: torch.Tensor, log_t2: torch.Tensor, lo: int) -> None:
    """Raises the error for encoder outputs whose samples z = mean + exp(log_variance / 2) eps the model's dtype
    cannot hold, where the decoder gave non-finite outputs for them: the error names the encoder, not the decoder."""
    widest = int(log_t2.max(1).values.argmax())
    limit = torch.finfo(setup.dtype).max if setup.dtype.is_floating_point else math.inf
    raise VaeLensInputError(
        f"encode ({callable_name(setup.encode)}) gave fixed point {lo + widest} a log-variance of {float(log_t2.max()):.6g} "
        f"(read as encoder_scale={setup.encoder_scale!r} says) and a mean of up to {float(nu.abs().max()):.6g}: its samples "
        f"z = mean + exp(log_variance / 2) * eps pass {setup.dtype}'s largest value ({limit:.4g}), so the decoder cannot "
        f"be evaluated there and the ELBO is not finite ("
        + (f"the data are integers up to {int(setup.points.max())}: does training scale them, x / 255?"
           if not setup.points.is_floating_point() and setup.likelihood == "gaussian" else "has training diverged?") + ")"
    )


def _squared_errors(x: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """(x - mu)^2 in the working dtype, or in float64 where a square overflows it (means of 1e20 in float32)."""
    diff = x - mu
    sq = diff * diff
    # Finite values squared are finite or +inf: the largest tells.
    if sq.numel() == 0 or math.isfinite(float(sq.max())):
        return sq
    return (x.to(torch.float64) - mu.to(torch.float64)) ** 2


def _weighted(sq: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """sq / s^2 from log s^2, value by value, with 0 where sq is 0 and 1/s^2 overflows (a value reconstructed
    exactly under a variance of e^-1000 adds nothing, not NaN)."""
    return (sq * torch.exp(-log_var)).nan_to_num_(nan=0.0, posinf=math.inf)


def _latent_weighted(sq: torch.Tensor, lv: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A latent-dependent variance's (sq, sum_d sq / s^2 per row, sum of s^2), the sums in float64. In the working
    dtype where its exponentials stay normal numbers; in float64 where they would not (|log s^2| beyond 87 in
    float32 overflows or loses digits to subnormals) or where a product overflows: the variance is as finite as
    its float64 exponential, whatever dtype the decoder returned it in."""
    f64 = torch.float64
    if sq.dtype != f64 and lv.numel() > 0:
        low, high = (float(v) for v in torch.aminmax(lv))
        if max(-low, high) < -math.log(torch.finfo(sq.dtype).tiny):
            # exp(-lv) is finite here, so no 0 * inf to mend.
            norm, variance = (sq * torch.exp(-lv)).sum(-1, dtype=f64), torch.exp(lv).sum(dtype=f64)
            if bool(torch.isfinite(norm).all()) and bool(torch.isfinite(variance)):
                return sq, norm, variance
    # A float64 copy of the block: only for variances beyond the working dtype's range.
    sq, lv = sq.to(f64), lv.to(f64)
    return sq, _weighted(sq, lv).sum(-1), torch.exp(lv).sum()


def _homoscedastic_weighted(flat: torch.Tensor, lv: torch.Tensor) -> torch.Tensor:
    """sum_d sq_d / s_d^2 per row of [rows, D] squared errors for one log-variance (1 value) or D of them (float64)."""
    f64 = torch.float64
    if lv.numel() == 1:
        return _weighted(flat.sum(-1, dtype=f64), lv[0])
    # Weighted in float64, so ELBO - sum = R_dec + R_prior stays exact to float64 rounding, a chunk of rows at a
    # time: a float64 copy of the whole block would double the pass's memory.
    w = torch.exp(-lv)
    huge = torch.isinf(w)
    any_huge = bool(huge.any())
    w = torch.where(huge, torch.zeros_like(w), w)
    chunk = max(1, WEIGHT_CHUNK_BYTES // (8 * flat.shape[1]))
    parts = []
    for i in range(0, flat.shape[0], chunk):
        rows = flat[i:i + chunk].to(f64)
        part = rows.matmul(w)
        if any_huge:
            # 1/s_d^2 beyond float64: infinite where that dimension's error is not 0, nothing where it is.
            part = torch.where((rows[:, huge] > 0).any(-1), torch.full_like(part, math.inf), part)
        parts.append(part)
    return torch.cat(parts)


def _block(setup: PassSetup, pass_id: int, block: int, lo: int, hi: int, acc: Optional[_Accumulator],
           shapes_only: bool = False, ambiguous_rows: FrozenSet[int] = frozenset()) -> _Accumulator:
    """One block's sums added to ``acc`` (a new accumulator for the first). ``ambiguous_rows``: the row counts of
    the ranks' first blocks (1, or the point's D values) whose decoder variance every rank asks the decoder about
    at its first block, whether its own block needs the answer or not."""
    S = setup.samples
    here = accumulation_device(setup.device)
    points = setup.points[lo:hi]
    x_in = encoder_input(setup, points)
    # The data as the likelihood reads them, on the pass's device: in the model's dtype, or float32 for a
    # float16 or bfloat16 model (class indices as they are).
    x = points.to(here) if setup.likelihood == "categorical" else points.to(working_dtype(setup.dtype)).to(here)
    P = x.shape[0]
    D = int(np.prod(x.shape[1:])) if x.dim() > 1 else 1
    f64 = torch.float64

    nu, log_t2, as_said = _encoder_outputs(setup, x_in)
    H = nu.shape[1]
    if setup.prior_variance is None:
        a2 = torch.ones(H, dtype=torch.float64, device=here)
    else:
        a2 = setup.prior_variance.detach().to(here).to(torch.float64).reshape(-1)
        if a2.shape[0] != H:
            raise VaeLensInputError(f"prior_variance has {a2.shape[0]} entries but encode returns H={H} latents")
    t2 = log_t2.exp()
    kl_lat = 0.5 * (a2.log() - log_t2 + (t2 + nu * nu) / a2 - 1.0)
    kl_n = kl_lat.sum(1)

    eps = block_noise(setup.seed, pass_id, block, P * S, H).to(here).view(P, S, H)
    z = (nu[:, None, :] + (0.5 * log_t2).exp()[:, None, :] * eps).reshape(P * S, H)
    z_in = model_input(setup, z)
    dec = setup.decode(z_in)
    # Samples beyond the model's dtype are the encoder's doing where the decoder's outputs are not finite.
    unsampleable = lambda out: not out.is_meta and not bool(torch.isfinite(out).all()) and not bool(torch.isfinite(z_in).all())  # noqa: E731
    name = callable_name(setup.decode)

    h_dec_ns: torch.Tensor
    if setup.likelihood == "gaussian":
        if _normal(dec) is not None:
            raise VaeLensInputError(
                f"decode ({name}) returned a torch.distributions.Normal; return (p.loc, log_variance) instead, with the "
                "log-variance as the model holds it (one value, D values, or one row per latent row; a standard deviation, "
                "a variance or a log-std said with decoder_scale): a Normal broadcasts its scale to the mean's shape, so "
                "one decoder variance could not be told from one per point"
            )
        scale = setup.decoder_scale
        if isinstance(dec, (tuple, list)) and len(dec) == 2 and isinstance(dec[0], torch.Tensor) \
                and not (isinstance(dec[1], torch.Tensor) or _is_number(dec[1])):
            # A mean and something else: what is wrong is the second, not the likelihood.
            raise VaeLensInputError(
                f"decode ({name}) returned a mean of shape {shape_of(dec[0])} and, for its {scale}, "
                f"{_describe_value(dec[1])}: the {scale} must be a tensor or a Python number (a fixed variance); "
                + ("convert it with torch.as_tensor(v)" if isinstance(dec[1], (np.ndarray, np.generic, list, tuple))
                   and not isinstance(dec[1], (bool, np.bool_)) else "a bool is not read as a number")
            )
        if not (isinstance(dec, (tuple, list)) and len(dec) == 2 and isinstance(dec[0], torch.Tensor)
                and (isinstance(dec[1], torch.Tensor) or _is_number(dec[1]))):
            raise VaeLensInputError(
                f"decode ({name}) must return (mean, {scale}) for a Gaussian decoder; for latents of shape "
                f"{shape_of(z)} it returned {_describe(dec)}{_pick_advice(dec, 'decode', 'z', scale)}. "
                + (f"If it returns the mean alone and the {scale} is a parameter of the model, give both: "
                   f"decode=lambda z: (model.decode(z), model.{SCALE_ATTRIBUTES[scale]}). " if isinstance(dec, torch.Tensor) else "")
                + "A decoder that returns logits is not Gaussian: pass likelihood='bernoulli' or 'categorical'"
            )
        mu, second = dec
        second_dtype = second.dtype if isinstance(second, torch.Tensor) and second.is_floating_point() else None
        if mu.numel() != P * S * D or mu.shape[0] != P * S:
            raise VaeLensInputError(
                f"decode ({name}) returned mean of shape {shape_of(mu)} for latents of shape {shape_of(z)}; "
                f"the data points have shape {tuple(x.shape[1:])}, so it must be [{P * S}, ...] with {D} values per row"
            )
        if unsampleable(mu):
            _unsampleable(setup, nu, log_t2, lo)
        _check_finite(mu, f"decode ({name}): mean")
        mu = mu.detach().to(here)
        mu = mu.to(working_dtype(mu.dtype))
        log_s2 = decoder_log_variance(setup, second, name)
        if log_s2.dim() >= 2 and tuple(log_s2.shape) == tuple(x.shape[1:]):
            # D values in the data point's own shape ([C, H, W]): one row of them.
            log_s2 = log_s2.reshape(1, *log_s2.shape)
        _check_layout(mu, x, f"decode ({name}): mean")
        known = acc.kind if acc is not None else None
        point = tuple(x.shape[1:])
        per_row = row_or_point(log_s2, P * S, point)
        if acc is None and (per_row or bool(ambiguous_rows & point_axes(point))):
            # A block of C rows gives [C, 1, 1] for one variance per channel and for one per latent row alike: ask the
            # decoder about one row. A variance that does not depend on the rows keeps its shape.
            probe = setup.decode(model_input(setup, z[:1]))
            if per_row:
                kept = isinstance(probe, (tuple, list)) and len(probe) == 2 and isinstance(probe[1], torch.Tensor) \
                    and tuple(probe[1].shape) == tuple(log_s2.shape)
                known = None if kept else "latent"
        per_row = per_row and known == "latent"
        if not per_row:
            log_s2 = broadcast_to_point(log_s2, point)
        log_s2 = broadcast_per_row(log_s2, P * S, point)
        # Where some rank's first block has a shape that does not tell the kind of variance, every rank puts the
        # question to the decoder at its first block, whatever its own block's size: a sharded model's forward
        # calls are collective.
        one_row = P * S == 1 and log_s2.dim() >= 2 and log_s2.numel() in (1, D)
        if acc is None and (one_row or 1 in ambiguous_rows):
            # A block of one latent row gives [1, D] for a per-point and a per-dimension variance alike, and [1, 1]
            # for one variance per point and one in all: ask the decoder about two rows.
            probe = setup.decode(model_input(setup, torch.cat([z[:1], z[:1]])))
            if one_row:
                rows2 = isinstance(probe, (tuple, list)) and len(probe) == 2 and isinstance(probe[1], torch.Tensor) \
                    and probe[1].numel() == 2 * (second.numel() if isinstance(second, torch.Tensor) else 1)
                known = "latent" if rows2 else ("per-dimension" if log_s2.numel() == D else None)
        d_rows = P * S == D > 1 and log_s2.dim() == 1 and log_s2.numel() == D
        if acc is None and (d_rows or (D > 1 and D in ambiguous_rows)):
            # A block of D latent rows gives a flat [D] for one variance per dimension and for a flat one per latent
            # row alike: ask the decoder about one row.
            probe = setup.decode(model_input(setup, z[:1]))
            if d_rows and isinstance(probe, (tuple, list)) and len(probe) == 2 and isinstance(probe[1], torch.Tensor) \
                    and probe[1].numel() != D:
                raise VaeLensInputError(
                    f"decode ({name}) returned {scale} of shape {shape_of(second)} for {P * S} latent rows and "
                    f"{tuple(probe[1].shape)} for 1: one value per latent row, given flat, which reads as one value per "
                    f"dimension where a block has as many rows as the data point has values (D={D}); return it as [rows, 1] "
                    f"(.unsqueeze(1))"
                )
        log_s2 = one_variance_per_row(log_s2, P * S, D, known)
        kind = _variance_kind(log_s2, P * S, D, setup.fixed_variance, name, str(tuple(x.shape[1:])), known, scale)
        # [P, S, D] arithmetic in the decoder output's working dtype (it dominates the pass); sums over d in float64.
        sq = _squared_errors(x.reshape(P, 1, D), mu.reshape(P, S, D))
        if kind == "latent":
            _check_layout(log_s2, x, f"decode ({name}): {scale}")
            lv = log_s2.detach().reshape(P, S, D)
            if second_dtype is not None:
                # [P, S, D] arithmetic in the decoder output's working dtype, as a log-variance it returned would be.
                lv = lv.to(working_dtype(second_dtype))
            sq, norm, variance_sum = _latent_weighted(sq, lv)
            lv_sum = lv.sum(-1, dtype=f64)
            log_lik = -0.5 * (D * LOG_2PI + lv_sum + norm)
            h_dec_ns = 0.5 * (lv_sum + D * LOG_2PIE)
            lv_now: Optional[torch.Tensor] = None
        else:
            if log_s2.numel() == D and log_s2.dim() >= 2:
                # Compared value by value with the data, as the mean is: channels last against channels first is not.
                _check_layout(log_s2, x, f"decode ({name}): {scale}")
            lv = log_s2.detach().to(f64).reshape(-1)
            norm = _homoscedastic_weighted(sq.reshape(P * S, D), lv).reshape(P, S)
            log_det = D * lv[0] if lv.numel() == 1 else lv.sum()
            log_lik = -0.5 * (D * LOG_2PI + log_det + norm)
            h_dec_ns = torch.full((P, S), float(0.5 * (D * LOG_2PIE + log_det)), dtype=f64, device=here)
            lv_now = lv
            if acc is not None and acc.decoder_log_variance is not None and not torch.equal(lv_now, acc.decoder_log_variance):
                # The record's decoder entropy is the first block's variance, each block's ELBO its own.
                raise VaeLensInputError(
                    f"decode ({name}) returned {scale} of shape {shape_of(second)}, read as {kind} (one variance for every "
                    f"z), but its values differ between blocks of latent rows (block {block}, points {lo}..{hi - 1}): a "
                    f"variance that depends on z (or on the rows decoded together) must come as one row per latent row, "
                    f"[rows, D] or [rows, 1]"
                )
    else:
        kind = "none"
        lv_now = None
        sq = None
        said = setup.decoder_output
        if not isinstance(dec, torch.Tensor):
            raise VaeLensInputError(
                f"decode ({name}) must return one tensor of {said} for likelihood={setup.likelihood!r}; "
                f"for latents of shape {shape_of(z)} it returned {_describe(dec)}"
                + (f"; return its {said} ({DISTRIBUTION_ATTRIBUTES[said]})"
                   if isinstance(dec, torch.distributions.Distribution) and said in DISTRIBUTION_ATTRIBUTES else "")
            )
        if dec.is_floating_point() and unsampleable(dec):
            _unsampleable(setup, nu, log_t2, lo)
        _check_finite(dec, f"decode ({name}): {said}")
        dec = dec.detach().to(here)
        if setup.likelihood == "bernoulli":
            _check_layout(dec, x, f"decode ({name}): {said}")
        log_lik = _discrete_log_lik(setup.likelihood, dec, x, P, S, D, name, said)
        h_dec_ns = torch.zeros(P, S, dtype=torch.float64, device=here)

    if acc is None:
        acc = _Accumulator(H, D, S, here, kind, lv_now, a2)
        # Judged on this rank's first block of points: enough to see, and nothing to all-reduce.
        acc.scale_like = as_said and setup.encoder_scale == "log_variance" and looks_like_a_scale(nu, log_t2, a2)
        acc.probability_like = kind == "none" and setup.decoder_output == "logits" and \
            looks_like_probabilities(setup.likelihood, dec, P * S, D)
    if shapes_only:
        return acc

    elbo_ns = log_lik - kl_n[:, None]
    h_enc_n = 0.5 * (H * LOG_2PIE + log_t2.sum(1))
    h_prior = 0.5 * (H * LOG_2PIE + a2.log().sum())
    gap_ns = elbo_ns - (h_enc_n[:, None] - h_prior - h_dec_ns)
    acc.add("n", torch.tensor(float(P), dtype=torch.float64, device=here))
    acc.add("log_lik", log_lik.sum())
    acc.add("kl", kl_n.sum())
    acc.add("log_t2", log_t2.sum())
    for prefix, v in (("elbo", elbo_ns), ("gap", gap_ns)):
        m = v.mean(1)
        acc.add(f"{prefix}_point", m.sum())
        acc.add(f"{prefix}_point_sq", (m * m).sum())
        if S >= 2:
            acc.add(f"{prefix}_mc_var", (v.var(1, unbiased=True) / S).sum())
    acc.kl_per_latent += kl_lat.sum(0)
    acc.second_moment += (nu * nu + t2).sum(0)
    if sq is not None:
        acc.sq_err += sq.reshape(P * S, D).sum(0, dtype=f64)
    if kind == "latent":
        acc.add("h_dec", h_dec_ns.sum())
        acc.add("norm_sq_err", norm.sum())
        acc.add("variance", variance_sum)
    return acc


def _discrete_log_lik(likelihood: str, out: torch.Tensor, x: torch.Tensor, P: int, S: int, D: int, name: str,
                      output: str = "logits") -> torch.Tensor:
    """log p(x|z) of a Bernoulli or categorical decoder, [P, S] in float64, from its logits, its probabilities
    (``output`` is "probabilities": read in float64, their logarithms floored at -100) or its
    log-probabilities (``output`` is "log_probabilities": a logsigmoid's, floored at -100 with log(1 - p)
    formed from log p, or a log_softmax's, checked to be log-probabilities and then read as logits)."""
    f64 = torch.float64
    if likelihood == "bernoulli":
        if out.numel() != P * S * D:
            raise VaeLensInputError(
                f"decode ({name}) returned {output} of shape {shape_of(out)}; Bernoulli data of shape "
                f"{tuple(x.shape[1:])} need {D} {output} per latent row ({P * S} rows)"
            )
        xf = x.reshape(P, 1, D)
        if bool(((xf < 0) | (xf > 1)).any()):
            raise VaeLensInputError("likelihood='bernoulli' needs data in [0, 1]; the diagnostics points have values outside it")
        if output == "probabilities":
            p = out.detach().reshape(P, S, D).to(f64)
            outside = (p < 0) | (p > 1)
            if bool(outside.any()):
                raise VaeLensInputError(
                    f"decode ({name}) returned probabilities of shape {shape_of(out)} with {int(outside.sum())} values outside "
                    f"[0, 1] (from {float(p.min()):.4g} to {float(p.max()):.4g}), but decoder_output='probabilities' says they "
                    "are probabilities; if the decoder returns logits (no sigmoid at its end), pass decoder_output='logits'"
                )
            xd = xf.to(f64)
            # log p and log(1 - p), each floored: 1 - p is formed first, since 1 - (a floor below 1e-16) is 1 in float64.
            return (xd * p.clamp_min(PROBABILITY_FLOOR).log() + (1.0 - xd) * (1.0 - p).clamp_min(PROBABILITY_FLOOR).log()).sum(-1)
        if output == "log_probabilities":
            lp = out.detach().reshape(P, S, D).to(f64)
            if bool((lp > 0).any()):
                raise VaeLensInputError(
                    f"decode ({name}) returned log-probabilities of shape {shape_of(out)} with values above 0 (the largest "
                    f"{float(lp.max()):.4g}), but decoder_output='log_probabilities' says they are log p; if the decoder "
                    "returns logits (no logsigmoid at its end), pass decoder_output='logits'"
                )
            xd = xf.to(f64)
            # log(1 - p) from log p without forming 1 - p where p is near 1: log(-expm1(log p)).
            log_q = torch.where(lp > -math.log(2.0), torch.log(-torch.expm1(lp)), torch.log1p(-torch.exp(lp)))
            return (xd * lp.clamp_min(-100.0) + (1.0 - xd) * log_q.clamp_min(-100.0)).sum(-1)
        lg = out.detach().reshape(P, S, D)
        lg = lg.to(working_dtype(lg.dtype))
        return -F.binary_cross_entropy_with_logits(lg, xf.expand(P, S, D).to(lg.dtype), reduction="none").sum(-1, dtype=f64)
    # categorical: [rows, D, K] (any shape with rows first, D * K values per row, the K categories of a value last
    # in memory), x holds class indices.
    if x.dtype.is_floating_point and not bool((x == x.round()).all()):
        raise VaeLensInputError("likelihood='categorical' needs integer class indices as data")
    if out.shape[0] != P * S or out.numel() % (P * S * D) != 0:
        raise VaeLensInputError(
            f"decode ({name}) returned {output} of shape {shape_of(out)}; categorical data of shape "
            f"{tuple(x.shape[1:])} need [{P * S}, {D}, K] {output}"
        )
    K = out.numel() // (P * S * D)
    axis = classes_axis(tuple(out.shape), tuple(x.shape[1:]), K)
    if axis is not None:
        # Read as [rows, ..., K] it would pair each value with other values' categories: a finite, wrong ELBO.
        last = [*out.shape[:axis], *out.shape[axis + 1:], K]
        raise VaeLensInputError(
            f"decode ({name}) returned {output} of shape {shape_of(out)}: its {K} categories are on axis {axis}"
            + (", as F.cross_entropy takes them," if axis == 1 else ",")
            + f" and VAE Lens reads them on the last axis ({last}); return them with .movedim({axis}, -1)"
        )
    idx = x.reshape(P, 1, D, 1).long()
    if bool(((idx < 0) | (idx >= K)).any()):
        raise VaeLensInputError(f"categorical data hold class indices outside 0..{K - 1} (decode returns K={K} classes)")
    # A softmax in the model's dtype sums to 1 within rounding of each of its K terms; a log_softmax's
    # exponentials as well.
    tolerance = 1e-3 + K * torch.finfo(out.dtype).eps if out.is_floating_point() else 1e-3
    if output == "log_probabilities":
        lp = out.detach().reshape(P, S, D, K).to(f64)
        high = float(lp.max())
        off = float(torch.logsumexp(lp, -1).abs().max())
        if high > tolerance or off > tolerance:
            raise VaeLensInputError(
                f"decode ({name}) returned log-probabilities of shape {shape_of(out)} "
                + (f"with values above 0 (the largest {high:.4g})" if high > tolerance else
                   f"whose {K} categories (the last axis) do not sum to 1 (logsumexp off 0 by up to {off:.4g})")
                + ", but decoder_output='log_probabilities' says they are log p; if the decoder returns logits "
                "(no log_softmax at its end), pass decoder_output='logits'"
                + ("; if it returns probabilities (a softmax at its end), pass decoder_output='probabilities'"
                   if high > tolerance and float(lp.min()) >= 0 else "")
                + ("" if high > tolerance else "; if its categories are on another axis ([rows, K, ...], as "
                   "F.cross_entropy takes them), move them last (.movedim(1, -1))")
            )
    if output == "probabilities":
        pr = out.detach().reshape(P, S, D, K)
        low = float(pr.min())
        sums = pr.sum(-1, dtype=f64)
        off = float((sums - 1.0).abs().max())
        if low < 0 or off > tolerance:
            raise VaeLensInputError(
                f"decode ({name}) returned probabilities of shape {shape_of(out)} "
                + (f"with values below 0 (the smallest {low:.4g})" if low < 0 else
                   f"whose {K} categories (the last axis) do not sum to 1 (off by up to {off:.4g})")
                + ", but decoder_output='probabilities' says they are probabilities; if the decoder returns logits "
                "(no softmax at its end), pass decoder_output='logits'"
                + ("" if low < 0 else "; if its categories are on another axis ([rows, K, ...], as F.cross_entropy takes "
                   "them), move them last (.movedim(1, -1))")
            )
        picked = pr.gather(-1, idx.expand(P, S, D, 1)).squeeze(-1).to(f64)
        return picked.clamp_min(PROBABILITY_FLOOR).log().sum(-1)
    logits = out.detach().reshape(P, S, D, K)
    lp = torch.log_softmax(logits.to(working_dtype(logits.dtype)), -1)
    return lp.gather(-1, idx.expand(P, S, D, 1)).squeeze(-1).sum(-1, dtype=f64)


def classes_axis(shape: Tuple[int, ...], point: Tuple[int, ...], K: int) -> Optional[int]:
    """The axis of a categorical decoder's output of ``shape`` that holds its K categories, where that is not the
    last: [rows, K, *point] as F.cross_entropy takes them, or K inside the point's axes ([rows, C, K, H, W]),
    where the point's axes of length 1 may be left out (a channel of 1, which the decoder's output need not
    keep). None where the shape is also [rows, *point, K] (with or without those axes), or has no such axis."""
    squeezed = tuple(v for v in point if v != 1)
    rows = shape[:1]
    if shape in (rows + point + (K,), rows + squeezed + (K,)):
        return None
    for axis in range(1, len(shape) - 1):
        if shape[axis] == K and shape[1:axis] + shape[axis + 1:] in (point, squeezed):
            return axis
    return None


def looks_like_probabilities(likelihood: str, out: torch.Tensor, rows: int, dim: int) -> bool:
    """Whether a Bernoulli or categorical decoder's outputs, read as logits, are more likely probabilities
    (a sigmoid or a softmax at the decoder's end): for Bernoulli, every value in [0, 1]; for categorical,
    every value 0 or more and each value's K categories (the last axis) summing to 1 within
    PROBABILITY_SUM_TOLERANCE.

    Logits have no bounds and no sum: a decoder's thousands of logits, at its initialisation or after
    training, fall below 0 somewhere (or above 1: a pixel that is surely on). The check is one-sided: it
    needs PROBABILITY_CHECK_VALUES values, and says nothing where it is unsure.
    """
    if out.numel() < PROBABILITY_CHECK_VALUES:
        return False
    v = out.detach()
    if likelihood == "bernoulli":
        return bool(((v >= 0) & (v <= 1)).all())
    K = v.numel() // (rows * dim)
    if K < 2 or bool((v < 0).any()):
        return False
    sums = v.reshape(rows * dim, K).sum(-1, dtype=torch.float64)
    return bool(((sums - 1.0).abs() <= PROBABILITY_SUM_TOLERANCE).all())


def decoder_means(setup: PassSetup, z: torch.Tensor) -> torch.Tensor:
    """The decoder's mean (Gaussian) or success probability (Bernoulli) per row, for images."""
    dec = setup.decode(model_input(setup, z))
    here = accumulation_device(setup.device)
    if setup.likelihood == "gaussian" and isinstance(dec, (tuple, list)):
        return dec[0].detach().to(here)
    if setup.likelihood == "bernoulli" and isinstance(dec, torch.Tensor):
        said = setup.decoder_output
        # In the working dtype: the CPU has no float16 sigmoid or exp in some torch versions.
        dec = dec.detach().to(here)
        dec = dec.to(working_dtype(dec.dtype))
        return dec if said == "probabilities" else dec.exp() if said == "log_probabilities" else torch.sigmoid(dec)
    raise VaeLensInputError(f"decode ({callable_name(setup.decode)}) returned {_describe(dec)}; no image to show")

