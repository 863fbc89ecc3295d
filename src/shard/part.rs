//! The part file: what one shard ran, streamed to disk one grid point at a time and
//! read back with its size and checksum checked.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Shard, ShardError};
use crate::fingerprint::{self, sha256_hex};
use crate::input::{self, canonical_json};
use crate::model::mix::MixState;
use crate::model::{ReleaseFigures, ReplicationResult};
use crate::montecarlo::RunOutput;
use crate::scenario::{Overrides, Setting};
use crate::stats::LatencyHistogram;
use crate::sweep::Axis;
use crate::time::{SimDuration, SimTime};

/// The first key of every part file's header.
pub(super) const PART_FORMAT: &str = "rollout-sim part";

/// The version of the part file format.
pub(super) const PART_SCHEMA: u32 = 3;

/// Which command a part belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartCommand {
    /// `rollout-sim run`.
    Run,
    /// `rollout-sim sweep`.
    Sweep,
    /// A stage of `rollout-sim plan`.
    Plan,
}

/// Everything needed to rebuild the scenarios of a job without its files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Job {
    /// The scenario file as given on the command line (for messages).
    pub scenario_file: String,
    /// The scenario file's text.
    pub scenario_text: String,
    /// `--seed`, if given.
    pub seed: Option<u64>,
    /// `--replications`, if given.
    pub replications: Option<u64>,
    /// `--instances`, if given.
    pub instances: Option<u64>,
    /// `--set PATH=VALUE`, in order.
    pub settings: Vec<(String, Value)>,
    /// A sweep's or plan's axes (path, values), in order; empty for a run.
    pub axes: Vec<(String, Vec<Value>)>,
    /// A plan's goal, constraints and budget, which decide each stage's work (absent for
    /// a run or sweep, so their parts' job hashes stay as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Value>,
}

impl Job {
    /// The job of `scenario_file` (whose text is `scenario_text`) under `overrides`, with
    /// a sweep's `axes`.
    pub(crate) fn new(
        scenario_file: &Path,
        scenario_text: String,
        overrides: &Overrides,
        axes: &[Axis],
    ) -> Job {
        Job {
            scenario_file: scenario_file.display().to_string(),
            scenario_text,
            seed: overrides.seed,
            replications: overrides.replications,
            instances: overrides.instances,
            settings: overrides
                .settings
                .iter()
                .map(|s| (s.path.clone(), s.value.clone()))
                .collect(),
            axes: axes
                .iter()
                .map(|a| (a.path.clone(), a.values.clone()))
                .collect(),
            plan: None,
        }
    }

    /// The overrides the job ran with.
    pub(crate) fn overrides(&self) -> Overrides {
        Overrides {
            seed: self.seed,
            replications: self.replications,
            instances: self.instances,
            settings: self
                .settings
                .iter()
                .map(|(p, v)| Setting::new(p.clone(), v.clone()))
                .collect(),
        }
    }

    /// The sweep's axes.
    pub(crate) fn axes(&self) -> Vec<Axis> {
        self.axes
            .iter()
            .map(|(path, values)| Axis {
                path: path.clone(),
                values: values.clone(),
                // Names only label a plan's candidates; a sweep's parts need none.
                names: Vec::new(),
            })
            .collect()
    }

    /// SHA-256 of the scenario file's canonical JSON (as baselines fingerprint it).
    pub(crate) fn scenario_sha256(&self) -> String {
        let canonical = input::parse_json(&self.scenario_text)
            .map_or_else(|_| self.scenario_text.clone(), canonical_json);
        sha256_hex(canonical.as_bytes())
    }

    /// SHA-256 of the whole job: the scenario and every override and axis.
    pub(crate) fn sha256(&self) -> String {
        let mut job = self.clone();
        job.scenario_text = self.scenario_sha256();
        job.scenario_file = String::new();
        sha256_hex(
            serde_json::to_string(&job)
                .expect("a job serialises")
                .as_bytes(),
        )
    }
}

/// The header line of a part file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PartHeader {
    /// Always [`PART_FORMAT`].
    pub format: String,
    /// [`PART_SCHEMA`].
    pub schema_version: u32,
    /// The rollout-sim version that wrote the part.
    pub tool_version: String,
    /// The command sharded.
    pub command: PartCommand,
    /// The scenario's name.
    pub scenario: String,
    /// SHA-256 of the scenario file's canonical JSON.
    pub scenario_sha256: String,
    /// SHA-256 of the job (scenario, overrides, axes).
    pub job_sha256: String,
    /// The run's seed (the scenario's, or `--seed`).
    pub seed: u64,
    /// Which shard.
    pub shard: Shard,
    /// For a plan, the stage of the selection the part ran (from 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<u64>,
    /// Work items in the whole job (a plan's: in the stage).
    pub total_items: u64,
    /// The block of work items this part holds.
    pub items: [u64; 2],
    /// Bytes after the header line.
    pub payload_bytes: u64,
    /// SHA-256 of the bytes after the header line.
    pub payload_sha256: String,
}

