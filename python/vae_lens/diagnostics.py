"""`Diagnostics`: the three lines that put a PyTorch training loop under VAE Lens.

    diag = vae_lens.Diagnostics(model.encode, model.decode, train_x, runs_dir="runs")
    for epoch in range(1, epochs + 1):
        ...  # train
        diag.diagnose(epoch, step)
    diag.close("completed")

After every epoch it evaluates a fixed, seeded subset of the data with S Monte-Carlo samples per
point and appends one record to the run folder (docs/run-format.md), which the editor panel and
`vae-lens report` chart and judge. It never disturbs training: no gradients, train/eval mode
restored, the user's random generators untouched (its own seeded generators, and the global ones
forked around the user's callables).
"""
from __future__ import annotations

import functools
import json
import math
import os
import socket
import sys
import time
import types
import warnings
from dataclasses import replace
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from . import distributed
from ._average import WeightAverage, parameters_of
from ._data import channels_last, channels_last_shape, image_shape_of
from ._guards import ExitHook, forked_rngs, quiet_evaluation
from ._meanfield import mean_field_gap, mean_field_points
from ._pass import (DECODER_OUTPUTS, DECODER_SCALES, ENCODER_SCALES, LIKELIHOODS, PassResult, PassSetup, _encode, callable_name,
                    decoder_means, default_block_rows, encoder_input, model_input, model_points, run_pass)
from ._record import PassSums, elbo_only_record, finish_record
from ._runfolder import FORMAT_VERSION, RUN_DIR_ENV, SPEC_ENV, RunFolder, new_run_dir, now_iso, process_start, read_json
from .errors import VaeLensInputError

PriorVariance = Union[None, torch.Tensor, np.ndarray, Sequence[float], Callable[[], Any]]
Beta = Union[float, Callable[[int], float]]

#: Points evaluated per pass by default (the TypeScript trainer's default subset).
DEFAULT_POINTS = 4096
DEFAULT_SAMPLES = 2
#: Set by the editor / `vae-lens train` from the spec's diagnostics section (defaults for points and samples).
POINTS_ENV = "VAE_LENS_POINTS"
SAMPLES_ENV = "VAE_LENS_SAMPLES"
#: Decoder rows per block: points per block = block_rows // samples. None: sized from the data points'
#: values (_pass.default_block_rows: 128 MB of float32 at 8 values per data value, 16 to 1024 rows).
DEFAULT_BLOCK_ROWS: Optional[int] = None
#: Points on which the averaged weights are evaluated beside the current ones (as the TypeScript trainer).
AVERAGE_POINTS = 1024
#: Images shown in the panel (originals with their reconstructions, and samples from the prior).
IMAGES = 8


