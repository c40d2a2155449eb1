//! Suppliers, generations and tiers (docs/MODEL.md section 5, Suppliers):
//! the state a trial keeps for them and the supply step of `QuarterStart`.

use crate::model::limits::{DEFAULT_YIELD_TIME_CONSTANT, SUPPLY_CAP};
use crate::model::{Model, Per, UncertainId};

/// Which input bound a supplier's output in a quarter, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Packaging capacity.
    Packaging = 0,
    /// Logic dies (wafers × yield, and the die bank).
    Dies = 1,
    /// HBM stacks.
    Hbm = 2,
    /// No generation was being made.
    None = 3,
}

impl Binding {
    /// All, in output order.
    pub const ALL: [Binding; 4] = [Binding::Packaging, Binding::Dies, Binding::Hbm, Binding::None];
    /// Number of kinds.
    pub const COUNT: usize = 4;

    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Binding::Packaging => "packaging",
            Binding::Dies => "dies",
            Binding::Hbm => "hbm",
            Binding::None => "none",
        }
    }
}

/// The value of uncertain number `id` in quarter `q` from a trial's drawn
/// values (as `Workspace::value`).
#[inline]
pub(super) fn value_of(model: &Model, values: &[f64], offset: &[usize], id: UncertainId, q: u32) -> f64 {
    let off = offset[id];
    match model.uncertain[id].per {
        Per::Trial => values[off],
        Per::Quarter => values[off + q as usize],
    }
}

/// A trial's supplier state.
#[derive(Debug, Default)]
pub(super) struct SupplyState {
    /// Per supplier: die bank `B`, HBM stock `S`, growth factors `GW`, `GP`,
    /// the quarter domestic HBM starts `h`, this quarter's output `N`.
    pub bank: Vec<f64>,
    pub hbm: Vec<f64>,
    gw: Vec<f64>,
    gp: Vec<f64>,
    hbm_start: Vec<i64>,
    pub output: Vec<f64>,
    /// Per supplier: the binding input this quarter.
    pub binding: Vec<Binding>,
    /// Index of each supplier's first generation and first tier in the
    /// flattened per-generation and per-tier vectors.
    gen_offset: Vec<usize>,
    tier_offset: Vec<usize>,
    /// Per generation: its start `a`, learning quarters `Λ`, this quarter's
    /// share `s`, output `n` and yield `y` (0 before its start).
    pub start: Vec<i64>,
    learn: Vec<f64>,
    share: Vec<f64>,
    pub made: Vec<f64>,
    pub yields: Vec<f64>,
    /// Per generation: its binding input this quarter.
    bound: Vec<Binding>,
    /// Per supplier segment: generations from the newest to the oldest.
    newest_first: Vec<usize>,
    /// Per tier: demand growth factor `GT`, priority this quarter, share `φ`.
    gt: Vec<f64>,
    priority: Vec<u64>,
    pub phi: Vec<f64>,
    tier_order: Vec<usize>,
    /// Per supplier, tier and generation (`left_offset[s] + t * G + g`):
    /// the chips of that generation the tier still has for its lines this
    /// quarter, `φ × n` less what its lines took.
    left: Vec<f64>,
    left_offset: Vec<usize>,
}

impl SupplyState {
    pub fn new(model: &Model) -> SupplyState {
        let n = model.suppliers.len();
        let mut gen_offset = Vec::with_capacity(n + 1);
        let mut tier_offset = Vec::with_capacity(n + 1);
        let (mut g, mut t) = (0, 0);
        for s in &model.suppliers {
            gen_offset.push(g);
            tier_offset.push(t);
            g += s.generations.len();
            t += s.tiers.len();
        }
        gen_offset.push(g);
        tier_offset.push(t);
        let mut left_offset = Vec::with_capacity(n);
        let mut cells = 0;
        for s in &model.suppliers {
            left_offset.push(cells);
            cells += s.tiers.len() * s.generations.len();
        }
        SupplyState {
            left: vec![0.0; cells],
            left_offset,
            bank: vec![0.0; n],
            hbm: vec![0.0; n],
            gw: vec![1.0; n],
            gp: vec![1.0; n],
            hbm_start: vec![0; n],
            output: vec![0.0; n],
            binding: vec![Binding::None; n],
            gen_offset,
            tier_offset,
            start: vec![0; g],
            learn: vec![0.0; g],
            share: vec![0.0; g],
            made: vec![0.0; g],
            yields: vec![0.0; g],
            bound: vec![Binding::None; g],
            newest_first: vec![0; g],
            gt: vec![1.0; t],
            priority: vec![1; t],
            phi: vec![0.0; t],
            tier_order: vec![0; t],
        }
    }

