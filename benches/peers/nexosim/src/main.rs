//! The rollout-sim bench model written with NeXosim 1.0 (a Rust discrete-event
//! framework of actors with mailboxes and a global scheduler), for the peer comparison.
//!
//! It implements the same subset as `../simpy_model.py`, rule for rule: Connect, one
//! descriptor-poll process per replication, segments with time-zone mixes, the default
//! maintenance window (daily 01:00-03:00 site time) with its slip, 24 h UPM polls with a
//! per-instance phase, admin profiles (approve / reject / ignore, lognormal, exponential,
//! fixed, uniform delays), the permission gate over several releases, and approval
//! applying the newest published version. Each instance is a NeXosim model that schedules
//! its own polls and admin responses; installs go to an event-queue sink.
//!
//! Prints one JSON object in the SimPy peer's format: per release, per replication,
//! time to 50% and 99% share and the coexistence window in hours (null when censored),
//! plus the simulation wall time.
//!
//! Usage: rollout-nexosim-peer SCENARIO.json [--instances N] [--replications R]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use nexosim::model::{Context, Model, schedulable};
use nexosim::ports::{EventSinkReader, Output, SinkState, event_queue};
use nexosim::simulation::{Mailbox, SimInit};
use nexosim::time::MonotonicTime;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const H: f64 = 3600.0;

/// A duration such as "5h", "1d12h" or "30m", in seconds.
fn seconds(text: &str) -> f64 {
    let (mut total, mut number) = (0.0, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
            unit.push(n);
            chars.next();
        }
        let scale = match unit.as_str() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => H,
            "d" => 24.0 * H,
            "w" => 7.0 * 24.0 * H,
            _ => panic!("unknown unit in {text:?}"),
        };
        total += number.parse::<f64>().expect("a number before each unit") * scale;
        number.clear();
    }
    total
}

/// An admin's response delay law.
#[derive(Clone, Serialize, Deserialize)]
enum Delay {
    Fixed(f64),
    Uniform(f64, f64),
    Exponential(f64),
    Lognormal { median: f64, sigma: f64 },
}

impl Delay {
    fn parse(spec: &Value) -> Delay {
        let (kind, v) = spec
            .as_object()
            .and_then(|o| o.iter().next())
            .expect("a delay law");
        match kind.as_str() {
            "fixed" => Delay::Fixed(seconds(v.as_str().unwrap())),
            "uniform" => Delay::Uniform(
                seconds(v[0].as_str().unwrap()),
                seconds(v[1].as_str().unwrap()),
            ),
            "exponential" => Delay::Exponential(seconds(v["mean"].as_str().unwrap())),
            "lognormal" => Delay::Lognormal {
                median: seconds(v["median"].as_str().unwrap()),
                sigma: v["sigma"].as_f64().unwrap(),
            },
            other => panic!("delay {other} not implemented in the peer model"),
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            Delay::Fixed(d) => d,
            Delay::Uniform(a, b) => rng.random_range(a..=b),
            Delay::Exponential(mean) => -mean * (1.0 - rng.random::<f64>()).ln(),
            Delay::Lognormal { median, sigma } => {
                // Box-Muller: one standard normal from two uniforms.
                let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                median * (sigma * z).exp()
            }
        }
    }
}

#[derive(Clone)]
struct Admin {
    approve: f64,
    reject: f64,
    delay: Delay,
}

fn builtin_admins() -> BTreeMap<String, Admin> {
    let lognormal = |median: f64, sigma| Delay::Lognormal {
        median: median * H,
        sigma,
    };
    [
        ("default", 0.75, 0.05, lognormal(48.0, 1.2)),
        ("prompt", 0.95, 0.02, lognormal(4.0, 1.0)),
        ("casual", 0.70, 0.05, lognormal(72.0, 1.2)),
        ("careful", 0.90, 0.05, lognormal(168.0, 0.8)),
    ]
    .into_iter()
    .map(|(name, approve, reject, delay)| {
        (
            name.to_string(),
            Admin {
                approve,
                reject,
                delay,
            },
        )
    })
    .collect()
}

/// An instance became a version (its index, the version, seconds since the start).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Installed {
    instance: u32,
    version: u32,
    at: f64,
}

/// One customer instance: its poll times, its permission state and its admin's
/// pre-drawn responses.
#[derive(Serialize, Deserialize)]
struct Instance {
    installed: Output<Installed>,
    id: u32,
    version: usize,
    episode: bool,
    declined: bool,
    /// Seconds from the start at which UPM polls (only those that can find something).
    polls: Vec<f64>,
    /// Per release: when a poll can first see it (publication, plus the slip).
    earliest: Vec<f64>,
    /// Per release: publication.
    published: Vec<f64>,
    /// Per version: how many permission-changing releases lead to it.
    scope_level: Vec<u32>,
    approve: f64,
    reject: f64,
    /// Per possible episode: the admin's uniform draw and response delay.
    responses: Vec<(f64, f64)>,
    horizon: f64,
}

