//! Probability distributions for uncertain scenario numbers.
//!
//! Each distribution is validated once (see [`Dist::new_checked`]) and sampled
//! with precomputed parameters. Beta (and PERT, a scaled beta) are drawn as
//! `X / (X + Y)` with `X ~ Gamma(α, 1)`, `Y ~ Gamma(β, 1)`; truncated normals
//! by inverting the normal CDF on the truncated interval, mirrored to the
//! lower tail when the interval lies at or above the mean; triangular by its
//! inverse CDF. The `{ p5, p95 }` shorthand fits a lognormal when both bounds
//! are positive, otherwise a normal (as Squiggle's `a to b` does).
//!
//! [`Dist::quantile`] inverts each CDF exactly where a closed form exists
//! (uniform, triangular; normal and lognormal through the normal quantile,
//! a truncated normal on its truncated interval as it is drawn) and solves
//! `I_x(α, β) = p` for beta and PERT ([`crate::special::beta_quantile`]).

use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use statrs::distribution::{ContinuousCDF, Normal as StatNormal};

use crate::special::{self, Tail, beta_quantile};

/// z-score of the 95th percentile of the standard normal distribution.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A validated probability distribution over real numbers.
#[derive(Debug, Clone)]
pub enum Dist {
    /// Always the same value.
    Fixed(f64),
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal, optionally truncated to `[min, max]`.
    Normal {
        /// Mean before truncation.
        mean: f64,
        /// Standard deviation before truncation.
        sd: f64,
        /// Lower truncation point (`-inf` if none).
        min: f64,
        /// Upper truncation point (`+inf` if none).
        max: f64,
    },
    /// `exp(N(mu, sigma²))`.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Logit-normal on `(0, 1)`: `1 / (1 + exp(−N(mu, sigma²)))`, the shape
    /// a 90% interval `{ p5, p95 }` of a fraction takes.
    LogitNormal {
        /// Mean of the logit.
        mu: f64,
        /// Standard deviation of the logit.
        sigma: f64,
    },
    /// Beta(α, β) on `[0, 1]`.
    Beta {
        /// Shape α.
        alpha: f64,
        /// Shape β.
        beta: f64,
        /// Sampler for Gamma(α, 1).
        gamma_a: Gamma<f64>,
        /// Sampler for Gamma(β, 1).
        gamma_b: Gamma<f64>,
    },
    /// Triangular on `[min, max]` with peak at `mode`.
    Triangular {
        /// Minimum.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Maximum.
        max: f64,
    },
    /// PERT on `[min, max]` with `mode`: `min + (max-min)·Beta(α, β)` where
    /// `α = 1 + 4(mode-min)/(max-min)` and `β = 1 + 4(max-mode)/(max-min)`.
    Pert {
        /// Minimum.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Maximum.
        max: f64,
        /// Shape α of the underlying beta.
        alpha: f64,
        /// Shape β of the underlying beta.
        beta: f64,
        /// Sampler for Gamma(α, 1).
        gamma_a: Gamma<f64>,
        /// Sampler for Gamma(β, 1).
        gamma_b: Gamma<f64>,
    },
}

fn finite(name: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{name} must be a finite number, got {v}"))
    }
}

fn gamma(shape: f64) -> Result<Gamma<f64>, String> {
    Gamma::new(shape, 1.0).map_err(|e| format!("invalid gamma shape {shape}: {e}"))
}

/// Parameters of a distribution as a user wrote them, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum DistSpec {
    /// A plain number.
    Fixed(f64),
    /// `dist = "uniform"`.
    Uniform(f64, f64),
    /// `dist = "normal"` with optional truncation bounds.
    Normal(f64, f64, Option<f64>, Option<f64>),
    /// `dist = "lognormal"`.
    LogNormal(f64, f64),
    /// `dist = "beta"`.
    Beta(f64, f64),
    /// `dist = "triangular"`.
    Triangular(f64, f64, f64),
    /// `dist = "pert"`.
    Pert(f64, f64, f64),
    /// `{ p5, p95 }` of a fraction without an explicit shape: logit-normal
    /// with `logit(p5)` and `logit(p95)` as its 5th and 95th percentiles.
    LogitInterval90 {
        /// 5th percentile, in (0, 1).
        p5: f64,
        /// 95th percentile, in (p5, 1).
        p95: f64,
    },
    /// `{ p5, p95 }`, with an optional explicit shape (`Some(true)` lognormal,
    /// `Some(false)` normal).
    Interval90 {
        /// 5th percentile.
        p5: f64,
        /// 95th percentile.
        p95: f64,
        /// Forced shape; `None` picks lognormal when both are positive.
        lognormal: Option<bool>,
    },
}

