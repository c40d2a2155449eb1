#!/usr/bin/env python3
"""Run the numpy and SimPy speed references against sancsim.

(a) Agreement in distribution. sancsim `run` on the scenario without its
    [[observe]] tables (so every output is the prior, over all trials) and on
    the scenario as written (for the posterior milestone probabilities);
    numpy_seed.py and simpy_seed.py on the scenario as written (they report the
    prior over all trials and, beside it, the posterior). Checked, with
    n1, n2 the trial counts:

    * each milestone's probability of being reached by its deadline (prior):
      |p1 - p2| <= 4 sqrt(p(1-p)(1/n1 + 1/n2)), p the pooled share; a false
      failure has probability < 6.4e-5 per comparison (normal approximation);
    * the same, posterior: |p1 - p2| <= 4 sqrt(V_peer (1 + n_peer/n_sancsim)),
      V_peer the delta-method variance of the peer's weighted share
      (sum w^2 (y - p)^2 / (sum w)^2), scaled to sancsim's trial count (same
      model, so the same per-trial variance);
    * each quarterly median (P50) of the recorded metrics: sancsim reports m,
      its sample median, rounded to 3 significant digits. Under equal
      distributions F(m) is within z/(2 sqrt(n_s)) of 1/2, and the peer's
      empirical CDF within z/(2 sqrt(n_p)) of F; so the test is
      F_peer(m_lo-) - z s <= 1/2 <= F_peer(m_hi) + z s with
      s = sqrt(1/4 (1/n_s + 1/n_p)), [m_lo, m_hi] the values that round to m
      (half a unit of its third digit, at most 0.5%) widened by sancsim's
      histogram resolution (2^-10) and the peer's (whole buckets counted
      conservatively), z = 4.5 (two-sided 6.8e-6 per comparison;
      with 5 metrics x 16 quarters x 2 peers the family-wise false-failure
      rate is below 1.1e-3 by Bonferroni). Distribution-free (no bootstrap),
      and valid with atoms (a median of 0 checks P_peer(X <= 0) >= 1/2 - z s).

    Training start by quarter, milestone probabilities by quarter and shock
    probabilities are shown as largest |z| (not gated).

(b) Speed, interleaved: R times (--repeat, default 3), in rotating order,
    `sancsim bench --threads 1 --trials 1000000 --repeat 1`, numpy_seed.py on
    1,000,000 trials and simpy_seed.py on 20,000, each in its own process with
    OMP/OPENBLAS/MKL_NUM_THREADS=1. Reports median microseconds per trial
    and the ratios to sancsim.

Prints markdown tables; --json FILE writes everything as JSON. Exit status 1
when an agreement check fails.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import peerlib as pl  # noqa: E402

Z_P = 4.0     # milestone probabilities
Z_Q = 4.5     # quarterly medians
BUCKET = 2.0**-10  # half a histogram bucket, relative (MODEL.md section 6)


def thread_env():
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "1"
    return env


def find_sancsim(arg):
    if arg:
        return [arg]
    cands = [os.path.join(ROOT, "target", "release", "sancsim")]
    if os.environ.get("CARGO_TARGET_DIR"):
        cands.insert(0, os.path.join(os.environ["CARGO_TARGET_DIR"], "release", "sancsim"))
    for c in cands:
        if os.access(c, os.X_OK):
            return [c]
    return ["cargo", "run", "--release", "--quiet", "--manifest-path",
            os.path.join(ROOT, "Cargo.toml"), "--"]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(), **kw)
    if r.returncode != 0:
        sys.stderr.write(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}\n")
        sys.exit(2)
    return r.stdout


# --------------------------------------------------------------------------
# (a) agreement
# --------------------------------------------------------------------------
class PeerHist:
    """CDF bounds from a peer's per-quarter histogram (peerlib.QuarterHist layout)."""

    def __init__(self, path, H):
        z = np.load(path)
        self.n = int(z["trials"])
        self.H = H
        nb = int(z["nb"])
        keys = np.arange(nb - 1, dtype=np.int64) + int(z["key_lo"])
        self.lo = np.concatenate([[0.0], (keys << 43).view(np.float64)])        # bucket lower edges
        self.hi = np.concatenate([[0.0], ((keys + 1) << 43).view(np.float64)])  # upper edges
        self.c = {k: z[k].reshape(H, nb) for k in pl.METRICS}

    def cdf_bounds(self, metric, q, x):
        """(P(X < x(1-d)) counting only whole buckets below, P(X <= x(1+d)) counting
        every bucket that starts at or below), as shares."""
        c = self.c[metric][q]
        n = c.sum()
        if x <= 0:
            return 0.0, c[0] / n
        # x was rounded to 3 significant digits (half a unit of the third digit)
        # from a bucket centre (half a bucket from the sample quantile)
        half = 0.5 * 10.0 ** (math.floor(math.log10(x)) - 2)
        a, b = (x - half) * (1 - BUCKET), (x + half) * (1 + BUCKET)
        below = c[0] + c[1:][self.hi[1:] <= a].sum()
        upto = c[0] + c[1:][self.lo[1:] <= b].sum()
        return below / n, upto / n


