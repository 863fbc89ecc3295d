//! Reproducible random draws.
//!
//! Every draw is addressed by `(seed, replication, purpose, slot, index)`: the `ChaCha8` key
//! comes from `(seed, purpose)`, the `ChaCha` stream is the replication, and each slot (an
//! instance, or a release for replication-wide draws) owns a fixed run of words in that
//! stream. A draw therefore never depends on the order in which instances are simulated,
//! on the thread count, on how instances are split into chunks or shards, or on how many
//! draws other instances used. Two scenarios that differ only in policy read the same
//! words for the same instance (common random numbers), and because every distribution is
//! sampled by inverse transform from one uniform, a changed parameter moves each draw
//! monotonically instead of reshuffling it.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// What a stream of draws is for. Each purpose has its own `ChaCha` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// An instance's segment, time zone, poll phase and churn draws.
    InstanceAttributes,
    /// Replication-wide Marketplace draws: slot 0 is the descriptor-poll phase, slot
    /// `k + 1` the detection and review delays of release `k`.
    Publication,
    /// Per instance, for release `k`: maintenance-slip coin and Forge propagation delay.
    Delivery(u32),
    /// Per instance, for its `n`-th approval request: outcome and response delay.
    Admin(u32),
    /// Per instance, for its `n`-th approval request: the responses to reminders, read
    /// only when the admin ignores the notice and the profile sends reminders.
    Reminders(u32),
    /// Per new install (churn): the gap before it, then its attributes.
    Arrival,
}

impl Purpose {
    fn code(self) -> u64 {
        match self {
            Purpose::InstanceAttributes => 1,
            Purpose::Publication => 2,
            Purpose::Arrival => 3,
            Purpose::Delivery(k) => (1 << 32) | u64::from(k),
            Purpose::Admin(k) => (2 << 32) | u64::from(k),
            Purpose::Reminders(k) => (3 << 32) | u64::from(k),
        }
    }

    /// How many 64-bit words each slot of this purpose owns: as many as its draws, so
    /// that the `ChaCha` output generated per instance is the output it uses.
    pub(crate) fn slot_len(self) -> usize {
        match self {
            Purpose::InstanceAttributes => 4,
            Purpose::Delivery(_) => 2,
            Purpose::Admin(_) => admin_slot::WORDS,
            Purpose::Reminders(_) => reminder_slot::WORDS,
            Purpose::Publication | Purpose::Arrival => 8,
        }
    }
}

/// The layout of an admin's slot (one per approval request): which uniform decides what.
pub(crate) mod admin_slot {
    /// Words in an admin slot.
    pub(crate) const WORDS: usize = 2;
    /// Approve, reject or ignore.
    pub(crate) const OUTCOME: usize = 0;
    /// The response delay of an admin who acts on the notice.
    pub(crate) const DELAY: usize = 1;
}

/// The layout of a reminder slot (one per approval request, beside the admin slot). The
/// number of reminders a profile may have follows from it.
pub(crate) mod reminder_slot {
    /// As many reminders as the slot has word pairs.
    pub(crate) const MAX_REMINDERS: usize = 7;
    /// Words in a reminder slot.
    pub(crate) const WORDS: usize = 2 * MAX_REMINDERS;
    /// Reminder `j`: whether the admin responds to it.
    pub(crate) const fn respond(j: usize) -> usize {
        2 * j
    }
    /// Reminder `j`: the response delay.
    pub(crate) const fn delay(j: usize) -> usize {
        2 * j + 1
    }
}

/// `SplitMix64`: expands one seed word into well-mixed key material.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn key(seed: u64, purpose: Purpose) -> [u8; 32] {
    let mut state = seed ^ splitmix64(&mut purpose.code().clone());
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    key
}

/// A reader of one (seed, replication, purpose) stream, slot by slot.
///
/// Reading slots in increasing order is sequential `ChaCha` output (cheap); a jump
/// repositions the generator (a little dearer), so callers should visit slots in order.
pub(crate) struct DrawStream {
    rng: ChaCha8Rng,
    /// 64-bit words per slot.
    slot_words: usize,
    next_slot: u64,
    /// The current slot's words, as `next_u64` gives them.
    current: [u64; MAX_SLOT_WORDS],
}

/// The longest slot: a reminder slot's 14 words.
const MAX_SLOT_WORDS: usize = reminder_slot::WORDS;

/// How many words ahead reading through is cheaper than repositioning the generator,
/// which regenerates a whole buffer of 32 words.
const READ_THROUGH_WORDS: u64 = 32;

