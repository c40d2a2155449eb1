//! An exact binomial sampler, faster than rand_distr's for the engine's use
//! (deliveries of tens of thousands of chips, failures of a fraction of a
//! percent): its set-up is a few arithmetic operations, so it needs no
//! precomputed distribution object.
//!
//! * `n·min(p, 1-p) < 10`: inversion by geometric waiting times (Devroye,
//!   *Non-Uniform Random Variate Generation*, 1986, X.4.3): count how many
//!   geometric gaps fit in `n` trials; about `np + 1` uniforms.
//! * otherwise: BTRS, transformed rejection with squeeze (W. Hörmann, "The
//!   generation of binomial random variates", J. Statist. Comput. Simul. 46,
//!   1993), as in TensorFlow's `random_binomial_op`; about 1.15 pairs of
//!   uniforms per draw, logarithms only outside the squeeze.
//!
//! Both are exact (no approximation); the tests compare the samples with the
//! binomial probability mass function by a chi-square test.

use rand::Rng;

use crate::dist::unit_open;

/// `ln k! - [(k + ½) ln(k + 1) - (k + 1) + ½ ln 2π]` for k = 0..9; larger k
/// use the Stirling series.
const STIRLING_TAIL: [f64; 10] = [
    0.081_061_466_795_327_2,
    0.041_340_695_955_409_2,
    0.027_677_925_684_998_3,
    0.020_790_672_103_765_09,
    0.016_644_691_189_821_1,
    0.013_876_128_823_070_7,
    0.011_896_709_945_891_7,
    0.010_411_265_261_972_0,
    0.009_255_462_182_712_73,
    0.008_330_563_433_362_87,
];

fn stirling_tail(k: f64) -> f64 {
    if k <= 9.0 {
        STIRLING_TAIL[k as usize]
    } else {
        let kp1sq = (k + 1.0) * (k + 1.0);
        (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / kp1sq) / kp1sq) / (k + 1.0)
    }
}

/// One draw from Binomial(n, p). `p` outside (0, 1) gives 0 or n.
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let nf = n as f64;
    if nf * p < 10.0 {
        inversion(rng, nf, p)
    } else {
        btrs(rng, nf, p)
    }
}

fn inversion<R: Rng + ?Sized>(rng: &mut R, n: f64, p: f64) -> u64 {
    let log_q = (-p).ln_1p();
    let mut sum = 0.0;
    let mut count = 0;
    loop {
        // ceil of a positive number, without a libm call.
        let gap = unit_open(rng).ln() / log_q;
        let whole = gap as i64 as f64;
        sum += if whole < gap { whole + 1.0 } else { whole };
        if sum > n {
            return count;
        }
        count += 1;
    }
}

fn btrs<R: Rng + ?Sized>(rng: &mut R, n: f64, p: f64) -> u64 {
    let q = 1.0 - p;
    let spq = (n * p * q).sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = n * p + 0.5;
    let v_r = 0.92 - 4.2 / b;
    let r = p / q;
    let alpha = (2.83 + 5.1 / b) * spq;
    let m = ((n + 1.0) * p) as i64 as f64; // floor of a positive number (< 2^63)
    let mut mode_terms = None;
    loop {
        let u = unit_open(rng) - 0.5;
        let v = unit_open(rng);
        let us = 0.5 - u.abs();
        let t = (2.0 * a / us + b) * u + c;
        if t < 0.0 {
            continue;
        }
        let k = t as i64 as f64; // floor, as 0 <= t < 2^63
        if k > n {
            continue;
        }
        if us >= 0.07 && v <= v_r {
            return k as i64 as u64;
        }
        let v = (v * alpha / (a / (us * us) + b)).ln();
        // The terms in m alone, computed once and only when a draw gets this
        // far (most are accepted by the squeeze above); the sum below adds
        // the same terms in the same order as the formula.
        let (mode_term, tail_m, tail_n_m) = *mode_terms.get_or_insert_with(|| mode_terms_of(n, m, r));
        let bound = mode_term
            + (n + 1.0) * ((n - m + 1.0) / (n - k + 1.0)).ln()
            + (k + 0.5) * (r * (n - k + 1.0) / (k + 1.0)).ln()
            + tail_m
            + tail_n_m
            - stirling_tail(k)
            - stirling_tail(n - k);
        if v <= bound {
            return k as i64 as u64;
        }
    }
}

