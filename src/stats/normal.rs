//! The standard normal quantile by Wichura's algorithm AS 241 (PPND16, Applied
//! Statistics 37, 1988): one rational approximation per range, accurate to about 1e-16,
//! cheaper than statrs' route through the inverse error function. The lognormal admin
//! delay draws one per approval request, so it sits on the simulation's hot path.

// The coefficients as Wichura published them, to about 17 significant digits.
#![allow(clippy::excessive_precision)]

/// Horner evaluation of a polynomial with coefficients from the highest power down.
fn horner(coefficients: &[f64], x: f64) -> f64 {
    coefficients.iter().fold(0.0, |acc, c| acc * x + c)
}

const CENTRAL_NUM: [f64; 8] = [
    2_509.080_928_730_122_7,
    33_430.575_583_588_128,
    67_265.770_927_008_700,
    45_921.953_931_549_871,
    13_731.693_765_509_461,
    1_971.590_950_306_551_4,
    133.141_667_891_784_38,
    3.387_132_872_796_366_6,
];
const CENTRAL_DEN: [f64; 8] = [
    5_226.495_278_852_545_9,
    28_729.085_735_721_943,
    39_307.895_800_092_711,
    21_213.794_301_586_596,
    5_394.196_021_424_751_1,
    687.187_007_492_057_91,
    42.313_330_701_600_911,
    1.0,
];
const NEAR_NUM: [f64; 8] = [
    7.745_450_142_783_414e-4,
    0.022_723_844_989_269_185,
    0.241_780_725_177_450_61,
    1.270_458_252_452_368_4,
    3.647_848_324_763_204_6,
    5.769_497_221_460_691_4,
    4.630_337_846_156_545_3,
    1.423_437_110_749_683_6,
];
const NEAR_DEN: [f64; 8] = [
    1.050_750_071_644_416_8e-9,
    5.475_938_084_995_345e-4,
    0.015_198_666_563_616_457,
    0.148_103_976_427_480_07,
    0.689_767_334_985_100_0,
    1.676_384_830_183_803_8,
    2.053_191_626_637_758_8,
    1.0,
];
const TAIL_NUM: [f64; 8] = [
    2.010_334_399_292_288_1e-7,
    2.711_555_568_743_487_6e-5,
    0.001_242_660_947_388_078_4,
    0.026_532_189_526_576_123,
    0.296_560_571_828_504_89,
    1.784_826_539_917_291_3,
    5.463_784_911_164_114_4,
    6.657_904_643_501_103_8,
];
const TAIL_DEN: [f64; 8] = [
    2.044_263_103_389_939_8e-15,
    1.421_511_758_316_445_9e-7,
    1.846_318_317_510_054_7e-5,
    7.868_691_311_456_132_6e-4,
    0.014_875_361_290_850_615,
    0.136_929_880_922_735_81,
    0.599_832_206_555_887_94,
    1.0,
];

/// The `p` quantile of the standard normal, for `p` in (0, 1) (infinite at 0 and 1).
pub(crate) fn standard_normal_quantile(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * horner(&CENTRAL_NUM, r) / horner(&CENTRAL_DEN, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    if tail <= 0.0 {
        return if q < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let r = (-libm::log(tail)).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        horner(&NEAR_NUM, r) / horner(&NEAR_DEN, r)
    } else {
        let r = r - 5.0;
        horner(&TAIL_NUM, r) / horner(&TAIL_DEN, r)
    };
    if q < 0.0 { -z } else { z }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ContinuousCDF, Normal};

    #[test]
    fn agrees_with_statrs_to_1e_9_across_the_range() {
        let normal = Normal::standard();
        let mut ps: Vec<f64> = (1..10_000).map(|i| f64::from(i) / 10_000.0).collect();
        // The tails, down to the smallest uniform the draws produce (2^-53).
        ps.extend((1..=53).flat_map(|k| {
            let p = 2f64.powi(-k);
            [p, 1.0 - p]
        }));
        ps.extend([0.425 + 0.5, 0.5 - 0.425, 0.075, 0.925]);
        for p in ps.into_iter().filter(|p| *p > 0.0 && *p < 1.0) {
            let (ours, theirs) = (standard_normal_quantile(p), normal.inverse_cdf(p));
            let tolerance = 1e-9 * theirs.abs().max(1.0);
            assert!(
                (ours - theirs).abs() <= tolerance,
                "p = {p}: {ours} vs {theirs}"
            );
        }
        assert_eq!(standard_normal_quantile(0.5), 0.0);
        assert_eq!(standard_normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(standard_normal_quantile(1.0), f64::INFINITY);
    }
}
