//! Sortable sweep keys: a time in the high bits, then a small tag (the segment), then a
//! kind of change in the low bits, so that sorting keys orders changes by time.
//!
//! The tag's bit width bounds how many segments a scenario may have.

/// Bits of the kind of change.
pub(crate) const KIND_BITS: u32 = 3;
/// Bits of the tag.
pub(crate) const TAG_BITS: u32 = 8;
/// How many distinct tags (segments) a key can carry.
pub(crate) const MAX_TAGS: usize = 1 << TAG_BITS;

/// The key of a change of `kind` at `millis`, tagged `tag` (< [`MAX_TAGS`]).
pub(crate) fn key(millis: i64, tag: usize, kind: u64) -> u64 {
    ((millis as u64) << (KIND_BITS + TAG_BITS)) | ((tag as u64) << KIND_BITS) | kind
}

/// The time of a key, in milliseconds.
pub(crate) fn time(k: u64) -> i64 {
    (k >> (KIND_BITS + TAG_BITS)) as i64
}

/// The tag of a key.
pub(crate) fn tag(k: u64) -> usize {
    ((k >> KIND_BITS) & ((1 << TAG_BITS) - 1)) as usize
}

/// The kind of a key.
pub(crate) fn kind(k: u64) -> u64 {
    k & ((1 << KIND_BITS) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sort_by_time() {
        let a = key(1_000, MAX_TAGS - 1, 7);
        let b = key(1_001, 0, 0);
        assert_eq!((time(a), tag(a), kind(a)), (1_000, MAX_TAGS - 1, 7));
        assert!(a < b);
        // The longest duration a scenario may state still fits the time bits.
        assert_eq!(
            time(key(1_000_000_000_000_000, 3, 1)),
            1_000_000_000_000_000
        );
    }
}
