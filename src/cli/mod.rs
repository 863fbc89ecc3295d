//! The command line: parse, hand off to the library, print, and map errors to exit codes.
//!
//! Exit codes are a contract: 0 ok, 1 a check failed (`check`: drift or a failed
//! expectation), 2 bad input, usage or output error (clap uses 2 for usage errors too),
//! 130 interrupted.

/// `print!` that returns the error instead of panicking (a closed pipe is common:
/// `rollout-sim run ... | head -1`); the caller's `?` passes it up.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))?
    };
}

/// `println!` that returns the error instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

mod args;
mod check;
mod compare;
mod fit;
mod merge;
mod run;
mod stats;
mod sweep;
mod trace;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::CommandFactory;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use args::Cli;
use args::{
    ChartOptions, CheckArgs, Command, CompareArgs, FamilyArg, FitArgs, FitFormat, Format,
    MergeArgs, RunArgs, SimOptions, SweepArgs, TraceArgs, TraceFormat,
};

use crate::model::FigureRef;
use crate::montecarlo::{PrecisionTarget, Progress};
use crate::scenario::setting::parse_value;
use crate::scenario::{self, Overrides, Scenario, Setting, presets};
use crate::time::SimDuration;

/// Exit code for bad input, usage errors and failures to write output.
pub const EXIT_ERROR: u8 = 2;

/// Exit code of a check that found a drift or a failed expectation.
pub const EXIT_CHECK_FAILED: u8 = 1;

