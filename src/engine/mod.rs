//! A generic, deterministic discrete-event queue.
//!
//! The queue knows nothing about Marketplace, UPM or admins: it orders opaque events by
//! `(time, insertion sequence)`, so events scheduled for the same instant come out
//! first-in-first-out, never in hash or pointer order. Scheduling into the past is refused,
//! which keeps every model built on it causal.
//!
//! Where the pending events are kept is the queue's second type parameter: a binary heap
//! ([`Heap`], the default) for queues of any size, or an unsorted vector scanned on
//! every pop ([`Scanned`], [`ShortQueue`]) for queues that never hold more than a handful
//! of events, such as one instance's polls, deliveries and deadlines, where comparing a
//! few keys beats the heap's sift and a sorted vector's shifts. Both pop in exactly the
//! same `(time, seq)` order.
//!
//! ```
//! use rollout_sim::engine::EventQueue;
//! use rollout_sim::time::{SimDuration, SimTime};
//!
//! let mut queue = EventQueue::new();
//! let noon = SimTime::ZERO + SimDuration::from_hours(12);
//! queue.schedule(noon, "second").unwrap();
//! queue.schedule(noon, "third").unwrap(); // same time: first in, first out
//! queue.schedule(SimTime::ZERO, "first").unwrap();
//! let order: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, e)| e).collect();
//! assert_eq!(order, ["first", "second", "third"]);
//! assert!(queue.schedule(SimTime::ZERO, "late").is_err()); // the past is refused
//! ```

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// An event could not be scheduled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("cannot schedule an event at {at:?}, before the current time {now:?}")]
    /// `at` lies before the queue's current time `now`.
    InPast {
        /// The time asked for.
        at: SimTime,
        /// The queue's current time.
        now: SimTime,
    },
}

/// A pending event with its key.
#[doc(hidden)]
pub struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Where a queue keeps its pending events, earliest `(time, seq)` out first.
pub trait Pending<E>: Default {
    /// Adds an entry.
    #[doc(hidden)]
    fn push(&mut self, entry: Entry<E>);
    /// Removes the earliest entry.
    #[doc(hidden)]
    fn pop(&mut self) -> Option<Entry<E>>;
    /// Removes the earliest entry if it is due at or before `limit`.
    #[doc(hidden)]
    fn pop_due(&mut self, limit: SimTime) -> Option<Entry<E>> {
        if self.next_time()? > limit {
            return None;
        }
        self.pop()
    }
    /// The earliest entry's time.
    fn next_time(&self) -> Option<SimTime>;
    /// Entries pending.
    fn len(&self) -> usize;
    /// Whether none is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Removes every entry, keeping the allocation.
    fn clear(&mut self);
}

/// A binary heap: O(log n) per event at any size.
pub struct Heap<E>(BinaryHeap<Entry<E>>);

impl<E> Default for Heap<E> {
    fn default() -> Self {
        Heap(BinaryHeap::new())
    }
}