impl Dist {
    /// Validates parameters; the error says which parameter is wrong and why.
    pub fn new_checked(spec: &DistSpec) -> Result<Dist, String> {
        Ok(match *spec {
            DistSpec::Fixed(v) => Dist::Fixed(finite("value", v)?),
            DistSpec::Uniform(low, high) => {
                finite("low", low)?;
                finite("high", high)?;
                if low >= high {
                    return Err(format!("uniform needs low < high, got low = {low}, high = {high}"));
                }
                Dist::Uniform { low, high }
            }
            DistSpec::Normal(mean, sd, min, max) => {
                finite("mean", mean)?;
                finite("sd", sd)?;
                if sd <= 0.0 {
                    return Err(format!("normal sd must be > 0, got {sd}"));
                }
                let min = match min {
                    Some(m) => finite("min", m)?,
                    None => f64::NEG_INFINITY,
                };
                let max = match max {
                    Some(m) => finite("max", m)?,
                    None => f64::INFINITY,
                };
                if min >= max {
                    return Err(format!(
                        "normal truncation needs min < max, got min = {min}, max = {max}"
                    ));
                }
                let d = Dist::Normal { mean, sd, min, max };
                let t = d.truncation();
                // Where u = lo + (hi − lo)·U still resolves the interval to
                // 1e-4 of its mass, and Φ, Φ⁻¹ work on normal (not
                // subnormal) numbers: up to about 37 sd into either tail.
                if !(t.hi - t.lo >= MIN_RELATIVE_MASS * t.hi && t.hi - t.lo >= MIN_MASS) {
                    return Err(format!(
                        "normal truncated to [{min}, {max}] has almost no probability mass (mean {mean}, sd {sd}): \
                         the interval must hold at least 1e-300 of the normal's probability (about 37 sd into a tail) \
                         and not be narrower than 1e-12 of its tail probability"
                    ));
                }
                d
            }
            DistSpec::LogNormal(mu, sigma) => {
                finite("mu", mu)?;
                finite("sigma", sigma)?;
                if sigma <= 0.0 {
                    return Err(format!("lognormal sigma must be > 0, got {sigma}"));
                }
                Dist::LogNormal { mu, sigma }
            }
            DistSpec::Beta(alpha, beta) => {
                finite("alpha", alpha)?;
                finite("beta", beta)?;
                if alpha <= 0.0 {
                    return Err(format!("beta alpha must be > 0, got {alpha}"));
                }
                if beta <= 0.0 {
                    return Err(format!("beta beta must be > 0, got {beta}"));
                }
                // Shapes below 1 are drawn boosted (see `beta_sample`).
                let boost = |shape: f64| if shape < 1.0 { shape + 1.0 } else { shape };
                Dist::Beta {
                    alpha,
                    beta,
                    gamma_a: gamma(boost(alpha))?,
                    gamma_b: gamma(boost(beta))?,
                }
            }
            DistSpec::Triangular(min, mode, max) => {
                check_min_mode_max("triangular", min, mode, max)?;
                Dist::Triangular { min, mode, max }
            }
            DistSpec::Pert(min, mode, max) => {
                check_min_mode_max("pert", min, mode, max)?;
                let alpha = 1.0 + 4.0 * (mode - min) / (max - min);
                let beta = 1.0 + 4.0 * (max - mode) / (max - min);
                Dist::Pert {
                    min,
                    mode,
                    max,
                    alpha,
                    beta,
                    gamma_a: gamma(alpha)?,
                    gamma_b: gamma(beta)?,
                }
            }
            DistSpec::LogitInterval90 { p5, p95 } => {
                finite("p5", p5)?;
                finite("p95", p95)?;
                if p5 >= p95 {
                    return Err(format!("p5 must be below p95, got p5 = {p5}, p95 = {p95}"));
                }
                if !(0.0 < p5 && p5 < p95 && p95 < 1.0) {
                    return Err(format!(
                        "a 90% interval of a fraction needs 0 < p5 < p95 < 1 (it is fitted as a logit-normal, which stays inside 0 to 1), got p5 = {p5}, p95 = {p95}; for a fraction that can be 0 or 1, write a beta or PERT, e.g. {{ dist = \"beta\", mean = 0.3, sd = 0.1 }}"
                    ));
                }
                let logit = |x: f64| (x / (1.0 - x)).ln();
                let (l5, l95) = (logit(p5), logit(p95));
                Dist::LogitNormal {
                    mu: (l5 + l95) / 2.0,
                    sigma: (l95 - l5) / (2.0 * Z95),
                }
            }
            DistSpec::Interval90 { p5, p95, lognormal } => {
                finite("p5", p5)?;
                finite("p95", p95)?;
                if p5 >= p95 {
                    return Err(format!("p5 must be below p95, got p5 = {p5}, p95 = {p95}"));
                }
                let use_log = lognormal.unwrap_or(p5 > 0.0);
                if use_log {
                    if p5 <= 0.0 {
                        return Err(format!(
                            "a lognormal 90% interval needs p5 > 0, got p5 = {p5} (use dist = \"normal\")"
                        ));
                    }
                    let (l5, l95) = (p5.ln(), p95.ln());
                    Dist::LogNormal {
                        mu: (l5 + l95) / 2.0,
                        sigma: (l95 - l5) / (2.0 * Z95),
                    }
                } else {
                    Dist::Normal {
                        mean: (p5 + p95) / 2.0,
                        sd: (p95 - p5) / (2.0 * Z95),
                        min: f64::NEG_INFINITY,
                        max: f64::INFINITY,
                    }
                }
            }
        })
    }

