//! The event queue alone: the classic "hold" workload (pop the earliest event, schedule
//! one a random span later) with 1e3, 1e5 and 1e6 events pending.

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use rollout_sim::engine::EventQueue;
use rollout_sim::time::{SimDuration, SimTime};

/// A tiny deterministic generator so the benchmark measures the queue, not the RNG.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

const OPS: u64 = 1_000_000;

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_hold");
    group.sample_size(10);
    group.throughput(Throughput::Elements(OPS));
    for pending in [1_000u64, 100_000, 1_000_000] {
        group.bench_with_input(
            BenchmarkId::from_parameter(pending),
            &pending,
            |b, &pending| {
                b.iter_batched(
                    || {
                        let mut q = EventQueue::new();
                        let mut s = 0x9E37_79B9_7F4A_7C15u64;
                        for i in 0..pending {
                            q.schedule(
                                SimTime::from_millis((xorshift(&mut s) % 86_400_000) as i64),
                                i,
                            )
                            .unwrap();
                        }
                        (q, s)
                    },
                    |(mut q, mut s)| {
                        for _ in 0..OPS {
                            let (t, e) = q.pop().unwrap();
                            let delay =
                                SimDuration::from_millis((xorshift(&mut s) % 86_400_000) as i64);
                            q.schedule(t + delay, black_box(e)).unwrap();
                        }
                        q
                    },
                    criterion::BatchSize::LargeInput,
                );
            },
        );
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
