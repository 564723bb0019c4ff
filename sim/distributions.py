"""Probability distributions for the twin: fast numeric objects and their scenario-file specs.

Every variate is drawn by inverse transform, ``ppf(rng.random())``: exactly one uniform per
variate, so two scenarios run on the same stream see the same uniforms and differ only where
their parameters differ (common random numbers stay synchronised and positively coupled).

``ppf`` is called once per event in the simulation's hot loop, so it calls ``math`` and
``scipy.special`` directly (about 0.1-2 microseconds for a scalar) instead of going through
``scipy.stats`` frozen objects (tens of microseconds). Inputs ``u`` are not range-checked for the
same reason; callers pass uniforms in [0, 1).

Scenario files describe a distribution as a tagged table, validated by the pydantic models below::

    lead_time_days = { kind = "lognormal", mean = 12.0, sd = 4.0 }
"""

from __future__ import annotations

import bisect
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, overload

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_serializer,
    model_validator,
)
from scipy import special

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "Deterministic",
    "DeterministicSpec",
    "Distribution",
    "DistributionSpec",
    "Empirical",
    "EmpiricalSpec",
    "Exponential",
    "ExponentialSpec",
    "FloatArray",
    "Gamma",
    "GammaSpec",
    "Lognormal",
    "LognormalSpec",
    "Triangular",
    "TriangularSpec",
    "TruncatedNormal",
    "TruncatedNormalSpec",
    "Uniform",
    "UniformSpec",
    "Weibull",
    "WeibullSpec",
    "build",
    "parse_spec",
]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Numeric distributions
# --------------------------------------------------------------------------------------------


class Distribution(ABC):
    """A univariate distribution sampled by inverse transform.

    Subclasses are frozen, slotted dataclasses: hashable, picklable (for parallel replications)
    and safe to share between processes of the simulation. They implement ``_ppf_scalar`` (pure
    ``math`` where possible, for the per-event hot path) and ``_ppf_array`` (numpy, for bulk
    draws); both evaluate the same formula.
    """

    __slots__ = ()

    @overload
    def ppf(self, u: float) -> float: ...
    @overload
    def ppf(self, u: npt.NDArray[Any]) -> FloatArray: ...
    def ppf(self, u: float | npt.ArrayLike) -> float | FloatArray:
        """Inverse CDF at ``u`` in [0, 1): a float for a scalar, an array of the same shape else."""
        if isinstance(u, float):  # the hot path (python float or numpy float64 element)
            return self._ppf_scalar(float(u))
        arr = np.asarray(u, dtype=np.float64)
        if arr.ndim == 0:
            return self._ppf_scalar(float(arr))
        return self._ppf_array(arr)

    @overload
    def sample(self, rng: np.random.Generator, size: None = None) -> float: ...
    @overload
    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> FloatArray: ...
    def sample(
        self, rng: np.random.Generator, size: int | tuple[int, ...] | None = None
    ) -> float | FloatArray:
        """Draw by inverse transform, one uniform per variate (keeps common random numbers)."""
        return self.ppf(rng.random(size))

    @property
    @abstractmethod
    def mean(self) -> float:
        """Analytic mean."""

    @property
    @abstractmethod
    def var(self) -> float:
        """Analytic variance."""

    @property
    def sd(self) -> float:
        """Analytic standard deviation."""
        return math.sqrt(self.var)

    @abstractmethod
    def _ppf_scalar(self, u: float) -> float: ...

    @abstractmethod
    def _ppf_array(self, u: FloatArray) -> FloatArray: ...