def z_prop(p1, n1, p2, n2):
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    if p <= 0 or p >= 1:
        return 0.0 if p1 == p2 else math.inf
    return abs(p1 - p2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def agreement(args, sancsim, tmp):
    text = open(args.scenario).read()
    has_obs = "[[observe]]" in text.replace(" ", "")
    prior_toml = os.path.join(tmp, "prior.toml")
    with open(prior_toml, "w") as fh:
        fh.write(pl.strip_observe(text))
    n_s, n_np, n_sp = args.trials, args.trials, args.simpy_trials
    run(sancsim + ["run", prior_toml, "--out", os.path.join(tmp, "s_prior"), "--trials", str(n_s),
                   "--threads", "1", "--quiet"])
    s_prior = json.load(open(os.path.join(tmp, "s_prior", "summary.json")))
    s_post = None
    if has_obs:
        run(sancsim + ["run", args.scenario, "--out", os.path.join(tmp, "s_post"), "--trials", str(n_s),
                       "--threads", "1", "--quiet"])
        s_post = json.load(open(os.path.join(tmp, "s_post", "summary.json")))
    peers = {}
    for name, script, n in (("numpy", "numpy_seed.py", n_np), ("simpy", "simpy_seed.py", n_sp)):
        j, h = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".npz")
        print(f"running {name} on {n:,} trials ...", file=sys.stderr)
        run([sys.executable, os.path.join(HERE, script), args.scenario, "--trials", str(n),
             "--json", j, "--hist", h])
        res = json.load(open(j))
        peers[name] = (res, PeerHist(h, len(res["quarters"])))

    quarters = s_prior["quarters"]
    H = len(quarters)
    ok = True
    rows = []
    # milestones, prior
    for i, ms in enumerate(s_prior["milestones"]):
        row = {"milestone": ms["name"], "deadline": ms["deadline"], "kind": "prior",
               "sancsim": ms["probability"], "n_sancsim": n_s}
        for name, (res, _) in peers.items():
            pm = res["milestones"][i]
            assert pm["name"] == ms["name"]
            z = z_prop(ms["probability"], n_s, pm["probability"], res["trials"])
            row[name], row["z_" + name] = pm["probability"], z
            row["n_" + name] = res["trials"]
            ok = ok and z <= Z_P
        rows.append(row)
    # milestones, posterior
    if s_post is not None:
        for i, ms in enumerate(s_post["milestones"]):
            p_s = ms["posterior"]["probability"]
            row = {"milestone": ms["name"], "deadline": ms["deadline"], "kind": "posterior",
                   "sancsim": p_s, "n_sancsim": n_s,
                   "ess_sancsim": s_post["effective_sample_size"]}
            for name, (res, _) in peers.items():
                pm = res["milestones"][i]
                v = pm["posterior_variance"] * (1 + res["trials"] / n_s)
                z = abs(p_s - pm["posterior_probability"]) / math.sqrt(v) if v > 0 else 0.0
                row[name], row["z_" + name] = pm["posterior_probability"], z
                row["ess_" + name] = res["evidence"]["effective_sample_size"]
                ok = ok and z <= Z_P
            rows.append(row)

    # quarterly medians
    s_q = {(r["quarter"], r["metric"]): r for r in s_prior["quarterly"]}
    qrows = []
    for metric in pl.METRICS:
        for q, ql in enumerate(quarters):
            m = s_q[(ql, metric)]["p50"]
            row = {"metric": metric, "quarter": ql, "sancsim_p50": m}
            for name, (res, hist) in peers.items():
                lo, hi = hist.cdf_bounds(metric, q, m)
                s = math.sqrt(0.25 * (1 / n_s + 1 / hist.n))
                d = max(0.0, lo - 0.5, 0.5 - hi)
                row[name + "_p50"] = res["quarterly"][metric]["p50"][q]
                row["z_" + name] = float(d / s)
                ok = ok and d / s <= Z_Q
            qrows.append(row)

    # informational: training start, milestone by quarter, shocks
    info = {}
    for name, (res, _) in peers.items():
        zs = [z_prop(s_prior["training_start"]["started_by_quarter"][q]["probability"], n_s,
                     res["started_by_quarter"][q], res["trials"]) for q in range(H)]
        zm = [z_prop(ms["probability_by_quarter"][q], n_s,
                     res["milestones"][i]["probability_by_quarter"][q], res["trials"])
              for i, ms in enumerate(s_prior["milestones"]) for q in range(H)]
        zk = [z_prop(sh["probability"], n_s, res["shocks"][sh["name"]], res["trials"])
              for sh in s_prior["shocks"]]
        info[name] = {"max_z_started_by_quarter": max(zs), "max_z_milestone_by_quarter": max(zm),
                      "max_z_shock_probability": max(zk)}
    return ok, {"trials": {"sancsim": n_s, "numpy": n_np, "simpy": n_sp},
                "milestones": rows, "quarterly_p50": qrows, "informational": info,
                "tolerances": {"z_probability": Z_P, "z_median": Z_Q}}


