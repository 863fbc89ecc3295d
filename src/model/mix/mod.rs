//! The version mix over replications: what the p5/p95 bands of `timeseries.csv`, the
//! adoption chart and the verdicts are read from.
//!
//! Up to `EXACT_REPLICATIONS` replications every replication's hourly mix is kept and
//! the bands are exact order statistics. Beyond, every cell (one version or release at
//! one sample) is pooled into a `ShareSketch` and exact sums, so memory stays flat in
//! the replications (a few hundred bytes per cell, whatever their number) and the p5/p95
//! are within [`SKETCH_ERROR`] of the exact ones. Which form a run gets depends only on
//! its number of replications, and the pooled form only on the multiset of replications,
//! so any thread count or shard split gives the same bytes.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::stats::SKETCH_ERROR;
use crate::stats::{ExactSum, ShareSketch, quantile_unsorted};

use super::versions::VersionTable;

/// The most replications whose mixes are kept whole (about 23 KB each for 60 days of
/// hourly samples and 4 versions): up to this many, the bands are exact.
pub(crate) const EXACT_REPLICATIONS: usize = 1000;

/// One replication's version mix: `[sample][version]` instance counts and weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationMix {
    /// The replication's index.
    pub index: u64,
    /// Instances on each version at each sample.
    pub counts: Vec<u32>,
    /// Weight units on each version at each sample (empty: unweighted).
    pub weights: Vec<i64>,
}

/// One version at one sample, over replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VersionCell {
    /// Mean share of installed instances on the version.
    pub mean_share: f64,
    /// 5th percentile of the share.
    pub p5_share: f64,
    /// 95th percentile of the share.
    pub p95_share: f64,
    /// Mean count of instances on the version.
    pub mean_instances: f64,
    /// Mean installed instances (all versions).
    pub mean_installed: f64,
    /// Mean share of the installed weight (the share itself when unweighted).
    pub mean_weighted_share: f64,
}

/// One release's adoption (share on its version or later) at one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdoptionCell {
    /// Mean share.
    pub mean: f64,
    /// 5th percentile of the share.
    pub p5: f64,
    /// 95th percentile of the share.
    pub p95: f64,
    /// Mean installed instances not yet on the release.
    pub mean_behind: f64,
}

/// Every cell of a run's mix over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct MixSummary {
    /// Per sample and version (`[sample][version]`).
    pub versions: Vec<VersionCell>,
    /// Per release and sample (`[release][sample]`).
    pub adoption: Vec<Vec<AdoptionCell>>,
}

/// The shape every replication's mix has.
#[derive(Clone, Debug, PartialEq)]
struct Shape {
    samples: usize,
    versions: usize,
    releases: usize,
    weighted: bool,
    /// `[release * versions + version]`: whether the version counts as adopting.
    at_least: Vec<bool>,
}

/// Every replication's values at one sample, one column per cell in replication order
/// (`[cell * replications + replication]`), filled in one pass over the mixes and reused
/// from sample to sample, so that a cell's mean and quantiles read contiguous values.
#[derive(Default)]
struct SampleColumns {
    replications: usize,
    /// Installed instances (all versions).
    installed: Vec<u64>,
    /// Per version: instances on it, their share and (weighted runs only) the share of
    /// the installed weight.
    counts: Vec<u32>,
    shares: Vec<f64>,
    weighted: Vec<f64>,
    /// Per release: the share on it or later, and the installed instances behind it.
    adoption: Vec<f64>,
    behind: Vec<u64>,
}

impl SampleColumns {
    /// Where cell `cell`'s column lies in a per-version or per-release vector.
    fn column(&self, cell: usize) -> std::ops::Range<usize> {
        cell * self.replications..(cell + 1) * self.replications
    }

    /// Version `version`'s weighted shares: its shares when the run is unweighted.
    fn weighted(&self, version: usize) -> &[f64] {
        let values = if self.weighted.is_empty() {
            &self.shares
        } else {
            &self.weighted
        };
        &values[self.column(version)]
    }
}

