//! rollout-sim's engine in the browser: the page's Web Workers turn the scenario's JSON
//! text into the `report.json` the CLI would write for it, byte for byte. One engine,
//! not a port: this crate only carries strings across.
//!
//! To use every core without threads in WebAssembly (which need a nightly compiler and
//! cross-origin isolation), the page splits the replications into shards as the CLI's
//! `--shard` does (one shard when there is one worker): each worker runs
//! [`run_shard`], and one merges the part lines with [`merge`] into what the unsplit run
//! gives, and with [`compare`] against a pinned baseline, whose parts the page keeps.

use std::path::Path;

use rollout_sim::commands::Presentation;
use rollout_sim::commands::compare::{CRN_FIELDS, comparison_outputs, unpaired_field};
use rollout_sim::compare::pairings;
use rollout_sim::export::{Exporter, JsonReport, presentation_files};
use rollout_sim::montecarlo::RunOutput;
use rollout_sim::report::RunReport;
use rollout_sim::scenario::{self, Overrides, Scenario};
use rollout_sim::shard::{Shard, merge_shard_lines, shard_line};
use wasm_bindgen::prelude::*;

/// The name errors give the scenario (the page's text stands for a file).
const SOURCE: &str = "scenario.json";
/// The name errors give the pinned baseline.
const BASELINE: &str = "baseline.json";

/// The scenario `text` (named `name` in errors), or the error the CLI would print.
fn parse(text: &str, name: &str) -> Result<Scenario, String> {
    scenario::parse(text, Path::new(name), &Overrides::default()).map_err(|e| e.to_string())
}

/// The `report.json` and `report.html` the CLI writes for `output`, a run of `scenario`.
fn outputs(scenario: &Scenario, output: &RunOutput) -> Result<(String, String), String> {
    let report = RunReport::build(scenario, output, None);
    let mut json = Vec::new();
    JsonReport
        .write(&report, &mut json)
        .map_err(|e| e.to_string())?;
    let html = presentation_files(&report, true, false)
        .into_iter()
        .find(|(name, _)| name == "report.html")
        .map(|(_, bytes)| bytes)
        .unwrap_or_default();
    Ok((
        String::from_utf8(json).map_err(|e| e.to_string())?,
        String::from_utf8(html).map_err(|e| e.to_string())?,
    ))
}

/// `result`, its error as a thrown JavaScript error.
fn thrown<T>(result: Result<T, String>) -> Result<T, JsError> {
    result.map_err(|e| JsError::new(&e))
}

/// One run's outputs, as the CLI would write them: `report.json` and `report.html`.
#[wasm_bindgen]
pub struct Run {
    report: String,
    html: String,
}

#[wasm_bindgen]
impl Run {
    /// `report.json`'s text.
    #[wasm_bindgen(getter)]
    pub fn report(&self) -> String {
        self.report.clone()
    }

    /// `report.html`: the headline, the summary table and the charts on one page.
    #[wasm_bindgen(getter)]
    pub fn html(&self) -> String {
        self.html.clone()
    }
}

/// Runs shard `index` of `count` of the scenario `text`'s replications and returns its
/// part line (the CLI's `--shard` split), or a thrown error with the CLI's message.
#[wasm_bindgen]
pub fn run_shard(text: &str, index: u32, count: u32) -> Result<String, JsError> {
    let scenario = thrown(parse(text, SOURCE))?;
    if index >= count {
        return Err(JsError::new(&format!(
            "shard {index} of {count}: a shard's index is below the shard count"
        )));
    }
    let shard = Shard {
        index: u64::from(index),
        count: u64::from(count),
    };
    Ok(shard_line(&scenario, shard))
}

/// The run of the scenario `text` from the part lines of all its shards, in shard
/// order: its `report.json` and `report.html`, or a thrown error with the CLI's message.
#[wasm_bindgen]
pub fn merge(text: &str, parts: Vec<String>) -> Result<Run, JsError> {
    let (report, html) = thrown((|| {
        let scenario = parse(text, SOURCE)?;
        let output = merge_shard_lines(&scenario, &parts).map_err(|e| e.to_string())?;
        outputs(&scenario, &output)
    })())?;
    Ok(Run { report, html })
}

/// A comparison against a pinned baseline, as `rollout-sim compare` writes it.
#[wasm_bindgen]
pub struct Comparison {
    json: String,
    html: String,
}

#[wasm_bindgen]
impl Comparison {
    /// `comparison.json`'s text.
    #[wasm_bindgen(getter)]
    pub fn json(&self) -> String {
        self.json.clone()
    }

    /// `comparison.html`: the differences with their confidence intervals and charts.
    #[wasm_bindgen(getter)]
    pub fn html(&self) -> String {
        self.html.clone()
    }
}

/// Compares the scenario `text` with the pinned `baseline` on common random numbers,
/// paired replication by replication exactly as `rollout-sim compare baseline text`,
/// from the part lines of both scenarios' shards (in shard order).
#[wasm_bindgen]
pub fn compare(
    baseline: &str,
    text: &str,
    baseline_parts: Vec<String>,
    parts: Vec<String>,
) -> Result<Comparison, JsError> {
    let (json, html) = thrown(comparison(baseline, text, &baseline_parts, &parts))?;
    Ok(Comparison { json, html })
}

/// `comparison.json` and `comparison.html` of `text` against `baseline`, or the error
/// the CLI would print.
fn comparison(
    baseline: &str,
    text: &str,
    baseline_parts: &[String],
    parts: &[String],
) -> Result<(String, String), String> {
    let scenarios = vec![parse(baseline, BASELINE)?, parse(text, SOURCE)?];
    if let Some((field, a, b)) = unpaired_field(&scenarios[0], &scenarios[1]) {
        return Err(format!(
            "{SOURCE}: {field}: {b} differs from the baseline's {a} ({BASELINE}); {CRN_FIELDS}"
        ));
    }
    let pairings = pairings(&scenarios, &[]).map_err(|e| e.to_string())?;
    let mut runs = Vec::with_capacity(2);
    for (s, lines) in scenarios.into_iter().zip([baseline_parts, parts]) {
        let output = merge_shard_lines(&s, lines).map_err(|e| e.to_string())?;
        runs.push((s, output));
    }
    let (_, files) = comparison_outputs(&runs, pairings, None, &Presentation::default());
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default()
    };
    Ok((file("comparison.json"), file("comparison.html")))
}