/// The terms of BTRS's acceptance bound that depend on the mode `m` only:
/// `(m + ½)·ln((m + 1)/(r(n − m + 1)))`, `stirling_tail(m)`,
/// `stirling_tail(n − m)`. Not inlined, so that the compiler cannot compute
/// them (a logarithm and six divisions) ahead of the squeeze for every draw.
#[inline(never)]
fn mode_terms_of(n: f64, m: f64, r: f64) -> (f64, f64, f64) {
    (
        (m + 0.5) * ((m + 1.0) / (r * (n - m + 1.0))).ln(),
        stirling_tail(m),
        stirling_tail(n - m),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use statrs::distribution::{Binomial as Exact, ChiSquared, ContinuousCDF, Discrete};
    use statrs::function::factorial::ln_factorial;

    #[test]
    fn stirling_table_matches_log_factorials() {
        for k in 0..10u64 {
            let kf = k as f64;
            let direct =
                ln_factorial(k) - ((kf + 0.5) * (kf + 1.0).ln() - (kf + 1.0) + 0.5 * (2.0 * std::f64::consts::PI).ln());
            assert!((direct - STIRLING_TAIL[k as usize]).abs() < 1e-12, "k={k}");
            // The series agrees with the table where they meet.
        }
        assert!(
            (stirling_tail(10.0)
                - (ln_factorial(10) - (10.5 * 11f64.ln() - 11.0 + 0.5 * (2.0 * std::f64::consts::PI).ln())))
            .abs()
                < 1e-10
        );
    }

    /// Chi-square goodness of fit against the exact pmf, cells pooled so each
    /// expects at least 20 draws. Fixed seed, so deterministic; the threshold
    /// is the 1 - 1e-6 quantile, so a correct sampler would fail it with any
    /// seed less than once in a million.
    fn chi_square(n: u64, p: f64) {
        let draws = 200_000;
        let mut rng = stream(99, n, p.to_bits());
        let mut counts = vec![0u64; n as usize + 1];
        let mut sum = 0.0;
        for _ in 0..draws {
            let k = binomial(&mut rng, n, p);
            assert!(k <= n);
            counts[k as usize] += 1;
            sum += k as f64;
        }
        let exact = Exact::new(p, n).unwrap();
        let (mut stat, mut cells) = (0.0, 0);
        let (mut obs, mut exp) = (0.0, 0.0);
        for (k, &c) in counts.iter().enumerate() {
            obs += c as f64;
            exp += exact.pmf(k as u64) * draws as f64;
            if exp >= 20.0 {
                stat += (obs - exp).powi(2) / exp;
                cells += 1;
                obs = 0.0;
                exp = 0.0;
            }
        }
        if exp > 0.0 || obs > 0.0 {
            stat += (obs - exp).powi(2) / exp.max(1e-9);
            cells += 1;
        }
        let limit = ChiSquared::new((cells - 1) as f64).unwrap().inverse_cdf(1.0 - 1e-6);
        assert!(
            stat < limit,
            "Binomial({n}, {p}): chi2 {stat} over {cells} cells, limit {limit}"
        );
        let mean = sum / draws as f64;
        let se = (n as f64 * p * (1.0 - p) / draws as f64).sqrt();
        assert!(
            (mean - n as f64 * p).abs() < 5.0 * se + 1e-9,
            "Binomial({n}, {p}): mean {mean}"
        );
    }

    #[test]
    fn inversion_region_matches_the_pmf() {
        chi_square(10, 0.3);
        chi_square(1000, 0.005);
        chi_square(30, 0.2);
    }

    #[test]
    fn btrs_region_matches_the_pmf() {
        chi_square(100, 0.1);
        chi_square(25_000, 0.35);
        chi_square(100_000, 0.007);
        chi_square(40, 0.5);
        chi_square(2_000, 0.9);
    }

    #[test]
    fn edges() {
        let mut rng = stream(1, 2, 3);
        assert_eq!(binomial(&mut rng, 0, 0.5), 0);
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
        assert_eq!(binomial(&mut rng, 10, f64::NAN), 0);
    }
}