/// One grid point's share of a part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PointPart {
    /// The grid point (0 for a run; for a plan's stage, the index in the stage's work).
    pub point: usize,
    /// The replications this part ran at the point, in index order.
    pub replications: Vec<ReplicationPart>,
    /// Per release, the latency histogram of those replications.
    pub latency: Vec<HistogramPart>,
    /// Their version mix: whole, or pooled beyond `EXACT_REPLICATIONS`.
    pub mix: MixState,
}

/// A replication's result as a part file stores it (times in milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationPart {
    /// The replication's index.
    pub index: u64,
    /// Per release: publication time.
    pub published_ms: Vec<i64>,
    /// Per release: its figures.
    pub releases: Vec<FiguresPart>,
    /// Instances below the cut-off version at the cut-off.
    pub cutoff_affected: Option<u64>,
    /// Events processed.
    pub events: u64,
    /// Most events pending at once.
    pub peak_pending: usize,
    /// Per release: latency at the kept quantiles.
    pub latency_quantiles_ms: Vec<[Option<i64>; 2]>,
}

/// One release's figures in one replication (durations in milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiguresPart {
    /// [`ReleaseFigures::published_after`].
    pub published_after_ms: Option<i64>,
    /// [`ReleaseFigures::time_to_share`].
    pub time_to_share_ms: Vec<Option<i64>>,
    /// [`ReleaseFigures::time_to_weighted_share`].
    pub time_to_weighted_share_ms: Vec<Option<i64>>,
    /// [`ReleaseFigures::coexistence`].
    pub coexistence_ms: Option<i64>,
    /// [`ReleaseFigures::left_behind`].
    pub left_behind: Option<u64>,
    /// [`ReleaseFigures::left_over`].
    pub left_over: u64,
    /// [`ReleaseFigures::active_at_horizon`].
    pub active_at_horizon: u64,
}

/// A latency histogram's counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramPart {
    /// Updates per bin.
    pub events: Vec<u64>,
    /// Censorings per bin.
    pub censored: Vec<u64>,
    /// The longest latency, in milliseconds.
    pub max_event_ms: Option<i64>,
}

fn ms(d: Option<SimDuration>) -> Option<i64> {
    d.map(SimDuration::as_millis)
}

fn dur(ms: Option<i64>) -> Option<SimDuration> {
    ms.map(SimDuration::from_millis)
}

impl From<&ReplicationResult> for ReplicationPart {
    fn from(r: &ReplicationResult) -> Self {
        ReplicationPart {
            index: r.index,
            published_ms: r.published.iter().map(|t| t.as_millis()).collect(),
            releases: r
                .releases
                .iter()
                .map(|f| FiguresPart {
                    published_after_ms: ms(f.published_after),
                    time_to_share_ms: f.time_to_share.iter().map(|d| ms(*d)).collect(),
                    time_to_weighted_share_ms: f
                        .time_to_weighted_share
                        .iter()
                        .map(|d| ms(*d))
                        .collect(),
                    coexistence_ms: ms(f.coexistence),
                    left_behind: f.left_behind,
                    left_over: f.left_over,
                    active_at_horizon: f.active_at_horizon,
                })
                .collect(),
            cutoff_affected: r.cutoff_affected,
            events: r.events,
            peak_pending: r.peak_pending,
            latency_quantiles_ms: r.latency_quantiles.iter().map(|q| q.map(ms)).collect(),
        }
    }
}

impl From<ReplicationPart> for ReplicationResult {
    fn from(r: ReplicationPart) -> Self {
        ReplicationResult {
            index: r.index,
            published: r
                .published_ms
                .into_iter()
                .map(SimTime::from_millis)
                .collect(),
            releases: r
                .releases
                .into_iter()
                .map(|f| ReleaseFigures {
                    published_after: dur(f.published_after_ms),
                    time_to_share: f.time_to_share_ms.into_iter().map(dur).collect(),
                    time_to_weighted_share: f
                        .time_to_weighted_share_ms
                        .into_iter()
                        .map(dur)
                        .collect(),
                    coexistence: dur(f.coexistence_ms),
                    left_behind: f.left_behind,
                    left_over: f.left_over,
                    active_at_horizon: f.active_at_horizon,
                })
                .collect(),
            cutoff_affected: r.cutoff_affected,
            events: r.events,
            peak_pending: r.peak_pending,
            latency_quantiles: r
                .latency_quantiles_ms
                .into_iter()
                .map(|q| q.map(dur))
                .collect(),
        }
    }
}

