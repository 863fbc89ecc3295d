//! The distribution functions the reports and the model need, with the same bits on
//! every target.
//!
//! The live page runs this engine as WebAssembly, and its `report.json` must equal the
//! CLI's byte for byte. std's logarithm and exponential call the platform's math library
//! (glibc natively, a port of musl's on wasm32), which round some arguments differently
//! in the last bit; a Student-t critical value or a p-value computed through them differs
//! between the two builds. So the special functions come from `special` (Applied
//! Statistics algorithms AS 63, AS 109 and AS 239, built on the `libm` crate: the same
//! code on both targets), and `clippy.toml` keeps std's versions out of the crate.

use std::f64::consts::FRAC_1_SQRT_2;

use special::{Beta, Gamma};

use super::standard_normal_quantile;

/// `P(Z <= z)` for a standard normal `Z`.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z * FRAC_1_SQRT_2)
}

/// `P(|T| >= |t|)` for Student's t with `df` degrees of freedom: the two-sided p-value,
/// computed in the tail (not as one minus a CDF near one).
pub fn students_t_two_sided_p(t: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 || t.is_nan() {
        return f64::NAN;
    }
    let half = df / 2.0;
    (df / (df + t * t)).inc_beta(half, 0.5, half.ln_beta(0.5))
}

/// The `p` quantile of Student's t with `df` degrees of freedom (`NaN` outside
/// `0 < p < 1` or for `df` not positive; the normal quantile for infinite `df`).
pub fn students_t_quantile(p: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 || p.is_nan() || p <= 0.0 || p >= 1.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return standard_normal_quantile(p);
    }
    // With x = df / (df + t^2), P(|T| >= |t|) = I_x(df/2, 1/2): invert that for the
    // two-sided tail 2 min(p, 1 - p), on whichever side of the beta keeps its precision.
    let two_sided = 2.0 * p.min(1.0 - p);
    let half = df / 2.0;
    let magnitude = if two_sided <= 0.5 {
        let x = two_sided.inv_inc_beta(half, 0.5, half.ln_beta(0.5));
        (df * (1.0 - x) / x).sqrt()
    } else {
        // 1 - x by I_{1-x}(1/2, df/2) = 1 - two_sided, precise near t = 0.
        let y = (1.0 - two_sided).inv_inc_beta(0.5, half, 0.5f64.ln_beta(half));
        (df * y / (1.0 - y)).sqrt()
    };
    if p < 0.5 { -magnitude } else { magnitude }
}

/// `P(B <= k)` for `B ~ Binomial(n, p)`.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n || p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    // P(B <= k) = I_{1-p}(n - k, k + 1).
    let (a, b) = ((n - k) as f64, (k + 1) as f64);
    (1.0 - p).inc_beta(a, b, a.ln_beta(b))
}

/// The exact two-sided sign test's p-value for `a` pairs one way and `b` the other
/// (ties dropped): `min(1, 2 P(B <= min(a, b)))` with `B ~ Binomial(a + b, 1/2)`; 1 when
/// there are no pairs.
pub fn sign_test_p_value(a: u64, b: u64) -> f64 {
    let n = a.saturating_add(b);
    if n == 0 {
        return 1.0;
    }
    (2.0 * binomial_cdf(a.min(b), n, 0.5)).min(1.0)
}

/// `P(X <= x)` for `X ~ Gamma(shape, 1)`: the regularized lower incomplete gamma.
pub fn gamma_cdf(shape: f64, x: f64) -> f64 {
    if x <= 0.0 { 0.0 } else { x.inc_gamma(shape) }
}

