//! Helpers shared by the integration tests.

use std::path::Path;

use rollout_sim::model::{InstanceModel, Life, Publication, VersionTable, record};
use rollout_sim::montecarlo::{self, RunOutput};
use rollout_sim::scenario::{self, Overrides, Scenario};
use serde_json::{Value, json};

/// A minimal valid scenario to patch in tests.
pub(crate) fn base(platform: &str) -> Value {
    json!({
        "name": "test",
        "platform": platform,
        "start": "2026-03-02T14:00:00Z",
        "horizon": "10d",
        "seed": 42,
        "replications": 20,
        "initial_version": "1.4.0",
        "population": {"instances": 200},
        "releases": [{"at": "0h", "changes": ["other"]}]
    })
}

/// `base(platform)` whose one release, at the start, adds a scope: an update that needs
/// an admin's approval.
pub(crate) fn scope_change(platform: &str) -> Value {
    set(
        base(platform),
        "releases",
        json!([{"at": "0h", "changes": ["scopes"]}]),
    )
}

/// Sets `value` at a path such as `timing.maintenance_slip` (the library's `--set`).
pub(crate) fn set(mut doc: Value, path: &str, value: Value) -> Value {
    rollout_sim::scenario::Setting::new(path, value)
        .apply(&mut doc)
        .expect("a settable path");
    doc
}

pub(crate) fn scenario(doc: &Value) -> Scenario {
    scenario::parse(
        &doc.to_string(),
        Path::new("test.json"),
        &Overrides::default(),
    )
    .expect("valid test scenario")
}

pub(crate) fn run(doc: &Value) -> (Scenario, RunOutput) {
    let s = scenario(doc);
    let out = montecarlo::run(&s, &());
    (s, out)
}

/// Every instance's life in one replication, with its publication times.
pub(crate) fn lives(s: &Scenario, replication: u64) -> (Publication, Vec<Life>) {
    let plan = VersionTable::new(s);
    let model = InstanceModel::new(s, &plan);
    let (ctx, lives) = record(&model, replication, 0..s.population.instances);
    (ctx.publication, lives)
}

/// Every member's life in one replication, new installs (churn) included.
pub(crate) fn lives_with_arrivals(s: &Scenario, replication: u64) -> (Publication, Vec<Life>) {
    let plan = VersionTable::new(s);
    let model = InstanceModel::new(s, &plan);
    let (ctx, lives) = record(&model, replication, 0..u64::MAX);
    (ctx.publication, lives)
}

/// Kolmogorov-Smirnov distance between a sample and a CDF.
pub(crate) fn ks_distance(mut sample: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    sample.sort_by(f64::total_cmp);
    let n = sample.len() as f64;
    sample
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// The KS critical value at significance 0.001 (asymptotic, c(alpha) = 1.949).
pub(crate) fn ks_critical_001(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

/// Fact 2: the publication delay A ~ U(0, 5 h) and the poll wait B ~ U(0, 24 h).
pub(crate) const A: f64 = 5.0;
pub(crate) const B: f64 = 24.0;

/// P(A + max of N draws of B <= x) = (1/A) * integral over a in [0, A] of min(1, (x - a)/B)^N.
pub(crate) fn coexistence_cdf(x: f64, n: i32) -> f64 {
    let m = f64::from(n + 1);
    let lo = (x - B).clamp(0.0, A); // below lo, the max is surely <= x - a
    let hi = x.clamp(0.0, A);
    // integral_{lo}^{hi} ((x-a)/B)^N da = B/(N+1) * [((x-lo)/B)^(N+1) - ((x-hi)/B)^(N+1)]
    let part = B / m * (libm::pow((x - lo) / B, m) - libm::pow((x - hi) / B, m));
    ((lo + part) / A).clamp(0.0, 1.0)
}

/// The q-quantile of the coexistence window, by bisection on its CDF.
pub(crate) fn coexistence_quantile(q: f64, n: i32) -> f64 {
    let (mut lo, mut hi) = (0.0, A + B);
    for _ in 0..100 {
        let mid = f64::midpoint(lo, hi);
        if coexistence_cdf(mid, n) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    f64::midpoint(lo, hi)
}

/// Connect, one automatic release at start, no maintenance slip.
pub(crate) fn connect_no_windows(instances: u64, replications: u64) -> Value {
    let doc = set(base("connect"), "timing.maintenance_slip", json!("0h"));
    let doc = set(doc, "population.instances", json!(instances));
    set(doc, "replications", json!(replications))
}

/// Every file under `dir`, by its path relative to `dir`, with its bytes: a folder's
/// whole content, to compare two outputs byte for byte.
pub(crate) fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every scenario file the repository ships: the examples in `scenarios/` and the
/// benchmark workloads in `benches/scenarios/`, in name order.
pub(crate) fn shipped_scenarios() -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = ["scenarios", "benches/scenarios"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    files
}

/// The rollout-sim binary, ready to take arguments.
pub(crate) fn cli() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("rollout-sim").unwrap()
}