    /// Index of supplier `s`'s generation `g` in the per-generation vectors.
    pub fn generation(&self, s: usize, g: usize) -> usize {
        self.gen_offset[s] + g
    }

    /// Trial start: stocks, growth factors, each generation's start (slip,
    /// then the delays of shocks that happen, `shock_start[s]` being the
    /// quarter shock `s` starts when it has an effect) and learning so far.
    pub fn start_trial(&mut self, model: &Model, values: &[f64], offset: &[usize], shock_start: &[Option<u32>]) {
        let v = |id: UncertainId, q: u32| value_of(model, values, offset, id, q);
        for (s, sup) in model.suppliers.iter().enumerate() {
            self.bank[s] = sup.die_bank.map_or(0.0, |id| v(id, 0));
            self.hbm[s] = sup.hbm_stock.map_or(0.0, |id| v(id, 0));
            self.gw[s] = 1.0;
            self.gp[s] = 1.0;
            self.output[s] = 0.0;
            self.binding[s] = Binding::None;
            if let Some(d) = &sup.hbm_domestic {
                self.hbm_start[s] = d.from + d.delay.map_or(0.0, |id| v(id, 0)).round() as i64;
            }
            for (g, generation) in sup.generations.iter().enumerate() {
                let i = self.gen_offset[s] + g;
                self.start[i] = generation.available + generation.slip.map_or(0.0, |id| v(id, 0)).round() as i64;
            }
            for (t, tier) in sup.tiers.iter().enumerate() {
                let i = self.tier_offset[s] + t;
                self.gt[i] = 1.0;
                self.priority[i] = tier.priority;
                self.phi[i] = 0.0;
            }
        }
        for (k, shock) in model.shocks.iter().enumerate() {
            let Some(q0) = shock_start[k] else { continue };
            for e in &shock.supplier_effects {
                if let Some((g, d)) = e.delay {
                    let i = self.gen_offset[e.supplier] + g;
                    if i64::from(q0) <= self.start[i] {
                        self.start[i] += v(d, q0).round() as i64;
                    }
                }
            }
        }
        for (s, sup) in model.suppliers.iter().enumerate() {
            let seg = self.gen_offset[s]..self.gen_offset[s + 1];
            for i in seg.clone() {
                self.learn[i] = (-self.start[i]).max(0) as f64;
                self.made[i] = 0.0;
                self.yields[i] = 0.0;
                self.share[i] = 0.0;
            }
            let order = &mut self.newest_first[seg.clone()];
            for (k, slot) in order.iter_mut().enumerate() {
                *slot = seg.start + k;
            }
            let start = &self.start;
            // Newest first: the largest start, the later in file order on a tie.
            order.sort_by(|&a, &b| (start[b], b).cmp(&(start[a], a)));
            debug_assert_eq!(order.len(), sup.generations.len());
        }
    }