impl<E> Pending<E> for Heap<E> {
    fn push(&mut self, entry: Entry<E>) {
        self.0.push(entry);
    }
    fn pop(&mut self) -> Option<Entry<E>> {
        self.0.pop()
    }
    fn next_time(&self) -> Option<SimTime> {
        self.0.peek().map(|e| e.time)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// An unsorted vector scanned for the earliest entry: for queues of a few events, where
/// adding is a push and removing scans a handful of keys, with nothing shifted or sifted.
pub struct Scanned<E>(Vec<Entry<E>>);

impl<E> Default for Scanned<E> {
    fn default() -> Self {
        Scanned(Vec::new())
    }
}

impl<E> Scanned<E> {
    /// The index of the earliest `(time, seq)`.
    #[inline]
    fn earliest(&self) -> Option<usize> {
        let first = self.0.first()?;
        let (mut best, mut key) = (0, (first.time, first.seq));
        for (i, e) in self.0.iter().enumerate().skip(1) {
            if (e.time, e.seq) < key {
                (best, key) = (i, (e.time, e.seq));
            }
        }
        Some(best)
    }
}

impl<E> Pending<E> for Scanned<E> {
    fn push(&mut self, entry: Entry<E>) {
        self.0.push(entry);
    }
    fn pop(&mut self) -> Option<Entry<E>> {
        let i = self.earliest()?;
        Some(self.0.swap_remove(i))
    }
    #[inline]
    fn pop_due(&mut self, limit: SimTime) -> Option<Entry<E>> {
        let i = self.earliest()?;
        (self.0[i].time <= limit).then(|| self.0.swap_remove(i))
    }
    fn next_time(&self) -> Option<SimTime> {
        self.earliest().map(|i| self.0[i].time)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// A queue for a handful of pending events (see [`Scanned`]).
pub type ShortQueue<E> = EventQueue<E, Scanned<E>>;

/// Pending events and the simulation clock.
pub struct EventQueue<E, P: Pending<E> = Heap<E>> {
    pending: P,
    next_seq: u64,
    now: SimTime,
    processed: u64,
    peak_pending: usize,
    _events: std::marker::PhantomData<E>,
}

impl<E, P: Pending<E>> Default for EventQueue<E, P> {
    fn default() -> Self {
        EventQueue {
            pending: P::default(),
            next_seq: 0,
            now: SimTime::ZERO,
            processed: 0,
            peak_pending: 0,
            _events: std::marker::PhantomData,
        }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero, on a binary heap.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<E, P: Pending<E>> EventQueue<E, P> {
    /// Empties the queue and sets the clock, keeping the allocation and the counters
    /// (so one queue can be reused for many short simulations).
    pub fn reset(&mut self, now: SimTime) {
        self.pending.clear();
        self.now = now;
    }

    /// The current time: the time of the last event popped, or the reset time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`, which must not be before [`now`](Self::now).
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) -> Result<(), ScheduleError> {
        if at < self.now {
            return Err(ScheduleError::InPast { at, now: self.now });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(Entry {
            time: at,
            seq,
            event,
        });
        self.peak_pending = self.peak_pending.max(self.pending.len());
        Ok(())
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = self.pending.pop()?;
        Some(self.advance(entry))
    }

    /// Pops the earliest event only if it is due at or before `limit`.
    ///
    /// Always inlined (the scan and [`schedule`](Self::schedule) are inlined too): a
    /// model that runs many tiny queues pops a few events per queue, and a call per pop
    /// cost it about a quarter of the pop; a plain hint was dropped once the caller grew.
    #[inline(always)]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let entry = self.pending.pop_due(limit)?;
        Some(self.advance(entry))
    }

    /// Moves the clock to a popped entry and counts it.
    #[inline]
    fn advance(&mut self, entry: Entry<E>) -> (SimTime, E) {
        self.now = entry.time;
        self.processed += 1;
        (entry.time, entry.event)
    }

    /// Events still pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Events popped since the queue was created.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// The most events ever pending at once.
    pub fn peak_pending(&self) -> usize {
        self.peak_pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> SimTime {
        SimTime::from_millis(ms)
    }

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        for (time, name) in [(30, "c"), (10, "a"), (20, "b")] {
            q.schedule(t(time), name).unwrap();
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!(q.now(), t(30));
    }

    #[test]
    fn equal_times_are_first_in_first_out() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.schedule(t(5), i).unwrap();
        }
        q.schedule(t(1), -1).unwrap();
        let order: Vec<i32> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        let expected: Vec<i32> = std::iter::once(-1).chain(0..100).collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn refuses_the_past_but_accepts_now() {
        let mut q = EventQueue::new();
        q.schedule(t(10), 'a').unwrap();
        q.pop();
        assert_eq!(
            q.schedule(t(9), 'b'),
            Err(ScheduleError::InPast {
                at: t(9),
                now: t(10)
            })
        );
        assert!(q.schedule(t(10), 'c').is_ok());
    }

    #[test]
    fn pop_until_respects_the_limit() {
        let mut q = EventQueue::new();
        q.schedule(t(5), 1).unwrap();
        q.schedule(t(15), 2).unwrap();
        assert_eq!(q.pop_until(t(10)), Some((t(5), 1)));
        assert_eq!(q.pop_until(t(10)), None);
        assert_eq!(q.len(), 1);
        assert_eq!(q.now(), t(5));
    }

    #[test]
    fn reset_clears_but_keeps_counters() {
        let mut q = EventQueue::new();
        q.schedule(t(5), ()).unwrap();
        q.schedule(t(6), ()).unwrap();
        q.pop();
        q.reset(t(0));
        assert!(q.is_empty());
        assert_eq!(q.now(), t(0));
        assert_eq!(q.processed(), 1);
        assert_eq!(q.peak_pending(), 2);
    }

    /// Pops everything, scheduling follow-ups as it goes, with times from a tiny
    /// generator: the same workload for either store.
    fn workload<P: Pending<u64>>(mut q: EventQueue<u64, P>) -> Vec<(SimTime, u64)> {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..8 {
            q.schedule(t((next() % 50) as i64), i).unwrap();
        }
        let mut out = Vec::new();
        while let Some((time, e)) = q.pop_until(t(10_000)) {
            out.push((time, e));
            if out.len() < 2_000 {
                // Often the same instant, to exercise first-in-first-out.
                let gap = (next() % 4) as i64 * 7;
                q.schedule(time + crate::time::SimDuration::from_millis(gap), e + 100)
                    .unwrap();
            }
        }
        out
    }

    #[test]
    fn the_scanned_store_pops_exactly_as_the_heap() {
        let heap = workload(EventQueue::new());
        assert!(heap.len() > 2_000);
        assert_eq!(workload(ShortQueue::default()), heap);
    }

    #[test]
    fn interleaved_schedule_and_pop_stay_ordered() {
        // A model schedules while it pops; the order must still be (time, seq).
        let mut q = EventQueue::new();
        q.schedule(t(0), 0u32).unwrap();
        let mut seen = Vec::new();
        while let Some((time, e)) = q.pop() {
            seen.push((time, e));
            if e < 50 {
                q.schedule(time, e + 100).unwrap();
                q.schedule(
                    time + crate::time::SimDuration::from_millis(i64::from(e % 3)),
                    e + 1,
                )
                .unwrap();
            }
        }
        for w in seen.windows(2) {
            assert!(w[0].0 <= w[1].0, "time went backwards: {w:?}");
        }
    }
}