impl Shape {
    /// Fills `out` with every mix's values at `sample`.
    fn columns(&self, mixes: &[ReplicationMix], sample: usize, out: &mut SampleColumns) {
        let (n, versions) = (mixes.len(), self.versions);
        out.replications = n;
        out.installed.resize(n, 0);
        out.counts.resize(versions * n, 0);
        out.shares.resize(versions * n, 0.0);
        out.weighted
            .resize(if self.weighted { versions * n } else { 0 }, 0.0);
        out.adoption.resize(self.releases * n, 0.0);
        out.behind.resize(self.releases * n, 0);
        let cells = sample * versions..(sample + 1) * versions;
        for (r, mix) in mixes.iter().enumerate() {
            let row = &mix.counts[cells.clone()];
            let installed: u64 = row.iter().map(|&c| u64::from(c)).sum();
            out.installed[r] = installed;
            let per_installed = |on: u64, none: f64| {
                if installed == 0 {
                    none
                } else {
                    on as f64 / installed as f64
                }
            };
            for (v, &count) in row.iter().enumerate() {
                out.counts[v * n + r] = count;
                out.shares[v * n + r] = per_installed(u64::from(count), 0.0);
            }
            if let Some(weights) = mix.weights.get(cells.clone()) {
                let total: i64 = weights.iter().sum();
                for (v, &w) in weights.iter().enumerate() {
                    out.weighted[v * n + r] = if total == 0 {
                        0.0
                    } else {
                        w as f64 / total as f64
                    };
                }
            }
            for (k, adopting) in self.at_least.chunks_exact(versions).enumerate() {
                let on: u64 = row
                    .iter()
                    .zip(adopting)
                    .map(|(&c, &adopts)| if adopts { u64::from(c) } else { 0 })
                    .sum();
                out.adoption[k * n + r] = per_installed(on, 1.0);
                out.behind[k * n + r] = installed - on;
            }
        }
    }

    /// `f` of every replication's values at each sample, in sample order. Samples are
    /// independent, so they run on every thread (one reused set of columns per task):
    /// this summary is the serial tail of a run of many replications.
    fn per_sample<T: Send>(
        &self,
        mixes: &[ReplicationMix],
        f: impl Fn(&mut SampleColumns) -> T + Sync,
    ) -> Vec<T> {
        (0..self.samples)
            .into_par_iter()
            .map_init(SampleColumns::default, |columns, j| {
                self.columns(mixes, j, columns);
                f(columns)
            })
            .collect()
    }

    /// Whether a mix (perhaps from a part file) has this shape, with weights that are
    /// non-negative and sum without overflow at every sample.
    fn fits(&self, mix: &ReplicationMix) -> bool {
        let cells = self.samples * self.versions;
        mix.counts.len() == cells
            && mix.weights.len() == if self.weighted { cells } else { 0 }
            && mix.weights.chunks(self.versions.max(1)).all(|row| {
                row.iter()
                    .try_fold(0i64, |sum, &w| {
                        (w >= 0).then(|| sum.checked_add(w)).flatten()
                    })
                    .is_some()
            })
    }
}

/// A version cell pooled over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct PooledVersion {
    share: ShareSketch,
    share_sum: ExactSum,
    weighted_share_sum: ExactSum,
    instances: u128,
    installed: u128,
}

/// An adoption cell pooled over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct PooledAdoption {
    share: ShareSketch,
    share_sum: ExactSum,
    behind: u128,
}

/// Every cell pooled: `[sample][version]` and `[sample][release]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PooledMix {
    /// Replications pooled.
    pub replications: u64,
    versions: Vec<PooledVersion>,
    adoption: Vec<PooledAdoption>,
}

impl PooledMix {
    fn empty(shape: &Shape) -> PooledMix {
        PooledMix {
            replications: 0,
            versions: vec![PooledVersion::default(); shape.samples * shape.versions],
            adoption: vec![PooledAdoption::default(); shape.samples * shape.releases],
        }
    }

    /// Adds replications, sample by sample in parallel (each cell's state depends only
    /// on the values it receives, so the split changes nothing).
    fn add(&mut self, shape: &Shape, mixes: &[ReplicationMix]) {
        self.replications += mixes.len() as u64;
        self.versions
            .par_chunks_mut(shape.versions.max(1))
            .zip(self.adoption.par_chunks_mut(shape.releases.max(1)))
            .enumerate()
            .for_each_init(
                SampleColumns::default,
                |c, (sample, (versions, adoption))| {
                    shape.columns(mixes, sample, c);
                    for (v, cell) in versions.iter_mut().enumerate() {
                        let column = c.column(v);
                        for (r, &share) in c.shares[column.clone()].iter().enumerate() {
                            cell.share.add(share);
                            cell.share_sum.add(share);
                            cell.instances += u128::from(c.counts[column.start + r]);
                            cell.installed += u128::from(c.installed[r]);
                        }
                        for &weighted in c.weighted(v) {
                            cell.weighted_share_sum.add(weighted);
                        }
                    }
                    for (k, cell) in adoption.iter_mut().enumerate() {
                        let column = c.column(k);
                        for (&share, &behind) in
                            c.adoption[column.clone()].iter().zip(&c.behind[column])
                        {
                            cell.share.add(share);
                            cell.share_sum.add(share);
                            cell.behind += u128::from(behind);
                        }
                    }
                },
            );
    }