/// The `u` quantile of `Gamma(shape, 1)`, for `0 < u < 1` and a positive shape.
///
/// `special` has the incomplete gamma but not its inverse, so this solves `P(x) = u` by
/// Newton's method from the Wilson-Hilferty start (or the small-`x` series `P(x) ~
/// x^a / Gamma(a + 1)` where that start fails), keeping a bracket that every step narrows
/// and bisecting whenever a Newton step would leave it.
pub fn gamma_quantile(shape: f64, u: f64) -> f64 {
    if u.is_nan() || u <= 0.0 {
        return 0.0;
    }
    if u >= 1.0 {
        return f64::INFINITY;
    }
    let ln_gamma = libm::lgamma(shape);
    let z = standard_normal_quantile(u);
    let c = 1.0 / (9.0 * shape);
    let cube = 1.0 - c + z * c.sqrt();
    let mut x = shape * cube * cube * cube;
    let small = libm::exp((libm::log(u) + ln_gamma + libm::log(shape)) / shape);
    if x.is_nan() || x <= 0.0 || (shape < 1.0 && small < x) {
        x = small;
    }
    let (mut lo, mut hi) = (0.0_f64, f64::INFINITY);
    for _ in 0..200 {
        let f = gamma_cdf(shape, x) - u;
        if f == 0.0 {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let density = libm::exp((shape - 1.0) * libm::log(x) - x - ln_gamma);
        let newton = x - f / density;
        let next = if newton > lo && newton < hi && newton.is_finite() {
            newton
        } else if hi.is_finite() {
            0.5 * (lo + hi)
        } else {
            2.0 * x
        };
        if (next - x).abs() <= 4.0 * f64::EPSILON * x {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Gamma as StatrsGamma};
    use statrs::distribution::{Normal, StudentsT};

    fn close(a: f64, b: f64, relative: f64) -> bool {
        (a - b).abs() <= relative * b.abs().max(1e-300)
    }

    // statrs (an independent implementation through std's math) is the oracle: the two
    // agree far below anything a report prints.

    #[test]
    fn the_t_quantile_agrees_with_statrs_across_degrees_of_freedom() {
        for df in [1.0, 1.5, 2.0, 3.0, 4.7, 7.0, 19.0, 99.0, 999.0, 12_345.6] {
            let oracle = StudentsT::new(0.0, 1.0, df).unwrap();
            for p in [0.001, 0.025, 0.05, 0.3, 0.5, 0.6, 0.9, 0.95, 0.975, 0.999] {
                let (ours, theirs) = (students_t_quantile(p, df), oracle.inverse_cdf(p));
                assert!(
                    (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                    "df {df}, p {p}: {ours} against {theirs}"
                );
            }
        }
    }

    #[test]
    fn the_t_quantile_has_the_textbook_values() {
        // Tables: t(0.975; 1) = 12.706205, t(0.975; 9) = 2.262157, t(0.975; 99) = 1.984217.
        assert!(close(students_t_quantile(0.975, 1.0), 12.706_204_736, 1e-9));
        assert!(close(students_t_quantile(0.975, 9.0), 2.262_157_163, 1e-9));
        assert!(close(students_t_quantile(0.975, 99.0), 1.984_216_952, 1e-9));
        assert_eq!(students_t_quantile(0.5, 5.0), 0.0);
        assert!(students_t_quantile(0.975, 0.0).is_nan());
        assert!(students_t_quantile(1.0, 5.0).is_nan());
        assert!(close(
            students_t_quantile(0.975, f64::INFINITY),
            1.959_963_985,
            1e-9
        ));
    }

    #[test]
    fn the_t_p_value_agrees_with_statrs_in_the_tails() {
        for df in [1.0, 2.5, 9.0, 60.0, 500.0] {
            let oracle = StudentsT::new(0.0, 1.0, df).unwrap();
            for t in [0.0, 0.1, 1.0, 2.0, 4.0, 10.0, -3.0] {
                let theirs = 2.0 * (1.0 - oracle.cdf(f64::abs(t)));
                let ours = students_t_two_sided_p(t, df);
                assert!(
                    (ours - theirs).abs() < 1e-12,
                    "df {df}, t {t}: {ours} against {theirs}"
                );
            }
        }
    }

    #[test]
    fn the_binomial_cdf_agrees_with_statrs() {
        for (n, p) in [
            (1, 0.5),
            (12, 0.5),
            (20, 0.5),
            (100, 0.05),
            (999, 0.5),
            (40, 0.95),
        ] {
            let oracle = Binomial::new(p, n).unwrap();
            for k in 0..=n {
                let (ours, theirs) = (binomial_cdf(k, n, p), oracle.cdf(k));
                assert!(
                    (ours - theirs).abs() < 1e-12,
                    "n {n}, p {p}, k {k}: {ours} against {theirs}"
                );
            }
        }
        // The sign test's exact values: 12 pairs all one way, 2^-11; 6 against 6, one.
        assert!(close(sign_test_p_value(12, 0), 0.5f64.powi(11), 1e-13));
        assert!(close(sign_test_p_value(0, 12), 0.5f64.powi(11), 1e-13));
        assert_eq!(sign_test_p_value(6, 6), 1.0);
        assert_eq!(sign_test_p_value(0, 0), 1.0);
    }

    #[test]
    fn the_gamma_quantile_inverts_the_cdf_and_agrees_with_statrs() {
        for shape in [0.05, 0.3, 0.7, 1.0, 2.5, 9.0, 150.0] {
            let oracle = StatrsGamma::new(shape, 1.0).unwrap();
            for u in [1e-9, 0.001, 0.1, 0.37, 0.5, 0.9, 0.999, 1.0 - 1e-12] {
                let x = gamma_quantile(shape, u);
                assert!(
                    close(gamma_cdf(shape, x), u, 1e-11),
                    "shape {shape}, u {u}: x {x}"
                );
                // statrs' own inverse stops at a floor of 2^-30 (for a shape 0.05 at
                // u = 0.001 the true quantile is about 1e-60): compare above it.
                let theirs = oracle.inverse_cdf(u);
                if (0.001..=0.999).contains(&u) && theirs > 1e-6 {
                    assert!(
                        close(x, theirs, 1e-8),
                        "shape {shape}, u {u}: {x} vs {theirs}"
                    );
                }
            }
        }
        // Exponential: Gamma(1) quantile is -ln(1 - u).
        assert!(close(gamma_quantile(1.0, 0.5), libm::log(2.0), 1e-14));
    }

    #[test]
    fn the_normal_cdf_has_the_tabled_values_and_agrees_with_statrs() {
        // Tabled to 16 digits: Phi(-8), Phi(-3), Phi(0.5).
        assert!(close(normal_cdf(-8.0), 6.220_960_574_271_785e-16, 1e-14));
        assert!(close(normal_cdf(-3.0), 1.349_898_031_630_094_6e-3, 1e-14));
        assert!(close(normal_cdf(0.5), 0.691_462_461_274_013_1, 1e-15));
        // statrs' error function is accurate to about 1e-10 relative, far below a report's
        // digits but not to the last bit.
        let oracle = Normal::new(0.0, 1.0).unwrap();
        for z in [-8.0, -3.0, -1.0, 0.0, 0.5, 2.0, 6.0] {
            assert!(close(normal_cdf(z), oracle.cdf(z), 1e-9), "z {z}");
        }
    }

    #[test]
    fn these_are_the_bits_the_webassembly_build_computes() {
        // The same calls in the wasm32 build of this crate (run under Node.js), bit for
        // bit: a dependency that drew std's logarithm back in (as `special`'s default
        // features once did) changes some of them natively.
        let native = [
            students_t_quantile(0.975, 1.0),
            students_t_quantile(0.975, 7.3),
            students_t_quantile(0.9, 250.0),
            binomial_cdf(3, 20, 0.5),
            sign_test_p_value(40, 61),
            gamma_quantile(2.5, 0.3),
            gamma_quantile(0.3, 0.77),
            students_t_two_sided_p(2.1, 9.0),
            normal_cdf(-1.3),
            gamma_cdf(4.0, 2.2),
        ];
        let wasm32: [u64; 10] = [
            4_623_342_575_419_149_599,
            4_612_463_039_640_455_000,
            4_608_465_706_252_637_193,
            4_563_584_583_735_443_423,
            4_586_796_470_401_093_881,
            4_609_434_011_747_068_530,
            4_600_612_732_778_865_649,
            4_589_356_687_421_666_934,
            4_591_639_630_684_109_537,
            4_595_676_535_220_953_251,
        ];
        for (i, (x, bits)) in native.iter().zip(wasm32).enumerate() {
            assert_eq!(
                x.to_bits(),
                bits,
                "value {i}: {x} natively, {} in wasm32",
                f64::from_bits(bits)
            );
        }
    }
}