class Diagnostics:
    """Convergence diagnostics of a Gaussian VAE (Damm et al., AISTATS 2023), logged to a run folder.

    Args:
        encode: ``encode(x) -> (mean, log_variance)``, each ``[batch, H]`` (the log-variance may be a shape that
            broadcasts to it, ``[batch, 1]`` or ``[H]``), or a ``torch.distributions.Normal``
            (or an ``Independent`` of one): the encoder q(z|x). An encoder whose second output is not the
            log-variance says what it is with ``encoder_scale``.
        decode: ``decode(z) -> (mean, log_variance)`` for a Gaussian decoder: ``mean`` has the data's
            shape per row; ``log_variance`` is one value (scalar s^2), one per data dimension (or a shape
            that broadcasts to the data point, ``[C, 1, 1]``), or one row per latent row (latent-dependent
            variance, VAE-3; ``[rows, 1]`` is one variance for every dimension of the row, ``[rows, C, 1, 1]``
            one per channel; a fixed one may be a number). A decoder whose second output is not
            the log-variance says what it is with ``decoder_scale``. With ``likelihood='bernoulli'`` or
            ``'categorical'`` it returns logits instead, or probabilities said with ``decoder_output``.
        data: the training data, a tensor or array ``[N, ...]``, a map-style dataset (or a list) whose
            items are ``x``, ``(x, label)`` (x first, as in ``(x, label, index)``) or dicts holding ``x``, or a dict (any Mapping) of columns of
            one value per point (``{"pixel_values": tensor [N, ...], "label": tensor [N]}``). A fixed,
            seeded subset of ``points`` of it is evaluated every pass.
        input_key: the key of ``x`` in dict items (``{"pixel_values": x, "label": 3}``), or of the column of
            points in a dict of columns. Needed only where it is not plain: by default the one value (of a
            column: its first value) that is a floating-point tensor or array of more than one value, or the
            one key among "pixel_values", "image", "images", "x", "input", "inputs", "data".
        encoder_scale: what the second of ``encode``'s outputs is: ``'log_variance'`` (the default),
            ``'variance'``, ``'std'`` (the standard deviation) or ``'log_std'``. Its shape cannot tell
            them apart. Where it is not given and the outputs look like a scale, a pass warns once.
        decoder_scale: the same for the second of a Gaussian ``decode``'s outputs (a tensor of any of the
            variance kinds, or a number): ``'log_variance'`` (the default), ``'variance'``, ``'std'`` or
            ``'log_std'``. No warning guesses it: a decoder's scale has no sign that gives it away. Refused
            with ``likelihood='bernoulli'`` or ``'categorical'``, whose decoder returns one tensor of logits or probabilities (``decoder_output`` says which).
        decoder_output: what a Bernoulli or categorical ``decode`` returns: ``'logits'`` (the default) or
            ``'probabilities'`` (a decoder ending in a sigmoid, as PyTorch's VAE example, or a softmax), read
            in float64 with their logarithms floored at -100 as torch's ``binary_cross_entropy`` floors them.
            ``'log_probabilities'`` (a ``logsigmoid`` or ``log_softmax`` at the end; for categories these read as
            logits do). Where it is not given
            and the outputs look like probabilities, a pass warns once. Refused with ``likelihood='gaussian'``,
            whose mean is read as it is (``decoder_scale`` says what its second output is).
        runs_dir: where to make the run folder ``<name>-<YYYYMMDD-HHMMSS>`` (default ``.vae-lens/runs``).
            Ignored when the environment variable VAE_LENS_RUN_DIR names a folder (the editor's Train VAE
            and ``vae-lens train`` set it), unless another Diagnostics already writes there: then a new
            folder beside it, with a warning.
        name: the run's name (default: the script's file name).
        points: how many points to evaluate (all of them in order if the data have no more); default
            4096, or the starting spec's ``diagnostics.subset`` (environment variable VAE_LENS_POINTS).
        samples: Monte-Carlo samples z ~ q(z|x) per point (2 or more gives the ELBO a standard error);
            default 2, or the spec's ``diagnostics.mcSamples`` (VAE_LENS_SAMPLES).
        seed: seed of the subset and of the noise. The noise of a point depends on the point and the pass.
        prior_variance: a_h^2 of a learned prior N(0, diag(a^2)) (VAE-2): a callable returning them now
            (e.g. ``lambda: model.log_a2.exp()``), read at every pass, as is a tensor (an ``nn.Parameter``
            holding a_h^2, or a buffer updated in place); or H fixed values (an array, a list), copied
            here. Default: the unit prior.
        likelihood: ``'gaussian'`` (the theorem's case), ``'bernoulli'`` or ``'categorical'``.
        fixed_variance: the Gaussian decoder's variance is held fixed, not learned (VAE-0).
        beta: the weight of the KL term in the training objective, a number or ``beta(epoch)`` for
            annealing. The record always holds the true ELBO (beta = 1), which for any beta > 0 equals the entropy
            sum at the objective's stationary points.
        modules: the ``nn.Module`` s to put in eval mode during a pass (default: those ``encode`` and
            ``decode`` are bound to, hold, or name as globals). Their modes are restored afterwards.
        epochs: the planned number of epochs, for the progress shown by the viewers.
        train_batch_size: examples per optimizer step, for ``samplesPerSec`` when ``diagnose`` is not
            told how many examples the epoch trained on.
        image_shape: ``(height, width)``, or ``(channels, height, width)`` for colour (3 or 4 channels,
            first as PyTorch holds them), or ``(height, width, channels)`` for data held channels last,
            when the data are images (inferred from ``[N, c, h, w]`` data with c 1, 3 or 4, or
            ``[N, h, w]``, with h and w at least 4); for points of three axes it is their own shape, the order their values
            are held in. The panel then shows originals, reconstructions and samples.
        block_rows: decoder rows evaluated at once (memory against speed). Default: as many as 128 MB
            hold at 8 float32 values per data value, between 16 and 1024 (1024 up to 4096 values a point); for a
            categorical decoder, per logit (D x K a row, which the first pass reads off one point's decoding).
        tolerance, window: the convergence rule's settings, written to run.json (defaults 0.01, 5).
        device, dtype: where and in what the networks run (default: the device of the modules' first parameter
            and the dtype most of their parameter values are held in (a frozen TorchScript module's: its weights made constants),
            read at every pass, so a model moved or cast
            after this is followed). ``dtype`` is a floating-point torch.dtype or its name (``"bfloat16"``); both are
            checked when the lens is made.
        group: the torch.distributed process group (default: the world, when initialised).
        optimizer: the training optimizer, read (never changed) for its step at each pass, which the
            records carry as ``learningRate``: under a decaying schedule the verdict expects the
            step's noise to fade with the step.
    """

    def __init__(
        self,
        encode: Callable[[torch.Tensor], Tuple[torch.Tensor, torch.Tensor]],
        decode: Callable[[torch.Tensor], Any],
        data: Any,
        *,
        input_key: Optional[str] = None,
        encoder_scale: Optional[str] = None,
        decoder_scale: Optional[str] = None,
        decoder_output: Optional[str] = None,
        runs_dir: Optional[str] = None,
        name: Optional[str] = None,
        points: Optional[int] = None,
        samples: Optional[int] = None,
        seed: int = 0,
        prior_variance: PriorVariance = None,
        likelihood: str = "gaussian",
        fixed_variance: bool = False,
        beta: Beta = 1.0,
        modules: Optional[Sequence[torch.nn.Module]] = None,
        epochs: Optional[int] = None,
        train_batch_size: Optional[int] = None,
        image_shape: Optional[Sequence[int]] = None,
        block_rows: Optional[int] = DEFAULT_BLOCK_ROWS,
        tolerance: float = 0.01,
        window: int = 5,
        device: Optional[Union[str, torch.device]] = None,
        dtype: Optional[torch.dtype] = None,
        group: Optional[object] = None,
        optimizer: Optional[torch.optim.Optimizer] = None,
        write: bool = True,
    ) -> None:
        points = points if points is not None else _env_int(POINTS_ENV, DEFAULT_POINTS)
        samples = samples if samples is not None else _env_int(SAMPLES_ENV, DEFAULT_SAMPLES)
        if not callable(encode) or not callable(decode):
            raise VaeLensInputError("encode and decode must be callables: encode(x) -> (mean, log_variance), decode(z) -> ...")
        if likelihood not in LIKELIHOODS:
            raise VaeLensInputError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if input_key is not None and not isinstance(input_key, str):
            raise VaeLensInputError(f"input_key must be the key (a string, such as 'pixel_values') under which dict items hold "
                                    f"the data point; got {type(input_key).__name__} {input_key!r:.40}")
        if encoder_scale is not None and encoder_scale not in ENCODER_SCALES:
            raise VaeLensInputError(
                f"encoder_scale says what the second of encode's outputs is: one of {', '.join(map(repr, ENCODER_SCALES))}; "
                f"got {encoder_scale!r}"
            )
        if decoder_scale is not None and likelihood != "gaussian":
            raise VaeLensInputError(
                f"decoder_scale says what the second of a Gaussian decoder's (mean, ...) outputs is; with "
                f"likelihood={likelihood!r} decode returns one tensor of logits or probabilities, which has no scale: leave decoder_scale out "
                f"(decoder_output says which of the two it is)"
            )
        if decoder_scale is not None and decoder_scale not in DECODER_SCALES:
            raise VaeLensInputError(
                f"decoder_scale says what the second of decode's outputs is: one of {', '.join(map(repr, DECODER_SCALES))}; "
                f"got {decoder_scale!r}"
            )
        if decoder_output is not None and likelihood == "gaussian":
            raise VaeLensInputError(
                "decoder_output says what a Bernoulli or categorical decoder returns, logits or probabilities; with "
                "likelihood='gaussian' decode returns (mean, log_variance), whose mean is read as it is (a sigmoid at its "
                "end changes nothing) and whose second output decoder_scale says: leave decoder_output out, or pass "
                "likelihood='bernoulli' if the decoder's outputs are Bernoulli probabilities"
            )
        if decoder_output is not None and decoder_output not in DECODER_OUTPUTS:
            raise VaeLensInputError(
                f"decoder_output says what a Bernoulli or categorical decode returns: one of {', '.join(map(repr, DECODER_OUTPUTS))}; "
                f"got {decoder_output!r}"
            )
        if block_rows is not None:
            block_rows = _whole("block_rows", block_rows, 1)
        points, samples, window, seed = (
            _whole(arg, v, least) for arg, v, least in
            (("points", points, 1), ("samples", samples, 1), ("window", window, 1), ("seed", seed, 0)))
        if optimizer is not None and not isinstance(getattr(optimizer, "param_groups", None), list):
            raise VaeLensInputError(f"optimizer must be a torch.optim.Optimizer (its param_groups give the step); got {type(optimizer).__name__}"
                                    + (": give the scheduler's optimizer" if hasattr(optimizer, "optimizer") else ""))
        # The bounds of a spec's diagnostics.tolerance and .window: readers take no other run.json settings.
        if not (isinstance(tolerance, (int, float)) and 1e-6 <= tolerance <= 1):
            raise VaeLensInputError(f"tolerance must be in [1e-6, 1], got {tolerance!r}")
        if window > 1000:
            raise VaeLensInputError(f"window must be at most 1000 passes, got {window!r}")
        if epochs is not None:
            epochs = _whole("epochs", epochs, 1)
        if train_batch_size is not None:
            train_batch_size = _whole("train_batch_size", train_batch_size, 1)
        if not callable(beta) and not (isinstance(beta, (int, float)) and not isinstance(beta, bool) and math.isfinite(beta) and beta >= 0):
            raise VaeLensInputError(f"beta must be a non-negative number or a function of the epoch, got {beta!r}")

        self.encode, self.decode = encode, decode
        self.encoder_scale: str = encoder_scale or "log_variance"
        self.decoder_scale: str = decoder_scale or "log_variance"
        self.decoder_output: str = decoder_output or "logits"
        #: Whether to warn (once) when a log-variance reading of the encoder looks like a scale.
        self._scale_unsaid = encoder_scale is None
        #: Whether to warn (once) when a logits reading of a Bernoulli or categorical decoder looks like probabilities.
        self._output_unsaid = decoder_output is None
        #: Whether a record has yet held a value float64 cannot (said once a run: a diverged run would say it every pass).
        self._overflow_unsaid = True
        self.likelihood = likelihood
        self.fixed_variance = fixed_variance
        self.beta = beta
        self.samples, self.seed, self.block_rows = samples, seed, block_rows
        self.train_batch_size = train_batch_size
        self.tolerance, self.window = float(tolerance), window
        self._prior_variance = _held_prior_variance(prior_variance)
        computed = _computed_root(prior_variance) if isinstance(prior_variance, torch.Tensor) else None
        if computed is not None:
            # Computed from the model once (model.log_a2.exp(), or a view of that, model.log_a2.exp()[:3]): its own
            # memory, which training never writes. A view of a parameter (model.a2[:3]) has a grad_fn too, but
            # shares the parameter's memory.
            warnings.warn(
                f"VAE Lens: prior_variance is a tensor computed once from the model ({type(computed.grad_fn).__name__}), "
                "so every pass would read the values it has now; pass a callable that computes it, such as "
                "prior_variance=lambda: model.log_a2.exp()",
                stacklevel=2,
            )
        if isinstance(modules, torch.nn.Module):
            modules = [modules]
        if modules is not None:
            # Held as a list: model.children() or a generator would be spent by the check below.
            try:
                modules = list(modules)
            except TypeError:
                raise VaeLensInputError(f"modules must be nn.Modules (a list of them); got {type(modules).__name__} {modules!r:.40}") from None
        if modules is not None and not all(isinstance(m, torch.nn.Module) for m in modules):
            raise VaeLensInputError(f"modules must be nn.Modules; got {[type(m).__name__ for m in modules]}")
        self._modules = list(modules) if modules is not None else _bound_modules(encode, decode)
        if modules is None and not self._modules:
            warnings.warn(
                "VAE Lens found no nn.Module behind encode and decode (lambdas or plain functions): pass modules=[model] "
                "so that the pass reads the model's device and dtype and lens.step() can average its weights (each pass "
                "puts the modules it runs in eval mode either way)",
                stacklevel=2,
            )
        #: Whether to warn (once) of modules a pass ran that were neither given nor found (unless warned of above).
        self._unlisted_unsaid = bool(self._modules) or modules is not None
        # Those given are kept; the others are read from the modules at every pass (a model moved or cast later).
        self._given_device = _given_device(device)
        self._given_dtype = _given_dtype(dtype)
        self.group = group
        self.optimizer = optimizer
        self.rank, self.world = distributed.rank_and_world(group)

        # A dataset's __getitem__ may draw random augmentations: not from the user's generators.
        with forked_rngs():
            with distributed.reaching_every_rank(f"reading the data on rank {self.rank}", group):
                full_n, subset = distributed.shared_points(data, points, seed, input_key, group, {
                    "samples": samples, "block_rows": block_rows, "likelihood": likelihood, "encoder_scale": encoder_scale,
                    "decoder_scale": decoder_scale, "decoder_output": decoder_output, "fixed_variance": fixed_variance})
        self.points = subset
        #: Whether block_rows is the data's default, which a categorical decoder's logits may shrink at the first pass.
        self._block_rows_default = self.block_rows is None
        if self.block_rows is None:
            self.block_rows = default_block_rows(int(np.prod(subset.shape[1:])))
        top = _eight_bit_top(subset)
        if top is not None and likelihood == "gaussian":
            # torchvision's dataset.data and many image arrays are 0..255 (as uint8, or cast to float or read as int64),
            # while the training loop divides by 255: the pass would compare the decoder's means with numbers 255 times larger.
            held = (f"8-bit integers up to {top}" if subset.dtype == torch.uint8 else
                    f"whole numbers from 0 up to {top} ({str(subset.dtype).replace('torch.', '')}: 8-bit pixel values?)")
            warnings.warn(
                f"VAE Lens: the data are {held} and each pass evaluates them as they are; if your training loop scales them "
                "(x / 255), pass the scaled data",
                stacklevel=2,
            )
        self.image_shape, self._image_held_last = image_shape_of(subset, image_shape)
        self.records: List[Dict[str, Any]] = []
        self._started = time.monotonic()
        self._since = self._started
        self._last_step = 0
        self._closed = False
        self._pass_count = 0
        self._average: Optional[WeightAverage] = None
        #: What the last diagnose() raised, if it raised.
        self.failure: Optional[str] = None

        self.run: Optional[RunFolder] = None
        #: Whether this process goes on with a run an earlier one wrote (an elastic restart): a session of its own.
        self._continued = False
        run_dir: Optional[str] = None
        refused: Optional[str] = None
        if write and self.rank == 0:
            parent = runs_dir or os.path.join(".vae-lens", "runs")
            restart = _elastic_restart()
            try:
                run_dir = (os.environ.get(RUN_DIR_ENV) or (_elastic_run(parent, restart[0]) if restart else None)
                           or new_run_dir(parent, name or _script_name()))
                if restart and _elastic_run_id(run_dir) == restart[0]:
                    self._continued = True
                    # The format's resume: the passes redone from the job's checkpoint replace those after it.
                    warnings.warn(f"VAE Lens: restart {restart[1]} of elastic job {restart[0]!r}: continuing its run in {run_dir}; "
                                  "the passes redone from the checkpoint replace the later ones", stacklevel=2)
                elif os.environ.get(RUN_DIR_ENV) and _holds_a_run(run_dir):
                    # A second Diagnostics under one editor-made folder (two models in one script, a sweep):
                    # appending there would read as a restart of the first run and hide its records.
                    taken = run_dir
                    run_dir = new_run_dir(os.path.dirname(os.path.abspath(taken)), name or _script_name())
                    warnings.warn(f"VAE Lens: {taken} (from {RUN_DIR_ENV}) already holds another Diagnostics' run; this one is "
                                  f"written to {run_dir} beside it, which the editor does not follow (vae-lens report shows it)",
                                  stacklevel=2)
                self.run = RunFolder(run_dir)
            except OSError as e:
                where = os.environ.get(RUN_DIR_ENV) or parent
                refused = f"cannot write the run folder in {where}: {e.strerror or e}; choose another runs_dir"
        # Every rank asks, whatever its own `write` (write=(rank == 0) is a common habit): rank 0's decides, and a rank
        # that skipped the broadcast would pair the next collective with it. So does the others' wait: rank 0's refusal
        # is raised on every rank.
        shared: Tuple[Optional[str], Optional[str]] = distributed.broadcast_object((run_dir, refused), group)  # type: ignore[assignment]
        self.run_dir: Optional[str] = shared[0]
        refused = shared[1]
        if refused is not None:
            raise VaeLensInputError(refused if self.rank == 0 else f"rank 0: {refused}")
        self._meta: Dict[str, Any] = {}
        if self.run is not None:
            self._meta = self._initial_meta(name, epochs, full_n, data)
            self.run.write_meta(self._meta)
            self.run.write_summary(self._summary("running"))
            ExitHook.register(self)

    # -- the public loop API ---------------------------------------------------------------

    def diagnose(self, epoch: int, step: int, *, samples: Optional[int] = None, train_loss: Optional[float] = None,
                 beta: Optional[float] = None, learning_rate: Optional[float] = None) -> Dict[str, Any]:
        """Evaluate the model now and append one record; returns the record (on every rank).

        Args:
            epoch: epochs done (0 = before training).
            step: optimizer steps so far.
            samples: examples trained on since the last call, for ``samplesPerSec``.
            train_loss: the epoch's mean training loss, charted beside the ELBO.
            beta: the KL weight of the objective now, overriding the constructor's ``beta``.
            learning_rate: the optimizer's step now, where no ``optimizer`` was given (with one, its
                first parameter group's ``lr`` is read).
        """
        try:
            record = self._diagnose(epoch, step, samples, train_loss, beta, learning_rate)
        except Exception as e:
            # Said by the run if the script then ends without close(): under torch.multiprocessing.spawn no excepthook
            # sees the exception, which the spawn wrapper catches before the process exits.
            self.failure = str(e) if isinstance(e, VaeLensInputError) else f"{type(e).__name__}: {e}"
            if self.run is not None:
                ExitHook.failed_runs[self.run.path] = functools.partial(self.run.write_summary, self._summary(
                    "failed", f"{self.failure} (then the script ended without calling close())", ended=True))
            raise
        self.failure = None
        if self.run is not None:
            ExitHook.failed_runs.pop(self.run.path, None)
        return record

    def _diagnose(self, epoch: int, step: int, samples: Optional[int], train_loss: Optional[float], beta: Optional[float],
                  learning_rate: Optional[float]) -> Dict[str, Any]:
        if self._closed:
            raise VaeLensInputError("diagnose() called after close()")
        checked = _check_arguments(epoch=epoch, step=step, samples=samples, train_loss=train_loss, beta=beta, learning_rate=learning_rate)
        epoch, step, samples = checked["epoch"], checked["step"], checked["samples"]
        train_loss, learning_rate = checked["train_loss"], checked["learning_rate"]
        beta = self._beta_at(epoch, checked["beta"])  # a beta(epoch) of the wrong kind is named before the pass
        train_seconds = time.monotonic() - self._since
        t0 = time.monotonic()
        self._fit_blocks_to_categories()
        result = self._run_pass(epoch)
        if result.scale_like and self._scale_unsaid:
            self._scale_unsaid = False
            warnings.warn(
                f"VAE Lens: encode ({callable_name(self.encode)}) returns a second output that is positive everywhere and, "
                "read as a log-variance, makes q(z|x) wider than the prior at every point in a latent whose means spread: "
                "it looks like a standard deviation or a variance. Pass encoder_scale='std' or 'variance' to Diagnostics "
                "if it is one (encoder_scale='log_variance' if it is not, which also silences this warning)",
                stacklevel=2,
            )
        if result.probability_like and self._output_unsaid:
            self._output_unsaid = False
            what = ("values all in [0, 1] (a sigmoid at its end?)" if self.likelihood == "bernoulli" else
                    "values of 0 or more whose categories sum to 1 (a softmax at its end?)")
            warnings.warn(
                f"VAE Lens: decode ({callable_name(self.decode)}) returns {what}: they look like probabilities, and "
                f"likelihood={self.likelihood!r} reads them as logits, which gives a wrong ELBO. Pass "
                "decoder_output='probabilities' to Diagnostics if they are (decoder_output='logits' if they are not, "
                "which also silences this warning)",
                stacklevel=2,
            )
        record = self._record(result, epoch, step, beta)
        note = _not_finite_note(record)
        if note is not None and self._overflow_unsaid:
            self._overflow_unsaid = False
            warnings.warn(f"VAE Lens: the pass at epoch {epoch} {note}", stacklevel=2)
        if self.likelihood == "gaussian" and mean_field_points(len(self.points), result.sums.latent_dim) > 0:
            with quiet_evaluation(self._modules, self.device, self._what_the_pass_feeds):
                gap, used, linear = mean_field_gap(self._setup(), result.variance_kind)
            if math.isfinite(gap):
                record.update(meanFieldGap=gap, meanFieldPoints=used, decoderLinear=linear)
        if self._average is not None and self._average.count > 0:
            record["averagedElbo"] = record["elbo"] + self._averaging_gain(epoch)
            record["averagingSteps"] = self._average.count
            self._average.reset()
        record["diagnosticsSeconds"] = time.monotonic() - t0
        trained = samples if samples is not None else (
            (step - self._last_step) * self.train_batch_size if self.train_batch_size else None)
        record["samplesPerSec"] = trained / train_seconds if trained is not None and train_seconds > 0 else None
        record["wallSeconds"] = time.monotonic() - self._started
        if train_loss is not None:
            record["trainLoss"] = float(train_loss)
        if learning_rate is None and self.optimizer is not None:
            learning_rate = self.optimizer.param_groups[0].get("lr")
        if isinstance(learning_rate, torch.Tensor):
            learning_rate = learning_rate.item()
        if learning_rate is not None:
            record["learningRate"] = float(learning_rate)
        self.records.append(record)
        if self.run is not None:
            if self._pass_count == 0:
                self._complete_meta(result, record["epoch"])
            self.run.append_record(record)
            self.run.write_summary(self._summary("running"))
        # Rank 0 writes the images, but every rank draws them (a sharded model's forward calls are collective).
        if self.run_dir is not None:
            if self.image_shape is not None and self.likelihood == "categorical":
                # Class indices are not pixel values, and a categorical decoder has no mean image to draw.
                warnings.warn("VAE Lens shows no images for this run: likelihood='categorical' decodes class "
                              "probabilities, not pixel values to draw", stacklevel=2)
                self.image_shape = None
            if self.image_shape is not None:
                # The images are extra: whatever fails in them (a decoder they cannot be drawn from, a model that
                # refuses the batch) must not fail a pass already written, nor reach the training loop.
                try:
                    self._write_images(epoch)
                except Exception as e:  # noqa: BLE001 - any error of the extra; the record stands
                    cause = str(e) if isinstance(e, VaeLensInputError) else f"{type(e).__name__}: {e}"
                    warnings.warn(f"VAE Lens shows no images for this run: {cause}", stacklevel=2)
                    self.image_shape = None
        self._pass_count += 1
        self._last_step = step
        self._since = time.monotonic()
        return record

    def step(self) -> None:
        """Optional, after each ``optimizer.step()``: adds the weights to the average of this pass interval.

        The next pass then also evaluates the averaged weights on the same points and noise
        (``averagedElbo``; the first 1024 points): when they beat the current ones, the step's noise
        holds the model down and a smaller step would gain the difference. The average is a copy
        of the trainable parameters of ``modules``, in their dtype and on their device.
        """
        if self._average is None:
            params = parameters_of(self._modules)
            if not params:
                warnings.warn("lens.step(): no trainable parameters were found behind encode and decode; pass "
                              "modules=[model] to Diagnostics so that their weights can be averaged", stacklevel=2)
            self._average = WeightAverage(params)
        self._average.add()

    def close(self, status: str = "completed", message: Optional[str] = None) -> None:
        """End the run: ``completed``, ``stopped``, ``failed`` or ``diverged`` (with a message)."""
        if self._closed:
            return
        if status not in ("completed", "stopped", "failed", "diverged"):
            raise VaeLensInputError(f"close(status) must be completed, stopped, failed or diverged, got {status!r}")
        if message is not None and not isinstance(message, str):
            # close("failed", err) with the exception itself: its text is what the summary says.
            message = f"{type(message).__name__}: {message}" if isinstance(message, BaseException) else str(message)
        if self.run is not None:
            self.run.write_summary(self._summary(status, message, ended=True))
            self.run.close()
            ExitHook.failed_runs.pop(self.run.path, None)
        self._closed = True
        ExitHook.unregister(self)

    def __enter__(self) -> "Diagnostics":
        return self

    def __exit__(self, kind: Optional[type], exc: Optional[BaseException], tb: object) -> None:
        if kind is None:
            self.close("completed")
        elif issubclass(kind, SystemExit) and (exc is None or getattr(exc, "code", None) in (None, 0)):
            # sys.exit() or sys.exit(0) inside the block (early stopping, say) is a clean end, not a failure.
            self.close("completed")
        elif issubclass(kind, KeyboardInterrupt):
            self.close("stopped", "interrupted (SIGINT)")
        else:
            self.close("failed", f"{kind.__name__}: {exc}")

    @property
    def device(self) -> torch.device:
        """Where the networks run: the one given, or that of the modules' parameters now."""
        return _device_and_dtype(self._modules, self._given_device, self._given_dtype)[0]

    @property
    def dtype(self) -> torch.dtype:
        """What the networks run in: the one given, or the one most of the modules' parameter values are held in now."""
        return _device_and_dtype(self._modules, self._given_device, self._given_dtype)[1]

    # -- the pass --------------------------------------------------------------------------

    def _prior_variance_now(self) -> Optional[torch.Tensor]:
        pv = self._prior_variance
        if pv is None:
            return None
        if callable(pv):
            with forked_rngs():
                v = pv()
        else:
            v = pv
        return _prior_variance_tensor(v)

    def _fit_blocks_to_categories(self) -> None:
        """Once, before the first pass: a categorical decoder returns K logits per data value, so the default block
        (sized from the data's D values a row) is sized again from the logits of one row, which one point's
        decoding shows. Every rank asks alike (a sharded model's forward calls are collective)."""
        if not self._block_rows_default or self.likelihood != "categorical":
            return
        self._block_rows_default = False
        setup = self._setup()
        with quiet_evaluation(self._modules, self.device, self._what_the_pass_feeds):
            mean, _ = _encode(setup, encoder_input(setup, self.points[:1]))
            out = setup.decode(model_input(setup, mean))
        # Anything else the pass names, as it names it.
        if isinstance(out, torch.Tensor) and out.numel() > 0:
            self.block_rows = min(self.block_rows, default_block_rows(out.numel()))

    def _what_the_pass_feeds(self) -> str:
        """A note for an error the user's encode or decode raised in a pass: what they were called on."""
        device, dtype = _device_and_dtype(self._modules, self._given_device, self._given_dtype)
        return (f"VAE Lens: raised in a diagnostics pass, which calls encode ({callable_name(self.encode)}) in batches of "
                f"up to {max(1, self.block_rows // self.samples)} of the fixed points, each of shape {tuple(self.points.shape[1:])}, "
                f"as {dtype} on {device}, and decode ({callable_name(self.decode)}) on up to {self.block_rows} latents at a time "
                f"(block_rows) that it samples; in eval mode, under torch.no_grad(), with autocast off")

    def _setup(self) -> PassSetup:
        device, dtype = _device_and_dtype(self._modules, self._given_device, self._given_dtype)
        return PassSetup(
            encode=self.encode, decode=self.decode, points=self.points, samples=self.samples, seed=self.seed,
            block_rows=self.block_rows, likelihood=self.likelihood, fixed_variance=self.fixed_variance,
            prior_variance=self._prior_variance_now(), device=device, dtype=dtype,
            encoder_scale=self.encoder_scale, decoder_scale=self.decoder_scale, decoder_output=self.decoder_output,
        )

    def _run_pass(self, epoch: int, setup: Optional[PassSetup] = None, which: int = 0) -> PassResult:
        """One pass, `which` of distributed.PASSES."""
        setup = setup or self._setup()
        error: Optional[Exception] = None
        with quiet_evaluation(self._modules, self.device, self._what_the_pass_feeds) as quiet:
            try:
                local = run_pass(setup, epoch, self.rank, self.world)
            except Exception as e:
                if self.world == 1:
                    raise
                error = e
        if quiet.unlisted and self._unlisted_unsaid:
            self._unlisted_unsaid = False
            names = ", ".join(dict.fromkeys(type(m).__name__ for m in quiet.unlisted))
            warnings.warn(
                f"VAE Lens: encode or decode ran modules in training mode that it was not given and did not find ({names}); "
                "the pass put them in eval mode too, but their weights are not averaged by lens.step() and the device and "
                "dtype are not read from them: pass modules=[model] to Diagnostics",
                stacklevel=3,
            )
        if self.world > 1:
            # A rank that failed says so before the sums' all-reduce, where the others would wait for it.
            averaging = self._average is not None and self._average.count > 0
            with distributed.reaching_every_rank(f"the diagnostics pass of diagnose(epoch={epoch}) on rank {self.rank}", self.group):
                failed = distributed.failures(None if error is None else (
                    str(error) if isinstance(error, VaeLensInputError) else f"{type(error).__name__}: {error}"),
                    (self._pass_count, epoch, int(averaging), which), self.group)
                if failed:
                    raise VaeLensInputError(f"the pass failed on {len(failed)} of {self.world} ranks: "
                                            + "; ".join(f"rank {r}: {m}" for r, m in failed)) from error
                s = local.sums
                total = distributed.all_reduce_sum(s.to_vector(), self.group)
            local.sums = PassSums.from_vector(total, s.latent_dim, s.dim, s.samples)
        return local

    def _averaging_gain(self, epoch: int) -> float:
        """ELBO of the averaged weights minus the current weights', on the first points with this pass's noise."""
        assert self._average is not None
        now = _stats(self._run_pass(epoch, replace(self._setup(), points=self.points[:AVERAGE_POINTS]), 1))["elbo"]
        with self._average.swapped_in():
            # Set up inside the swap: a learned prior variance is averaged too.
            averaged = _stats(self._run_pass(epoch, replace(self._setup(), points=self.points[:AVERAGE_POINTS]), 2))["elbo"]
        return float(averaged - now)

    def _beta_at(self, epoch: int, override: Optional[float]) -> float:
        if override is not None:
            return float(override)
        if not callable(self.beta):
            return float(self.beta)
        v = self.beta(epoch)
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not (math.isfinite(v) and v >= 0):
            raise VaeLensInputError(f"beta({epoch}) returned {type(v).__name__} {v!r:.40}; the KL weight must be a finite number, 0 or more")
        return float(v)

    def _record(self, r: PassResult, epoch: int, step: int, beta_now: Optional[float]) -> Dict[str, Any]:
        stats = _stats(r)
        beta = self._beta_at(epoch, beta_now)
        applies, note = theorem_status(self.likelihood, r.variance_kind, beta)
        record: Dict[str, Any] = {"epoch": epoch, "step": step, **stats}
        if self._prior_variance is not None:
            record["priorVariance"] = [float(v) for v in r.prior_variance]
        record.update({
            "points": int(r.sums.n), "mcSamples": self.samples, "likelihood": self.likelihood, "beta": beta,
            "theoremApplies": applies,
        })
        if note:
            record["theoremNote"] = note
        return record

    def _write_images(self, epoch: int) -> None:
        assert self.image_shape is not None
        setup = self._setup()
        k = min(IMAGES, self.points.shape[0])
        with quiet_evaluation(self._modules, self.device, self._what_the_pass_feeds):
            x = model_points(self.points[:k], setup.dtype, setup.device)
            mean, _ = _encode(setup, x)
            recon = decoder_means(setup, mean)
            g = torch.Generator(device="cpu")
            g.manual_seed(self.seed * 7919 + epoch)
            H = mean.shape[1]
            a2 = setup.prior_variance if setup.prior_variance is not None else torch.ones(H, dtype=torch.float64)
            z = torch.randn(k, H, generator=g, dtype=torch.float64) * a2.sqrt().cpu()
            samples = decoder_means(setup, z)
        shape, held_last = self.image_shape, self._image_held_last
        orig = self.points[:k].to(setup.dtype).reshape(k, -1).double()
        lo, hi = float(orig.min()), float(orig.max())
        # Pixels in [0, 1] as the format asks: data already there are clipped, others rescaled by the originals' range.
        scale = (lambda t: t.clamp(0, 1)) if lo >= 0 and hi <= 1 else (lambda t: ((t - lo) / max(hi - lo, 1e-12)).clamp(0, 1))
        # Channels last, as VAE Lens's own trainer writes them, and said so (docs/run-format.md, "images.json").
        rows = lambda t: [[round(float(v), 4) for v in row] for row in scale(channels_last(t, k, shape, held_last).double().cpu())]  # noqa: E731
        if self.run is not None:
            self.run.write_images({
                "shape": channels_last_shape(shape, held_last), "layout": "hwc",
                "originals": rows(orig), "reconstructions": rows(recon), "samples": rows(samples),
            })

    # -- run.json and summary.json ---------------------------------------------------------

    def _initial_meta(self, name: Optional[str], epochs: Optional[int], full_n: int, data: Any) -> Dict[str, Any]:
        assert self.run is not None
        before = self.run.existing_meta() or {}
        spec = os.environ.get(SPEC_ENV)
        D = int(np.prod(self.points.shape[1:])) if self.points.dim() > 1 else 1
        dataset: Dict[str, Any] = {"n": full_n, "dim": D, "source": type(data).__name__ + " (PyTorch script)"}
        if self.image_shape is not None:
            dataset["imageShape"] = channels_last_shape(self.image_shape, self._image_held_last)
        backend = f"pytorch {self.device}" + (f" x{self.world} ranks" if self.world > 1 else "")
        # The editor's run.json (a script it started) dates this process; a restart is a session of its own.
        started = now_iso() if self._continued else before.get("startedAt") or now_iso()
        session: Dict[str, Any] = {"startedAt": started, "backend": backend, "pid": os.getpid(), "host": socket.gethostname()}
        pid_start = process_start(os.getpid())
        if pid_start is not None:
            session["pidStart"] = pid_start
        if self._continued:
            # Its start epoch is known at its first pass (_complete_meta), from the passes it keeps of the earlier ones.
            sessions = [*_earlier_sessions(before), session]
        else:
            sessions = [{**session, "fromEpoch": 0}]
        meta: Dict[str, Any] = {
            "formatVersion": FORMAT_VERSION,
            "name": before.get("name") or name or _script_name(),
            "specPath": before.get("specPath") or (os.path.abspath(spec) if spec else os.path.abspath(sys.argv[0] or "script")),
            "startedAt": started,
            "backend": backend,
            "modelType": _declared_model_type(self.likelihood, self.fixed_variance, self._prior_variance is not None, None),
            "latentDim": 0,
            "epochs": epochs if epochs is not None else before.get("epochs", 0),
            "dataset": {**before.get("dataset", {}), **dataset} if isinstance(before.get("dataset"), dict) else dataset,
            # The pid means something only on its machine: a reader on another (a cluster's shared file
            # system) takes the run at its summary's word.
            "pid": os.getpid(),
            **({"pidStart": pid_start} if pid_start is not None else {}),
            "host": socket.gethostname(),
            "sessions": sessions,
            "trainer": "vae_lens (Python)",
            "likelihood": self.likelihood,
            # A spec that started the script (trainer.command) set the rule's settings; they win.
            "tolerance": before.get("tolerance", self.tolerance),
            "window": before.get("window", self.window),
            "diagnosticPoints": int(self.points.shape[0]),
            "worldSize": self.world,
        }
        # The runs folder specPath was written beside: how a moved workspace finds the spec again. Kept with
        # the editor's specPath (absent where an older editor wrote none), else this run's own.
        runs_dir = before.get("runsDir") if before.get("specPath") else os.path.dirname(os.path.abspath(self.run.path))
        if isinstance(runs_dir, str):
            meta["runsDir"] = runs_dir
        restart = _elastic_restart()
        if restart is not None or os.environ.get(ELASTIC_RUN_ID_ENV):
            meta["elasticRunId"] = os.environ.get(ELASTIC_RUN_ID_ENV)
            meta["elasticRestarts"] = restart[1] if restart else 0
        applies, note = theorem_status(self.likelihood, "fixed" if self.fixed_variance else "scalar", self._beta_at(0, None))
        meta["theoremApplies"] = applies
        if note:
            meta["theoremNote"] = note
        return meta

    def _complete_meta(self, r: PassResult, epoch: float) -> None:
        """What only the first pass reveals: H, the kind of decoder variance, and for a restart the epoch it went on from."""
        assert self.run is not None
        if self._continued:
            self._meta["sessions"][-1]["fromEpoch"] = _kept_epoch_before(self.run.file("metrics.jsonl"), epoch)
        self._meta["latentDim"] = r.sums.latent_dim
        self._meta["modelType"] = _declared_model_type(self.likelihood, self.fixed_variance, self._prior_variance is not None, r.variance_kind)
        self._meta["decoderVariance"] = r.variance_kind
        self.run.write_meta(self._meta)

    def _summary(self, status: str, message: Optional[str] = None, ended: bool = False) -> Dict[str, Any]:
        last = self.records[-1] if self.records else None
        out: Dict[str, Any] = {
            "status": status,
            "epochsDone": last["epoch"] if last else 0,
            "steps": last["step"] if last else 0,
            "wallSeconds": time.monotonic() - self._started,
        }
        if last is not None:
            out["last"] = last
        if ended:
            out["endedAt"] = now_iso()
        if message:
            out["message"] = message
        return out


