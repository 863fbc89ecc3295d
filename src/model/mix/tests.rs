//! Tests of the parent module.

use super::*;
use crate::stats::SKETCH_ERROR;

/// A plan of two releases (three versions) over `samples` samples.
fn empty(samples: usize, weighted: bool) -> MixOverReplications {
    let shape = Shape {
        samples,
        versions: 3,
        releases: 2,
        weighted,
        // Version v has adopted release k when v > k (`[k * versions + v]`).
        at_least: vec![false, true, true, false, false, true],
    };
    MixOverReplications {
        shape,
        state: MixState::Exact(Vec::new()),
    }
}

/// Replication `i`'s mix: 1,000 instances drifting to newer versions, with noise
/// from a fixed hash so that shares take many values.
fn mix(i: u64, samples: usize, weighted: bool) -> ReplicationMix {
    let mut counts = Vec::new();
    for j in 0..samples {
        let noise = (i
            .wrapping_mul(2_654_435_761)
            .wrapping_add(j as u64 * 40_503)
            % 97) as u32;
        let new = (j as u32 * 90 + noise).min(1000);
        let mid = (1000 - new) / 2;
        counts.extend([1000 - new - mid, mid, new]);
    }
    let weights = if weighted {
        counts.iter().map(|&c| i64::from(c) * 3).collect()
    } else {
        Vec::new()
    };
    ReplicationMix {
        index: i,
        counts,
        weights,
    }
}

#[test]
fn pooled_cells_agree_with_the_exact_ones() {
    let (samples, n) = (6, 900);
    let mut exact = empty(samples, true);
    exact.add((0..n).map(|i| mix(i, samples, true)).collect());
    assert!(exact.exact().is_some());
    let mut pooled = exact.clone();
    pooled.pool();
    assert!(pooled.exact().is_none());
    let (exact, pooled) = (exact.summarise(), pooled.summarise());
    for (e, p) in exact.versions.iter().zip(pooled.versions) {
        assert!((e.mean_share - p.mean_share).abs() < 1e-12);
        assert!((e.mean_weighted_share - p.mean_weighted_share).abs() < 1e-12);
        assert_eq!(
            (e.mean_instances, e.mean_installed),
            (p.mean_instances, p.mean_installed)
        );
        assert!((e.p5_share - p.p5_share).abs() <= SKETCH_ERROR);
        assert!((e.p95_share - p.p95_share).abs() <= SKETCH_ERROR);
    }
    for (e, p) in exact.adoption.concat().iter().zip(pooled.adoption.concat()) {
        assert!((e.mean - p.mean).abs() < 1e-12);
        assert_eq!(e.mean_behind, p.mean_behind);
        assert!((e.p5 - p.p5).abs() <= SKETCH_ERROR && (e.p95 - p.p95).abs() <= SKETCH_ERROR);
    }
}

#[test]
fn past_the_limit_the_pool_is_the_same_for_any_split_and_order() {
    let samples = 4;
    let all = || (0..1500).map(|i| mix(i, samples, false));
    let mut whole = empty(samples, false);
    whole.add(all().collect());
    assert!(whole.exact().is_none());
    assert_eq!(whole.replications(), 1500);
    for split in [1, 600, 1200] {
        let mut later = empty(samples, false);
        later.add(all().skip(split).collect());
        let mut first = empty(samples, false);
        first.add(all().take(split).collect());
        // Added the other way round, as shards may be.
        later.append(first);
        assert_eq!(later, whole, "split at {split}");
    }
}

#[test]
fn stored_mixes_of_another_shape_or_repeated_are_refused() {
    let mut m = empty(2, false);
    assert!(
        m.add_state(MixState::Exact(vec![mix(0, 3, false)]))
            .is_err()
    );
    assert!(m.add_state(MixState::Exact(vec![mix(0, 2, true)])).is_err());
    let mut negative = mix(1, 2, true);
    negative.weights[0] = -1;
    let mut w = empty(2, true);
    assert!(w.add_state(MixState::Exact(vec![negative])).is_err());
    m.add_state(MixState::Exact(vec![mix(0, 2, false)]))
        .unwrap();
    assert!(
        m.add_state(MixState::Exact(vec![mix(0, 2, false)]))
            .is_err()
    );
    let mut other = empty(3, false);
    other.add((0..1001).map(|i| mix(i, 3, false)).collect());
    let MixState::Pooled(p) = other.state else {
        panic!("past the limit the mix is pooled")
    };
    assert!(m.add_state(MixState::Pooled(p)).is_err());
}
