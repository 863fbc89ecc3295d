//! Command-line arguments, validated once by clap and then passed on as typed values.

// These doc comments are the `--help` text, where backticks around figure names and
// paths would only clutter what the user reads.
#![allow(clippy::doc_markdown)]

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use rollout_sim::fit::{CalendarChoice, FamilyChoice};
use rollout_sim::shard::ShardSpec;

use super::values::{
    family_choice, parse_alpha, parse_calendar, parse_confidence, parse_constraint, parse_hours,
    parse_positive_duration_hours, parse_seed, parse_shard, parse_threads, whole_number,
};

/// How long will old and new versions of a cloud app live side by side?
#[derive(Debug, Parser)]
#[command(name = "rollout-sim", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 a check failed (drift or a failed expectation), 2 bad input, usage or output error, 130 interrupted."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    /// The subcommand to run.
    pub command: Command,
    /// When to colour help and usage messages: auto (a terminal, unless `NO_COLOR` is
    /// set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Cli {
    /// The command line of this process, its messages coloured as `--color` (and
    /// `NO_COLOR`) say: the choice has to be known before clap parses, since clap's own
    /// errors are the messages it colours.
    pub(crate) fn parse_with_color() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let mut choice = clap::ColorChoice::Auto;
        for (i, a) in args.iter().enumerate() {
            let value = match a.to_str() {
                Some("--color") => args.get(i + 1).and_then(|v| v.to_str()),
                Some(s) => s.strip_prefix("--color="),
                None => None,
            };
            choice = match value {
                Some("always") => clap::ColorChoice::Always,
                Some("never") => clap::ColorChoice::Never,
                Some("auto") => clap::ColorChoice::Auto,
                _ => choice,
            };
        }
        let matches = Cli::command().color(choice).get_matches_from(args);
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Simulate a scenario and write its reports.
    Run(RunArgs),
    /// Compare release policies: scenarios that share seed and population, paired
    /// replication by replication (common random numbers).
    Compare(CompareArgs),
    /// Run a grid over scenario values addressed by JSON path.
    Sweep(SweepArgs),
    /// Merge the part files of a sharded run or sweep into the files the unsharded
    /// command writes, byte for byte.
    Merge(MergeArgs),
    /// Check scenarios against stored baselines and their `expect` assertions (exit 1
    /// on drift).
    Check(CheckArgs),
    /// Which policy meets my date? Search candidate policies for the best one under
    /// constraints, with a guarantee on picking it (ranking and selection).
    Plan(PlanArgs),
    /// Why did this instance wait? Print one instance's timeline.
    Trace(TraceArgs),
    /// Estimate the admin profile (approve share, delay law) from the observed
    /// adoption of a past release, with 95% intervals, and write a scenario that uses it.
    Fit(FitArgs),
    /// Write a starting scenario for a platform and a question, each choice explained
    /// in a "$comment" beside it.
    Init {
        /// The file to write (`-`: standard output); never replaces an existing file.
        #[arg(default_value = "scenario.json")]
        file: PathBuf,
        /// The platform.
        #[arg(long, value_enum, default_value_t = rollout_sim::scenario::starter::StarterPlatform::Connect)]
        platform: rollout_sim::scenario::starter::StarterPlatform,
        /// The question: automatic (how long to serve the old version), approval (a
        /// change that adds scopes) or paid (free to paid).
        #[arg(long, value_enum, default_value_t = rollout_sim::scenario::starter::StarterQuestion::Automatic)]
        question: rollout_sim::scenario::starter::StarterQuestion,
    },
    /// Check a scenario file without running it.
    Validate {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// List the platform presets with their timings and sources.
    Presets,
    /// Print the JSON Schema of scenario files (editors use it to complete and check).
    Schema,
    /// Print a shell completion script, e.g. `rollout-sim completions bash`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `rollout-sim man > rollout-sim.1`.
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A human-readable table.
    Table,
    /// `report.json` on stdout.
    Json,
    /// `summary.md` on stdout: the verdict and table in Markdown.
    Markdown,
}

/// What a command draws for people beside its data files.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct ChartOptions {
    /// Write no charts and no HTML page (the data files, and summary.md for a run, only).
    #[arg(long)]
    pub no_charts: bool,
    /// Also write each chart as a PNG (1920x1080, for slides) beside its SVG.
    #[arg(long, conflicts_with = "no_charts")]
    pub png: bool,
}

/// Where a command writes its folder of files.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OutputOptions {
    /// Output directory [default: under output/, named after the scenario and the
    /// command: output/NAME, output/compare-NAME, output/sweep-NAME, output/NAME-fit,
    /// output/NAME-parts for a shard]. Replaced only when it is empty or holds
    /// rollout-sim's own output.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
    /// Replace the output directory even when it holds files rollout-sim did not write.
    #[arg(long)]
    pub force: bool,
}