#[Model]
impl Instance {
    #[nexosim(init)]
    async fn init(&mut self, cx: &Context<Self>, _: &mut ()) {
        for &p in &self.polls {
            if p > 0.0 && p <= self.horizon {
                cx.schedule_event(Duration::from_secs_f64(p), schedulable!(Self::poll), ())
                    .expect("a poll in the future");
            }
        }
    }

    async fn install(&mut self, at: f64, version: usize) {
        self.version = version;
        self.installed
            .send(Installed {
                instance: self.id,
                version: version as u32,
                at,
            })
            .await;
    }

    fn now(cx: &Context<Self>) -> f64 {
        cx.time().duration_since(MonotonicTime::EPOCH).as_secs_f64()
    }

    #[nexosim(schedulable)]
    async fn poll(&mut self, _: (), cx: &Context<Self>) {
        let now = Self::now(cx);
        let visible = (0..self.earliest.len())
            .filter(|&k| self.earliest[k] <= now + 1e-6)
            .map(|k| k + 1)
            .max()
            .unwrap_or(0);
        if visible <= self.version {
            return;
        }
        if self.scope_level[visible] <= self.scope_level[self.version] {
            self.install(now, visible).await;
            self.episode = false;
        } else if !self.episode && !self.declined {
            self.episode = true;
            let (u, delay) = self
                .responses
                .pop()
                .expect("one response per gated release");
            if u < self.approve + self.reject && now + delay <= self.horizon {
                let approve = u < self.approve;
                cx.schedule_event(
                    Duration::from_secs_f64(delay.max(1e-3)),
                    schedulable!(Self::respond),
                    approve,
                )
                .expect("a response in the future");
            }
        }
    }

    #[nexosim(schedulable)]
    async fn respond(&mut self, approve: bool, cx: &Context<Self>) {
        let now = Self::now(cx);
        self.episode = false;
        if approve {
            let newest = (0..self.published.len())
                .filter(|&k| self.published[k] <= now + 1e-6)
                .map(|k| k + 1)
                .max()
                .unwrap_or(0);
            if newest > self.version {
                self.install(now, newest).await;
            }
        } else {
            self.declined = true;
        }
    }
}