impl DrawStream {
    /// Positions the stream of `purpose` for replication `replication` of a run seeded `seed`.
    pub(crate) fn new(seed: u64, replication: u64, purpose: Purpose) -> Self {
        let mut rng = ChaCha8Rng::from_seed(key(seed, purpose));
        rng.set_stream(replication);
        DrawStream {
            rng,
            slot_words: purpose.slot_len(),
            next_slot: 0,
            current: [0; MAX_SLOT_WORDS],
        }
    }

    /// The uniforms of `slot`. The same slot always yields the same values.
    pub(crate) fn slot(&mut self, slot: u64) -> Slot<'_> {
        let words = self.slot_words;
        let skipped = slot
            .checked_sub(self.next_slot)
            .map(|gap| gap.saturating_mul(words as u64));
        match skipped {
            Some(skipped) if skipped <= READ_THROUGH_WORDS => {
                for _ in 0..skipped {
                    self.rng.next_u64();
                }
            }
            // A slot of `n` 64-bit words starts at 32-bit word `2 n slot`.
            _ => self.rng.set_word_pos(u128::from(slot) * words as u128 * 2),
        }
        for word in &mut self.current[..words] {
            *word = self.rng.next_u64();
        }
        self.next_slot = slot + 1;
        Slot(&self.current[..words])
    }
}

/// The fixed words of one slot, read as uniforms by index.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a>(&'a [u64]);

impl Slot<'_> {
    /// A uniform on the open interval (0, 1): 53 random bits, centred in their cell, so
    /// that `ln(u)` and `ln(1 - u)` are always finite.
    pub(crate) fn uniform(&self, index: usize) -> f64 {
        open_uniform(self.0[index])
    }
}

/// A random word as a uniform on the open interval (0, 1): its top 53 bits, centred in
/// their cell.
pub(crate) fn open_uniform(word: u64) -> f64 {
    ((word >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_do_not_depend_on_visiting_order() {
        let mut forward = DrawStream::new(7, 3, Purpose::InstanceAttributes);
        let seq: Vec<f64> = (0..50).map(|i| forward.slot(i).uniform(2)).collect();
        let mut jumping = DrawStream::new(7, 3, Purpose::InstanceAttributes);
        for i in [49u64, 3, 17, 0, 18, 19, 25, 2] {
            assert_eq!(jumping.slot(i).uniform(2), seq[i as usize], "slot {i}");
        }
    }

    #[test]
    fn a_slot_holds_the_generators_words_in_order() {
        // The documented layout: slot `s` of an `n`-word purpose is words `n s .. n (s+1)`
        // of the (seed, purpose) generator's stream `replication`, read as `next_u64`.
        let mut rng = ChaCha8Rng::from_seed(key(5, Purpose::Reminders(1)));
        rng.set_stream(2);
        let n = reminder_slot::WORDS;
        let words: Vec<u64> = (0..10 * n).map(|_| rng.next_u64()).collect();
        let mut stream = DrawStream::new(5, 2, Purpose::Reminders(1));
        // Backwards, forwards by one, reading through a gap, and jumping past one.
        for slot in [2u64, 0, 1, 3, 5, 9] {
            for i in 0..n {
                let w = words[slot as usize * n + i];
                let expected = ((w >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                assert_eq!(
                    stream.slot(slot).uniform(i),
                    expected,
                    "slot {slot} word {i}"
                );
            }
        }
    }

    #[test]
    fn purposes_replications_and_seeds_are_distinct_streams() {
        let first = |seed, rep, purpose| DrawStream::new(seed, rep, purpose).slot(0).uniform(0);
        let base = first(1, 0, Purpose::InstanceAttributes);
        assert_ne!(base, first(2, 0, Purpose::InstanceAttributes));
        assert_ne!(base, first(1, 1, Purpose::InstanceAttributes));
        assert_ne!(base, first(1, 0, Purpose::Publication));
        assert_ne!(
            first(1, 0, Purpose::Admin(0)),
            first(1, 0, Purpose::Admin(1))
        );
        assert_ne!(
            first(1, 0, Purpose::Admin(0)),
            first(1, 0, Purpose::Delivery(0))
        );
        assert_ne!(
            first(1, 0, Purpose::Admin(0)),
            first(1, 0, Purpose::Reminders(0))
        );
    }

    #[test]
    fn uniforms_are_open_and_evenly_spread() {
        let mut s = DrawStream::new(11, 0, Purpose::InstanceAttributes);
        let n = 20_000;
        let mut below_half = 0;
        for i in 0..n {
            let u = s.slot(i).uniform(0);
            assert!(u > 0.0 && u < 1.0);
            if u < 0.5 {
                below_half += 1;
            }
        }
        // Binomial(n, 1/2): sd = sqrt(n)/2 ~ 70.7; 5 sd is a failure rate below 1e-6.
        assert!((f64::from(below_half) - n as f64 / 2.0).abs() < 5.0 * 70.8);
    }
}