/// Options shared by every command that simulates.
#[derive(Debug, clap::Args)]
pub(crate) struct SimOptions {
    /// Override the scenario's seed (0 to 2^64-1).
    #[arg(long, value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: Option<u64>,
    /// Override the number of replications (with --precision: the first batch).
    #[arg(long, value_parser = whole_number(1u64, None), allow_hyphen_values = true)]
    pub replications: Option<u64>,
    /// Override the number of instances.
    #[arg(long, value_parser = whole_number(1u64, None), allow_hyphen_values = true)]
    pub instances: Option<u64>,
    /// Worker threads, 1 to 256 [default: all cores]. Results do not depend on it.
    #[arg(long, short = 'j', value_parser = parse_threads, allow_hyphen_values = true)]
    pub threads: Option<NonZeroUsize>,
    /// Add replications until the 95% CI half-width of --precision-figure is at most
    /// this: a duration such as 0.5h (a number of instances for `left_behind`).
    #[arg(long, value_name = "HALF_WIDTH", allow_hyphen_values = true)]
    pub precision: Option<String>,
    /// The figure --precision watches: coexistence, share:P, published or `left_behind`,
    /// optionally @K for release K [default: coexistence of the last release].
    #[arg(long, value_name = "FIGURE", requires = "precision")]
    pub precision_figure: Option<String>,
    /// Replications added per step in precision mode (at least 1).
    #[arg(long, default_value_t = 100, requires = "precision", value_parser = whole_number(1u64, None), allow_hyphen_values = true)]
    pub precision_batch: u64,
    /// The most replications precision mode may run (at least 1).
    #[arg(long, default_value_t = 10_000, requires = "precision", value_parser = whole_number(1u64, None), allow_hyphen_values = true)]
    pub max_replications: u64,
    /// Print nothing on stdout or stderr unless there is an error.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub output: OutputOptions,
    /// Set a scenario value by JSON path, e.g. --set admins.casual.approve=0.7 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub settings: Vec<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print engine and phase statistics (events, events per second, peak pending
    /// events, wall time per phase, peak memory) on stderr.
    #[arg(long)]
    pub stats: bool,
    /// Also write every event of every instance as JSON Lines to `events.jsonl` in the
    /// output directory (small runs only: at most a million instance lives).
    #[arg(long)]
    pub events: bool,
    #[command(flatten)]
    pub charts: ChartOptions,
    /// Run only shard I of N (from 0) of the replications and write the part file
    /// `part-I-of-N.jsonl` into --out [default: output/<scenario name>-parts]; `merge`
    /// joins the parts. I/N, slurm (from the job array's variables) or indexed:N (from
    /// `JOB_COMPLETION_INDEX`).
    #[arg(long, value_name = "I/N|slurm|indexed:N", value_parser = parse_shard, allow_hyphen_values = true)]
    pub shard: Option<ShardSpec>,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    /// The baseline scenario, then one or more alternatives.
    #[arg(num_args = 2.., required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Which releases are the same, as BASELINE=ALTERNATIVE release indices (such as
    /// 0=1,1=2), when labels do not say; once for every alternative, or once per
    /// alternative in order.
    #[arg(long, value_name = "B=A,...", value_parser = rollout_sim::compare::parse_pairs)]
    pub pair: Vec<Vec<(usize, usize)>>,
    #[command(flatten)]
    pub output: OutputOptions,
    #[command(flatten)]
    pub charts: ChartOptions,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SweepArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// An axis of the grid: PATH=V1,V2,... (repeatable; the first varies slowest).
    #[arg(long = "set", value_name = "PATH=V1,V2")]
    pub axes: Vec<String>,
    /// A sweep file with the axes: {"axes": [{"path": ..., "values": [...]}]}.
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputOptions,
    #[command(flatten)]
    pub charts: ChartOptions,
    /// Run only shard I of N (from 0) of the grid points x replications and write the
    /// part file `part-I-of-N.jsonl` into --out [default: output/sweep-<scenario
    /// name>-parts]; `merge` joins the parts. I/N, slurm or indexed:N.
    #[arg(long, value_name = "I/N|slurm|indexed:N", value_parser = parse_shard, allow_hyphen_values = true)]
    pub shard: Option<ShardSpec>,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// Part files, or folders whose part-*-of-*.jsonl files are all merged.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputOptions,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub charts: ChartOptions,
    /// Print nothing on stdout or stderr unless there is an error.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Scenario files, or folders whose `*.json` scenarios are all checked.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// The folder of baselines (`<scenario name>.json`).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Run each scenario and write its baseline instead of comparing.
    #[arg(long, requires = "baseline")]
    pub update: bool,
    /// Fail on any fingerprint change, not only on statistical drift.
    #[arg(long)]
    pub exact: bool,
    /// Family-wise error rate over every figure of every scenario (Holm).
    #[arg(long, default_value_t = 0.001, value_parser = parse_alpha, allow_hyphen_values = true)]
    pub alpha: f64,
    /// Write a GitHub-flavoured Markdown summary to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a `JUnit` XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a chart of every drifted figure (baseline against the new run, replication
    /// by replication) into this folder.
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
    /// Replace an existing --markdown, --junit, baseline or --charts target even when
    /// rollout-sim did not write it (or it was changed since). Without it, only files
    /// that carry rollout-sim's unchanged seal, and folders of its own, are replaced.
    #[arg(long)]
    pub force: bool,
    /// Set a scenario value by JSON path in every scenario checked (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub settings: Vec<String>,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("goal").required(true).args(["minimize", "maximize"])))]
pub(crate) struct PlanArgs {
    /// The scenario file (JSON) the candidates vary.
    pub scenario: PathBuf,
    /// A decision variable: PATH=V1,V2,... or PATH=LO..HI/STEP of numbers, durations or
    /// RFC 3339 instants (repeatable; the first varies slowest), e.g. --vary
    /// policy.drop_old_support_after=14d..28d/7d or --vary
    /// 'releases[0].at=2027-01-04T09:00:00Z..2027-01-08T09:00:00Z/1d'.
    #[arg(long, value_name = "PATH=VALUES", required_unless_present = "file")]
    pub vary: Vec<String>,
    /// A plan file with more variables: {"axes": [{"path": ..., "values": [...],
    /// "names": [...]}]}; names label values such as whole release lists (variants).
    #[arg(long, value_name = "PLAN.json")]
    pub file: Option<PathBuf>,
    /// The figure to minimise, in check's vocabulary: coexistence@K, share:P@K,
    /// published@K, left_behind@K, left_over@K, left_over_share@K.
    #[arg(long, value_name = "FIGURE")]
    pub minimize: Option<String>,
    /// The figure to maximise.
    #[arg(long, value_name = "FIGURE")]
    pub maximize: Option<String>,
    /// A constraint: 'FIGURE [mean|p5|p50|p95|max] <= VALUE' (or >=), e.g.
    /// 'left_behind@1 <= 50' or 'coexistence@1 p95 <= 30d' (repeatable).
    #[arg(long = "subject-to", value_name = "CONSTRAINT", value_parser = parse_constraint)]
    pub subject_to: Vec<rollout_sim::plan::Constraint>,
    /// The indifference zone: differences smaller than this do not matter (a duration
    /// such as 2h for a time, a number for a count).
    #[arg(long, value_name = "DELTA")]
    pub delta: String,
    /// The probability that the choice is within --delta of the best, and of each
    /// constraint verdict.
    #[arg(long, default_value_t = 0.95, value_parser = parse_confidence, allow_hyphen_values = true)]
    pub confidence: f64,
    /// Replications every candidate runs first (at least 5).
    #[arg(long, default_value_t = 20, value_parser = whole_number(5u64, Some(100_000)), allow_hyphen_values = true)]
    pub first_stage: u64,
    /// Replications added per stage to every candidate still in.
    #[arg(long, default_value_t = 10, value_parser = whole_number(1u64, Some(100_000)), allow_hyphen_values = true)]
    pub stage: u64,
    /// The most replications one candidate may run.
    #[arg(long, default_value_t = 2_000, value_parser = whole_number(5u64, Some(1_000_000)), allow_hyphen_values = true)]
    pub max_per_candidate: u64,
    #[command(flatten)]
    pub output: OutputOptions,
    #[command(flatten)]
    pub charts: ChartOptions,
    /// Run only shard I of N (from 0) of the first stage not yet complete in --parts
    /// (its candidates x replications) and write stage-S/part-I-of-N.jsonl there. Run
    /// the array once per stage; exit 0 each time. I/N, slurm or indexed:N.
    #[arg(long, value_name = "I/N|slurm|indexed:N", value_parser = parse_shard, allow_hyphen_values = true)]
    pub shard: Option<ShardSpec>,
    /// The parts folder of a sharded plan [with --shard, default:
    /// output/plan-<scenario name>-parts]. Without --shard: publish the plan from its
    /// parts, or exit 3 naming the stage still to run.
    #[arg(long, value_name = "DIR")]
    pub parts: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimOptions,
}

/// What `fit` prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FitFormat {
    /// A human-readable table.
    Table,
    /// `fit.json` on stdout.
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct FitArgs {
    /// The scenario describing the past release as it happened (platform, timing, start,
    /// releases, population and segments).
    pub scenario: PathBuf,
    /// The observed adoption: a CSV per instance (`instance,hours,updated[,segment]`) or
    /// aggregate (`hours,share[,instances]`).
    /// Several files (repeat the flag): past releases fitted jointly, one per --release.
    #[arg(long, value_name = "FILE", required_unless_present = "from_events")]
    pub observed: Vec<PathBuf>,
    /// Build the per-instance CSV from a run's `events.jsonl` (`run --events`) instead,
    /// write it as `observed.csv` beside the fit, and fit it.
    #[arg(long, value_name = "EVENTS", conflicts_with = "observed")]
    pub from_events: Option<PathBuf>,
    /// With --from-events: the replication whose events are the observations.
    #[arg(long, default_value_t = 0, requires = "from_events", value_parser = whole_number(0u64, None), allow_hyphen_values = true)]
    pub replication: u64,
    /// With --from-events: observe as a vendor polling every installation's version
    /// every DURATION (e.g. 1d) would, and fit those snapshots (interval-censored);
    /// observed.csv is then in the snapshot form.
    #[arg(long, value_name = "DURATION", requires = "from_events", value_parser = parse_positive_duration_hours)]
    pub snapshots_every: Option<f64>,
    /// The release's version as the snapshot or upgrade-event data write it (a version
    /// at least this is an update) [default: the scenario's version for the release].
    #[arg(long, value_name = "VERSION")]
    pub new_version: Option<String>,
    /// With --from-events: stop observing this many hours after the deploy.
    #[arg(long, value_name = "HOURS", requires = "from_events", value_parser = parse_hours, allow_hyphen_values = true)]
    pub until: Option<f64>,
    /// The release observed, by index (default: the first that needs approval); repeat
    /// it to fit several past releases jointly (with --observed, one per file, in order).
    #[arg(long, value_parser = whole_number(0usize, None), allow_hyphen_values = true)]
    pub release: Vec<usize>,
    /// The delay family.
    #[arg(long, default_value = "auto", value_parser = family_choice())]
    pub family: FamilyChoice,
    /// Whether the admins count their delay in working hours (in each segment's zones,
    /// skipping its holidays): `auto` lets the data choose hours and between them and
    /// wall-clock time by AIC; `none` is wall-clock time; or the hours, e.g.
    /// "mon-fri 09:00-17:00".
    #[arg(long, value_name = "HOURS", default_value = "auto", value_parser = parse_calendar)]
    pub working_hours: CalendarChoice,
    /// Hours after the deploy at which the Marketplace published the version, when known
    /// from its version history (otherwise integrated over the model's draw).
    #[arg(long, value_name = "HOURS", value_parser = parse_hours, allow_hyphen_values = true)]
    pub published_at: Option<f64>,
    /// The field size of aggregate data without an `instances` column.
    #[arg(long, value_parser = whole_number(1u64, Some(10_000_000)), allow_hyphen_values = true)]
    pub instances: Option<u64>,
    /// Seed of the goodness-of-fit bootstrap and the parameter draws (default: the
    /// scenario's seed).
    #[arg(long, value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: Option<u64>,
    /// Bootstrap data sets behind the goodness-of-fit p-value (0: no p-value).
    #[arg(long, default_value_t = 99, value_parser = whole_number(0u32, Some(10_000)), allow_hyphen_values = true)]
    pub bootstrap: u32,
    /// Parameter draws from the fit's uncertainty written into the fitted scenario (each
    /// replication runs with its own, so its bands are predictive); 0: point estimates.
    #[arg(long, default_value_t = 200, value_parser = whole_number(0usize, Some(10_000)), allow_hyphen_values = true)]
    pub draws: usize,
    #[command(flatten)]
    pub output: OutputOptions,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = FitFormat::Table)]
    pub format: FitFormat,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_parser = parse_threads, allow_hyphen_values = true)]
    pub threads: Option<NonZeroUsize>,
    #[command(flatten)]
    pub charts: ChartOptions,
    /// Print nothing on stdout.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TraceFormat {
    /// A timeline with local times and the rule behind each event.
    Text,
    /// The event records, one JSON object per line (as `run --events` writes them).
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TraceArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// The instance to trace (0-based).
    #[arg(long, value_parser = whole_number(0u64, None), allow_hyphen_values = true)]
    pub instance: u64,
    /// The replication (0-based).
    #[arg(long, default_value_t = 0, value_parser = whole_number(0u64, None), allow_hyphen_values = true)]
    pub replication: u64,
    /// Override the scenario's seed (0 to 2^64-1).
    #[arg(long, value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: Option<u64>,
    /// Set a scenario value by JSON path (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub settings: Vec<String>,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
}