    /// The smallest and largest values the distribution can produce.
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Dist::Fixed(v) => (v, v),
            Dist::Uniform { low, high } => (low, high),
            Dist::Normal { min, max, .. } => (min, max),
            Dist::LogNormal { .. } => (0.0, f64::INFINITY),
            Dist::LogitNormal { .. } | Dist::Beta { .. } => (0.0, 1.0),
            Dist::Triangular { min, max, .. } | Dist::Pert { min, max, .. } => (min, max),
        }
    }

    /// The CDF values a truncated normal is drawn between (see [`Truncation`]).
    fn truncation(&self) -> Truncation {
        match *self {
            Dist::Normal { mean, sd, min, max } => Truncation::new((min - mean) / sd, (max - mean) / sd),
            _ => Truncation {
                lo: 0.0,
                hi: 1.0,
                mirrored: false,
            },
        }
    }

    /// Draws one value.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform { low, high } => low + (high - low) * unit_open(rng),
            Dist::Normal { mean, sd, min, max } => {
                if min.is_infinite() && max.is_infinite() {
                    let z: f64 = StandardNormal.sample(rng);
                    mean + sd * z
                } else {
                    let t = self.truncation();
                    let u = unit_open(rng);
                    let z = if t.mirrored {
                        // Increasing in U, as the direct form is.
                        -standard_normal().inverse_cdf(t.hi - (t.hi - t.lo) * u)
                    } else {
                        standard_normal().inverse_cdf(t.lo + (t.hi - t.lo) * u)
                    };
                    (mean + sd * z).clamp(*min, *max)
                }
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::LogitNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                logistic(mu + sigma * z)
            }
            Dist::Beta {
                alpha,
                beta,
                gamma_a,
                gamma_b,
            } => beta_sample(*alpha, *beta, gamma_a, gamma_b, rng),
            Dist::Triangular { min, mode, max } => triangular_inverse(*min, *mode, *max, unit_open(rng)),
            Dist::Pert {
                min,
                max,
                gamma_a,
                gamma_b,
                ..
            } => min + (max - min) * beta_from_gammas(gamma_a, gamma_b, rng),
        }
    }

    /// Analytic mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform { low, high } => (low + high) / 2.0,
            Dist::Normal { mean, sd, min, max } => {
                let (a, b) = ((min - mean) / sd, (max - mean) / sd);
                let z = Truncation::new(a, b).mass();
                mean + sd * (pdf(a) - pdf(b)) / z
            }
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::LogitNormal { mu, sigma } => logit_normal_moment(mu, sigma, 1),
            Dist::Beta { alpha, beta, .. } => alpha / (alpha + beta),
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Dist::Pert {
                min, max, alpha, beta, ..
            } => min + (max - min) * alpha / (alpha + beta),
        }
    }

    /// The `p`-quantile, `0 < p < 1`: the value below which a draw falls
    /// with probability `p` (for `p <= 0` or `p >= 1`, the support's end).
    /// Normal-based quantiles use statrs' `inverse_cdf` (as sampling does);
    /// beta and PERT solve `I_x(α, β) = p` to a few ulps.
    pub fn quantile(&self, p: f64) -> f64 {
        let (lo, hi) = self.support();
        if p.is_nan() || p <= 0.0 {
            return lo;
        }
        if p >= 1.0 {
            return hi;
        }
        match *self {
            Dist::Fixed(v) => v,
            Dist::Uniform { low, high } => low + (high - low) * p,
            Dist::Normal { mean, sd, min, max } => {
                let z = if min.is_infinite() && max.is_infinite() {
                    standard_normal().inverse_cdf(p)
                } else {
                    // The same map from a uniform to a draw as `sample`.
                    let t = self.truncation();
                    if t.mirrored {
                        -standard_normal().inverse_cdf(t.hi - (t.hi - t.lo) * p)
                    } else {
                        standard_normal().inverse_cdf(t.lo + (t.hi - t.lo) * p)
                    }
                };
                (mean + sd * z).clamp(min, max)
            }
            Dist::LogNormal { mu, sigma } => (mu + sigma * standard_normal().inverse_cdf(p)).exp(),
            Dist::LogitNormal { mu, sigma } => logistic(mu + sigma * standard_normal().inverse_cdf(p)),
            Dist::Beta { alpha, beta, .. } => beta_quantile_unit(alpha, beta, p),
            Dist::Triangular { min, mode, max } => triangular_inverse(min, mode, max, p),
            Dist::Pert {
                min, max, alpha, beta, ..
            } => min + (max - min) * beta_quantile_unit(alpha, beta, p),
        }
    }

    /// The mean of a draw clamped to `[lo, hi]`, as the engine uses it
    /// (section 3 of docs/MODEL.md): [`Dist::mean`] when the support lies
    /// inside, otherwise in closed form for the unbounded normal
    /// (`a·Φ(α) + b·(1 − Φ(β)) + μ(Φ(β) − Φ(α)) + σ(φ(α) − φ(β))`) and
    /// lognormal (partial expectation `e^{μ+σ²/2}(Φ(β − σ) − Φ(α − σ))`,
    /// with `α`, `β` the standardised log bounds).
    pub fn clamped_mean(&self, lo: f64, hi: f64) -> f64 {
        let (s_lo, s_hi) = self.support();
        if s_lo >= lo && s_hi <= hi {
            return self.mean();
        }
        let n = standard_normal();
        match *self {
            Dist::Normal { mean, sd, min, max } if min.is_infinite() && max.is_infinite() => {
                let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
                let (fa, fb) = (n.cdf(a), n.cdf(b));
                let lower = if lo.is_finite() { lo * fa } else { 0.0 };
                let upper = if hi.is_finite() { hi * (1.0 - fb) } else { 0.0 };
                lower + upper + mean * (fb - fa) + sd * (pdf(a) - pdf(b))
            }
            Dist::LogNormal { mu, sigma } => {
                let std = |x: f64| {
                    if x > 0.0 {
                        (x.ln() - mu) / sigma
                    } else {
                        f64::NEG_INFINITY
                    }
                };
                let (a, b) = (std(lo), std(hi));
                let (fa, fb) = (n.cdf(a), n.cdf(b));
                let lower = if lo > 0.0 { lo * fa } else { 0.0 };
                let upper = if hi.is_finite() { hi * (1.0 - fb) } else { 0.0 };
                lower + upper + (mu + sigma * sigma / 2.0).exp() * (n.cdf(b - sigma) - n.cdf(a - sigma))
            }
            // Bounded distributions outside [lo, hi] are refused by
            // validation; clamp the mean as the nearest answer.
            _ => self.mean().clamp(lo, hi),
        }
    }

    /// Analytic variance.
    pub fn variance(&self) -> f64 {
        match *self {
            Dist::Fixed(_) => 0.0,
            Dist::Uniform { low, high } => (high - low).powi(2) / 12.0,
            Dist::Normal { mean, sd, min, max } => {
                let (a, b) = ((min - mean) / sd, (max - mean) / sd);
                let z = Truncation::new(a, b).mass();
                let apa = if a.is_finite() { a * pdf(a) } else { 0.0 };
                let bpb = if b.is_finite() { b * pdf(b) } else { 0.0 };
                let r = (pdf(a) - pdf(b)) / z;
                sd * sd * (1.0 + (apa - bpb) / z - r * r)
            }
            Dist::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Dist::LogitNormal { mu, sigma } => {
                let m = logit_normal_moment(mu, sigma, 1);
                (logit_normal_moment(mu, sigma, 2) - m * m).max(0.0)
            }
            Dist::Beta { alpha, beta, .. } => beta_variance(alpha, beta),
            Dist::Triangular { min, mode, max } => {
                (min * min + mode * mode + max * max - min * mode - min * max - mode * max) / 18.0
            }
            Dist::Pert {
                min, max, alpha, beta, ..
            } => (max - min).powi(2) * beta_variance(alpha, beta),
        }
    }

    /// True for a distribution that always returns the same value.
    pub fn is_fixed(&self) -> bool {
        matches!(self, Dist::Fixed(_))
    }
}