    fn merge(&mut self, other: &PooledMix) {
        self.replications = self.replications.saturating_add(other.replications);
        for (a, b) in self.versions.iter_mut().zip(&other.versions) {
            a.share.merge(&b.share);
            a.share_sum.merge(b.share_sum);
            a.weighted_share_sum.merge(b.weighted_share_sum);
            a.instances = a.instances.saturating_add(b.instances);
            a.installed = a.installed.saturating_add(b.installed);
        }
        for (a, b) in self.adoption.iter_mut().zip(&other.adoption) {
            a.share.merge(&b.share);
            a.share_sum.merge(b.share_sum);
            a.behind = a.behind.saturating_add(b.behind);
        }
    }

    fn fits(&self, shape: &Shape) -> bool {
        self.versions.len() == shape.samples * shape.versions
            && self.adoption.len() == shape.samples * shape.releases
            && self
                .versions
                .iter()
                .all(|c| c.share.is_well_formed() && c.share.count() == self.replications)
            && self
                .adoption
                .iter()
                .all(|c| c.share.is_well_formed() && c.share.count() == self.replications)
    }
}

/// How the mixes are held: whole (in replication order) or pooled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixState {
    /// Every replication's mix, in replication order.
    Exact(Vec<ReplicationMix>),
    /// Every cell pooled.
    Pooled(Box<PooledMix>),
    /// Not kept, only counted: for commands that report no version mix (a sweep), so
    /// their part files stay small.
    Skipped(u64),
}

/// The version mix of a run's replications (kept in replication order while whole).
#[derive(Clone, Debug, PartialEq)]
pub struct MixOverReplications {
    shape: Shape,
    state: MixState,
}

/// Why a stored mix (from a part file) does not fit the scenario.
#[derive(Debug, thiserror::Error)]
#[error("a version mix does not have the scenario's shape")]
pub struct MixShapeError;

impl MixOverReplications {
    /// No replications yet, for `samples` samples of the plan's versions.
    pub fn new(plan: &VersionTable, samples: usize, weighted: bool) -> Self {
        let (versions, releases) = (plan.version_count(), plan.release_count());
        let at_least = (0..releases)
            .flat_map(|k| (0..versions).map(move |v| plan.at_least(v, k)))
            .collect();
        MixOverReplications {
            shape: Shape {
                samples,
                versions,
                releases,
                weighted,
                at_least,
            },
            state: MixState::Exact(Vec::new()),
        }
    }

    /// Replications added so far.
    pub fn replications(&self) -> u64 {
        match &self.state {
            MixState::Exact(m) => m.len() as u64,
            MixState::Pooled(p) => p.replications,
            MixState::Skipped(n) => *n,
        }
    }

    /// Forgets the mixes, keeping their count (for commands that report no mix).
    pub fn skip(&mut self) {
        self.state = MixState::Skipped(self.replications());
    }

    /// Every replication's mix in replication order, while they are kept whole.
    pub fn exact(&self) -> Option<&[ReplicationMix]> {
        match &self.state {
            MixState::Exact(mixes) => Some(mixes),
            MixState::Pooled(_) | MixState::Skipped(_) => None,
        }
    }

    /// The held form, for storing in a part file.
    pub fn state(&self) -> &MixState {
        &self.state
    }

    /// Adds replications not added before, in any order.
    pub fn add(&mut self, mixes: Vec<ReplicationMix>) {
        debug_assert!(mixes.iter().all(|m| self.shape.fits(m)));
        match &mut self.state {
            MixState::Exact(kept) if kept.len() + mixes.len() <= EXACT_REPLICATIONS => {
                kept.extend(mixes);
                kept.sort_by_key(|m| m.index);
            }
            MixState::Exact(kept) => {
                let mut pooled = PooledMix::empty(&self.shape);
                pooled.add(&self.shape, kept);
                pooled.add(&self.shape, &mixes);
                self.state = MixState::Pooled(Box::new(pooled));
            }
            MixState::Pooled(pooled) => pooled.add(&self.shape, &mixes),
            MixState::Skipped(n) => *n = n.saturating_add(mixes.len() as u64),
        }
    }

    /// Adds a stored form of replications not added before, after checking it has this
    /// run's shape.
    pub fn add_state(&mut self, state: MixState) -> Result<(), MixShapeError> {
        let nothing_yet = self.replications() == 0;
        match state {
            MixState::Skipped(n) if nothing_yet || matches!(self.state, MixState::Skipped(_)) => {
                self.state = MixState::Skipped(self.replications().saturating_add(n));
                Ok(())
            }
            _ if matches!(self.state, MixState::Skipped(_)) && !nothing_yet => Err(MixShapeError),
            MixState::Exact(mixes) if mixes.iter().all(|m| self.shape.fits(m)) => {
                self.add(mixes);
                match &self.state {
                    MixState::Exact(kept) if kept.windows(2).any(|w| w[0].index == w[1].index) => {
                        Err(MixShapeError)
                    }
                    _ => Ok(()),
                }
            }
            MixState::Pooled(other) if other.fits(&self.shape) => {
                self.pool();
                if let MixState::Pooled(pooled) = &mut self.state {
                    pooled.merge(&other);
                }
                Ok(())
            }
            _ => Err(MixShapeError),
        }
    }

