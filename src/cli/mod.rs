//! The command line: parse, hand off to the library, print, and map errors to exit codes.
//!
//! Exit codes are a contract: 0 ok, 1 a check failed (`check`: drift or a failed
//! expectation), 2 bad input, usage or output error (clap uses 2 for usage errors too),
//! 3 pending (`plan --parts`: a stage of a sharded plan has not run in full yet; run its
//! shards and publish again), 130 interrupted.

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
mod options;
mod progress;
mod values;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::CommandFactory;

pub(crate) use args::Cli;
use args::{
    CheckArgs, Command, CompareArgs, FitArgs, FitFormat, Format, MergeArgs, PlanArgs, RunArgs,
    SweepArgs, TraceArgs, TraceFormat,
};
use progress::Bar;
use rollout_sim::commands;
use rollout_sim::commands::check::CheckOutcome;
use rollout_sim::commands::merge::{Merged, PartSet};
use rollout_sim::commands::plan::PlanOutcome;
use rollout_sim::commands::run::{PublishedRun, RunOutcome};
use rollout_sim::commands::sweep::{PublishedSweep, SweepOutcome};
use rollout_sim::export::comparison::render_comparison_table;
use rollout_sim::export::events::write_json_lines;
use rollout_sim::export::fit::render_fit_table;
use rollout_sim::export::sweep::{SweepJson, render_sweep_table};
use rollout_sim::export::{self, JsonReport, SummaryMarkdown, precision_line, render_table};
use rollout_sim::report::comparison::comparison_verdicts;
use rollout_sim::scenario::starter::{StarterPlatform, StarterQuestion};
use rollout_sim::scenario::{self, presets};
use rollout_sim::shard::PartCommand;
use rollout_sim::shard::PartWritten;

/// Exit code for bad input, usage errors and failures to write output.
pub(crate) const EXIT_ERROR: u8 = 2;

/// How a command that can end in more than success or error ended: the exit codes
/// (0 ok, 1 a check failed, 2 error, 3 pending) are a documented contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Finished {
    /// Everything asked for was done: exit 0.
    Done,
    /// A check found a drift or a failed expectation: exit 1.
    CheckFailed,
    /// `plan --parts` while a stage still needs shards to run: not an error, a batch
    /// driver's signal to run the array again: exit 3.
    Pending,
}

impl From<Finished> for ExitCode {
    fn from(finished: Finished) -> ExitCode {
        match finished {
            Finished::Done => ExitCode::SUCCESS,
            Finished::CheckFailed => ExitCode::from(1),
            Finished::Pending => ExitCode::from(3),
        }
    }
}