def print_agreement(ok, a):
    t = a["trials"]
    print(f"\n### Agreement (sancsim {t['sancsim']:,} trials, numpy {t['numpy']:,}, SimPy {t['simpy']:,})\n")
    print(f"Milestone probability by its deadline; z = |difference| / its standard error; pass if z <= {Z_P}.\n")
    print("| milestone | deadline | | sancsim | numpy | z | SimPy | z |")
    print("|---|---|---|---|---|---|---|---|")
    for r in a["milestones"]:
        print(f"| {r['milestone']} | {r['deadline']} | {r['kind']} | {r['sancsim']:.4f} | {r['numpy']:.4f} | "
              f"{r['z_numpy']:.2f} | {r['simpy']:.4f} | {r['z_simpy']:.2f} |")
    print(f"\nQuarterly medians (prior): pass if z <= {Z_Q} (CDF test, see compare.py).\n")
    print("| metric | quarter | sancsim P50 | numpy P50 | z | SimPy P50 | z |")
    print("|---|---|---|---|---|---|---|")
    show = {"delivered_domestic_chips_cumulative", "training_flop_domestic_cumulative"}
    for r in a["quarterly_p50"]:
        if r["metric"] in show and (r["quarter"].endswith("Q4") or r["quarter"].endswith("Q2")):
            print(f"| {r['metric']} | {r['quarter']} | {r['sancsim_p50']:.3g} | {r['numpy_p50']:.3g} | "
                  f"{r['z_numpy']:.2f} | {r['simpy_p50']:.3g} | {r['z_simpy']:.2f} |")
    print("\nLargest z over all 16 quarters, per metric:\n")
    print("| metric | numpy max z | SimPy max z |")
    print("|---|---|---|")
    for metric in pl.METRICS:
        rs = [r for r in a["quarterly_p50"] if r["metric"] == metric]
        print(f"| {metric} | {max(r['z_numpy'] for r in rs):.2f} | {max(r['z_simpy'] for r in rs):.2f} |")
    print("\nNot gated, largest |z|:\n")
    print("| | numpy | SimPy |")
    print("|---|---|---|")
    for k in ("max_z_started_by_quarter", "max_z_milestone_by_quarter", "max_z_shock_probability"):
        print(f"| {k} | {a['informational']['numpy'][k]:.2f} | {a['informational']['simpy'][k]:.2f} |")
    print(f"\nAgreement: {'PASS' if ok else 'FAIL'}")