    /// `QuarterStart(q)` step 5b for every supplier, in file order.
    pub fn step(
        &mut self,
        model: &Model,
        values: &[f64],
        offset: &[usize],
        shock_active: &[bool],
        shock_start: &[Option<u32>],
        q: u32,
    ) {
        let v = |id: UncertainId| value_of(model, values, offset, id, q);
        for (s, sup) in model.suppliers.iter().enumerate() {
            // The product of one multiplier over the active shocks' effects on this supplier.
            let m = |pick: fn(&crate::model::SupplierEffect) -> Option<UncertainId>| {
                let mut f = 1.0;
                for (k, shock) in model.shocks.iter().enumerate() {
                    if shock_active[k] {
                        for e in shock.supplier_effects.iter().filter(|e| e.supplier == s) {
                            if let Some(id) = pick(e) {
                                f *= v(id);
                            }
                        }
                    }
                }
                // Capped, so that many large multipliers stay finite and a
                // zero base stays zero.
                f.min(SUPPLY_CAP)
            };
            let tiers = self.tier_offset[s]..self.tier_offset[s + 1];
            // 1. Growth.
            if q > 0 {
                if let Some(g) = sup.wafer_growth {
                    self.gw[s] = (self.gw[s] * (1.0 + v(g))).min(SUPPLY_CAP);
                }
                if let Some(g) = sup.packaging_growth {
                    self.gp[s] = (self.gp[s] * (1.0 + v(g))).min(SUPPLY_CAP);
                }
                for (t, tier) in sup.tiers.iter().enumerate() {
                    if let Some(g) = tier.demand_growth {
                        let i = tiers.start + t;
                        self.gt[i] = (self.gt[i] * (1.0 + v(g))).min(SUPPLY_CAP);
                    }
                }
            }
            // 2. Stocks: seizures by shocks starting now, then imports and domestic HBM.
            for (k, shock) in model.shocks.iter().enumerate() {
                if shock_active[k] && shock_start[k] == Some(q) {
                    for e in shock.supplier_effects.iter().filter(|e| e.supplier == s) {
                        if let Some(id) = e.die_bank {
                            self.bank[s] = (self.bank[s] * v(id)).min(SUPPLY_CAP);
                        }
                        if let Some(id) = e.hbm_stock {
                            self.hbm[s] = (self.hbm[s] * v(id)).min(SUPPLY_CAP);
                        }
                    }
                }
            }
            if let Some(id) = sup.hbm_imports {
                self.hbm[s] += v(id) * m(|e| e.hbm_imports);
            }
            if let Some(d) = &sup.hbm_domestic {
                let h = self.hbm_start[s];
                if i64::from(q) >= h {
                    let ramp = ((i64::from(q) - h + 1) as f64 / d.ramp as f64).min(1.0);
                    self.hbm[s] += v(d.per_quarter) * ramp;
                }
            }
            self.hbm[s] = self.hbm[s].min(SUPPLY_CAP);
            // 3. Capacities.
            let wafers = (v(sup.wafer_starts) * self.gw[s] * m(|e| e.wafer_starts)).min(SUPPLY_CAP);
            let packaging = sup.packaging.map_or(f64::INFINITY, |id| {
                (v(id) * self.gp[s] * m(|e| e.packaging)).min(SUPPLY_CAP)
            });
            // 4. Shares, from the newest generation to the oldest.
            let gens = self.gen_offset[s]..self.gen_offset[s + 1];
            let mut rest = 1.0;
            for k in gens.clone() {
                let i = self.newest_first[k];
                let generation = &sup.generations[i - gens.start];
                let a = self.start[i];
                let w = if i64::from(q) < a {
                    0.0
                } else {
                    ((i64::from(q) - a + 1) as f64 / generation.ramp as f64).min(1.0)
                };
                let share = w * rest;
                self.share[i] = share;
                rest -= share;
            }
            // 5. Output of each generation, in file order.
            let learning = m(|e| e.yield_learning);
            let mut total = 0.0;
            let mut by_input = [0.0; 3];
            for (g, generation) in sup.generations.iter().enumerate() {
                let i = gens.start + g;
                let started = i64::from(q) >= self.start[i];
                let y = if started {
                    let y0 = v(generation.yield_initial);
                    let ymax = generation.yield_max.map_or(y0, v);
                    let tau = generation.yield_time_constant.map_or(DEFAULT_YIELD_TIME_CONSTANT, v);
                    // exp(-Λ/τ) is 1 before any learning and 0 for τ = 0
                    // (a draw clamped to the closed range) after it.
                    let left = if self.learn[i] <= 0.0 {
                        1.0
                    } else if tau <= 0.0 {
                        0.0
                    } else {
                        (-self.learn[i] / tau).exp()
                    };
                    (ymax - (ymax - y0) * left).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                self.yields[i] = y;
                let share = self.share[i];
                let mut n = 0.0;
                if share > 0.0 {
                    let bank = if generation.die_bank { self.bank[s] } else { 0.0 };
                    let dies = wafers * share * generation.dies_per_wafer * y + bank;
                    let by_packaging = packaging * share;
                    let by_dies = dies / generation.dies_per_package as f64;
                    let by_hbm = if generation.hbm_stacks_per_package == 0 {
                        f64::INFINITY
                    } else {
                        self.hbm[s] / generation.hbm_stacks_per_package as f64
                    };
                    let (least, bound) = if by_packaging <= by_dies && by_packaging <= by_hbm {
                        (by_packaging, Binding::Packaging)
                    } else if by_dies <= by_hbm {
                        (by_dies, Binding::Dies)
                    } else {
                        (by_hbm, Binding::Hbm)
                    };
                    n = least.floor().max(0.0);
                    self.bound[i] = bound;
                    by_input[bound as usize] += share;
                    let used = n * generation.dies_per_package as f64;
                    if generation.die_bank {
                        self.bank[s] -= self.bank[s].min(used);
                    }
                    self.hbm[s] = (self.hbm[s] - n * generation.hbm_stacks_per_package as f64).max(0.0);
                } else {
                    self.bound[i] = Binding::None;
                }
                self.made[i] = n;
                total += n;
                if started {
                    self.learn[i] += learning;
                }
            }
            // 6. Output and binding input.
            self.output[s] = total;
            self.binding[s] = if by_input.iter().all(|&x| x == 0.0) {
                Binding::None
            } else {
                let mut best = Binding::Packaging;
                for b in [Binding::Dies, Binding::Hbm] {
                    if by_input[b as usize] > by_input[best as usize] {
                        best = b;
                    }
                }
                best
            };
            // 7. Tiers in priority order.
            for t in tiers.clone() {
                self.priority[t] = sup.tiers[t - tiers.start].priority;
            }
            for (k, shock) in model.shocks.iter().enumerate() {
                if shock_active[k] {
                    for e in shock.supplier_effects.iter().filter(|e| e.supplier == s) {
                        if let Some((t, p)) = e.tier_priority {
                            self.priority[tiers.start + t] = p;
                        }
                    }
                }
            }
            let order = &mut self.tier_order[tiers.clone()];
            for (k, slot) in order.iter_mut().enumerate() {
                *slot = tiers.start + k;
            }
            let priority = &self.priority;
            order.sort_by_key(|&t| (priority[t], t));
            let mut left = total;
            for k in tiers.clone() {
                let t = self.tier_order[k];
                let tier = &sup.tiers[t - tiers.start];
                let take = match tier.demand {
                    Some(id) => left.min(v(id) * self.gt[t]),
                    None => left,
                };
                left -= take;
                self.phi[t] = if total > 0.0 { take / total } else { 0.0 };
            }
            // What each tier has of each generation for its lines.
            let g_count = sup.generations.len();
            for (k, t) in tiers.clone().enumerate() {
                for g in 0..g_count {
                    self.left[self.left_offset[s] + k * g_count + g] = self.phi[t] * self.made[gens.start + g];
                }
            }
        }
    }
}

impl SupplyState {
    /// A line of supplier `s`'s tier `t` (index within the supplier) with
    /// share `share` of it may take chips of generation `g` (index within
    /// the supplier): `min(ordered, floor(share × φ × n), floor(left))`,
    /// where `left` is what the tier's earlier lines this quarter left of its
    /// `φ × n` (docs/MODEL.md section 5, Suppliers, step 6).
    pub fn available(&self, s: usize, t: usize, g: usize, share: f64, ordered: u64) -> u64 {
        let cell = self.cell(s, t, g);
        let made = self.made[self.gen_offset[s] + g];
        let phi = self.phi[self.tier_offset[s] + t];
        let want = (share.clamp(0.0, 1.0) * phi * made)
            .floor()
            .min(self.left[cell].floor())
            .max(0.0);
        if want >= ordered as f64 { ordered } else { want as u64 }
    }

    /// The line took `k` chips of generation `g` from its tier's part.
    pub fn spend(&mut self, s: usize, t: usize, g: usize, k: u64) {
        let cell = self.cell(s, t, g);
        self.left[cell] -= k as f64;
    }

    fn cell(&self, s: usize, t: usize, g: usize) -> usize {
        let g_count = self.gen_offset[s + 1] - self.gen_offset[s];
        self.left_offset[s] + t * g_count + g
    }

    /// Supplier `s`'s generations (indices into the per-generation vectors)
    /// from the newest to the oldest.
    pub fn newest_first(&self, s: usize) -> &[usize] {
        &self.newest_first[self.gen_offset[s]..self.gen_offset[s + 1]]
    }
}
