"""Shared parts of the speed references (numpy_seed.py, simpy_seed.py).

Written from docs/MODEL.md only (not from sancsim's source):

* reading the scenario TOML (tomllib) into a plain dict of model parameters,
  refusing features these references do not implement;
* uncertain numbers (MODEL.md section 3): fixed, uniform, normal (untruncated),
  lognormal, beta, triangular, pert, and the {p5, p95} forms (logit-normal
  for fractions, lognormal otherwise), per = "trial" or "quarter", clamped to
  the quantity's valid range; drawn with numpy's Generator (PCG64), either a
  vector over trials (size=n) or one trial's scalars (size=None);
* the Gregorian quarter calendar (section 1);
* a log-linear histogram with sancsim's bucket rule (section 6), used to
  report per-quarter percentiles with bounded memory;
* the JSON result layout both references write.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np

DAY = 86_400
QUARTER_SECONDS = 91.3125 * DAY  # MODEL.md section 1: durations in quarters
Z95 = 1.6448536  # MODEL.md section 3, {p5, p95} forms

# Valid ranges (MODEL.md section 3's table), for the keys the seed scenario
# may use. 'fraction' marks the ranges [0, 1] / (0, 1] whose {p5, p95} form
# is logit-normal.
RANGES = {
    "annual_failure_rate": (0.0, 1.0, True),
    "fill_rate": (0.0, 1.0, True),
    "lead_time_quarters": (0.0, 400.0, False),
    "duration_quarters": (0.0, 400.0, False),
    "fill_rate_multiplier": (0.0, 1e6, False),
    "add_lead_time_quarters": (0.0, 400.0, False),
    "initial_demand_chips": (0.0, 1e12, False),
    "growth_per_quarter": (-1.0, 100.0, False),
    "mfu": (0.0, 1.0, True),
    "goodput": (0.0, 1.0, True),
}


# --------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------
def parse_quarter(s: str) -> tuple[int, int]:
    y, q = s.upper().split("Q")
    return int(y), int(q)


def quarter_index(start: str, label: str) -> int:
    y0, q0 = parse_quarter(start)
    y, q = parse_quarter(label)
    return (y - y0) * 4 + (q - q0)


def quarter_label(start: str, i: int) -> str:
    y0, q0 = parse_quarter(start)
    k = (q0 - 1) + i
    return f"{y0 + k // 4}Q{k % 4 + 1}"


def quarter_days(year: int, q: int) -> int:
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return [91 if leap else 90, 91, 92, 92][q - 1]


def calendar(start: str, horizon: int):
    """days[q] and boundaries S[0..H] in integer seconds."""
    y0, q0 = parse_quarter(start)
    days = []
    for i in range(horizon):
        k = (q0 - 1) + i
        days.append(quarter_days(y0 + k // 4, k % 4 + 1))
    S = [0]
    for d in days:
        S.append(S[-1] + d * DAY)
    return days, S


def quarters_to_seconds(x):
    """round(x * 91.3125 * 86400), negatives and NaN to 0 (MODEL.md 1).
    Rounds half away from zero like Rust's f64::round (x >= 0 here)."""
    v = np.floor(np.asarray(x, dtype=float) * QUARTER_SECONDS + 0.5)
    v = np.where(np.isnan(v) | (v < 0), 0.0, v)
    return v.astype(np.int64) if np.ndim(v) else int(v)


