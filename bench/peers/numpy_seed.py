#!/usr/bin/env python3
"""numpy speed reference for sancsim: the seed scenario's model (docs/MODEL.md)
vectorised across trials.

Trials are processed in chunks (default 100,000); within a chunk every state
variable is an array of shape (trials,) advanced quarter by quarter: no
per-trial Python loop and no event queue. Sub-quarter timing is arithmetic:

* a shipment filled at the start of quarter q lands at S(q) + max(1 s,
  round(L x 91.3125 days)); it counts as delivered in the quarter containing
  that instant (S(j) < t <= S(j+1)) and is allocated at QuarterStart(j+1);
* chip failures happen at S(q) + floor(days(q)/2) days, so the training rate
  of quarter q is R1 over the first floor(days/2) days and R2 (after the
  failures) over the rest; compute accrues as R1*h1 + R2*h2;
* a milestone is reached by the end of quarter q iff the compute at S(q+1)
  is at least its target (the compute is continuous and non-decreasing, and
  S(q+1) is a whole second, so this equals MODEL.md's crossing-time rule).

The scenario is read from its TOML (peerlib.load); features outside the seed
scenario's (suppliers, gates, several chip types or lines, bounded runs, ...)
are refused rather than ignored.

Usage: numpy_seed.py [SCENARIO] [--trials N] [--chunk N] [--seed S]
                     [--json FILE] [--hist FILE.npz]
Prints the microseconds per trial (simulation and aggregation only: no
parsing, no output writing).
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib as pl  # noqa: E402

DEFAULT_SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scenarios", "seed_2024.toml")


class Accumulator:
    """Integer counts and histograms merged over chunks (memory independent
    of the number of trials)."""

    def __init__(self, m):
        H, K = m["H"], len(m["milestones"])
        self.n = 0
        self.reached = np.zeros((K, H), dtype=np.int64)     # prior: reached by end of q
        self.reached_w = np.zeros((K, H))                   # posterior: weighted
        self.reached_w2 = np.zeros((K, H))                  # sum of w^2 over reaching trials
        self.started = np.zeros(H, dtype=np.int64)          # run started by end of q
        self.fired = np.zeros(len(m["shocks"]), dtype=np.int64)
        self.w_sum = 0.0
        self.w2_sum = 0.0
        self.passed = 0
        self.hist = {k: pl.QuarterHist(H) for k in pl.METRICS}


def simulate_chunk(m, n, rng, acc):
    H, S, days = m["H"], np.array(m["S"], dtype=np.int64), m["days"]
    peak, M = m["peak"], m["max_cluster"]
    rows = np.arange(n)

    # ---- draws of the uncertain numbers (MODEL.md 3), then shock triggers (5, step 2)
    afr = None if m["failure_rate"] is None else m["failure_rate"].draw(rng, n)
    f0 = m["fill_rate"].draw(rng, n)
    L0 = m["lead_time"].draw(rng, n)
    shocks = []
    for i, s in enumerate(m["shocks"]):
        trig = s["trigger"]
        if trig[0] == "at":
            _, p, q_at = trig
            happen = (rng.random(n) < p) & (0 <= q_at < H)
            q0 = np.where(happen, q_at, H)
        else:
            _, h, a, b = trig
            a, b = max(a, 0), min(b, H - 1)
            hits = rng.random((n, b - a + 1)) < h
            happen = hits.any(axis=1)
            q0 = np.where(happen, a + hits.argmax(axis=1), H)
        acc.fired[i] += int(happen.sum())
        if s["duration"] is None:
            qend = np.full(n, H)
        else:
            dur = s["duration"].draw(rng, n)
            if dur.ndim == 2:  # per quarter: the value of the start quarter
                dur = dur[rows, np.minimum(q0, H - 1)]
            qend = q0 + np.floor(dur + 0.5).astype(np.int64)  # d = round(duration)
        effs = [(e["fill"].draw(rng, n), e["lead"].draw(rng, n), e["stop"]) for e in s["effects"]]
        shocks.append((q0, qend, effs))
    D0 = m["demand0"].draw(rng, n)
    g = m["growth"].draw(rng, n)
    mfu = m["mfu"].draw(rng, n)
    gp = m["goodput"].draw(rng, n)

    # ---- state (MODEL.md 4)
    inf = np.full(n, m["fleet_inference"], dtype=np.int64)
    train = np.full(n, m["fleet_training"], dtype=np.int64)
    backlog = np.zeros(n, dtype=np.int64)
    landed = np.zeros((n, H + 1), dtype=np.int64)  # chips landing in quarter j; column H: after the horizon
    delivered = np.zeros(n, dtype=np.int64)
    started = np.zeros(n, dtype=bool)
    F = np.zeros(n)
    D = np.zeros(n)
    out = {k: np.empty((n, H)) for k in pl.METRICS}

    for q in range(H):
        # QuarterStart(q), step 1: demand
        D = pl.at_vec(D0, q).copy() if q == 0 else D * (1.0 + pl.at_vec(g, q))
        np.clip(D, 0.0, 1e15, out=D)
        # step 2: allocation, inference_first, of the chips that landed in quarter q-1
        if q > 0:
            new = landed[:, q - 1]
            unmet = np.maximum(0.0, D * peak - inf * peak)
            need = np.minimum(new, np.ceil(unmet / peak)).astype(np.int64)
            room = np.maximum(0, M - train)
            x = np.minimum(new - need, room)
            train += x
            inf += new - x
        # step 3: training start (the run then goes on to the horizon)
        started |= (q >= m["earliest_start"]) & (train >= m["min_cluster"])
        acc.started[q] += int(started.sum())
        # step 4: rate
        u = pl.at_vec(mfu, q) * pl.at_vec(gp, q)
        R1 = np.where(started, np.minimum(train, M) * peak * u, 0.0)
        # step 6: orders on the line, with the active shocks' effects
        N = m["orders"][q] + backlog
        f = pl.at_vec(f0, q)
        L = pl.at_vec(L0, q)
        stop = None
        for q0, qend, effs in shocks:
            active = (q0 <= q) & (q < qend)
            for fm, lt, st in effs:
                f = np.where(active, f * pl.at_vec(fm, q), f)
                L = np.where(active, L + pl.at_vec(lt, q), L)
                if st:
                    stop = active if stop is None else stop | active
        k = rng.binomial(N, np.clip(f, 0.0, 1.0))
        if stop is not None:
            k[stop] = 0
        backlog = N - k if m["backlog"] else np.zeros(n, dtype=np.int64)
        t = S[q] + np.maximum(1, pl.quarters_to_seconds(L))
        j = np.searchsorted(S, t, side="left") - 1  # S(j) < t <= S(j+1)
        j = np.where(t <= S[H], j, H)
        landed[rows, j] += k
        # ChipFailures(q), mid-quarter: installed chips only
        h1 = (days[q] // 2) * pl.DAY
        h2 = days[q] * pl.DAY - h1
        if afr is not None:
            a = pl.at_vec(afr, q)
            p = -np.expm1(np.log1p(-np.minimum(a, 1.0)) * (days[q] / 365.25))
            inf -= rng.binomial(inf, p)
            train -= rng.binomial(train, p)
            R2 = np.where(started, np.minimum(train, M) * peak * u, 0.0)
        else:
            R2 = R1
        F += R1 * h1 + R2 * h2
        # QuarterEnd(q): record
        delivered += landed[:, q]
        out["delivered_domestic_chips_cumulative"][:, q] = delivered
        out["inference_chips"][:, q] = inf
        out["training_chips"][:, q] = train
        out["inference_shortfall_chips"][:, q] = np.maximum(0.0, D - inf)
        out["training_flop_domestic_cumulative"][:, q] = F

    # ---- evidence (MODEL.md 11): hard ranges and confidence
    w = np.ones(n)
    for o in m["observe"]:
        src = out["delivered_domestic_chips_cumulative"] if o["kind"] == "delivered" \
            else out["training_flop_domestic_cumulative"]
        x = src[:, o["by"]]
        agree = (x >= o["at_least"]) & (x < o["below"])
        w *= np.where(agree, 1.0, o["miss_weight"])

    # ---- aggregate
    acc.n += n
    Fq = out["training_flop_domestic_cumulative"]
    for i, ms in enumerate(m["milestones"]):
        r = Fq >= ms["target"]
        acc.reached[i] += r.sum(axis=0)
        acc.reached_w[i] += w @ r
        acc.reached_w2[i] += (w * w) @ r
    acc.w_sum += float(w.sum())
    acc.w2_sum += float((w * w).sum())
    acc.passed += int((w > 0).sum())
    for key in pl.METRICS:
        acc.hist[key].add(out[key])


def results(m, acc, seconds, impl, version):
    H = m["H"]
    n = acc.n
    ms_out = []
    for i, ms in enumerate(m["milestones"]):
        d = ms["deadline"]
        pw = acc.reached_w[i, d] / acc.w_sum if acc.w_sum > 0 else None
        # delta-method variance of the weighted share: sum w^2 (y - p)^2 / (sum w)^2
        vw = None if pw is None else \
            ((1 - 2 * pw) * acc.reached_w2[i, d] + pw * pw * acc.w2_sum) / acc.w_sum**2
        ms_out.append({
            "name": ms["name"], "target_flop": ms["target"], "deadline": m["quarters"][d],
            "reached_by_deadline": int(acc.reached[i, d]),
            "probability": acc.reached[i, d] / n,
            "probability_by_quarter": (acc.reached[i] / n).tolist(),
            "posterior_probability": pw,
            "posterior_variance": vw,
        })
    quarterly = {}
    for key in pl.METRICS:
        qs = [acc.hist[key].quantiles(q) for q in range(H)]
        quarterly[key] = {p: [row[j] for row in qs] for j, p in enumerate(("p5", "p25", "p50", "p75", "p95"))}
    return {
        "implementation": impl, "version": version, "scenario": m["name"],
        "trials": n, "seconds": seconds, "us_per_trial": seconds / n * 1e6,
        "quarters": m["quarters"],
        "milestones": ms_out,
        "started_by_quarter": (acc.started / n).tolist(),
        "shocks": {s["name"]: acc.fired[i] / n for i, s in enumerate(m["shocks"])},
        "quarterly": quarterly,
        "evidence": {"observations": [o["name"] for o in m["observe"]],
                     "acceptance_rate": acc.passed / n,
                     "effective_sample_size": acc.w_sum**2 / acc.w2_sum if acc.w2_sum > 0 else 0.0},
    }


def save_hist(path, acc):
    np.savez_compressed(path, trials=acc.n, key_lo=pl.KEY_LO, nb=pl.NB,
                        **{k: acc.hist[k].counts for k in pl.METRICS})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO)
    ap.add_argument("--trials", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=None, help="default: the scenario's seed")
    ap.add_argument("--json", help="write results as JSON to this file")
    ap.add_argument("--hist", help="write the per-quarter histograms (.npz) to this file")
    args = ap.parse_args()

    m = pl.load(args.scenario)
    seed = args.seed
    if seed is None:
        import tomllib
        with open(args.scenario, "rb") as fh:
            seed = int(tomllib.load(fh)["scenario"].get("seed", 1))
    rng = np.random.Generator(np.random.PCG64(seed))
    acc = Accumulator(m)
    t0 = time.perf_counter()
    left = args.trials
    while left > 0:
        c = min(args.chunk, left)
        simulate_chunk(m, c, rng, acc)
        left -= c
    seconds = time.perf_counter() - t0
    res = results(m, acc, seconds, "numpy", np.__version__)
    print(f"numpy {np.__version__}: {acc.n} trials in {seconds:.3f} s: "
          f"{res['us_per_trial']:.3f} us/trial ({acc.n / seconds:,.0f} trials/s)")
    for ms in res["milestones"]:
        print(f"  {ms['name']:<18} P(by {ms['deadline']}) = {ms['probability']:.4f}"
              f"  posterior {ms['posterior_probability']:.4f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    if args.hist:
        save_hist(args.hist, acc)


if __name__ == "__main__":
    main()