# --------------------------------------------------------------------------
# (b) speed
# --------------------------------------------------------------------------
def speed(args, sancsim, tmp):
    scenario = args.scenario
    if args.speed_without_observe:
        scenario = os.path.join(tmp, "speed_prior.toml")
        with open(scenario, "w") as fh:
            fh.write(pl.strip_observe(open(args.scenario).read()))
    runs = {"sancsim": [], "numpy": [], "simpy": []}
    order = ["sancsim", "numpy", "simpy"]
    for r in range(args.repeat):
        for name in order[r % 3:] + order[:r % 3]:
            if name == "sancsim":
                out = run(sancsim + ["bench", scenario, "--threads", "1", "--trials",
                                     str(args.speed_trials), "--repeat", "1"])
                row = [ln for ln in out.splitlines() if re.match(r"\|\s*1\s*\|", ln)][0]
                tps = float(row.split("|")[4].replace(",", ""))
                us = 1e6 / tps
            else:
                script, n = (("numpy_seed.py", args.speed_trials) if name == "numpy"
                             else ("simpy_seed.py", args.speed_simpy_trials))
                out = run([sys.executable, os.path.join(HERE, script), scenario, "--trials", str(n)])
                us = float(re.search(r"([0-9.]+) us/trial", out).group(1))
            runs[name].append(us)
            print(f"  repeat {r + 1}: {name} {us:.3f} us/trial", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"repeat": args.repeat, "without_observe": args.speed_without_observe,
            "trials": {"sancsim": args.speed_trials, "numpy": args.speed_trials, "simpy": args.speed_simpy_trials},
            "us_per_trial": runs, "median_us_per_trial": med,
            "ratio_numpy_to_sancsim": med["numpy"] / med["sancsim"],
            "ratio_simpy_to_sancsim": med["simpy"] / med["sancsim"]}


def print_speed(s):
    t = s["trials"]
    what = "the scenario without its [[observe]] tables" if s["without_observe"] else "the scenario as written"
    print(f"\n### Speed ({what}; one thread each, interleaved, median of {s['repeat']})\n")
    print("| implementation | trials per run | µs/trial (median) | range | trials/s | time vs sancsim |")
    print("|---|---|---|---|---|---|")
    for k in ("sancsim", "numpy", "simpy"):
        v, m = s["us_per_trial"][k], s["median_us_per_trial"][k]
        print(f"| {k} | {t[k]:,} | {m:.2f} | {min(v):.2f}–{max(v):.2f} | {1e6 / m:,.0f} | "
              f"{m / s['median_us_per_trial']['sancsim']:.2f}× |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sancsim", help="sancsim binary (default: $CARGO_TARGET_DIR/release/sancsim, "
                    "target/release/sancsim, else `cargo run --release`)")
    ap.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "seed_2024.toml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trials", type=int, default=200_000, help="agreement: sancsim and numpy trials")
    ap.add_argument("--simpy-trials", type=int, default=20_000, help="agreement: SimPy trials")
    ap.add_argument("--speed-trials", type=int, default=1_000_000, help="speed: sancsim and numpy trials")
    ap.add_argument("--speed-simpy-trials", type=int, default=20_000, help="speed: SimPy trials")
    ap.add_argument("--quick", action="store_true", help="small trial counts, one repeat (a smoke test)")
    ap.add_argument("--speed-without-observe", action="store_true",
                    help="time all three on a copy of the scenario without its [[observe]] tables")
    ap.add_argument("--no-agreement", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--json", help="write the results as JSON to this file")
    args = ap.parse_args()
    if args.quick:
        args.trials, args.simpy_trials = 20_000, 2_000
        args.speed_trials, args.speed_simpy_trials, args.repeat = 100_000, 1_000, 1
    args.scenario = os.path.abspath(args.scenario)
    sancsim = find_sancsim(args.sancsim)
    out = {"scenario": args.scenario, "sancsim": " ".join(sancsim),
           "numpy_version": np.__version__}
    try:
        import simpy
        out["simpy_version"] = simpy.__version__
    except ImportError:
        pass
    ok = True
    tmp = tempfile.mkdtemp(prefix="sancsim-peers-")
    try:
        if not args.no_agreement:
            ok, out["agreement"] = agreement(args, sancsim, tmp)
            ok = bool(ok)
            out["agreement"]["pass"] = ok
            print_agreement(ok, out["agreement"])
        if not args.no_speed:
            out["speed"] = speed(args, sancsim, tmp)
            print_speed(out["speed"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