/// `1 / (1 + e^(−x))`.
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `E[X^k]` of a logit-normal (no closed form): the midpoint rule in the
/// normal variable over ±12 sd with 24,000 steps, which is exact to about
/// 1e-9 for any `sigma` a 90% interval gives (the integrand is smooth).
fn logit_normal_moment(mu: f64, sigma: f64, k: i32) -> f64 {
    const STEPS: usize = 24_000;
    let h = 24.0 / STEPS as f64;
    (0..STEPS)
        .map(|i| {
            let z = -12.0 + (i as f64 + 0.5) * h;
            logistic(mu + sigma * z).powi(k) * pdf(z) * h
        })
        .sum()
}

/// Smallest probability a truncated normal's interval may hold.
const MIN_MASS: f64 = 1e-300;
/// Smallest width of the interval, relative to the larger CDF value drawn
/// between: the rounding of `lo + (hi − lo)·U` is then below 1e-4 of it.
const MIN_RELATIVE_MASS: f64 = 1e-12;

/// How a normal truncated to standardised `[a, b]` is drawn: `u` uniform
/// between `lo` and `hi`, then `Φ⁻¹(u)`. When `a >= 0` (the interval lies at
/// or above the mean) it is mirrored: `lo = Φ(−b)`, `hi = Φ(−a)` and the
/// draw is `−Φ⁻¹(hi − (hi − lo)·U)`, because upper-tail values `Φ(a)` near 1
/// have lost their precision (at a = 7, 1 − Φ(a) = 1.3e-12 keeps 4 digits)
/// while lower-tail values near 0 keep all of it.
#[derive(Debug, Clone, Copy)]
struct Truncation {
    lo: f64,
    hi: f64,
    mirrored: bool,
}

impl Truncation {
    fn new(a: f64, b: f64) -> Truncation {
        let n = standard_normal();
        if a >= 0.0 {
            Truncation {
                lo: n.cdf(-b),
                hi: n.cdf(-a),
                mirrored: true,
            }
        } else {
            Truncation {
                lo: n.cdf(a),
                hi: n.cdf(b),
                mirrored: false,
            }
        }
    }

    /// Probability of the interval under the untruncated normal.
    fn mass(&self) -> f64 {
        self.hi - self.lo
    }
}

fn check_min_mode_max(name: &str, min: f64, mode: f64, max: f64) -> Result<(), String> {
    finite("min", min)?;
    finite("mode", mode)?;
    finite("max", max)?;
    if !(min < max && min <= mode && mode <= max) {
        return Err(format!(
            "{name} needs min <= mode <= max and min < max, got min = {min}, mode = {mode}, max = {max}"
        ));
    }
    Ok(())
}