# --------------------------------------------------------------------------
# Uncertain numbers
# --------------------------------------------------------------------------
class Uncertain:
    """One uncertain number: a sampler for its distribution, its per-mode
    and its valid range."""

    def __init__(self, spec, key: str, horizon: int):
        self.key = key
        self.horizon = horizon
        short = key.split(".")[-1]
        lo, hi, fraction = RANGES[short]
        self.lo, self.hi = lo, hi
        if not isinstance(spec, dict):
            spec = {"value": spec}
        self.per = spec.get("per", "trial")
        if self.per not in ("trial", "quarter"):
            raise ValueError(f"{key}: per = {self.per!r}")
        d = spec.get("dist")
        if "value" in spec:
            self.kind, self.args = "fixed", (float(spec["value"]),)
        elif "p5" in spec:
            p5, p95 = float(spec["p5"]), float(spec["p95"])
            if d == "normal" or (d is None and not fraction and p5 <= 0):
                self.kind = "normal"
                self.args = ((p5 + p95) / 2, (p95 - p5) / (2 * Z95))
            elif d == "lognormal" or (d is None and not fraction):
                self.kind = "lognormal"
                self.args = ((math.log(p5) + math.log(p95)) / 2,
                             (math.log(p95) - math.log(p5)) / (2 * Z95))
            elif d is None and fraction:
                lg = lambda x: math.log(x / (1 - x))  # noqa: E731
                self.kind = "logitnormal"
                self.args = ((lg(p5) + lg(p95)) / 2, (lg(p95) - lg(p5)) / (2 * Z95))
            else:
                raise ValueError(f"{key}: p5/p95 with dist = {d!r}")
        elif d == "pert":
            a, m, b = float(spec["min"]), float(spec["mode"]), float(spec["max"])
            self.kind = "pert"
            self.args = (a, b - a, 1 + 4 * (m - a) / (b - a), 1 + 4 * (b - m) / (b - a))
        elif d == "beta":
            if "alpha" in spec:
                al, be = float(spec["alpha"]), float(spec["beta"])
            else:
                mu, sd = float(spec["mean"]), float(spec["sd"])
                k = mu * (1 - mu) / sd**2 - 1
                al, be = mu * k, (1 - mu) * k
            self.kind, self.args = "pert", (0.0, 1.0, al, be)
        elif d == "uniform":
            self.kind, self.args = "uniform", (float(spec["low"]), float(spec["high"]))
        elif d == "triangular":
            self.kind, self.args = "triangular", (float(spec["min"]), float(spec["mode"]),
                                                  float(spec["max"]))
        elif d == "lognormal" and "mu" in spec:
            self.kind, self.args = "lognormal", (float(spec["mu"]), float(spec["sigma"]))
        elif d == "lognormal":
            mean, sd = float(spec["mean"]), float(spec["sd"])
            s2 = math.log(1 + sd**2 / mean**2)
            self.kind, self.args = "lognormal", (math.log(mean) - s2 / 2, math.sqrt(s2))
        elif d == "normal" and "min" not in spec and "max" not in spec:
            self.kind, self.args = "normal", (float(spec["mean"]), float(spec["sd"]))
        else:
            raise NotImplementedError(f"{key}: distribution {spec!r} not implemented here")

    @property
    def fixed(self):
        return self.kind == "fixed"

    def _draw(self, rng, size):
        k, a = self.kind, self.args
        if k == "fixed":
            return a[0] if size is None else np.full(size, a[0])
        if k == "pert":  # min + range * Beta(alpha, beta); beta is the special case 0, 1
            return a[0] + a[1] * rng.beta(a[2], a[3], size)
        if k == "lognormal":
            return np.exp(rng.normal(a[0], a[1], size))
        if k == "logitnormal":
            return 1.0 / (1.0 + np.exp(-rng.normal(a[0], a[1], size)))
        if k == "normal":
            return rng.normal(a[0], a[1], size)
        if k == "uniform":
            return rng.uniform(a[0], a[1], size)
        if k == "triangular":
            return rng.triangular(a[0], a[1], a[2], size)
        raise AssertionError(k)

    def draw(self, rng, n=None):
        """n=None: one trial (a scalar, or an (H,) array per quarter);
        n: a vector (n,), or (n, H) per quarter. Clamped to the valid range."""
        if self.per == "quarter":
            size = (self.horizon,) if n is None else (n, self.horizon)
        else:
            size = None if n is None else (n,)
        v = self._draw(rng, size)
        if size is None:
            return float(min(max(v, self.lo), self.hi))
        return np.clip(v, self.lo, self.hi)


def at_vec(v, q):
    """The quarter-q values of a number drawn for a vector of trials:
    (n,) per trial, (n, H) per quarter."""
    return v[:, q] if v.ndim == 2 else v


def at_one(v, q):
    """The quarter-q value of a number drawn for one trial: a float per
    trial, an (H,) array per quarter."""
    return v[q] if isinstance(v, np.ndarray) else v


# --------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------
UNSUPPORTED_TOP = ("suppliers", "gates", "correlation")


