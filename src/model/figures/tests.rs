//! Tests of the parent module.

use super::*;

fn k(hours: i64, kind: u64) -> u64 {
    crate::model::tally::key(SimTime::from_millis(hours * 3_600_000), 0, kind)
}

/// The figures of `keys` (in one part, and split in two, which must agree).
fn measure_hours(keys: &mut [u64], active: u64, old: u64, drop: Option<i64>) -> ReleaseFigures {
    let m = Measure {
        deployed: SimTime::from_millis(10 * 3_600_000),
        published: SimTime::from_millis(12 * 3_600_000),
        drop_support_at: drop.map(|h| SimTime::from_millis(h * 3_600_000)),
        horizon: SimTime::from_millis(100 * 3_600_000),
        thresholds: &[0.5, 1.0],
        tolerance: Tolerance::Share(0.0),
        weights: &[],
    };
    let whole = measure(&m, &mut [keys.to_vec()], &[active], &[old]);
    let (first, second) = keys.split_at(keys.len() / 2);
    let split = measure(
        &m,
        &mut [first.to_vec(), second.to_vec()],
        &[active],
        &[old],
    );
    assert_eq!(whole, split);
    whole
}

#[test]
fn first_crossings_after_the_deploy() {
    // 4 instances, all old; they reach at 20h, 30h, 40h; the fourth never does.
    let mut keys = vec![
        k(40, change::REACH),
        k(20, change::REACH),
        k(30, change::REACH),
    ];
    let f = measure_hours(&mut keys, 4, 4, Some(35));
    assert_eq!(f.published_after, Some(SimDuration::from_hours(2)));
    assert_eq!(f.time_to_share[0], Some(SimDuration::from_hours(20))); // 2/4 at 30h
    assert_eq!(f.time_to_share[1], None);
    assert_eq!(f.coexistence, None);
    assert_eq!(f.left_behind, Some(2)); // at 35h: two still old
    assert_eq!((f.left_over, f.active_at_horizon), (1, 4)); // at 100h: one
    assert_eq!(f.get(Figure::LeftOverShare), Some(0.25));
}

#[test]
fn figure_names_round_trip_including_the_left_over_ones() {
    for name in [
        "coexistence@0",
        "share:0.5@1",
        "published@1",
        "left_behind@0",
        "left_over@1",
        "left_over_share@0",
    ] {
        let f = FigureRef::parse(name, &[0.5, 1.0], 2).unwrap();
        assert_eq!(f.name(&[0.5, 1.0]), name);
    }
    assert_eq!(
        FigureRef::parse("left_over", &[0.5], 3).unwrap(),
        FigureRef {
            release: 2,
            figure: Figure::LeftOver
        }
    );
    assert_eq!(
        FigureRef::parse("left_overs", &[0.5], 1).unwrap_err().kind,
        FigureProblem::Unknown
    );
}

#[test]
fn uninstalling_the_last_old_instance_ends_coexistence() {
    let mut keys = vec![k(20, change::REACH), k(25, change::UNINSTALL_OLD)];
    let f = measure_hours(&mut keys, 2, 2, None);
    assert_eq!(f.coexistence, Some(SimDuration::from_hours(15)));
    assert_eq!(f.time_to_share[1], Some(SimDuration::from_hours(15)));
    assert_eq!(f.left_behind, None);
    assert_eq!((f.left_over, f.active_at_horizon), (0, 1));
}

#[test]
fn new_old_installs_can_reopen_the_gap() {
    // One instance reaches at 20h; an old-version install arrives at 22h and reaches at 50h.
    let mut keys = vec![
        k(20, change::REACH),
        k(22, change::INSTALL_OLD),
        k(50, change::REACH),
    ];
    let f = measure_hours(&mut keys, 1, 1, Some(30));
    assert_eq!(f.coexistence, Some(SimDuration::from_hours(10)));
    assert_eq!(f.left_behind, Some(1));
    assert_eq!((f.left_over, f.active_at_horizon), (0, 2));
}

#[test]
fn state_at_the_deploy_counts() {
    // Nothing old at the deploy: every figure is zero.
    let mut keys = vec![];
    let f = measure_hours(&mut keys, 3, 0, None);
    assert_eq!(f.coexistence, Some(SimDuration::ZERO));
    assert!(
        f.time_to_share
            .iter()
            .all(|t| *t == Some(SimDuration::ZERO))
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Selection by rank (in one part or across several) and the sweep agree
    /// whenever the fast path applies: any reach times (before, at and after the
    /// deploy, ties included), any counts, thresholds, tolerance and drop date.
    #[test]
    fn selection_by_rank_agrees_with_the_sweep(
        hours in proptest::collection::vec(0i64..60, 0..40),
        cuts in proptest::collection::vec(0usize..40, 0..4),
        new_at_start in 0u64..5,
        extra_old in 0u64..5,
        thresholds in proptest::collection::vec(0.0f64..=1.0, 1..4),
        tolerance in 0.0f64..0.3,
        drop in proptest::option::of(0i64..120),
    ) {
        let old = hours.len() as u64 + extra_old;
        let active = old + new_at_start;
        let m = Measure {
            deployed: SimTime::from_millis(10 * 3_600_000),
            published: SimTime::from_millis(12 * 3_600_000),
            drop_support_at: drop.map(|h| SimTime::from_millis(h * 3_600_000)),
            horizon: SimTime::from_millis(100 * 3_600_000),
            thresholds: &thresholds,
            tolerance: Tolerance::Share(tolerance),
            weights: &[],
        };
        let keys: Vec<u64> = hours.iter().map(|&h| k(h, change::REACH)).collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(keys.len())).collect();
        cuts.sort_unstable();
        let mut parts: Vec<Vec<u64>> = std::iter::once(0)
            .chain(cuts.iter().copied())
            .zip(cuts.iter().copied().chain([keys.len()]))
            .map(|(a, b)| keys[a..b].to_vec())
            .collect();
        let by_rank = measure_by_rank(&m, &mut [keys.clone()], active as i64, old as i64);
        let by_rank_in_parts = measure_by_rank(&m, &mut parts, active as i64, old as i64);
        let by_sweep = measure_by_sweep(&m, &mut keys.clone(), &[active], &[old]);
        proptest::prop_assert_eq!(&by_rank, &by_sweep);
        proptest::prop_assert_eq!(by_rank_in_parts, by_sweep);
    }
}