def _to_float(label: str, name: str, value: object) -> float:
    """``value`` as a float, or a ValueError that names the distribution and parameter."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{label} {name} must be a number, got {value!r}") from None


def _set_param(obj: object, label: str, name: str, *, positive: bool = False) -> float:
    """Coerce parameter ``name`` of a frozen instance to a finite float (optionally > 0).

    Coercion makes ``Exponential(2) == Exponential(2.0)`` and keeps numpy scalars out of the hot
    path.
    """
    raw = getattr(obj, name)
    value = _to_float(label, name, raw)
    if not math.isfinite(value):
        raise ValueError(f"{label} {name} must be finite, got {raw!r}")
    if positive and not value > 0.0:
        raise ValueError(f"{label} {name} must be > 0, got {raw!r}")
    object.__setattr__(obj, name, value)
    return value


def _set(obj: object, name: str, value: object) -> None:
    """Assign a derived attribute of a frozen dataclass during ``__post_init__``."""
    object.__setattr__(obj, name, value)


# Parameters named like the base-class properties (``mean``, ``sd``) are declared with an explicit
# ``field()``: otherwise ``dataclass`` would take the inherited property object as their default.


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    """Memoryless waiting time: gaps of a Poisson process, or a delay with no known shape."""

    mean: float = field()

    def __post_init__(self) -> None:
        _set_param(self, "exponential", "mean", positive=True)

    @property
    def var(self) -> float:
        return self.mean * self.mean

    def _ppf_scalar(self, u: float) -> float:
        try:
            return -self.mean * math.log1p(-u)
        except ValueError:  # u >= 1: let numpy give the limit (inf) or nan, as for arrays
            return float(self._ppf_array(np.asarray(u)))

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return -self.mean * np.log1p(-u)


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    """Positive, right-skewed duration given by its mean and sd (shape (mean/sd)^2).

    ``shape`` and ``scale`` are derived, not constructor arguments.
    """

    mean: float = field()
    sd: float = field()
    shape: float = field(init=False, repr=False, compare=False)
    scale: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mean = _set_param(self, "gamma", "mean", positive=True)
        sd = _set_param(self, "gamma", "sd", positive=True)
        _set(self, "shape", (mean / sd) ** 2)
        _set(self, "scale", sd * sd / mean)

    @property
    def var(self) -> float:
        return self.sd * self.sd

    def _ppf_scalar(self, u: float) -> float:
        return self.scale * float(special.gammaincinv(self.shape, u))

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        return self.scale * special.gammaincinv(self.shape, u)


@dataclass(frozen=True, slots=True)
class Lognormal(Distribution):
    """Positive, right-skewed variable given by the mean and sd of the variable itself.

    (Not of its logarithm: scenario authors know "12 days on average, give or take 4".) ``mu``
    and ``sigma`` of the underlying normal are derived.
    """

    mean: float = field()
    sd: float = field()
    mu: float = field(init=False, repr=False, compare=False)
    sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mean = _set_param(self, "lognormal", "mean", positive=True)
        sd = _set_param(self, "lognormal", "sd", positive=True)
        sigma2 = math.log1p((sd / mean) ** 2)
        _set(self, "mu", math.log(mean) - 0.5 * sigma2)
        _set(self, "sigma", math.sqrt(sigma2))

    @property
    def var(self) -> float:
        return self.sd * self.sd

    def _ppf_scalar(self, u: float) -> float:
        return math.exp(self.mu + self.sigma * float(special.ndtri(u)))

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        return np.exp(self.mu + self.sigma * special.ndtri(u))


@dataclass(frozen=True, slots=True)
class Weibull(Distribution):
    """Time to failure with increasing (shape > 1) or decreasing (shape < 1) hazard."""

    shape: float
    scale: float
    _inv_shape: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = _set_param(self, "weibull", "shape", positive=True)
        _set_param(self, "weibull", "scale", positive=True)
        _set(self, "_inv_shape", 1.0 / shape)

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + self._inv_shape)

    @property
    def var(self) -> float:
        g1 = math.gamma(1.0 + self._inv_shape)
        g2 = math.gamma(1.0 + 2.0 * self._inv_shape)
        return self.scale * self.scale * (g2 - g1 * g1)

    def _ppf_scalar(self, u: float) -> float:
        try:
            return self.scale * (-math.log1p(-u)) ** self._inv_shape
        except ValueError:  # u >= 1: same limit (inf) or nan as the array path
            return float(self._ppf_array(np.asarray(u)))

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.scale * (-np.log1p(-u)) ** self._inv_shape


def _x_phi(x: float) -> float:
    """x * phi(x), with the limit 0 at +-inf (avoids inf * 0 = nan)."""
    return 0.0 if math.isinf(x) else x * math.exp(-0.5 * x * x) * _INV_SQRT_2PI


@dataclass(frozen=True, slots=True)
class TruncatedNormal(Distribution):
    """Normal(loc, scale) conditioned on [low, high]: a symmetric-ish delay that cannot go negative.

    ``low`` may be -inf and ``high`` +inf. Quantiles are computed on the side of the mode where
    the normal CDF keeps its precision (upper-tail truncations use the survival function).
    """

    loc: float
    scale: float
    low: float = -math.inf
    high: float = math.inf
    _a: float = field(init=False, repr=False, compare=False)
    _b: float = field(init=False, repr=False, compare=False)
    _p0: float = field(init=False, repr=False, compare=False)
    _mass: float = field(init=False, repr=False, compare=False)
    _flip: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label = "truncated normal"
        loc = _set_param(self, label, "loc")
        scale = _set_param(self, label, "scale", positive=True)
        low = _to_float(label, "low", self.low)
        high = _to_float(label, "high", self.high)
        if math.isnan(low) or math.isnan(high):
            raise ValueError(f"{label} bounds must not be NaN, got low={low}, high={high}")
        if not low < high:
            raise ValueError(f"{label} needs low < high, got low={low}, high={high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        a = (low - loc) / scale
        b = (high - loc) / scale
        flip = a > 0.0  # all mass above the mean: ndtr would round to 1, so mirror
        if flip:
            p0 = float(special.ndtr(-a))
            mass = p0 - float(special.ndtr(-b))
        else:
            p0 = float(special.ndtr(a))
            mass = float(special.ndtr(b)) - p0
        if not mass > 0.0:
            raise ValueError(
                f"{label} has no probability mass in [low, high] = [{low}, {high}] "
                f"for loc={loc}, scale={scale}"
            )
        _set(self, "_a", a)
        _set(self, "_b", b)
        _set(self, "_p0", p0)
        _set(self, "_mass", mass)
        _set(self, "_flip", flip)

    def _phi_diff(self) -> float:
        """(phi(a) - phi(b)) / Z: the mean shift of the standardised truncated normal."""
        pa = math.exp(-0.5 * self._a * self._a) * _INV_SQRT_2PI
        pb = math.exp(-0.5 * self._b * self._b) * _INV_SQRT_2PI
        return (pa - pb) / self._mass

    @property
    def mean(self) -> float:
        return self.loc + self.scale * self._phi_diff()

    @property
    def var(self) -> float:
        shift = self._phi_diff()
        std_var = 1.0 + (_x_phi(self._a) - _x_phi(self._b)) / self._mass - shift * shift
        return self.scale * self.scale * std_var

    def _ppf_scalar(self, u: float) -> float:
        if self._flip:
            z = -float(special.ndtri(self._p0 - u * self._mass))
        else:
            z = float(special.ndtri(self._p0 + u * self._mass))
        return min(max(self.loc + self.scale * z, self.low), self.high)

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        if self._flip:
            z = -special.ndtri(self._p0 - u * self._mass)
        else:
            z = special.ndtri(self._p0 + u * self._mass)
        return np.clip(self.loc + self.scale * z, self.low, self.high)


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """Equally likely anywhere in [low, high): all that is known is a range."""

    low: float
    high: float
    _width: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        low = _set_param(self, "uniform", "low")
        high = _set_param(self, "uniform", "high")
        if not low < high:
            raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
        _set(self, "_width", high - low)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def var(self) -> float:
        return self._width * self._width / 12.0

    def _ppf_scalar(self, u: float) -> float:
        return self.low + u * self._width

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        return self.low + u * self._width


@dataclass(frozen=True, slots=True)
class Triangular(Distribution):
    """Three-point (minimum, most likely, maximum) estimate, as elicited from the people."""

    low: float
    mode: float
    high: float
    _split: float = field(init=False, repr=False, compare=False)
    _left: float = field(init=False, repr=False, compare=False)
    _right: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        low = _set_param(self, "triangular", "low")
        mode = _set_param(self, "triangular", "mode")
        high = _set_param(self, "triangular", "high")
        if not low < high:
            raise ValueError(f"triangular needs low < high, got low={low}, high={high}")
        if not low <= mode <= high:
            raise ValueError(
                f"triangular mode must lie in [low, high] = [{low}, {high}], got {mode}"
            )
        width = high - low
        _set(self, "_split", (mode - low) / width)  # CDF at the mode
        _set(self, "_left", width * (mode - low))
        _set(self, "_right", width * (high - mode))

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    @property
    def var(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0

    def _ppf_scalar(self, u: float) -> float:
        if u < self._split:
            return self.low + math.sqrt(u * self._left)
        return self.high - math.sqrt((1.0 - u) * self._right)

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        left = self.low + np.sqrt(u * self._left)
        right = self.high - np.sqrt(np.maximum(1.0 - u, 0.0) * self._right)
        return np.where(u < self._split, left, right)


@dataclass(frozen=True, slots=True)
class Deterministic(Distribution):
    """A fixed value: switches a source of variability off without changing the model's code.

    ``sample`` still consumes one uniform, so turning variability off does not shift the
    random numbers the rest of the stream delivers.
    """

    value: float

    def __post_init__(self) -> None:
        _set_param(self, "deterministic", "value")

    @property
    def mean(self) -> float:
        return self.value

    @property
    def var(self) -> float:
        return 0.0

    def _ppf_scalar(self, u: float) -> float:
        return self.value

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        return np.full(u.shape, self.value)


@dataclass(frozen=True, slots=True)
class Empirical(Distribution):
    """Resampling of observed values (bootstrap), optionally weighted.

    ``values`` and ``weights`` are stored as given (as tuples, so the object stays hashable);
    the quantile function works on the values sorted, so it is a true, non-decreasing inverse
    CDF and common random numbers stay monotonically coupled. Zero-weight values are never drawn.
    """

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    _sorted: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _cum: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _sorted_arr: FloatArray = field(init=False, repr=False, compare=False)
    _cum_arr: FloatArray = field(init=False, repr=False, compare=False)
    _last: int = field(init=False, repr=False, compare=False)
    _mean: float = field(init=False, repr=False, compare=False)
    _var: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = _float_tuple("empirical", "values", self.values)
        if not values:
            raise ValueError("empirical values must not be empty")
        x = np.array(values)
        if self.weights is None:
            w = np.ones_like(x)
            weights = None
        else:
            weights = _float_tuple("empirical", "weights", self.weights)
            if len(weights) != len(values):
                raise ValueError(
                    f"empirical weights must match values in length, got {len(weights)} "
                    f"weights for {len(values)} values"
                )
            w = np.array(weights)
            if (w < 0.0).any():
                raise ValueError(f"empirical weights must be >= 0, got {min(weights)}")
            if not w.sum() > 0.0:
                raise ValueError("empirical weights must have a positive sum")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", weights)

        order = np.argsort(x, kind="stable")
        x_sorted, w_sorted = x[order], w[order]
        total = float(w_sorted.sum())
        cum = np.cumsum(w_sorted) / total  # equal entries for zero weights: never selected
        cum[-1] = 1.0
        mean = float(np.dot(w_sorted, x_sorted) / total)
        var = float(np.dot(w_sorted, (x_sorted - mean) ** 2) / total)
        x_sorted.flags.writeable = False
        cum.flags.writeable = False
        _set(self, "_sorted", tuple(x_sorted.tolist()))
        _set(self, "_cum", tuple(cum.tolist()))
        _set(self, "_sorted_arr", x_sorted)
        _set(self, "_cum_arr", cum)
        _set(self, "_last", int(np.flatnonzero(w_sorted > 0.0)[-1]))
        _set(self, "_mean", mean)
        _set(self, "_var", var)

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def var(self) -> float:
        return self._var

    def _ppf_scalar(self, u: float) -> float:
        return self._sorted[min(bisect.bisect_right(self._cum, u), self._last)]

    def _ppf_array(self, u: FloatArray) -> FloatArray:
        idx = np.minimum(np.searchsorted(self._cum_arr, u, side="right"), self._last)
        return self._sorted_arr[idx]


def _float_tuple(label: str, name: str, values: Iterable[object]) -> tuple[float, ...]:
    """Finite floats as a tuple (hashable), with a ValueError naming the offending entry."""
    out = tuple(_to_float(label, name, v) for v in values)
    bad = [v for v in out if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{label} {name} must be finite, got {bad[0]}")
    return out


# --------------------------------------------------------------------------------------------
# Scenario-file specs
# --------------------------------------------------------------------------------------------

Finite = Annotated[float, Field(allow_inf_nan=False)]
PositiveFinite = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFinite = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class _Spec(BaseModel):
    """Common base: frozen, strict about unknown keys, and valid only if it builds.

    Field constraints give precise per-field errors; the after-validator then builds the
    numeric distribution, so relations between fields (low < high, mode inside the range,
    weights matching values, truncation with positive mass) are checked by exactly the code that
    will use them and any spec that validates is guaranteed to build.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    def build(self) -> Distribution:
        """The numeric distribution this spec describes."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _check_buildable(self) -> _Spec:
        self.build()  # a ValueError here becomes a pydantic ValidationError
        return self


class ExponentialSpec(_Spec):
    kind: Literal["exponential"] = "exponential"
    mean: PositiveFinite

    def build(self) -> Exponential:
        return Exponential(self.mean)


class GammaSpec(_Spec):
    kind: Literal["gamma"] = "gamma"
    mean: PositiveFinite
    sd: PositiveFinite

    def build(self) -> Gamma:
        return Gamma(self.mean, self.sd)


class LognormalSpec(_Spec):
    """Mean and sd of the variable itself, not of its logarithm."""

    kind: Literal["lognormal"] = "lognormal"
    mean: PositiveFinite
    sd: PositiveFinite

    def build(self) -> Lognormal:
        return Lognormal(self.mean, self.sd)


class WeibullSpec(_Spec):
    kind: Literal["weibull"] = "weibull"
    shape: PositiveFinite
    scale: PositiveFinite

    def build(self) -> Weibull:
        return Weibull(self.shape, self.scale)


class TruncatedNormalSpec(_Spec):
    """``mean`` and ``sd`` are those of the parent normal, before truncation to [low, high].

    Infinite bounds (TOML ``inf``) are dumped to JSON as the strings ``"inf"``/``"-inf"``, not
    ``null``: a dumped scenario then validates again and -inf and +inf hash differently.
    """

    kind: Literal["truncated_normal"] = "truncated_normal"
    mean: Finite
    sd: PositiveFinite
    low: float = -math.inf
    high: float = math.inf

    def build(self) -> TruncatedNormal:
        return TruncatedNormal(self.mean, self.sd, self.low, self.high)

    @field_serializer("low", "high", when_used="json")
    def _bound_to_json(self, bound: float) -> float | str:
        return bound if math.isfinite(bound) else str(bound)


class UniformSpec(_Spec):
    kind: Literal["uniform"] = "uniform"
    low: Finite
    high: Finite

    def build(self) -> Uniform:
        return Uniform(self.low, self.high)


class TriangularSpec(_Spec):
    kind: Literal["triangular"] = "triangular"
    low: Finite
    mode: Finite
    high: Finite

    def build(self) -> Triangular:
        return Triangular(self.low, self.mode, self.high)


class DeterministicSpec(_Spec):
    kind: Literal["deterministic"] = "deterministic"
    value: Finite

    def build(self) -> Deterministic:
        return Deterministic(self.value)


class EmpiricalSpec(_Spec):
    """Observed values to resample; tuples (from TOML arrays) keep the spec hashable."""

    kind: Literal["empirical"] = "empirical"
    values: Annotated[tuple[Finite, ...], Field(min_length=1)]
    weights: tuple[NonNegativeFinite, ...] | None = None

    def build(self) -> Empirical:
        return Empirical(self.values, self.weights)


DistributionSpec = Annotated[
    ExponentialSpec
    | GammaSpec
    | LognormalSpec
    | WeibullSpec
    | TruncatedNormalSpec
    | UniformSpec
    | TriangularSpec
    | DeterministicSpec
    | EmpiricalSpec,
    Field(discriminator="kind"),
]
"""Any distribution spec, selected by its ``kind`` key; use as a field type in scenario models."""

_SPEC_ADAPTER: TypeAdapter[DistributionSpec] = TypeAdapter(DistributionSpec)


def parse_spec(data: Mapping[str, Any]) -> DistributionSpec:
    """Validate a mapping (e.g. a TOML inline table) into its spec model."""
    return _SPEC_ADAPTER.validate_python(data)


def build(spec: DistributionSpec | Mapping[str, Any]) -> Distribution:
    """The numeric distribution of a spec, or of a raw mapping after validating it."""
    if isinstance(spec, Mapping):
        spec = parse_spec(spec)
    return spec.build()