impl From<&LatencyHistogram> for HistogramPart {
    fn from(h: &LatencyHistogram) -> Self {
        let (events, censored, max_event) = h.counts();
        HistogramPart {
            events: events.to_vec(),
            censored: censored.to_vec(),
            max_event_ms: ms(max_event),
        }
    }
}

impl From<HistogramPart> for LatencyHistogram {
    fn from(h: HistogramPart) -> Self {
        LatencyHistogram::from_counts(h.events, h.censored, dur(h.max_event_ms))
    }
}

impl PointPart {
    /// The share of a run output that ran at grid point `point`.
    pub(crate) fn of(point: usize, run: &RunOutput) -> PointPart {
        PointPart {
            point,
            replications: run.replications.iter().map(ReplicationPart::from).collect(),
            latency: run.latency.iter().map(HistogramPart::from).collect(),
            mix: run.mix.state().clone(),
        }
    }
}

impl PartHeader {
    /// The header of shard `shard` of `job`: scenario `scenario` seeded `seed`, whose
    /// block of the `total_items` work items the part holds. [`PartWriter::finish`]
    /// fills in the size and checksum.
    pub(crate) fn new(
        command: PartCommand,
        scenario: &str,
        seed: u64,
        shard: Shard,
        total_items: u64,
        job: &Job,
    ) -> PartHeader {
        let items = shard.range(total_items);
        PartHeader {
            format: PART_FORMAT.to_string(),
            schema_version: PART_SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            command,
            scenario: scenario.to_string(),
            scenario_sha256: job.scenario_sha256(),
            job_sha256: job.sha256(),
            seed,
            shard,
            stage: None,
            total_items,
            items: [items.start, items.end],
            payload_bytes: 0,
            payload_sha256: String::new(),
        }
    }
}

/// The width of the header line, newline included: the header is written padded to it
/// first and rewritten in place at the end, once the size and checksum of what follows
/// are known, so a part streams to disk one grid point at a time.
const HEADER_WIDTH: usize = 4096;

/// A part file being written.
pub(crate) struct PartWriter<'a, W: Write + Seek> {
    out: &'a mut W,
    header: PartHeader,
    hasher: Sha256,
    bytes: u64,
}

impl<'a, W: Write + Seek> PartWriter<'a, W> {
    /// Writes a placeholder header and the job line.
    pub(crate) fn start(out: &'a mut W, header: PartHeader, job: &Job) -> std::io::Result<Self> {
        out.write_all(&[b' '; HEADER_WIDTH - 1])?;
        out.write_all(b"\n")?;
        let mut writer = PartWriter {
            out,
            header,
            hasher: Sha256::new(),
            bytes: 0,
        };
        writer.line(job)?;
        Ok(writer)
    }

    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.hasher.update(&line);
        self.bytes += line.len() as u64;
        self.out.write_all(&line)
    }

    /// Writes one grid point's share.
    pub(crate) fn point(&mut self, point: &PointPart) -> std::io::Result<()> {
        self.line(point)
    }

    /// Rewrites the header with the size and checksum of everything after it.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        self.header.payload_bytes = self.bytes;
        self.header.payload_sha256 = fingerprint::hex(&self.hasher.finalize());
        let mut line = serde_json::to_vec(&self.header).map_err(std::io::Error::other)?;
        if line.len() >= HEADER_WIDTH {
            return Err(std::io::Error::other("a part header outgrew its line"));
        }
        line.resize(HEADER_WIDTH - 1, b' ');
        line.push(b'\n');
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&line)?;
        self.out.seek(SeekFrom::End(0))?;
        Ok(())
    }
}

/// The longest header line read: far above any real header (a few hundred bytes).
const MAX_HEADER_BYTES: u64 = 1 << 16;