def _eight_bit_top(points: torch.Tensor) -> Optional[int]:
    """The largest value of points that look like unscaled 8-bit pixel values, else None: uint8 above 1, or whole
    numbers from 0 whose largest is above 127 and at most 255 in any other dtype (small counts stay unwarned)."""
    if points.dtype == torch.bool or points.numel() == 0:
        return None
    top = float(points.max())
    if points.dtype == torch.uint8:
        return int(top) if top > 1 else None
    if not 127 < top <= 255 or float(points.min()) < 0:
        return None
    if points.is_floating_point() and not bool((points == points.round()).all()):
        return None
    return int(top)


def _prior_variance_tensor(v: Any) -> torch.Tensor:
    """A prior variance a_h^2 as the pass reads it: H positive, finite values in float64."""
    try:
        # On the CPU: a device may hold no float64 (Apple's MPS); the pass moves it where it adds up.
        t = torch.as_tensor(v.detach().cpu() if isinstance(v, torch.Tensor) else np.asarray(v, dtype=np.float64)).to(torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise VaeLensInputError(f"prior_variance must be H positive, finite variances a_h^2 (a tensor, or a callable returning one); got {type(v).__name__} {v!r:.60}") from None
    if t.dim() != 1 or not bool(torch.isfinite(t).all()) or bool((t <= 0).any()):
        raise VaeLensInputError(f"prior_variance must be H positive, finite variances a_h^2; got shape {tuple(t.shape)} with values {t.reshape(-1).tolist()[:8]}")
    return t


def _held_prior_variance(pv: PriorVariance) -> PriorVariance:
    """prior_variance as Diagnostics keeps it. A callable, or a tensor (the model's: an ``nn.Parameter`` an
    optimizer steps, or a buffer a closed-form update writes in place), is checked now and read at every
    pass, as the weights are. An array or a list of H numbers is checked and copied now: it is the user's
    statement of a fixed prior, not the model's state."""
    if pv is None or callable(pv):
        return pv
    if isinstance(pv, torch.Tensor):
        _prior_variance_tensor(pv)
        # Detached: the same memory, so in-place updates are still followed, without its autograd graph (a
        # tensor computed from the model would keep that graph, and what it saved, alive with Diagnostics).
        return pv.detach()
    return _prior_variance_tensor(pv).clone(memory_format=torch.contiguous_format)  # never a view of an array


def _computed_root(t: torch.Tensor) -> Optional[torch.Tensor]:
    """The tensor whose memory ``t`` is, or is a view of, where that was computed by autograd (has a
    grad_fn): its values are fixed when computed, not the model's state. None for a leaf (a parameter,
    a buffer, plain values) or a view of one."""
    root = t
    while root._base is not None:
        root = root._base
    return root if root.grad_fn is not None else None


def _earlier_sessions(before: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The sessions a run.json lists, or for one from before they were recorded the session it describes itself
    (its start epoch known only where no restart rewrote it)."""
    listed = before.get("sessions")
    if isinstance(listed, list) and all(isinstance(s, dict) and isinstance(s.get("startedAt"), str) and isinstance(s.get("backend"), str)
                                        for s in listed):
        return [dict(s) for s in listed]
    own = {k: before[k] for k in ("startedAt", "backend", "pid", "pidStart", "host") if k in before}
    if not (isinstance(own.get("startedAt"), str) and isinstance(own.get("backend"), str)):
        return []
    return [{**own, "fromEpoch": 0} if not before.get("elasticRestarts") else own]


def _kept_epoch_before(metrics: str, epoch: float) -> int:
    """The last epoch of the passes in `metrics` before `epoch`, the first pass of a restart: readers keep those and
    drop the later ones it redoes. 0 where there are none."""
    kept = 0
    try:
        with open(metrics, encoding="utf-8") as f:
            for line in f:
                try:
                    e = json.loads(line).get("epoch")
                except (ValueError, AttributeError):
                    continue
                if isinstance(e, (int, float)) and not isinstance(e, bool) and float(e).is_integer() and kept < e < epoch:
                    kept = int(e)
    except OSError:
        pass
    return kept


def _holds_a_run(path: str) -> bool:
    """Whether a run folder already has a writer's records, or a run.json a trainer (not the editor's
    placeholder for a script, whose `trainer` is "script") has claimed."""
    try:
        if os.path.getsize(os.path.join(path, "metrics.jsonl")) > 0:
            return True
    except OSError:
        pass
    meta = read_json(os.path.join(path, "run.json")) or {}
    trainer = meta.get("trainer")
    return isinstance(trainer, str) and trainer != "script"


#: What torchrun's elastic agent tells every worker: the job, and how many times it restarted the workers.
ELASTIC_RUN_ID_ENV = "TORCHELASTIC_RUN_ID"
ELASTIC_RESTART_ENV = "TORCHELASTIC_RESTART_COUNT"


def _elastic_restart() -> Optional[Tuple[str, int]]:
    """(job id, restart count) where torchrun restarted this job's workers; None at its first start or without torchrun."""
    run_id, count = os.environ.get(ELASTIC_RUN_ID_ENV), os.environ.get(ELASTIC_RESTART_ENV, "")
    return (run_id, int(count)) if run_id and count.isdigit() and int(count) > 0 else None


def _elastic_run_id(path: str) -> Optional[str]:
    run_id = (read_json(os.path.join(path, "run.json")) or {}).get("elasticRunId")
    return run_id if isinstance(run_id, str) else None


def _elastic_run(parent: str, run_id: str) -> Optional[str]:
    """The newest run folder in `parent` that the elastic job `run_id` started."""
    try:
        names = os.listdir(parent)
    except OSError:
        return None
    found = [os.path.join(parent, n) for n in names if _elastic_run_id(os.path.join(parent, n)) == run_id]
    return max(found, key=os.path.getmtime) if found else None


def _whole(name: str, v: Any, least: int) -> int:
    """A whole-number argument (an int or a numpy integer, not a bool) of at least `least`."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
        raise VaeLensInputError(f"{name} must be a whole number of at least {least}, got {type(v).__name__} {v!r:.40}")
    return int(v)


_WHOLE = ("epoch", "step", "samples")


def _check_arguments(**values: Any) -> Dict[str, Any]:
    """diagnose()'s arguments, checked before the pass (a wrong one is named, and nothing is written),
    and returned as plain Python numbers: a numpy scalar, a one-element tensor or 2.0 for an epoch
    would otherwise reach the noise's seed arithmetic and the JSON writer as they are."""
    out: Dict[str, Any] = {}
    for name, v in values.items():
        if v is None and name not in ("epoch", "step"):
            out[name] = None
            continue
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise VaeLensInputError(f"diagnose(): {name} must be a number, got {type(v).__name__} {v!r:.40}")
        v = float(v) if isinstance(v, (float, np.floating)) else int(v)
        if name in _WHOLE and (not math.isfinite(v) or int(v) != v or v < 0):
            raise VaeLensInputError(f"diagnose(): {name} must be a whole number, 0 or more; got {v!r}")
        if name in ("samples", "beta", "learning_rate") and not v >= 0:
            raise VaeLensInputError(f"diagnose(): {name} must be 0 or more, got {v!r}")
        out[name] = int(v) if name in _WHOLE else float(v)
    return out


def _stats(r: PassResult) -> Dict[str, Any]:
    """A pass's record fields, from its sums."""
    if r.variance_kind == "none":
        return elbo_only_record(r.sums, r.prior_variance)
    return finish_record(r.sums, r.variance_kind, None, r.prior_variance, decoder_log_variance=r.decoder_log_variance)


#: Record fields a pass computes for every likelihood or for a Gaussian one; a non-Gaussian record's null decoder
#: terms are not among the values looked at (they are None, not a float).
WATCHED_FIELDS = ("elbo", "logLik", "kl", "hEnc", "hPrior", "hDec", "gap", "rDec", "rPrior")


def _not_finite_note(record: Dict[str, Any]) -> Optional[str]:
    """What a record holds that is not finite (float64 cannot hold it), and what that makes of it; None if nothing."""
    bad = [k for k in WATCHED_FIELDS if isinstance(record.get(k), float) and not math.isfinite(record[k])]
    if not bad:
        return None
    causes = [f"{k} = {record[k]}" for k in ("logLik", "kl") if k in bad]
    return (f"gives {', '.join(bad)} that float64 cannot hold" + (f" ({', '.join(causes)})" if causes else "")
            + ": written as null, and a pass whose elbo is null is left out of the verdict (the run reads as not converged "
            "while it is the last). A logLik of -inf comes from a decoder variance far below the squared errors (e^-800 "
            "against errors of 1), a kl of inf from an encoder variance far above the prior's")


def theorem_status(likelihood: str, variance_kind: str, beta: float) -> Tuple[bool, Optional[str]]:
    """Does the entropy result (ELBO = entropy sum at stationary points) hold for this model and objective?"""
    if likelihood != "gaussian":
        return False, f"{likelihood} decoder: the entropy result is for Gaussian decoders, so no gap is charted"
    if variance_kind == "fixed":
        return False, "fixed decoder variance (VAE-0): the gap need not close at a stationary point"
    # Any beta > 0 keeps the result for the ELBO at the stationary points of E[log p(x|z)] - beta KL: the decoder
    # variance enters only the likelihood (R_dec = 0), and rescaling a latent against the decoder's first layer moves
    # only the KL (R_prior = 0). Without the KL term nothing holds the latents' second moments.
    if beta == 0.0:
        return False, "beta = 0: the objective has no KL term, so nothing holds the latents' second moments and the gap need not close"
    return True, None


def _declared_model_type(likelihood: str, fixed: bool, learned_prior: bool, kind: Optional[str]) -> str:
    if likelihood != "gaussian":
        return f"{likelihood} decoder"
    if fixed:
        return "VAE-0"
    if kind == "latent":
        return "VAE-3"
    return "VAE-2" if learned_prior else "VAE-1"


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise VaeLensInputError(f"the environment variable {name} must be a whole number of at least 1, not {text!r}")
    return value


# What sys.argv[0] holds where Python runs no script file of the user's: `python -c`, a script piped to
# `python -`, and the kernels of Jupyter and Colab notebooks.
_NOT_A_SCRIPT = {"-c", "-", "ipykernel_launcher", "colab_kernel_launcher"}


def _script_name() -> str:
    base = os.path.splitext(os.path.basename(sys.argv[0]))[0] if sys.argv and sys.argv[0] else ""
    return base if base and base not in _NOT_A_SCRIPT else "pytorch-vae"


def _bound_modules(*fns: object) -> List[torch.nn.Module]:
    """The modules behind encode and decode: a module itself, a bound method's owner, or (through a
    functools.partial, a closure, or the global names a function's code reads, as a lambda over a
    model made at the top of a script) the modules those hold."""
    out: List[torch.nn.Module] = []
    seen: List[object] = []

    def visit(fn: object, depth: int) -> None:
        if depth > 3 or any(fn is s for s in seen):
            return
        seen.append(fn)
        owner = fn if isinstance(fn, torch.nn.Module) else _script_owner(fn, out) or getattr(fn, "__self__", None)
        if isinstance(owner, torch.nn.Module):
            if all(owner is not m for m in out):
                out.append(owner)
            return
        if isinstance(fn, functools.partial):
            for inner in (fn.func, *fn.args, *fn.keywords.values()):
                visit(inner, depth + 1)
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                visit(cell.cell_contents, depth + 1)
            except ValueError:  # an empty cell
                pass
        code, names = getattr(fn, "__code__", None), getattr(fn, "__globals__", None)
        if isinstance(code, types.CodeType) and isinstance(names, dict):
            # Only modules: a global function or object the code names is not followed (it may hold any model).
            for name in _global_names(code):
                value = names.get(name)
                if isinstance(value, torch.nn.Module):
                    visit(value, depth + 1)

    for fn in fns:
        visit(fn, 0)
    return out


def _script_owner(fn: object, found: Sequence[torch.nn.Module]) -> Optional[torch.nn.Module]:
    """The module of a TorchScript method (a scripted or traced module's ``encode`` or ``forward``), which, unlike a
    bound method, has no ``__self__``: the one already found for its module, or a module over the same TorchScript
    module, which shares its parameters and its training flags."""
    script_method = getattr(torch._C, "ScriptMethod", None)
    if script_method is None or not isinstance(fn, script_method):
        return None
    owner = fn.owner
    same = [m for m in found if isinstance(m, torch.jit.ScriptModule) and m._c == owner]
    if same:
        return same[0]
    try:
        return torch.jit._recursive.wrap_cpp_module(owner)
    except (AttributeError, RuntimeError):  # a torch that wraps its modules otherwise: the warning asks for modules
        return None


def _global_names(code: types.CodeType, depth: int = 0) -> List[str]:
    """The names a code object and the code nested in it (a comprehension, an inner lambda) read, in order."""
    names = list(code.co_names)
    if depth < 3:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names += [n for n in _global_names(const, depth + 1) if n not in names]
    return names


def _given_dtype(v: Any) -> Optional[torch.dtype]:
    """Diagnostics' ``dtype``, checked now rather than at the first pass, after an epoch of training: a floating-point
    torch.dtype, or its name as a configuration gives it ("bfloat16", "torch.float16", "half")."""
    if v is None:
        return None
    dt = getattr(torch, v[len("torch."):] if v.startswith("torch.") else v, None) if isinstance(v, str) else v
    if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
        raise VaeLensInputError(f"dtype must be a floating-point torch.dtype (torch.float32, torch.bfloat16, torch.float16, "
                                f"torch.float64) or its name, what the networks run in; got {type(v).__name__} {v!r:.40}")
    return dt


def _given_device(v: Any) -> Optional[torch.device]:
    """Diagnostics' ``device``, checked now: a device torch knows, and a CUDA one only where there is one."""
    if v is None:
        return None
    try:
        dev = torch.device(v)
    except (RuntimeError, TypeError):
        raise VaeLensInputError(f"device must be a torch.device or its name ('cpu', 'cuda:0', 'mps'); got {type(v).__name__} {v!r:.40}") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (dev.index or 0) >= count:
            raise VaeLensInputError(f"device {str(dev)!r} names a CUDA device, but this PyTorch has "
                                    + ("no CUDA device (torch.cuda.is_available() is False)" if count == 0 else f"only {count} (0..{count - 1})"))
    return dev


def _device_and_dtype(modules: Sequence[torch.nn.Module], device: Optional[Union[str, torch.device]],
                      dtype: Optional[torch.dtype]) -> Tuple[torch.device, torch.dtype]:
    param = next((p for m in modules for p in _weights(m)), None)
    dev = torch.device(device) if device is not None else (param.device if param is not None else torch.device("cpu"))
    return dev, dtype or _networks_dtype(modules)


def _weights(m: torch.nn.Module) -> Iterator[torch.Tensor]:
    """A module's parameters; for a frozen TorchScript module (torch.jit.freeze), which has none, the tensors its
    weights were turned into: constants of its methods' graphs."""
    yield from m.parameters()
    if isinstance(m, torch.jit.ScriptModule) and next(m.parameters(), None) is None:
        for name in m._c._method_names():
            yield from _constant_tensors(m._c._get_method(name).graph.nodes())


def _constant_tensors(nodes: Iterable[Any]) -> Iterator[torch.Tensor]:
    for n in nodes:
        if n.kind() == "prim::Constant" and n.output().type().kind() == "TensorType":
            yield n.t("value")
        for block in n.blocks():
            yield from _constant_tensors(block.nodes())


def _networks_dtype(modules: Sequence[torch.nn.Module]) -> torch.dtype:
    """The floating-point dtype that holds most of the modules' parameter values (float32 if none does): the
    networks' weights, not a small parameter kept apart in another dtype (a log-variance in float32 beside
    bfloat16 networks), which a module lists first as its own, before its submodules'."""
    values: Dict[torch.dtype, int] = {}
    seen = set()
    for p in (p for m in modules for p in _weights(m)):
        if p.dtype.is_floating_point and id(p) not in seen:
            seen.add(id(p))
            # A lazy layer's parameter has no values yet, only the dtype it will have.
            values[p.dtype] = values.get(p.dtype, 0) + (0 if torch.nn.parameter.is_lazy(p) else p.numel())
    return max(values, key=lambda dt: values[dt]) if values else torch.float32


RunLogger = Diagnostics