def load(path: str) -> dict:
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    sc = doc["scenario"]
    H = int(sc.get("horizon_quarters", 16))
    start = sc["start"]
    for k in UNSUPPORTED_TOP:
        if k in doc:
            raise NotImplementedError(f"[{k}] is not implemented by the speed references")
    if sc.get("sampling", "independent") != "independent":
        raise NotImplementedError("scenario.sampling other than independent")
    qi = lambda s: quarter_index(start, s)  # noqa: E731

    chips = doc["chips"]
    if len(chips) != 1:
        raise NotImplementedError("exactly one chip type is implemented")
    (cname, chip), = chips.items()
    peak = chip["peak_flops"]
    peak = float(peak["value"] if isinstance(peak, dict) else peak) * float(chip.get("derating", 1.0))
    if not chip.get("domestic", True):
        raise NotImplementedError("a foreign chip type")
    for k in ("run_failure_probability", "training_priority", "inference_priority"):
        if k in chip:
            raise NotImplementedError(f"chips.{cname}.{k}")
    afr = chip.get("annual_failure_rate")

    lines = doc["supply"]
    if len(lines) != 1:
        raise NotImplementedError("exactly one supply line is implemented")
    (lname, line), = lines.items()
    for k in ("supplier", "gates", "quota_chips_per_quarter", "domestic_purchase_ratio"):
        if k in line:
            raise NotImplementedError(f"supply.{lname}.{k}")
    orders = np.zeros(H, dtype=np.int64)
    for o in line.get("orders", []):
        if "quarter" in o:
            a = b = qi(o["quarter"])
        else:
            a, b = qi(o["from"]), qi(o["to"])
        for q in range(max(a, 0), min(b, H - 1) + 1):
            orders[q] += int(o["chips"])

    shocks = []
    for sname, s in doc.get("shocks", {}).items():
        prob = s.get("probability", 1.0)
        prob = float(prob["value"] if isinstance(prob, dict) else prob)
        if "hazard_per_quarter" in s:
            hz = s["hazard_per_quarter"]
            hz = float(hz["value"] if isinstance(hz, dict) else hz)
            trig = ("hazard", hz, qi(s["from"]) if "from" in s else 0,
                    qi(s["until"]) if "until" in s else H - 1)
        else:
            trig = ("at", prob, qi(s["at"]) if "at" in s else 0)
        effs = []
        for j, e in enumerate(s.get("effects", [])):
            if e.get("supply") != lname:
                raise NotImplementedError(f"shocks.{sname}.effects[{j}]: only supply effects on the one line")
            for k in e:
                if k not in ("supply", "fill_rate_multiplier", "add_lead_time_quarters", "stop"):
                    raise NotImplementedError(f"shocks.{sname}.effects[{j}].{k}")
            base = f"shocks.{sname}.effects[{j}]"
            effs.append({
                "fill": Uncertain(e.get("fill_rate_multiplier", 1.0), base + ".fill_rate_multiplier", H),
                "lead": Uncertain(e.get("add_lead_time_quarters", 0.0), base + ".add_lead_time_quarters", H),
                "stop": bool(e.get("stop", False)),
            })
        dur = s.get("duration_quarters")
        shocks.append({
            "name": sname, "trigger": trig,
            "duration": None if dur is None else Uncertain(dur, f"shocks.{sname}.duration_quarters", H),
            "effects": effs,
        })

    fleet = doc.get("fleet", {}).get(cname, {})
    inf = doc.get("inference")
    if inf is None or "tokens_per_day" in inf:
        raise NotImplementedError("inference demand in chips is required")
    alloc = doc.get("allocation", {})
    if alloc.get("policy", "inference_first") != "inference_first":
        raise NotImplementedError("allocation other than inference_first")
    tr = doc["training"]
    for k in ("max_run_quarters", "max_cluster_chips_from", "mfu_size_exponent"):
        if k in tr:
            raise NotImplementedError(f"training.{k}")

    milestones = []
    for mname, m in doc.get("milestones", {}).items():
        t = m["target_flop"]
        if not m.get("domestic_only", True):
            pass  # one domestic chip type: F_all == F_dom
        milestones.append({"name": mname, "target": float(t["value"] if isinstance(t, dict) else t),
                           "deadline": qi(m["deadline"])})

    observe = []
    for o in doc.get("observe", []):
        qty = o["quantity"]
        if qty == "delivered_chips" and o.get("line", lname) == lname and "chip" not in o:
            kind = "delivered"
        elif qty in ("largest_run_flop_domestic", "largest_run_flop",
                     "training_flop_domestic", "training_flop"):
            kind = "flop"  # one domestic chip type, one unbounded run: all equal F_dom
        else:
            raise NotImplementedError(f"observe quantity {qty!r}")
        if "sd" in o or "from" in o or "value" in o:
            raise NotImplementedError(f"observe {o['name']}: only ranges by a quarter, hard or confidence")
        c = o.get("confidence")
        observe.append({"name": o["name"], "kind": kind, "by": qi(o["by"]),
                        "at_least": float(o.get("at_least", -math.inf)),
                        "below": float(o.get("below", math.inf)),
                        "miss_weight": 0.0 if c is None else (1 - c) / c})

    days, S = calendar(start, H)
    return {
        "name": sc.get("name", ""), "start": start, "H": H, "days": days, "S": S,
        "quarters": [quarter_label(start, i) for i in range(H)],
        "peak": peak,
        "failure_rate": None if afr is None else Uncertain(afr, f"chips.{cname}.annual_failure_rate", H),
        "orders": orders,
        "fill_rate": Uncertain(line.get("fill_rate", 1.0), f"supply.{lname}.fill_rate", H),
        "lead_time": Uncertain(line.get("lead_time_quarters", 0.0), f"supply.{lname}.lead_time_quarters", H),
        "backlog": bool(line.get("backlog", False)),
        "shocks": shocks,
        "fleet_inference": int(fleet.get("inference", 0)),
        "fleet_training": int(fleet.get("training", 0)),
        "demand0": Uncertain(inf["initial_demand_chips"], "inference.initial_demand_chips", H),
        "growth": Uncertain(inf.get("growth_per_quarter", 0.0), "inference.growth_per_quarter", H),
        "earliest_start": qi(tr["earliest_start"]) if "earliest_start" in tr else 0,
        "min_cluster": int(tr.get("min_cluster_chips", 1)),
        "max_cluster": int(tr.get("max_cluster_chips", 10**12)),
        "mfu": Uncertain(tr["mfu"], "training.mfu", H),
        "goodput": Uncertain(tr.get("goodput", 1.0), "training.goodput", H),
        "milestones": milestones,
        "observe": observe,
    }


