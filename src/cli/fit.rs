//! `rollout-sim fit`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{FamilyArg, FitArgs, FitFormat};
use crate::fit::events::{rows_from_events, to_csv};
use crate::fit::fitted::fitted_scenario;
use crate::fit::{self, Family, FamilyChoice, FitSettings, Observations, observed_release};
use crate::report::Exporter;
use crate::report::charts::{chart_files, draw_all};
use crate::report::fit_out::{FitJson, fit_chart, render_fit_table};
use crate::report::html::fit_page;
use crate::report::output::OutputDir;
use crate::scenario::{self, Overrides};

fn family_choice(f: FamilyArg) -> FamilyChoice {
    match f {
        FamilyArg::Auto => FamilyChoice::Auto,
        FamilyArg::Lognormal => FamilyChoice::One(Family::Lognormal),
        FamilyArg::Exponential => FamilyChoice::One(Family::Exponential),
        FamilyArg::Weibull => FamilyChoice::One(Family::Weibull),
        FamilyArg::Gamma => FamilyChoice::One(Family::Gamma),
    }
}

pub fn fit(args: &FitArgs) -> Result<()> {
    let text = scenario::read(&args.scenario)?;
    let s = scenario::parse(&text, &args.scenario, &Overrides::default())?;
    let release = observed_release(&s, args.release)?;
    // Everything is read and checked before the output folder is touched.
    let (observed, observed_file, observed_csv) = match (&args.observed, &args.from_events) {
        (Some(file), _) => (
            fit::observed::read(file, args.instances)?,
            file.clone(),
            None,
        ),
        (None, Some(log)) => {
            let text = scenario::input::read_bounded_to(log, scenario::input::MAX_DATA_BYTES)
                .with_context(|| format!("{}: cannot read the event log", log.display()))?;
            let rows = rows_from_events(&s, &text, log, release, args.replication, args.until)?;
            let csv = to_csv(&rows);
            (Observations::PerInstance(rows), log.clone(), Some(csv))
        }
        (None, None) => unreachable!("clap requires --observed or --from-events"),
    };
    let settings = FitSettings {
        release: Some(release),
        family: family_choice(args.family),
        published_at: args.published_at,
        seed: args.seed.unwrap_or(s.seed),
        bootstrap: args.bootstrap,
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}-fit", s.name)));
    let mut out = OutputDir::prepare(&out_dir, args.force).context("cannot write the fit")?;
    let threads = args.threads.map_or(0, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let outcome = pool.install(|| fit::fit(&s, &observed, &observed_file, &settings))?;
    let scenario_text =
        fitted_scenario(&text, &outcome).context("cannot write the fitted scenario")?;
    let json = <dyn Exporter<_>>::to_bytes(&FitJson, &outcome);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("fit.json".into(), json.clone()),
        ("fitted-scenario.json".into(), scenario_text.into_bytes()),
    ];
    if let Some(csv) = observed_csv {
        files.push(("observed.csv".into(), csv.into_bytes()));
    }
    if !args.charts.no_charts {
        let drawn = draw_all(vec![fit_chart(&outcome)], args.charts.png);
        files.extend(chart_files(&drawn));
        files.push(("fit.html".into(), fit_page(&outcome, &drawn).into_bytes()));
    }
    for (name, bytes) in files {
        out.write_file(&name, |w| w.write_all(&bytes))
            .context("cannot write the fit")?;
    }
    out.publish().context("cannot write the fit")?;
    if !args.quiet {
        match args.format {
            FitFormat::Table => {
                out!("{}", render_fit_table(&outcome));
                outln!("\nfull results: {}", out_dir.display());
            }
            FitFormat::Json => out!("{}", String::from_utf8_lossy(&json)),
        }
    }
    Ok(())
}
