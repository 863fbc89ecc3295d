//! Order statistics of values held in several parts (say, the key vectors that the
//! chunks of one large replication filled), found without joining the parts: a join
//! copies every value into fresh memory, whose page faults alone made it the longest
//! serial step of a 16-million-instance replication.
//!
//! A radix select in three parallel passes: the least and greatest value; counts per
//! bucket (the high bits of a value's offset from the least); and the values of only
//! those buckets that hold a wanted rank, where a selection finishes. Each answer is a
//! value, so it depends neither on the order of the parts nor on how they were split.

use rayon::prelude::*;

/// At most 2^16 buckets (512 KiB of counts) for the counting pass.
const MAX_BUCKET_BITS: u32 = 16;

/// About this many values per bucket, so that small inputs need few buckets.
const VALUES_PER_BUCKET: usize = 16;

/// The values at 0-based `ranks` of the multiset union of `parts`, in the order the
/// ranks are given.
///
/// # Panics
///
/// If a rank is not below the number of values (a caller's error).
pub(crate) fn values_at_ranks(parts: &[&[u64]], ranks: &[usize]) -> Vec<u64> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    assert!(
        ranks.iter().all(|&r| r < total),
        "every rank must be below the {total} values"
    );
    if ranks.is_empty() {
        return Vec::new();
    }
    let (least, greatest) = parts
        .par_iter()
        .filter_map(|p| Some((*p.iter().min()?, *p.iter().max()?)))
        .reduce(
            || (u64::MAX, 0),
            |(l1, g1), (l2, g2)| (l1.min(l2), g1.max(g2)),
        );
    let bucket_bits = (total / VALUES_PER_BUCKET)
        .max(2)
        .ilog2()
        .min(MAX_BUCKET_BITS);
    // Offsets fit in `span_bits` bits; their top `bucket_bits` name the bucket.
    let span_bits = u64::BITS - (greatest - least).leading_zeros();
    let shift = span_bits.saturating_sub(bucket_bits);
    let bucket = |v: u64| ((v - least) >> shift) as usize;
    let buckets = 1usize << bucket_bits;
    let counts = parts
        .par_iter()
        .fold(
            || vec![0usize; buckets],
            |mut counts, part| {
                part.iter().for_each(|&v| counts[bucket(v)] += 1);
                counts
            },
        )
        .reduce(
            || vec![0usize; buckets],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    // `starts[b]`: values in buckets below `b`. A rank lies in the last bucket that
    // starts at or below it, which is never empty.
    let starts: Vec<usize> = counts
        .iter()
        .scan(0, |below, &c| {
            let start = *below;
            *below += c;
            Some(start)
        })
        .collect();
    let located: Vec<(usize, usize)> = ranks
        .iter()
        .map(|&r| {
            let b = starts.partition_point(|&s| s <= r) - 1;
            (b, r - starts[b])
        })
        .collect();
    let mut wanted: Vec<usize> = located.iter().map(|&(b, _)| b).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut gathered = parts
        .par_iter()
        .fold(
            || vec![Vec::new(); wanted.len()],
            |mut gathered: Vec<Vec<u64>>, part| {
                for &v in *part {
                    if let Ok(i) = wanted.binary_search(&bucket(v)) {
                        gathered[i].push(v);
                    }
                }
                gathered
            },
        )
        .reduce(
            || vec![Vec::new(); wanted.len()],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| x.extend(y));
                a
            },
        );
    located
        .iter()
        .map(|&(b, within)| {
            let values = &mut gathered[wanted.binary_search(&b).expect("a wanted bucket")];
            *values.select_nth_unstable(within).1
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any values, split into any parts, at any ranks: the values a full sort puts
        /// at those ranks.
        #[test]
        fn ranks_agree_with_a_sort_of_the_joined_parts(
            parts in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![0u64..50, proptest::num::u64::ANY, (1u64 << 40)..(1u64 << 40) + 3],
                    0..300,
                ),
                1..6,
            ),
            picks in proptest::collection::vec(proptest::num::usize::ANY, 0..8),
        ) {
            let mut joined: Vec<u64> = parts.concat();
            joined.sort_unstable();
            proptest::prop_assume!(!joined.is_empty());
            let ranks: Vec<usize> = picks.iter().map(|p| p % joined.len()).collect();
            let slices: Vec<&[u64]> = parts.iter().map(Vec::as_slice).collect();
            let expected: Vec<u64> = ranks.iter().map(|&r| joined[r]).collect();
            proptest::prop_assert_eq!(values_at_ranks(&slices, &ranks), expected);
        }
    }

    #[test]
    fn equal_values_and_extremes() {
        let same = vec![7u64; 1000];
        assert_eq!(values_at_ranks(&[&same, &same], &[0, 1999]), [7, 7]);
        let extremes = [0, u64::MAX, u64::MAX - 1, 1];
        assert_eq!(
            values_at_ranks(&[&extremes[..2], &[], &extremes[2..]], &[3, 0, 2, 1]),
            [u64::MAX, 0, u64::MAX - 1, 1]
        );
        assert!(values_at_ranks(&[&[]], &[]).is_empty());
    }
}