    /// Adds the replications of `other` (none of them added before).
    pub fn append(&mut self, other: MixOverReplications) {
        // Same plan and grid: the shapes agree, so this cannot fail.
        let _ = self.add_state(other.state);
    }

    fn pool(&mut self) {
        if matches!(self.state, MixState::Skipped(0)) {
            self.state = MixState::Exact(Vec::new());
        }
        if let MixState::Exact(kept) = &self.state {
            let mut pooled = PooledMix::empty(&self.shape);
            pooled.add(&self.shape, kept);
            self.state = MixState::Pooled(Box::new(pooled));
        }
    }

    /// Every cell over replications, in one pass over the kept mixes; none when
    /// skipped.
    pub fn summarise(&self) -> MixSummary {
        let shape = &self.shape;
        match &self.state {
            MixState::Exact(mixes) => {
                let cells = shape.per_sample(mixes, |c| {
                    let n = c.replications as f64;
                    let installed = c.installed.iter().map(|&i| i as f64).sum::<f64>();
                    let versions: Vec<VersionCell> = (0..shape.versions)
                        .map(|v| {
                            let column = c.column(v);
                            let instances: f64 =
                                c.counts[column.clone()].iter().map(|&i| f64::from(i)).sum();
                            let mean_weighted_share = c.weighted(v).iter().sum::<f64>() / n;
                            let shares = &mut c.shares[column];
                            VersionCell {
                                mean_share: shares.iter().sum::<f64>() / n,
                                p5_share: quantile_unsorted(shares, 0.05).unwrap_or(0.0),
                                p95_share: quantile_unsorted(shares, 0.95).unwrap_or(0.0),
                                mean_instances: instances / n,
                                mean_installed: installed / n,
                                mean_weighted_share,
                            }
                        })
                        .collect();
                    let adoption: Vec<AdoptionCell> = (0..shape.releases)
                        .map(|k| {
                            let column = c.column(k);
                            let behind: f64 =
                                c.behind[column.clone()].iter().map(|&b| b as f64).sum();
                            let shares = &mut c.adoption[column];
                            let n = shares.len().max(1) as f64;
                            let mean = shares.iter().sum::<f64>() / n;
                            AdoptionCell {
                                mean,
                                p5: quantile_unsorted(shares, 0.05).unwrap_or(mean),
                                p95: quantile_unsorted(shares, 0.95).unwrap_or(mean),
                                mean_behind: behind / n,
                            }
                        })
                        .collect();
                    (versions, adoption)
                });
                let mut out = MixSummary {
                    versions: Vec::with_capacity(shape.samples * shape.versions),
                    adoption: vec![Vec::with_capacity(shape.samples); shape.releases],
                };
                for (versions, adoption) in cells {
                    out.versions.extend(versions);
                    for (release, cell) in out.adoption.iter_mut().zip(adoption) {
                        release.push(cell);
                    }
                }
                out
            }
            MixState::Pooled(p) => {
                let n = p.replications;
                let versions = p
                    .versions
                    .iter()
                    .map(|c| VersionCell {
                        mean_share: c.share_sum.mean(n),
                        p5_share: c.share.quantile(0.05).unwrap_or(0.0),
                        p95_share: c.share.quantile(0.95).unwrap_or(0.0),
                        mean_instances: c.instances as f64 / n as f64,
                        mean_installed: c.installed as f64 / n as f64,
                        mean_weighted_share: c.weighted_share_sum.mean(n),
                    })
                    .collect();
                let adoption = (0..shape.releases)
                    .map(|k| {
                        (0..shape.samples)
                            .map(|j| {
                                let c = &p.adoption[j * shape.releases + k];
                                let mean = c.share_sum.mean(n);
                                AdoptionCell {
                                    mean,
                                    p5: c.share.quantile(0.05).unwrap_or(mean),
                                    p95: c.share.quantile(0.95).unwrap_or(mean),
                                    mean_behind: c.behind as f64 / n.max(1) as f64,
                                }
                            })
                            .collect()
                    })
                    .collect();
                MixSummary { versions, adoption }
            }
            MixState::Skipped(_) => MixSummary {
                versions: Vec::new(),
                adoption: Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests;