/// Picks an index by weights from one uniform draw.
fn pick(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// One replication: builds the bench of instance models, runs it to the horizon and
/// returns, per release, time to 50% and 99% and the coexistence window (hours).
fn simulate(scenario: &Value, instances: usize, replication: u64) -> Vec<Value> {
    let seed = scenario["seed"].as_u64().unwrap_or(0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(replication));
    let start: DateTime<Utc> = scenario["start"].as_str().unwrap().parse().unwrap();
    let horizon = seconds(scenario["horizon"].as_str().unwrap());
    let timing = &scenario["timing"];
    let get = |key: &str, default: &str| seconds(timing[key].as_str().unwrap_or(default));
    let (descriptor_poll, upm_poll, slip) = (
        get("descriptor_poll", "5h"),
        get("upm_poll", "24h"),
        get("maintenance_slip", "4h"),
    );
    let mut admins = builtin_admins();
    if let Some(custom) = scenario["admins"].as_object() {
        for (name, a) in custom {
            admins.insert(
                name.clone(),
                Admin {
                    approve: a["approve"].as_f64().unwrap(),
                    reject: a["reject"].as_f64().unwrap_or(0.0),
                    delay: Delay::parse(&a["delay"]),
                },
            );
        }
    }
    let segments = scenario["population"]["segments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shares: Vec<f64> = segments
        .iter()
        .map(|s| s["share"].as_f64().unwrap())
        .collect();
    let releases = scenario["releases"].as_array().unwrap();
    let deployed: Vec<f64> = releases
        .iter()
        .map(|r| seconds(r["at"].as_str().unwrap()))
        .collect();
    let mut scope_level = vec![0u32];
    for r in releases {
        let gated = r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "scopes" || c == "licensing");
        scope_level.push(scope_level.last().unwrap() + u32::from(gated));
    }
    let gated_releases = scope_level.last().copied().unwrap_or(0) as usize;

    // Publication: one descriptor-poll process with a uniform phase.
    let phase = rng.random::<f64>() * descriptor_poll;
    let published: Vec<f64> = deployed
        .iter()
        .map(|&d| phase + ((d - phase).max(0.0) / descriptor_poll).ceil() * descriptor_poll)
        .collect();
    let mut window_open: BTreeMap<(usize, String), bool> = BTreeMap::new();

    let (sink, mut installs) = event_queue(SinkState::Enabled);
    let mut bench = SimInit::with_num_threads(1);
    for i in 0..instances {
        let segment = if segments.is_empty() {
            None
        } else {
            Some(&segments[pick(&shares, &mut rng)])
        };
        let zones: Vec<(String, f64)> = segment
            .and_then(|s| s["timezones"].as_object())
            .map(|z| {
                z.iter()
                    .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
                    .collect()
            })
            .unwrap_or_else(|| vec![("UTC".to_string(), 1.0)]);
        let weights: Vec<f64> = zones.iter().map(|z| z.1).collect();
        let zone = zones[pick(&weights, &mut rng)].0.clone();
        let admin = &admins[segment
            .and_then(|s| s["admin"].as_str())
            .unwrap_or("default")];
        let maintenance = segment
            .and_then(|s| s["maintenance"].as_str())
            .unwrap_or("default")
            != "none";
        let poll_phase = rng.random::<f64>() * upm_poll;
        let earliest: Vec<f64> = deployed
            .iter()
            .enumerate()
            .map(|(k, &d)| {
                let open = *window_open.entry((k, zone.clone())).or_insert_with(|| {
                    let tz: Tz = zone.parse().expect("an IANA time zone");
                    let at = start + chrono::Duration::milliseconds((d * 1000.0) as i64);
                    let hour = at.with_timezone(&tz).hour();
                    (1..3).contains(&hour)
                });
                published[k] + if open && maintenance { slip } else { 0.0 }
            })
            .collect();
        let mut polls: Vec<f64> = earliest
            .iter()
            .map(|&e| poll_phase + ((e - poll_phase).max(0.0) / upm_poll).ceil() * upm_poll)
            .collect();
        polls.sort_by(f64::total_cmp);
        polls.dedup();
        let responses = (0..gated_releases)
            .map(|_| {
                let u = rng.random::<f64>();
                (u, admin.delay.sample(&mut rng))
            })
            .collect();
        let mut model = Instance {
            installed: Output::default(),
            id: i as u32,
            version: 0,
            episode: false,
            declined: false,
            polls,
            earliest,
            published: published.clone(),
            scope_level: scope_level.clone(),
            approve: admin.approve,
            reject: admin.reject,
            responses,
            horizon,
        };
        model.installed.connect_sink(sink.clone());
        bench = bench.add_model(model, Mailbox::new(), &format!("instance-{i}"));
    }
    let mut simu = bench
        .init(MonotonicTime::EPOCH)
        .expect("the bench initialises");
    simu.step_until(MonotonicTime::EPOCH + Duration::from_secs_f64(horizon))
        .expect("the simulation runs to the horizon");

    let mut reach = vec![vec![f64::INFINITY; releases.len()]; instances];
    while let Some(e) = installs.try_read() {
        for r in &mut reach[e.instance as usize][..e.version as usize] {
            *r = r.min(e.at);
        }
    }
    (0..releases.len())
        .map(|k| {
            let mut times: Vec<f64> = reach.iter().map(|r| r[k]).collect();
            times.sort_by(f64::total_cmp);
            let first_share = |p: f64| {
                let need = ((p * instances as f64) - 1e-9).ceil() as usize;
                let t = times[need.max(1) - 1];
                (t <= horizon).then(|| (t - deployed[k]).max(0.0) / H)
            };
            json!({"time_to_50": first_share(0.5), "time_to_99": first_share(0.99), "coexistence": first_share(1.0)})
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: rollout-nexosim-peer SCENARIO.json [--instances N] [--replications R]");
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<u64>().expect("a whole number"))
    };
    let scenario: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let instances = flag("--instances")
        .unwrap_or_else(|| scenario["population"]["instances"].as_u64().unwrap())
        as usize;
    let reps =
        flag("--replications").unwrap_or_else(|| scenario["replications"].as_u64().unwrap_or(100));
    let started = Instant::now();
    let per_rep: Vec<Vec<Value>> = (0..reps)
        .map(|r| simulate(&scenario, instances, r))
        .collect();
    let wall = started.elapsed().as_secs_f64();
    let releases = scenario["releases"].as_array().unwrap().len();
    let by_release: Vec<Vec<Value>> = (0..releases)
        .map(|k| per_rep.iter().map(|rep| rep[k].clone()).collect())
        .collect();
    println!(
        "{}",
        json!({"wall_seconds": wall, "instances": instances, "replications": reps, "releases": by_release})
    );
}