/// Whether `path` is a whole part file exactly as rollout-sim wrote it: a header of this
/// format, the payload size it states, and the payload's SHA-256 it states (streamed, so
/// parts of any size are checked). Only such a file is ever replaced by a shard's rerun:
/// a file that merely starts like a part is not proof.
pub(crate) fn is_part_file(path: &Path) -> bool {
    let Ok(mut reader) = PartReader::open(path) else {
        return false;
    };
    loop {
        match reader.next_point_line() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// A part file being read: its header and job are read (and checked) on opening, its
/// grid points one at a time, and its checksum once the last is read.
pub(crate) struct PartReader {
    path: PathBuf,
    header: PartHeader,
    job: Job,
    reader: BufReader<File>,
    hasher: Sha256,
    line: Vec<u8>,
}

impl PartReader {
    /// Opens a part file and reads its header and job line. Refuses anything that is not
    /// a regular file holding a part of this format, whose size the header states.
    pub(crate) fn open(path: &Path) -> Result<PartReader, ShardError> {
        let bad = |message: String| ShardError::BadPart {
            path: path.to_path_buf(),
            message,
        };
        let io = |e: std::io::Error| bad(format!("cannot read the part: {e}"));
        let not_regular = || {
            bad("is not a regular file; parts are the part-I-of-N.jsonl files shards write".into())
        };
        let file = crate::input::open_regular(path).map_err(|e| match e {
            crate::input::InputError::Io(e) => io(e),
            _ => not_regular(),
        })?;
        let meta = file.metadata().map_err(io)?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        (&mut reader)
            .take(MAX_HEADER_BYTES)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if line.pop() != Some(b'\n') {
            return Err(bad("is not a part file: no header line".into()));
        }
        let header: PartHeader = serde_json::from_slice(&line)
            .map_err(|e| bad(format!("is not a part file: its header is not valid ({e})")))?;
        if header.format != PART_FORMAT {
            return Err(bad(format!(
                "is not a part file (format {:?})",
                header.format
            )));
        }
        if header.schema_version != PART_SCHEMA {
            return Err(bad(format!(
                "has part format {} but this rollout-sim reads {PART_SCHEMA}",
                header.schema_version
            )));
        }
        let shard = header.shard;
        if !(1..=super::MAX_SHARDS).contains(&shard.count) || shard.index >= shard.count {
            return Err(bad(format!(
                "is not a whole, unaltered part: its header names shard {} of {}, which is not a shard (I from 0 to N-1, N from 1 to {})",
                shard.index,
                shard.count,
                super::MAX_SHARDS
            )));
        }
        let payload_bytes = meta.len().saturating_sub(line.len() as u64 + 1);
        if payload_bytes != header.payload_bytes {
            return Err(bad(format!(
                "is truncated or extended: it holds {payload_bytes} bytes after the header, the header says {}",
                header.payload_bytes
            )));
        }
        let mut part = PartReader {
            path: path.to_path_buf(),
            header,
            job: Job::default(),
            reader,
            hasher: Sha256::new(),
            line,
        };
        part.job = match part.next_line()? {
            Some(line) => serde_json::from_slice(line)
                .map_err(|e| part.corrupt(&format!("its job line is not valid ({e})")))?,
            None => return Err(part.corrupt("it has no job line")),
        };
        if part.job.sha256() != part.header.job_sha256 {
            return Err(part.corrupt("its job does not match the header"));
        }
        Ok(part)
    }

    /// The part's header.
    pub(crate) fn header(&self) -> &PartHeader {
        &self.header
    }

    /// The job the part belongs to.
    pub(crate) fn job(&self) -> &Job {
        &self.job
    }

    /// Where the part was read.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn corrupt(&self, message: &str) -> ShardError {
        ShardError::BadPart {
            path: self.path.clone(),
            message: format!("is corrupt: {message}"),
        }
    }

    /// The next line after the header (newline dropped), hashed; `None` at the end.
    fn next_line(&mut self) -> Result<Option<&[u8]>, ShardError> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| self.corrupt(&format!("cannot read it: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.hasher.update(&self.line);
        if self.line.pop() != Some(b'\n') {
            return Err(self.corrupt("its last line is cut short"));
        }
        Ok(Some(&self.line))
    }

    /// The next grid point's line, unparsed (so several can be parsed at once); at the
    /// end, `None` once the checksum holds.
    pub(super) fn next_point_line(&mut self) -> Result<Option<Vec<u8>>, ShardError> {
        match self.next_line()? {
            // The buffer itself is handed over (a grid point's line is tens of MB): no
            // copy, and no reader keeps a line's worth of memory once it is read.
            Some(_) => Ok(Some(std::mem::take(&mut self.line))),
            None => {
                let digest = fingerprint::hex(&std::mem::take(&mut self.hasher).finalize());
                if digest != self.header.payload_sha256 {
                    return Err(
                        self.corrupt("its content does not match its SHA-256 in the header")
                    );
                }
                Ok(None)
            }
        }
    }
}
