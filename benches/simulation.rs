//! The model: one replication at 1e4, 1e5 and 1e6 instances (`benches/scenarios/bench-1m.json`,
//! one thread), and the replications workload (`benches/scenarios/bench-replications.json`, two
//! threads).

// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rollout_sim::model::{InstanceModel, VersionTable, run_replication};
use rollout_sim::montecarlo;
use rollout_sim::scenario::{self, Overrides};

fn one_replication(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("one_replication");
    group.sample_size(10);
    for instances in [10_000u64, 100_000, 1_000_000] {
        let overrides = Overrides {
            instances: Some(instances),
            ..Overrides::default()
        };
        let s = scenario::load(Path::new("benches/scenarios/bench-1m.json"), &overrides).unwrap();
        let plan = VersionTable::new(&s);
        let model = InstanceModel::new(&s, &plan);
        group.throughput(Throughput::Elements(instances));
        group.bench_with_input(
            BenchmarkId::from_parameter(instances),
            &instances,
            |b, _| b.iter(|| pool.install(|| run_replication(&model, 0))),
        );
    }
    group.finish();
}

fn replications(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let s = scenario::load(
        Path::new("benches/scenarios/bench-replications.json"),
        &Overrides::default(),
    )
    .unwrap();
    let mut group = c.benchmark_group("replications");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(s.replications)));
    group.bench_function("10k_instances_x_1000", |b| {
        b.iter(|| pool.install(|| montecarlo::run(&s, &())));
    });
    group.finish();
}

criterion_group!(benches, one_replication, replications);
criterion_main!(benches);