/// The `p`-quantile of Beta(a, b) on [0, 1], `0 < p < 1`: the lower tail
/// is solved for the lower half, the upper tail for the upper half, so the
/// tail that is solved for keeps its relative precision.
///
/// Far in a tail the series `I_x(a, b) = x^a / (a·B(a, b)) · (1 + a(1−b)x/(a+1)
/// + O(x²))` (DLMF 8.17.7) is inverted instead: where its leading term puts
/// the root below [`SERIES_BELOW`], the two terms are exact to about 1e-16
/// relative, while the incomplete beta function cannot be evaluated there
/// (`1 − x` rounds to 1). `Beta(0.01, 0.01)` has its P5 at 1e-100.
fn beta_quantile_unit(a: f64, b: f64, p: f64) -> f64 {
    let mean = a / (a + b);
    let ln_b = statrs::function::beta::ln_beta(a, b);
    // The root `t` of `I_t(s, r) = q` in the tail near 0, by the series.
    let series = |s: f64, r: f64, q: f64| {
        let t0 = ((q.ln() + s.ln() + ln_b) / s).exp();
        (t0 < SERIES_BELOW).then(|| t0 / (1.0 + s * (1.0 - r) / (s + 1.0) * t0).powf(1.0 / s))
    };
    if p <= 0.5 {
        if let Some(t) = series(a, b, p) {
            return t;
        }
    } else if let Some(t) = series(b, a, 1.0 - p) {
        return 1.0 - t;
    }
    // Solve on the side of 1/2 where the root lies, in the variable that is
    // small there (x below 1/2, y = 1 − x of Beta(b, a) above it), and on
    // the smaller of the two tail probabilities: both keep their precision
    // when the mass crowds against 0 or 1 (Beta(191, 3.9) has its P5 at 0.961).
    let half = special::beta_tails(a, b, 0.5, 0.5).lower;
    if p <= half {
        let bracket = (0.0, 0.5);
        let x0 = mean.min(0.25);
        if p <= 0.5 {
            beta_quantile(a, b, p, Tail::Lower, bracket, x0)
        } else {
            beta_quantile(a, b, 1.0 - p, Tail::Upper, bracket, x0)
        }
    } else {
        // P(X <= x) = p is P(Y >= y) = p for Y = 1 − X ~ Beta(b, a).
        let bracket = (0.0, 0.5);
        let y0 = (1.0 - mean).min(0.25);
        let y = if p <= 0.5 {
            beta_quantile(b, a, p, Tail::Upper, bracket, y0)
        } else {
            beta_quantile(b, a, 1.0 - p, Tail::Lower, bracket, y0)
        };
        1.0 - y
    }
}

/// Where [`beta_quantile_unit`] uses the tail series instead of solving.
const SERIES_BELOW: f64 = 1e-8;

/// The triangular distribution's inverse CDF at `u`: a draw from a uniform
/// `u`, or the `u`-quantile.
fn triangular_inverse(min: f64, mode: f64, max: f64, u: f64) -> f64 {
    let c = (mode - min) / (max - min);
    if u < c {
        min + ((max - min) * (mode - min) * u).sqrt()
    } else {
        max - ((max - min) * (max - mode) * (1.0 - u)).sqrt()
    }
}

fn beta_variance(a: f64, b: f64) -> f64 {
    a * b / ((a + b).powi(2) * (a + b + 1.0))
}

fn standard_normal() -> StatNormal {
    StatNormal::standard()
}