def strip_observe(text: str) -> str:
    """The scenario's text without its [[observe]] tables (each from its
    header to the next table header), so that sancsim reports the prior."""
    out, skipping = [], False
    for ln in text.splitlines(keepends=True):
        s = ln.strip()
        if s.startswith("["):
            skipping = s.replace(" ", "").startswith("[[observe]]")
        if not skipping:
            out.append(ln)
    return "".join(out)


# --------------------------------------------------------------------------
# Log-linear histogram (MODEL.md section 6's bucket rule), one per metric,
# all quarters in one array; counts may be weighted.
# --------------------------------------------------------------------------
KEY_LO = (np.float64(2.0**-40).view(np.int64) >> 43)
KEY_HI = (np.float64(2.0**110).view(np.int64) >> 43)
NB = int(KEY_HI - KEY_LO) + 1  # bucket 0 is the zero bucket


class QuarterHist:
    def __init__(self, H: int):
        self.H = H
        self.counts = np.zeros(H * NB, dtype=np.float64)

    def add(self, vals: np.ndarray, weights=None):
        """vals: (n, H) float64."""
        v = np.ascontiguousarray(vals, dtype=np.float64)
        key = (v.view(np.int64) >> 43) - KEY_LO + 1
        np.clip(key, 1, NB - 1, out=key)
        key[v <= 0] = 0
        key += np.arange(self.H, dtype=np.int64) * NB
        w = None if weights is None else np.broadcast_to(weights[:, None], v.shape).ravel()
        self.counts += np.bincount(key.ravel(), weights=w, minlength=self.H * NB)

    @staticmethod
    def _centre(b):
        lo = np.int64(b - 1 + KEY_LO) << 43
        hi = np.int64(b + KEY_LO) << 43
        lo, hi = lo.view(np.float64), hi.view(np.float64)
        return float(lo + (hi - lo) / 2)

    def quantiles(self, q, ps=(0.05, 0.25, 0.5, 0.75, 0.95)):
        c = self.counts[q * NB:(q + 1) * NB]
        cum = np.cumsum(c)
        n = cum[-1]
        out = []
        for p in ps:
            if float(n).is_integer():  # counts: nearest rank ceil(p n), p in millionths
                pm = round(p * 1_000_000)
                r = max((pm * int(n) + 999_999) // 1_000_000, 1)
            else:  # weighted counts
                r = p * n
            b = int(np.searchsorted(cum, r - 1e-9, side="left"))
            out.append(0.0 if b == 0 else self._centre(b))
        return out


def quantiles_exact(values: np.ndarray, ps=(0.05, 0.25, 0.5, 0.75, 0.95)):
    """Nearest-rank quantiles of a sample (used by the SimPy reference)."""
    s = np.sort(values)
    n = len(s)
    return [float(s[max((round(p * 1_000_000) * n + 999_999) // 1_000_000, 1) - 1]) for p in ps]


METRICS = ("delivered_domestic_chips_cumulative", "inference_chips", "training_chips",
           "inference_shortfall_chips", "training_flop_domestic_cumulative")
