//! Correlated inputs and Latin hypercube sampling (docs/MODEL.md section 3,
//! "Correlations and sampling").
//!
//! Correlations are imposed by a Gaussian copula: a Spearman rank
//! correlation `ρ_s` becomes the normal copula's Pearson `ρ = 2 sin(π ρ_s / 6)`
//! (Kruskal 1958), the matrix of those is checked to be positive
//! semi-definite by its eigenvalues (cyclic Jacobi), optionally repaired by
//! clipping negative eigenvalues to 0 and rescaling to a unit diagonal, and
//! factored `P = L Lᵀ` (Cholesky, zero pivots allowed). Latin hypercube
//! permutations are Fisher–Yates shuffles of `0..LHS_BLOCK` drawn from a
//! stream addressed by the block index.

// Matrix code reads best with indices.
#![allow(clippy::needless_range_loop)]

use rand::Rng;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::rng::{TrialStreams, WHOLE_TRIAL, key_hash};

/// Trials per Latin hypercube block: block `b` is trials `b·256 .. b·256 + 255`.
pub const LHS_BLOCK: u64 = 256;

/// Smallest eigenvalue of a correlation matrix still taken as positive
/// semi-definite (rounding in the user's decimals and in `2 sin(π ρ_s / 6)`).
pub const PSD_TOLERANCE: f64 = 1e-10;

/// The normal copula's Pearson correlation for a Spearman rank correlation.
pub fn spearman_to_pearson(rs: f64) -> f64 {
    2.0 * (std::f64::consts::PI * rs / 6.0).sin()
}

/// The Spearman rank correlation of a normal copula with Pearson `rho`.
pub fn pearson_to_spearman(rho: f64) -> f64 {
    6.0 / std::f64::consts::PI * (rho / 2.0).clamp(-0.5, 0.5).asin()
}

/// Eigenvalues and eigenvectors (columns of the second result) of a
/// symmetric matrix by the cyclic Jacobi method, to machine precision.
pub fn symmetric_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut a: Vec<Vec<f64>> = a.to_vec();
    let mut v = vec![vec![0.0; n]; n];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let scale: f64 = (0..n).map(|i| a[i][i] * a[i][i]).sum::<f64>().max(1e-300);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

/// The smallest eigenvalue of a symmetric matrix.
pub fn min_eigenvalue(a: &[Vec<f64>]) -> f64 {
    symmetric_eigen(a).0.into_iter().fold(f64::INFINITY, f64::min)
}

/// A positive semi-definite correlation matrix near `a`: negative
/// eigenvalues clipped to 0 (`A' = V max(Λ, 0) Vᵀ`), then rescaled to a
/// unit diagonal (`D^{-1/2} A' D^{-1/2}`), which keeps it semi-definite.
pub fn nearest_correlation(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let (lambda, v) = symmetric_eigen(a);
    let mut b = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            b[i][j] = (0..n).map(|k| v[i][k] * lambda[k].max(0.0) * v[j][k]).sum();
        }
    }
    let d: Vec<f64> = (0..n).map(|i| b[i][i].max(1e-300).sqrt()).collect();
    for i in 0..n {
        for j in 0..n {
            b[i][j] = if i == j {
                1.0
            } else {
                (b[i][j] / (d[i] * d[j])).clamp(-1.0, 1.0)
            };
        }
    }
    b
}

/// The lower-triangular Cholesky factor `L` of a positive semi-definite
/// matrix (`A = L Lᵀ`): a pivot below `1e-12` (a singular direction, such
/// as a correlation of exactly ±1) is set to 0 with its column below it.
pub fn cholesky(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if d <= 1e-12 {
            continue;
        }
        let ljj = d.sqrt();
        l[j][j] = ljj;
        for i in j + 1..n {
            let s = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            l[i][j] = s / ljj;
        }
    }
    l
}

fn normal() -> Normal {
    Normal::standard()
}