fn pdf(x: f64) -> f64 {
    if x.is_finite() {
        (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
    } else {
        0.0
    }
}

/// A uniform draw on the open interval (0, 1): 52 random bits plus one half.
pub fn unit_open<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // Through i64: the value is below 2^52, and i64 -> f64 is one instruction.
    ((rng.next_u64() >> 12) as i64 as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// Beta(α, β) from gamma samplers. With both shapes at least 1, `X/(X+Y)`
/// for `X ~ Gamma(α)`, `Y ~ Gamma(β)`. A shape `a < 1` is drawn in logs as
/// `ln Gamma(a) = ln Gamma(a+1) + ln(U)/a` (Marsaglia & Tsang's boost; `ga`/`gb`
/// then sample Gamma(a+1)), and the result is `1/(1 + exp(ln Y - ln X))`:
/// for small shapes `X` and `Y` themselves underflow to 0.
fn beta_sample<R: Rng + ?Sized>(alpha: f64, beta: f64, ga: &Gamma<f64>, gb: &Gamma<f64>, rng: &mut R) -> f64 {
    if alpha >= 1.0 && beta >= 1.0 {
        return beta_from_gammas(ga, gb, rng);
    }
    let ln_gamma = |shape: f64, g: &Gamma<f64>, rng: &mut R| {
        let ln = g.sample(rng).ln();
        if shape < 1.0 {
            ln + unit_open(rng).ln() / shape
        } else {
            ln
        }
    };
    let ln_x = ln_gamma(alpha, ga, rng);
    let ln_y = ln_gamma(beta, gb, rng);
    1.0 / (1.0 + (ln_y - ln_x).exp())
}

fn beta_from_gammas<R: Rng + ?Sized>(ga: &Gamma<f64>, gb: &Gamma<f64>, rng: &mut R) -> f64 {
    let x = ga.sample(rng);
    let y = gb.sample(rng);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    /// Checks sample mean and variance against the analytic ones. With n =
    /// 200,000 draws and a fixed seed the test is deterministic; the tolerance
    /// (5 standard errors of each estimate) would also hold for any seed with
    /// a false-failure rate below 1e-6 per check.
    fn check_moments(spec: DistSpec) {
        let d = Dist::new_checked(&spec).unwrap();
        let n = 200_000;
        let mut rng = stream(2024, 0, 99);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64;
        let se_mean = (d.variance() / n as f64).sqrt();
        let se_var = ((m4 - var * var) / n as f64).sqrt();
        assert!(
            (mean - d.mean()).abs() <= 5.0 * se_mean + 1e-12,
            "{spec:?}: mean {mean} vs {}",
            d.mean()
        );
        assert!(
            (var - d.variance()).abs() <= 5.0 * se_var + 1e-12,
            "{spec:?}: var {var} vs {}",
            d.variance()
        );
        let (lo, hi) = d.support();
        assert!(xs.iter().all(|&x| x >= lo && x <= hi), "{spec:?} left its support");
    }

    #[test]
    fn samples_match_analytic_moments() {
        check_moments(DistSpec::Uniform(2.0, 5.0));
        check_moments(DistSpec::Normal(10.0, 2.0, None, None));
        check_moments(DistSpec::Normal(0.3, 0.2, Some(0.0), Some(1.0)));
        check_moments(DistSpec::Normal(1.0, 1.0, Some(1.5), None));
        check_moments(DistSpec::LogNormal(0.5, 0.4));
        check_moments(DistSpec::Beta(2.0, 5.0));
        check_moments(DistSpec::Beta(0.5, 0.5));
        // Tiny shapes: Gamma draws underflow to 0 unless drawn in logs.
        check_moments(DistSpec::Beta(0.01, 0.01));
        check_moments(DistSpec::Beta(0.001, 2.0));
        check_moments(DistSpec::Beta(0.3, 0.05));
        check_moments(DistSpec::Triangular(0.5, 1.0, 2.0));
        check_moments(DistSpec::Triangular(0.0, 0.0, 1.0));
        check_moments(DistSpec::Pert(0.6, 0.9, 0.97));
        check_moments(DistSpec::Interval90 {
            p5: 0.25,
            p95: 0.5,
            lognormal: None,
        });
        check_moments(DistSpec::Interval90 {
            p5: -1.0,
            p95: 3.0,
            lognormal: None,
        });
    }

    #[test]
    fn far_tail_truncations_match_their_moments() {
        // 5, 7 and 10 sd into each tail, open and bounded; before the
        // mirrored draw, 7 sd above gave infinite draws and 10 sd (and 10
        // below) was refused.
        for t in [5.0, 7.0, 10.0] {
            check_moments(DistSpec::Normal(0.0, 1.0, Some(t), None));
            check_moments(DistSpec::Normal(0.0, 1.0, None, Some(-t)));
            check_moments(DistSpec::Normal(
                3.0,
                0.5,
                Some(3.0 + 0.5 * t),
                Some(3.0 + 0.5 * (t + 0.3)),
            ));
            check_moments(DistSpec::Normal(
                3.0,
                0.5,
                Some(3.0 - 0.5 * (t + 0.3)),
                Some(3.0 - 0.5 * t),
            ));
        }
    }

    #[test]
    fn upper_tail_draws_are_never_infinite() {
        // The case: N(0, 0.1) truncated to [0.7, inf) put about 4 in
        // 100,000 draws at +inf (true probability ~1e-24).
        let d = Dist::new_checked(&DistSpec::Normal(0.0, 0.1, Some(0.7), None)).unwrap();
        let mut rng = stream(11, 0, 5);
        for _ in 0..100_000 {
            let x = d.sample(&mut rng);
            assert!((0.7..0.7 + 0.1 * 3.0).contains(&x), "{x}");
        }
    }

    #[test]
    fn interval_draws_below_the_mean_are_unchanged() {
        // The direct inversion is kept where it is accurate: same bits as
        // Φ⁻¹(Φ(a) + (Φ(b) − Φ(a))·u) computed here.
        let n = standard_normal();
        let d = Dist::new_checked(&DistSpec::Normal(0.3, 0.2, Some(0.0), Some(1.0))).unwrap();
        let (mut r1, mut r2) = (stream(5, 1, 2), stream(5, 1, 2));
        let (a, b) = ((0.0 - 0.3) / 0.2, (1.0 - 0.3) / 0.2);
        let (lo, hi) = (n.cdf(a), n.cdf(b));
        for _ in 0..1000 {
            let want = (0.3 + 0.2 * n.inverse_cdf(lo + (hi - lo) * unit_open(&mut r2))).clamp(0.0, 1.0);
            assert_eq!(d.sample(&mut r1).to_bits(), want.to_bits());
        }
    }

    #[test]
    fn truncation_limit_is_37_sd_or_a_narrow_interval() {
        let ok = |spec| Dist::new_checked(&spec).is_ok();
        assert!(ok(DistSpec::Normal(0.0, 1.0, Some(37.0), None)));
        assert!(ok(DistSpec::Normal(0.0, 1.0, None, Some(-37.0))));
        assert!(!ok(DistSpec::Normal(0.0, 1.0, Some(37.1), None)));
        assert!(!ok(DistSpec::Normal(0.0, 1.0, None, Some(-37.1))));
        // Narrower than 1e-12 of the tail probability: refused anywhere.
        assert!(!ok(DistSpec::Normal(0.0, 1.0, Some(0.5), Some(0.5 + 1e-13))));
        assert!(!ok(DistSpec::Normal(0.0, 1.0, Some(20.0), Some(20.0 + 1e-14))));
        assert!(ok(DistSpec::Normal(0.0, 1.0, Some(20.0), Some(20.0 + 1e-9))));
    }

    #[test]
    fn interval_shorthand_hits_its_percentiles() {
        let d = Dist::new_checked(&DistSpec::Interval90 {
            p5: 0.25,
            p95: 0.5,
            lognormal: None,
        })
        .unwrap();
        let mut rng = stream(7, 0, 1);
        let n = 100_000;
        let below = (0..n).filter(|_| d.sample(&mut rng) < 0.25).count() as f64 / n as f64;
        // Binomial sd of the share is sqrt(0.05*0.95/1e5) = 0.0007; 0.004 is > 5 sd.
        assert!((below - 0.05).abs() < 0.004, "share below p5 = {below}");
    }

    /// Reference quantiles from SciPy 1.17, e.g.
    /// `python3 -c "from scipy.stats import beta; print(beta.ppf(0.5, 2, 3))"`
    /// (PERT(min, mode, max) is `min + (max−min)·beta.ppf(p, α, β)` with
    /// `α = 1 + 4(mode−min)/(max−min)`, `β = 1 + 4(max−mode)/(max−min)`;
    /// the truncated normal is `truncnorm.ppf(p, (lo−μ)/σ, (hi−μ)/σ, loc=μ, scale=σ)`,
    /// the triangular `triang.ppf(p, (mode−min)/(max−min), loc=min, scale=max−min)`).
    #[test]
    fn quantiles_of_beta_crowded_against_0_or_1_agree_with_scipy() {
        // python3 -c "from scipy.stats import beta; print(repr(beta.ppf(p, a, b)))"
        // (SciPy 1.17, Boost's ibeta_inv) for each row.
        for (a, b, p, want) in [
            (191.0, 3.9, 0.05, 0.9612229626304357),
            (191.0, 3.9, 0.5, 0.9816089432016845),
            (191.0, 3.9, 0.95, 0.9932231465559619),
            (500.0, 0.5, 0.05, 0.9961639969153666),
            (0.5, 500.0, 0.95, 0.0038360030846334246),
            (1e6, 0.5, 0.05, 0.999998079271954),
            (2.0, 3.0, 0.5, 0.3857275681323895),
            (0.5, 0.5, 0.05, 0.0061558297024311365),
        ] {
            let got = beta_quantile_unit(a, b, p);
            // 1e-9 relative on the smaller of x and 1 − x, where the
            // information is.
            let (g, w) = if want > 0.5 {
                (1.0 - got, 1.0 - want)
            } else {
                (got, want)
            };
            assert!((g - w).abs() <= 1e-9 * w, "Beta({a}, {b}) P{p}: {got} vs {want}");
        }
    }

    #[test]
    fn quantiles_agree_with_scipy() {
        let q = |spec: DistSpec, p: f64| Dist::new_checked(&spec).unwrap().quantile(p);
        let close = |got: f64, want: f64, what: &str| {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-300),
                "{what}: {got} vs {want}"
            )
        };
        close(
            q(DistSpec::Beta(2.0, 3.0), 0.5),
            0.385_727_568_132_389_5,
            "beta(2,3) P50",
        );
        close(
            q(DistSpec::Beta(2.0, 3.0), 0.05),
            0.097_611_462_886_414_34,
            "beta(2,3) P5",
        );
        close(
            q(DistSpec::Beta(2.0, 3.0), 0.95),
            0.751_395_374_269_818_1,
            "beta(2,3) P95",
        );
        close(
            q(DistSpec::Beta(3.5, 6.5), 0.5),
            0.339_646_389_355_081_07,
            "beta(3.5,6.5) P50",
        );
        close(q(DistSpec::Beta(0.5, 0.5), 0.5), 0.5, "beta(0.5,0.5) P50");
        close(
            q(DistSpec::Beta(0.01, 0.01), 0.05),
            9.839_180_614_936_029e-101,
            "beta(0.01,0.01) P5",
        );
        // The goodput and MFU of scenarios/default.toml.
        close(
            q(DistSpec::Pert(0.6, 0.9, 0.97), 0.5),
            0.870_598_984_700_517_3,
            "PERT(0.6,0.9,0.97) P50",
        );
        close(
            q(DistSpec::Pert(0.6, 0.9, 0.97), 0.05),
            0.743_122_251_770_318,
            "PERT P5",
        );
        close(
            q(DistSpec::Pert(0.6, 0.9, 0.97), 0.95),
            0.949_483_471_392_713_6,
            "PERT P95",
        );
        close(
            q(DistSpec::Pert(0.2, 0.33, 0.62), 0.5),
            0.350_396_760_028_027_67,
            "PERT(0.2,0.33,0.62) P50",
        );
        // statrs' normal quantile is good to about 1e-11 here.
        let normal = q(DistSpec::Normal(0.3, 0.2, Some(0.0), Some(1.0)), 0.5);
        assert!(
            (normal - 0.316_707_181_321_419_2).abs() < 1e-10,
            "truncated normal P50: {normal}"
        );
        close(
            q(DistSpec::Triangular(0.5, 1.0, 2.0), 0.5),
            1.133_974_596_215_561_2,
            "triangular P50",
        );
        close(q(DistSpec::Uniform(2.0, 5.0), 0.25), 2.75, "uniform P25");
        // A 90% interval returns its own bounds.
        for lognormal in [None, Some(false)] {
            let d = DistSpec::Interval90 {
                p5: 0.25,
                p95: 0.5,
                lognormal,
            };
            assert!((q(d.clone(), 0.05) - 0.25).abs() < 1e-10, "interval P5");
            assert!((q(d, 0.95) - 0.5).abs() < 1e-10, "interval P95");
        }
        close(q(DistSpec::LogNormal(0.5, 0.4), 0.5), 0.5_f64.exp(), "lognormal P50");
        close(q(DistSpec::Fixed(7.0), 0.3), 7.0, "fixed");
    }

    #[test]
    fn quantiles_split_the_draws_as_stated() {
        // Every shape: the share of draws below P5, P50 and P95 is 5%, 50%
        // and 95% within 5 binomial standard errors (n = 100,000).
        for spec in [
            DistSpec::Beta(0.3, 0.05),
            DistSpec::Beta(2.0, 5.0),
            DistSpec::Pert(0.5, 1.0, 2.0),
            DistSpec::Triangular(0.0, 0.0, 1.0),
            DistSpec::Normal(1.0, 1.0, Some(1.5), None),
            DistSpec::Normal(0.0, 1.0, Some(7.0), Some(7.3)),
            DistSpec::LogNormal(0.5, 0.4),
        ] {
            let d = Dist::new_checked(&spec).unwrap();
            let mut rng = stream(3, 0, 4);
            let n = 100_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            for p in [0.05, 0.5, 0.95] {
                // At most p below it, at least p at or below it (draws of
                // Beta(0.3, 0.05) round to 1.0, its P95 in doubles).
                let x = d.quantile(p);
                let below = xs.iter().filter(|&&v| v < x).count() as f64 / n as f64;
                let at_most = xs.iter().filter(|&&v| v <= x).count() as f64 / n as f64;
                let se = (p * (1.0 - p) / n as f64).sqrt();
                assert!(
                    below < p + 5.0 * se && at_most > p - 5.0 * se,
                    "{spec:?} P{}: {below} below, {at_most} at or below",
                    p * 100.0
                );
            }
        }
    }

    #[test]
    fn clamped_means_match_clamped_draws() {
        for (spec, lo, hi) in [
            (DistSpec::Normal(0.9, 0.2, None, None), 0.0, 1.0),
            (DistSpec::Normal(-0.5, 1.0, None, None), -1.0, 100.0),
            (DistSpec::LogNormal(-0.5, 0.8), 0.0, 1.0),
            (DistSpec::LogNormal(0.0, 0.5), 0.5, 2.0),
        ] {
            let d = Dist::new_checked(&spec).unwrap();
            let mut rng = stream(9, 0, 1);
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng).clamp(lo, hi)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            let want = d.clamped_mean(lo, hi);
            assert!(
                (mean - want).abs() < 5.0 * sd / (n as f64).sqrt(),
                "{spec:?}: {mean} vs {want}"
            );
            assert!((want - d.mean()).abs() > 1e-3, "{spec:?} is not clamped enough to test");
        }
        // Inside the range, the plain mean.
        let d = Dist::new_checked(&DistSpec::Beta(2.0, 3.0)).unwrap();
        assert_eq!(d.clamped_mean(0.0, 1.0), 0.4);
    }

    #[test]
    fn rejects_impossible_parameters() {
        for spec in [
            DistSpec::Beta(0.0, 1.0),
            DistSpec::Beta(1.0, -2.0),
            DistSpec::Uniform(1.0, 1.0),
            DistSpec::Normal(0.0, 0.0, None, None),
            DistSpec::Normal(0.0, 1.0, Some(50.0), Some(60.0)),
            DistSpec::LogNormal(0.0, -1.0),
            DistSpec::Triangular(0.0, 2.0, 1.0),
            DistSpec::Pert(1.0, 1.0, 1.0),
            DistSpec::Interval90 {
                p5: 0.5,
                p95: 0.5,
                lognormal: None,
            },
            DistSpec::Interval90 {
                p5: -1.0,
                p95: 1.0,
                lognormal: Some(true),
            },
            DistSpec::Fixed(f64::NAN),
        ] {
            assert!(Dist::new_checked(&spec).is_err(), "{spec:?} accepted");
        }
    }

    /// A 90% interval of a fraction is a logit-normal whose 5th and 95th
    /// percentiles are the ones given, whose draws stay inside (0, 1), and
    /// whose numerical mean agrees with the draws (20,000 draws at a fixed
    /// seed: the standard error of the mean is about 0.0007, the tolerance
    /// 0.003 is four of them).
    #[test]
    fn a_fraction_interval_is_a_logit_normal_inside_zero_to_one() {
        let d = Dist::new_checked(&DistSpec::LogitInterval90 { p5: 0.1, p95: 0.35 }).unwrap();
        assert!((d.quantile(0.05) - 0.1).abs() < 1e-12, "{}", d.quantile(0.05));
        assert!((d.quantile(0.95) - 0.35).abs() < 1e-12, "{}", d.quantile(0.95));
        assert_eq!(d.support(), (0.0, 1.0));
        let mut rng = stream(31, 0, 7);
        let draws: Vec<f64> = (0..20_000).map(|_| d.sample(&mut rng)).collect();
        assert!(draws.iter().all(|&x| x > 0.0 && x < 1.0));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - d.mean()).abs() < 0.003, "{mean} vs {}", d.mean());
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64;
        assert!((var / d.variance() - 1.0).abs() < 0.05, "{var} vs {}", d.variance());
        // A wide interval near the bounds still stays inside.
        let wide = Dist::new_checked(&DistSpec::LogitInterval90 {
            p5: 1e-6,
            p95: 0.999_999,
        })
        .unwrap();
        assert!(
            (0..1000)
                .map(|_| wide.sample(&mut rng))
                .all(|x| (0.0..=1.0).contains(&x))
        );
        for (p5, p95) in [(0.0, 0.5), (0.5, 1.0), (-1e300, 1e300)] {
            let e = Dist::new_checked(&DistSpec::LogitInterval90 { p5, p95 }).unwrap_err();
            assert!(e.contains("0 < p5 < p95 < 1"), "{e}");
        }
    }
}