/// Runs a parsed command line and returns the process exit code.
pub(crate) fn execute(cli: Cli) -> ExitCode {
    // Ctrl-C and SIGTERM wait for a publication in progress, then remove the staging of
    // unfinished output: an interrupted command leaves everything as it was, except
    // outputs already published whole, which it names.
    let _ = ctrlc::set_handler(|| {
        let left = rollout_sim::output::interrupt();
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
        Command::Run(args) => run(&args),
        Command::Compare(args) => compare(&args),
        Command::Sweep(args) => sweep(&args),
        Command::Merge(args) => merge(&args),
        Command::Check(args) => match check(&args) {
            Ok(finished) => return finished.into(),
            Err(e) => Err(e),
        },
        Command::Plan(args) => match plan(&args) {
            Ok(finished) => return finished.into(),
            Err(e) => Err(e),
        },
        Command::Trace(args) => trace(&args),
        Command::Fit(args) => fit(&args),
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
    rollout_sim::input::echo_at_most(message, MAX_MESSAGE_CHARS)
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

/// What a finished shard prints: its part file and the next step.
fn print_part(part: &PartWritten) -> Result<()> {
    outln!(
        "wrote {}; when every shard has run: rollout-sim merge {}",
        part.file.display(),
        part.folder.display()
    );
    Ok(())
}

fn print_run(run: &PublishedRun, format: Format) -> Result<()> {
    match format {
        Format::Table => {
            out!("{}", render_table(&run.report));
            outln!("\nfull results: {}", run.folder.display());
        }
        Format::Json => out!("{}", export::render(&JsonReport, &run.report)?),
        Format::Markdown => out!("{}", export::render(&SummaryMarkdown, &run.report)?),
    }
    Ok(())
}

fn print_sweep(sweep: &PublishedSweep, format: Format) -> Result<()> {
    match format {
        Format::Table => {
            out!("{}", render_sweep_table(&sweep.report));
            outln!("\nfull results: {}", sweep.folder.display());
        }
        Format::Json => out!("{}", export::render(&SweepJson, &sweep.report)?),
        Format::Markdown => out!("{}", render_sweep_table(&sweep.report)),
    }
    Ok(())
}

fn run(args: &RunArgs) -> Result<()> {
    let bar = Bar::new(args.sim.quiet);
    let outcome = commands::run::run(&args.options()?, &bar)?;
    drop(bar);
    match outcome {
        RunOutcome::Part(part) if !args.sim.quiet => print_part(&part),
        RunOutcome::Published(run) => {
            if let Some(stats) = &run.stats {
                eprint!("{stats}");
            }
            if args.sim.quiet {
                return Ok(());
            }
            print_run(&run, args.format)
        }
        RunOutcome::Part(_) => Ok(()),
    }
}

fn compare(args: &CompareArgs) -> Result<()> {
    let bar = Bar::new(args.sim.quiet);
    let compared = commands::compare::compare(&args.options()?, &bar)?;
    drop(bar);
    if args.sim.quiet {
        return Ok(());
    }
    let report = &compared.report;
    for verdict in comparison_verdicts(report) {
        outln!("{verdict}");
    }
    outln!("");
    out!("{}", render_comparison_table(report));
    if let Some(p) = &report.precision {
        outln!("\n{}", precision_line(p));
    }
    outln!("\nfull results: {}", compared.folder.display());
    Ok(())
}

fn sweep(args: &SweepArgs) -> Result<()> {
    let bar = Bar::new(args.sim.quiet);
    let outcome = commands::sweep::sweep(&args.options()?, &bar)?;
    drop(bar);
    match outcome {
        _ if args.sim.quiet => Ok(()),
        SweepOutcome::Part(part) => print_part(&part),
        SweepOutcome::Published(sweep) => print_sweep(&sweep, Format::Table),
    }
}

fn merge(args: &MergeArgs) -> Result<()> {
    let parts = PartSet::open(&args.parts)?;
    if parts.command() == PartCommand::Sweep && args.format == Format::Markdown {
        bail!(
            "--format markdown is for runs; a sweep prints its table or, with --format json, sweep.json"
        );
    }
    let merged = parts.publish(&args.output.destination(args.charts))?;
    match merged {
        _ if args.quiet => Ok(()),
        Merged::Run(run) => print_run(&run, args.format),
        Merged::Sweep(sweep) => print_sweep(&sweep, args.format),
    }
}

/// `check`: done when every scenario is identical or equivalent and every expectation
/// holds, failed on drift, `Err` when something could not be checked.
fn check(args: &CheckArgs) -> Result<Finished> {
    let bar = Bar::new(args.sim.quiet);
    let outcome = commands::check::check(&args.options()?, &bar)?;
    drop(bar);
    let report = match outcome {
        CheckOutcome::Updated(updated) => {
            if !args.sim.quiet {
                for (path, target) in updated {
                    outln!(
                        "{}: baseline written to {}",
                        path.display(),
                        target.display()
                    );
                }
            }
            return Ok(Finished::Done);
        }
        CheckOutcome::Checked(report) => report,
    };
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        out!("{}", report.github_annotations());
    }
    if !args.sim.quiet {
        outln!("{}", report.table().trim_end());
    }
    if let Some(errors) = report.errors() {
        bail!("{errors}");
    }
    Ok(if report.counts().0 == 0 {
        Finished::Done
    } else {
        Finished::CheckFailed
    })
}

fn fit(args: &FitArgs) -> Result<()> {
    let fitted = commands::fit::fit(&args.options())?;
    if args.quiet {
        return Ok(());
    }
    match args.format {
        FitFormat::Table => {
            out!("{}", render_fit_table(&fitted.outcome));
            outln!("\nfull results: {}", fitted.folder.display());
        }
        FitFormat::Json => out!("{}", String::from_utf8_lossy(&fitted.json)),
    }
    Ok(())
}

/// `plan`: pending when publishing from parts must wait for a stage's shards.
fn plan(args: &PlanArgs) -> Result<Finished> {
    let bar = Bar::new(args.sim.quiet);
    let outcome = commands::plan::plan(&args.options()?, &bar)?;
    drop(bar);
    let quiet = args.sim.quiet;
    match outcome {
        PlanOutcome::Published(planned) if !quiet => {
            out!("{}", planned.summary);
            outln!("\nfull results: {}", planned.folder.display());
        }
        PlanOutcome::Shard(run) if !quiet => outln!(
            "stage {}: {} {} (work items {} to {} of {}); when every shard has run, run the array again for the next stage, or publish: rollout-sim plan ... --parts {}",
            run.stage,
            if run.fresh {
                "wrote"
            } else {
                "already written:"
            },
            run.part.file.display(),
            run.block.start,
            run.block.end,
            run.total,
            run.part.folder.display()
        ),
        PlanOutcome::Decided { parts } if !quiet => outln!(
            "every stage is complete: publish the plan with rollout-sim plan ... --parts {}",
            parts.display()
        ),
        PlanOutcome::Pending { message, .. } => {
            if !quiet {
                eprintln!("pending: {}", terminal_safe(&message));
            }
            return Ok(Finished::Pending);
        }
        _ => {}
    }
    Ok(Finished::Done)
}

fn trace(args: &TraceArgs) -> Result<()> {
    let timeline = commands::trace::trace(&args.options()?)?;
    match args.format {
        TraceFormat::Text => out!("{}", timeline.text),
        TraceFormat::Json => write_json_lines(&timeline.records, &mut std::io::stdout().lock())?,
    }
    Ok(())
}

/// `init`: the starting scenario, written to a new file or printed with `-`.
fn init(file: &Path, platform: StarterPlatform, question: StarterQuestion) -> Result<()> {
    if file == Path::new("-") {
        out!("{}", scenario::starter::starter(platform, question));
        return Ok(());
    }
    commands::init::init(file, platform, question)?;
    outln!(
        "wrote {}: read its \"$comment\" notes, then `rollout-sim run {}`",
        file.display(),
        file.display()
    );
    Ok(())
}

fn validate(path: &Path) -> Result<()> {
    let s = commands::init::validate(path)?;
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
