//! The parsed arguments turned into the library's typed options, once (ripgrep's
//! `lowargs` to `hiargs`): `--set PATH=VALUE` into settings, the shared flags into a
//! [`Simulation`], `--no-charts`/`--png` into a [`Presentation`].

use anyhow::{Result, anyhow};
use rollout_sim::commands::check::CheckOptions;
use rollout_sim::commands::compare::CompareOptions;
use rollout_sim::commands::fit::{FitOptions, ObservedSource};
use rollout_sim::commands::plan::PlanOptions;
use rollout_sim::commands::run::RunOptions;
use rollout_sim::commands::sweep::SweepOptions;
use rollout_sim::commands::trace::TraceOptions;
use rollout_sim::commands::{Destination, PrecisionRequest, Presentation, Simulation};
use rollout_sim::plan::{Budget, Direction};
use rollout_sim::scenario::setting::parse_value;
use rollout_sim::scenario::{Overrides, Setting};
use rollout_sim::sweep::Axis;

use super::args::{
    ChartOptions, CheckArgs, CompareArgs, FitArgs, OutputOptions, PlanArgs, RunArgs, SimOptions,
    SweepArgs, TraceArgs,
};

/// `--set PATH=VALUE` flags as settings.
fn parse_settings(settings: &[String]) -> Result<Vec<Setting>> {
    settings
        .iter()
        .map(|s| {
            let (path, value) = s.split_once('=').ok_or_else(|| {
                anyhow!(
                    "--set \"{}\": expected PATH=VALUE",
                    rollout_sim::input::echo(s)
                )
            })?;
            let value = parse_value(value).map_err(|e| anyhow!("--set {}: {e}", path.trim()))?;
            Ok(Setting::new(path.trim(), value))
        })
        .collect()
}

impl SimOptions {
    /// The simulation these flags and `--set` values ask for.
    fn simulation(&self, settings: &[String]) -> Result<Simulation> {
        Ok(Simulation {
            overrides: Overrides {
                seed: self.seed,
                replications: self.replications,
                instances: self.instances,
                settings: parse_settings(settings)?,
            },
            threads: self.threads,
            precision: self.precision.as_ref().map(|text| PrecisionRequest {
                half_width: text.clone(),
                figure: self.precision_figure.clone(),
                batch: self.precision_batch,
                max_replications: self.max_replications,
            }),
        })
    }
}

impl OutputOptions {
    /// Where and how a command writes, with what `charts` asks it to draw: the one place
    /// the output flags become the library's [`Destination`].
    pub(crate) fn destination(&self, charts: ChartOptions) -> Destination {
        Destination {
            out: self.out.clone(),
            force: self.force,
            presentation: Presentation {
                charts: !charts.no_charts,
                png: charts.png,
            },
        }
    }
}

impl RunArgs {
    pub(crate) fn options(&self) -> Result<RunOptions> {
        Ok(RunOptions {
            scenario: self.scenario.clone(),
            simulation: self.sim.simulation(&self.settings)?,
            destination: self.output.destination(self.charts),
            events: self.events,
            stats: self.stats,
            shard: self.shard.clone(),
        })
    }
}

impl CompareArgs {
    pub(crate) fn options(&self) -> Result<CompareOptions> {
        Ok(CompareOptions {
            scenarios: self.scenarios.clone(),
            simulation: self.sim.simulation(&[])?,
            pairs: self.pair.clone(),
            destination: self.output.destination(self.charts),
        })
    }
}

impl SweepArgs {
    pub(crate) fn options(&self) -> Result<SweepOptions> {
        let axes = self
            .axes
            .iter()
            .map(|a| Axis::parse(a).map_err(|e| anyhow!("--set {e}")))
            .collect::<Result<_>>()?;
        Ok(SweepOptions {
            scenario: self.scenario.clone(),
            axes,
            file: self.file.clone(),
            simulation: self.sim.simulation(&[])?,
            destination: self.output.destination(self.charts),
            shard: self.shard.clone(),
        })
    }
}

impl CheckArgs {
    pub(crate) fn options(&self) -> Result<CheckOptions> {
        Ok(CheckOptions {
            scenarios: self.scenarios.clone(),
            baseline: self.baseline.clone(),
            update: self.update,
            exact: self.exact,
            alpha: self.alpha,
            markdown: self.markdown.clone(),
            junit: self.junit.clone(),
            charts: self.charts.clone(),
            force: self.force,
            simulation: self.sim.simulation(&self.settings)?,
        })
    }
}

impl FitArgs {
    pub(crate) fn options(&self) -> FitOptions {
        let observed = match (self.observed.is_empty(), &self.from_events) {
            (false, _) => ObservedSource::Csv {
                files: self.observed.clone(),
                instances: self.instances,
            },
            (true, Some(log)) => ObservedSource::Events {
                log: log.clone(),
                replication: self.replication,
                until: self.until,
                snapshots_every: self.snapshots_every,
            },
            (true, None) => unreachable!("clap requires --observed or --from-events"),
        };
        FitOptions {
            scenario: self.scenario.clone(),
            observed,
            release: self.release.clone(),
            family: self.family,
            calendar: self.working_hours.clone(),
            published_at: self.published_at,
            seed: self.seed,
            bootstrap: self.bootstrap,
            draws: self.draws,
            new_version: self.new_version.clone(),
            destination: self.output.destination(self.charts),
            threads: self.threads,
        }
    }
}

impl TraceArgs {
    pub(crate) fn options(&self) -> Result<TraceOptions> {
        Ok(TraceOptions {
            scenario: self.scenario.clone(),
            overrides: Overrides {
                seed: self.seed,
                settings: parse_settings(&self.settings)?,
                ..Overrides::default()
            },
            replication: self.replication,
            instance: self.instance,
        })
    }
}

impl PlanArgs {
    pub(crate) fn options(&self) -> Result<PlanOptions> {
        let vary = self
            .vary
            .iter()
            .map(|a| Axis::parse(a).map_err(|e| anyhow!("--vary {e}")))
            .collect::<Result<_>>()?;
        let goal = match (&self.minimize, &self.maximize) {
            (Some(f), _) => (f.clone(), Direction::Minimize),
            (None, Some(f)) => (f.clone(), Direction::Maximize),
            (None, None) => unreachable!("clap requires --minimize or --maximize"),
        };
        Ok(PlanOptions {
            scenario: self.scenario.clone(),
            vary,
            file: self.file.clone(),
            goal,
            delta: self.delta.clone(),
            constraints: self.subject_to.clone(),
            budget: Budget {
                confidence: self.confidence,
                first_stage: self.first_stage,
                stage: self.stage,
                max_replications: self.max_per_candidate.max(self.first_stage),
            },
            simulation: self.sim.simulation(&[])?,
            destination: self.output.destination(self.charts),
            shard: self.shard.clone(),
            parts: self.parts.clone(),
        })
    }
}