/// `Φ⁻¹(p)`, the standard normal quantile.
pub fn normal_quantile(p: f64) -> f64 {
    normal().inverse_cdf(p)
}

/// `Φ(z)` kept inside `[2⁻⁵³, 1 − 2⁻⁵³]`, the range of [`crate::dist::unit_open`],
/// so that a quantile is never taken at 0 or 1.
pub fn normal_cdf_open(z: f64) -> f64 {
    const LO: f64 = 1.0 / (1u64 << 53) as f64;
    normal().cdf(z).clamp(LO, 1.0 - LO)
}

/// The Latin hypercube permutation `π_{b,k}` of block `block` for the
/// element keyed `key`: a Fisher–Yates shuffle of `0..256` drawn from the
/// stream of element `key_hash(key + "#lhs")` in "trial" `block`, slot
/// `WHOLE_TRIAL` (for `i` from 255 down to 1: `j = ((x >> 32)·(i + 1)) >> 32`
/// with `x` the next 64-bit output; swap `π[i]` and `π[j]`).
pub fn lhs_permutation(seed: u64, block: u64, key: &str, out: &mut [u8; LHS_BLOCK as usize]) {
    let mut rng = TrialStreams::new(seed, block).stream(lhs_key_hash(key), WHOLE_TRIAL);
    for (i, p) in out.iter_mut().enumerate() {
        *p = i as u8;
    }
    for i in (1..LHS_BLOCK as usize).rev() {
        let x = rng.next_u64();
        let j = (((x >> 32) * (i as u64 + 1)) >> 32) as usize;
        out.swap(i, j);
    }
}

/// Hash of the element key of an input's Latin hypercube permutations.
pub fn lhs_key_hash(key: &str) -> u64 {
    key_hash(&format!("{key}#lhs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kruskal_conversion_round_trips() {
        for rs in [-1.0, -0.5, 0.0, 0.3, 0.8, 1.0] {
            let p = spearman_to_pearson(rs);
            assert!((pearson_to_spearman(p) - rs).abs() < 1e-12);
        }
        assert!((spearman_to_pearson(1.0) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn jacobi_finds_eigenvalues() {
        let a = vec![vec![2.0, 1.0, 0.0], vec![1.0, 2.0, 1.0], vec![0.0, 1.0, 2.0]];
        let mut l = symmetric_eigen(&a).0;
        l.sort_by(f64::total_cmp);
        let s = 2f64.sqrt();
        for (x, want) in l.iter().zip([2.0 - s, 2.0, 2.0 + s]) {
            assert!((x - want).abs() < 1e-12, "{l:?}");
        }
    }

    #[test]
    fn nearest_correlation_is_psd_with_unit_diagonal() {
        let a = vec![vec![1.0, 0.9, 0.9], vec![0.9, 1.0, -0.9], vec![0.9, -0.9, 1.0]];
        assert!(min_eigenvalue(&a) < -0.5);
        let b = nearest_correlation(&a);
        assert!(min_eigenvalue(&b) > -PSD_TOLERANCE);
        for (i, row) in b.iter().enumerate() {
            assert_eq!(row[i], 1.0);
        }
        let l = cholesky(&b);
        for i in 0..3 {
            for j in 0..3 {
                let x: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((x - b[i][j]).abs() < 1e-9, "{i} {j}");
            }
        }
    }

    #[test]
    fn cholesky_of_a_singular_matrix() {
        let a = vec![vec![1.0, 1.0], vec![1.0, 1.0]];
        let l = cholesky(&a);
        assert_eq!(l, vec![vec![1.0, 0.0], vec![1.0, 0.0]]);
    }

    #[test]
    fn lhs_permutations_are_permutations_and_differ() {
        let mut a = [0u8; 256];
        let mut b = [0u8; 256];
        lhs_permutation(1, 0, "training.mfu", &mut a);
        lhs_permutation(1, 1, "training.mfu", &mut b);
        let mut seen = [false; 256];
        for &x in &a {
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_ne!(a, b);
    }
}