/// Runs a parsed command line and returns the process exit code.
pub fn execute(cli: Cli) -> ExitCode {
    // Ctrl-C and SIGTERM wait for a publication in progress, then remove the staging of
    // unfinished output: an interrupted command leaves everything as it was, except
    // outputs already published whole, which it names.
    let _ = ctrlc::set_handler(|| {
        let left = crate::report::output::interrupt();
        if left.published.is_empty() {
            eprintln!("interrupted: nothing was written or replaced");
        } else {
            let names: Vec<String> = left
                .published
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            eprintln!(
                "interrupted after publishing {} in full; nothing else was written",
                names.join(", ")
            );
        }
        std::process::exit(130);
    });
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Check(args) => match check::check(&args) {
            Ok(true) => return ExitCode::SUCCESS,
            Ok(false) => return ExitCode::from(EXIT_CHECK_FAILED),
            Err(e) => Err(e),
        },
        Command::Trace(args) => trace::trace(&args),
        Command::Fit(args) => fit::fit(&args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Init {
            file,
            platform,
            question,
        } => init(&file, platform, question),
        Command::Presets => (|| {
            out!("{}", presets::describe_all());
            Ok(())
        })(),
        Command::Schema => (|| {
            out!("{}", scenario::json_schema());
            Ok(())
        })(),
        Command::Completions { shell } => (|| {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rollout-sim", &mut buf);
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(())
        })(),
        Command::Man => (|| {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            out!("{}", String::from_utf8_lossy(&buf));
            Ok(())
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): stop quietly, as ripgrep does.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", terminal_safe(&format!("{e:#}")));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The most characters of an error message printed: the rest is cut with a count.
const MAX_MESSAGE_CHARS: usize = 2_000;

/// An error message as the terminal gets it: one line (control characters such as a
/// newline, ESC or BEL in a path or an echoed value are escaped, so they can neither
/// split the line nor drive the terminal) of at most [`MAX_MESSAGE_CHARS`] characters.
fn terminal_safe(message: &str) -> String {
    scenario::input::echo_at_most(message, MAX_MESSAGE_CHARS)
}

/// Writes to stdout, returning errors (a closed pipe) instead of panicking.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.flush()
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `init`: the starting scenario, written to a new file (never over an existing one,
/// which may be the user's) or printed with `-`.
fn init(
    file: &Path,
    platform: crate::scenario::starter::StarterPlatform,
    question: crate::scenario::starter::StarterQuestion,
) -> Result<()> {
    let text = crate::scenario::starter::starter(platform, question);
    if file == Path::new("-") {
        out!("{text}");
        return Ok(());
    }
    let mut created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                " (init never replaces an existing file; choose another name)"
            } else {
                ""
            };
            anyhow::Error::new(e).context(format!("{}: cannot create it{why}", file.display()))
        })?;
    if let Err(e) = std::io::Write::write_all(&mut created, text.as_bytes()) {
        drop(created);
        // The file is ours and half written: remove it, leave nothing behind.
        let _ = std::fs::remove_file(file);
        return Err(e).with_context(|| format!("{}: cannot write it", file.display()));
    }
    outln!(
        "wrote {}: read its \"$comment\" notes, then `rollout-sim run {}`",
        file.display(),
        file.display()
    );
    Ok(())
}

fn validate(path: &Path) -> Result<()> {
    let s = scenario::load(path, &Overrides::default())?;
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    outln!(
        "{}: ok ({} on {}, {}, {}, {})",
        path.display(),
        s.name,
        s.preset,
        plural(s.population.instances, "instance", "instances"),
        plural(s.releases.len() as u64, "release", "releases"),
        plural(u64::from(s.replications), "replication", "replications"),
    );
    Ok(())
}

/// The overrides the shared options and `--set PATH=VALUE` flags ask for.
fn overrides(sim: &SimOptions, settings: &[String]) -> Result<Overrides> {
    Ok(Overrides {
        seed: sim.seed,
        replications: sim.replications,
        instances: sim.instances,
        settings: parse_settings(settings)?,
    })
}

fn parse_settings(settings: &[String]) -> Result<Vec<Setting>> {
    settings
        .iter()
        .map(|s| {
            let (path, value) = s.split_once('=').ok_or_else(|| {
                anyhow!(
                    "--set \"{}\": expected PATH=VALUE",
                    scenario::input::echo(s)
                )
            })?;
            let value = parse_value(value).map_err(|e| anyhow!("--set {}: {e}", path.trim()))?;
            Ok(Setting::new(path.trim(), value))
        })
        .collect()
}

/// The precision target, if `--precision` was given, resolved against a scenario.
fn precision_target(sim: &SimOptions, scenario: &Scenario) -> Result<Option<PrecisionTarget>> {
    let Some(text) = &sim.precision else {
        return Ok(None);
    };
    let figure = match &sim.precision_figure {
        Some(f) => FigureRef::parse(f, &scenario.report.thresholds, scenario.releases.len())
            .map_err(|e| anyhow!("--precision-figure {e}"))?,
        None => FigureRef::last_coexistence(scenario.releases.len()),
    };
    let half_width = match figure.figure {
        crate::model::Figure::LeftBehind => text.parse::<f64>().ok().filter(|v| *v > 0.0),
        _ => SimDuration::parse(text).ok().filter(|d| !d.is_zero()).map(SimDuration::as_hours),
    }
    .ok_or_else(|| anyhow!("--precision \"{}\": expected a positive duration such as 0.5h (a number of instances for left_behind)", scenario::input::echo(text)))?;
    Ok(Some(PrecisionTarget {
        figure,
        half_width,
        batch: sim.precision_batch,
        max_replications: sim.max_replications,
    }))
}

/// A thread pool of the requested size, checked against the memory a run needs.
fn pool(
    sim: &SimOptions,
    scenarios: &[(&Path, &Scenario)],
    overrides: &Overrides,
) -> Result<rayon::ThreadPool> {
    let threads = sim.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.get(),
    );
    // Checked before any thread starts.
    for (file, s) in scenarios {
        stats::check_memory(file, s, threads, overrides)?;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")
}

/// A progress bar on stderr, drawn only when stderr is a terminal and not `--quiet`.
struct Bar(ProgressBar);

impl Bar {
    fn new(sim: &SimOptions, total: u64, what: &str) -> Bar {
        let target = if sim.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}} {{elapsed}}"
            ))
            .expect("valid template"),
        );
        Bar(bar)
    }
}

impl Progress for Bar {
    fn replication_done(&self) {
        self.0.inc(1);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The files named, each folder replaced by its files that `keep` accepts, in name order;
/// a folder with none of them is an error naming `what` it should hold.
fn expand_folders(
    paths: &[PathBuf],
    keep: impl Fn(&Path) -> bool,
    what: &str,
) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("{}: cannot list the folder", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| keep(p))
            .collect();
        if files.is_empty() {
            bail!("{}: holds no {what}", path.display());
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}
