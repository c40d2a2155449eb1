#!/usr/bin/env python3
"""SimPy speed reference for sancsim: the seed scenario's model (docs/MODEL.md)
as a process-based discrete-event simulation, one SimPy Environment per trial.

Processes of a trial (time in integer seconds since the first quarter's start):

* calendar: QuarterStart(q) at S(q) (demand, allocation, training start,
  rate, orders), ChipFailures(q) at S(q) + floor(days(q)/2) days,
  QuarterEnd(q) at S(q+1) (the quarter's record);
* shipment: one per filled order, waits out the lead time, then puts its
  chips in the pool (allocated at the next QuarterStart);
* shock: sets its flag at S(q0) and clears it at S(q0 + d) (when within the
  horizon);
* milestones: waits for the next crossing of a training-compute target; it is
  interrupted (simpy.Interrupt) whenever the training rate changes and then
  recomputes the crossing time (MODEL.md section 5, "Training rate").

Compute accrues in continuous time (F += R * (now - t_last) before every rate
change and record). Same-instant ordering follows MODEL.md's phases: shock and
shipment timeouts are scheduled before the calendar's timeout to the same
instant, so SimPy (FIFO among equal times) runs them first.

Random numbers: numpy's Generator (PCG64), one scalar draw at a time.

Usage: simpy_seed.py [SCENARIO] [--trials N] [--seed S] [--json FILE] [--hist FILE.npz]
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import bisect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import simpy  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib as pl  # noqa: E402
from numpy_seed import DEFAULT_SCENARIO, Accumulator, results, save_hist  # noqa: E402

at = pl.at_one


class Trial:
    """The state of one trial (MODEL.md section 4) and its event handlers."""

    def __init__(self, env, m, rng):
        self.env, self.m, self.rng = env, m, rng
        H = m["H"]
        # draws (MODEL.md 3), then shock triggers (section 5, trial start, step 2)
        self.afr = None if m["failure_rate"] is None else m["failure_rate"].draw(rng)
        self.f0 = m["fill_rate"].draw(rng)
        self.L0 = m["lead_time"].draw(rng)
        self.shocks = []  # (start quarter, end quarter or None, effects) of shocks that happen
        self.fired = []
        for s in m["shocks"]:
            trig = s["trigger"]
            q0 = None
            if trig[0] == "at":
                if rng.random() < trig[1] and 0 <= trig[2] < H:
                    q0 = trig[2]
            else:
                for q in range(max(trig[2], 0), min(trig[3], H - 1) + 1):
                    if rng.random() < trig[1]:
                        q0 = q
                        break
            self.fired.append(q0 is not None)
            d = None
            if q0 is not None and s["duration"] is not None:
                d = int(math.floor(at(s["duration"].draw(rng), q0) + 0.5))
            effs = [(e["fill"].draw(rng), e["lead"].draw(rng), e["stop"]) for e in s["effects"]]
            if q0 is not None and d != 0:
                self.shocks.append({"q0": q0, "d": d, "effects": effs, "active": False})
        self.D0 = m["demand0"].draw(rng)
        self.g = m["growth"].draw(rng)
        self.mfu = m["mfu"].draw(rng)
        self.gp = m["goodput"].draw(rng)
        # state
        self.inf = m["fleet_inference"]
        self.train = m["fleet_training"]
        self.pool = 0
        self.backlog = 0
        self.delivered = 0
        self.D = 0.0
        self.started = False
        self.start_q = None
        self.q = 0
        self.R = 0.0
        self.F = 0.0
        self.t_last = 0
        self.reached = [None] * len(m["milestones"])
        self.record = {k: [0.0] * H for k in pl.METRICS}
        self.never = env.event()  # waited on when no crossing is due
        self.watcher = None

    # ---- compute and milestones
    def accrue(self):
        now = self.env.now
        self.F += self.R * (now - self.t_last)
        self.t_last = now

    def set_rate(self):
        self.accrue()
        if self.started:
            R = min(self.train, self.m["max_cluster"]) * self.m["peak"] * at(self.mfu, self.q) * at(self.gp, self.q)
        else:
            R = 0.0
        if R != self.R:
            self.R = R
            if self.watcher is not None and self.watcher.is_alive:
                self.watcher.interrupt()

    def next_crossing(self):
        """(time, milestone) of the earliest crossing at the current rate."""
        now, best = self.env.now, None
        SH = self.m["S"][-1]
        for i, ms in enumerate(self.m["milestones"]):
            if self.reached[i] is not None:
                continue
            tgt = ms["target"]
            if self.F >= tgt:
                t = now
            elif self.R > 0:
                w = math.ceil((tgt - self.F) / self.R)
                if self.F + self.R * (w - 1) >= tgt:
                    w -= 1
                t = now + w
            else:
                continue
            if t <= SH and (best is None or t < best[0]):
                best = (t, i)
        return best

    def quarter_of(self, t):
        # S(q) < t <= S(q+1); time 0 in quarter 0
        return max(bisect.bisect_left(self.m["S"], t) - 1, 0)

    def milestones(self):
        env = self.env
        while True:
            nxt = self.next_crossing()
            try:
                if nxt is None:
                    yield self.never
                else:
                    yield env.timeout(nxt[0] - env.now)
                    self.accrue()
                    self.reached[nxt[1]] = self.quarter_of(env.now)
            except simpy.Interrupt:
                self.accrue()

    # ---- other processes
    def shipment(self, k, delay):
        yield self.env.timeout(delay)
        self.pool += k
        self.delivered += k

    def shock(self, sh, t0, t1):
        yield self.env.timeout(t0)
        sh["active"] = True
        if t1 is not None:
            yield self.env.timeout(t1 - t0)
            sh["active"] = False

    def calendar(self):
        env, m, rng = self.env, self.m, self.rng
        S, days, H, peak, M = m["S"], m["days"], m["H"], m["peak"], m["max_cluster"]
        for q in range(H):
            self.q = q
            # QuarterStart(q): demand
            self.D = at(self.D0, 0) if q == 0 else self.D * (1.0 + at(self.g, q))
            self.D = min(max(self.D, 0.0), 1e15)
            # allocation (inference_first) of the pool
            n = self.pool
            if n > 0:
                self.pool = 0
                unmet = max(0.0, self.D * peak - self.inf * peak)
                need = min(n, math.ceil(unmet / peak))
                x = min(n - need, max(0, M - self.train))
                self.train += x
                self.inf += n - x
            # training start
            if not self.started and q >= m["earliest_start"] and self.train >= m["min_cluster"]:
                self.started = True
                self.start_q = q
            self.set_rate()
            # orders
            N = int(m["orders"][q]) + self.backlog
            if N > 0:
                f, L, stop = at(self.f0, q), at(self.L0, q), False
                for sh in self.shocks:
                    if sh["active"]:
                        for fm, lt, st in sh["effects"]:
                            f *= at(fm, q)
                            L += at(lt, q)
                            stop = stop or st
                f = min(max(f, 0.0), 1.0)
                k = 0 if stop or f == 0.0 else (N if f == 1.0 else int(rng.binomial(N, f)))
                self.backlog = N - k if m["backlog"] else 0
                if k > 0:
                    delay = max(1, pl.quarters_to_seconds(L))
                    if S[q] + delay <= S[H]:
                        env.process(self.shipment(k, delay))
            # ChipFailures(q)
            half = (days[q] // 2) * pl.DAY
            yield env.timeout(half)
            if self.afr is not None:
                a = at(self.afr, q)
                p = -math.expm1(math.log1p(-min(a, 1.0)) * (days[q] / 365.25))
                if self.inf > 0:
                    self.inf -= int(rng.binomial(self.inf, p))
                if self.train > 0:
                    self.train -= int(rng.binomial(self.train, p))
                self.set_rate()
            # QuarterEnd(q)
            yield env.timeout(S[q + 1] - env.now)
            self.accrue()
            rec = self.record
            rec["delivered_domestic_chips_cumulative"][q] = self.delivered
            rec["inference_chips"][q] = self.inf
            rec["training_chips"][q] = self.train
            rec["inference_shortfall_chips"][q] = max(0.0, self.D - self.inf)
            rec["training_flop_domestic_cumulative"][q] = self.F


def run_trial(m, rng):
    env = simpy.Environment()
    tr = Trial(env, m, rng)
    S, H = m["S"], m["H"]
    for sh in tr.shocks:
        end = sh["q0"] + sh["d"] if sh["d"] is not None else None
        env.process(tr.shock(sh, S[sh["q0"]], S[end] if end is not None and end < H else None))
    # created in this order so that, at time 0, the shocks start and the
    # watcher waits before QuarterStart(0) runs
    tr.watcher = env.process(tr.milestones())
    env.process(tr.calendar())
    env.run(until=S[H] + 1)
    return tr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO)
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=None, help="default: the scenario's seed + 1")
    ap.add_argument("--json", help="write results as JSON to this file")
    ap.add_argument("--hist", help="write the per-quarter histograms (.npz) to this file")
    args = ap.parse_args()

    m = pl.load(args.scenario)
    seed = args.seed
    if seed is None:
        import tomllib
        with open(args.scenario, "rb") as fh:
            seed = int(tomllib.load(fh)["scenario"].get("seed", 1)) + 1
    rng = np.random.Generator(np.random.PCG64(seed))
    H, n, K = m["H"], args.trials, len(m["milestones"])
    acc = Accumulator(m)
    rec = {k: np.empty((n, H)) for k in pl.METRICS}
    reached = np.full((n, K), H, dtype=np.int64)  # quarter reached, H = not within the horizon
    start_q = np.full(n, H, dtype=np.int64)
    fired = np.zeros((n, len(m["shocks"])), dtype=bool)

    t0 = time.perf_counter()
    for i in range(n):
        tr = run_trial(m, rng)
        for key in pl.METRICS:
            rec[key][i] = tr.record[key]
        for k, qr in enumerate(tr.reached):
            if qr is not None:
                reached[i, k] = qr
        if tr.start_q is not None:
            start_q[i] = tr.start_q
        fired[i] = tr.fired
    # aggregation (the same counts and histograms as numpy_seed.py)
    w = np.ones(n)
    for o in m["observe"]:
        src = rec["delivered_domestic_chips_cumulative"] if o["kind"] == "delivered" \
            else rec["training_flop_domestic_cumulative"]
        x = src[:, o["by"]]
        w *= np.where((x >= o["at_least"]) & (x < o["below"]), 1.0, o["miss_weight"])
    qs = np.arange(H)
    for k in range(K):
        r = reached[:, k][:, None] <= qs[None, :]
        acc.reached[k] += r.sum(axis=0)
        acc.reached_w[k] += w @ r
        acc.reached_w2[k] += (w * w) @ r
    acc.started += (start_q[:, None] <= qs[None, :]).sum(axis=0)
    acc.fired += fired.sum(axis=0)
    acc.w_sum, acc.w2_sum, acc.passed = float(w.sum()), float((w * w).sum()), int((w > 0).sum())
    acc.n = n
    for key in pl.METRICS:
        acc.hist[key].add(rec[key])
    seconds = time.perf_counter() - t0

    res = results(m, acc, seconds, "simpy", simpy.__version__)
    print(f"simpy {simpy.__version__}: {n} trials in {seconds:.3f} s: "
          f"{res['us_per_trial']:.1f} us/trial ({n / seconds:,.0f} trials/s)")
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
