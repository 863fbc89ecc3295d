//! rollout-sim's engine in the browser: the page's Web Worker calls [`run`] with the
//! scenario's JSON text and gets back the `report.json` the CLI would write for it,
//! byte for byte. One engine, not a port: this crate only carries strings across.

use std::path::Path;

use rollout_sim::commands::Presentation;
use rollout_sim::commands::compare::{CRN_FIELDS, comparison_outputs, unpaired_field};
use rollout_sim::compare::pairings;
use rollout_sim::export::{Exporter, JsonReport, presentation_files};
use rollout_sim::montecarlo;
use rollout_sim::report::RunReport;
use rollout_sim::scenario::{self, Overrides};
use wasm_bindgen::prelude::*;

/// The name errors give the scenario (the page's text stands for a file).
const SOURCE: &str = "scenario.json";
/// The name errors give the pinned baseline.
const BASELINE: &str = "baseline.json";

/// Runs the scenario `text` and returns its `report.json` and `report.html`, or the
/// error the CLI would print for it (the same words).
fn outputs(text: &str) -> Result<(String, String), String> {
    let (json, report) = simulate(text)?;
    let html = presentation_files(&report, true, false)
        .into_iter()
        .find(|(name, _)| name == "report.html")
        .map(|(_, bytes)| bytes)
        .unwrap_or_default();
    Ok((json, String::from_utf8(html).map_err(|e| e.to_string())?))
}

/// The run of the scenario `text`: its `report.json` and the report it was written from.
fn simulate(text: &str) -> Result<(String, RunReport), String> {
    let scenario = scenario::parse(text, Path::new(SOURCE), &Overrides::default())
        .map_err(|e| e.to_string())?;
    let output = montecarlo::run(&scenario, &());
    let report = RunReport::build(&scenario, &output, None);
    let mut json = Vec::new();
    JsonReport
        .write(&report, &mut json)
        .map_err(|e| e.to_string())?;
    Ok((String::from_utf8(json).map_err(|e| e.to_string())?, report))
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

/// Runs the scenario `text`: its report and its page, or a thrown error with the
/// CLI's message.
#[wasm_bindgen]
pub fn run(text: &str) -> Result<Run, JsError> {
    let (report, html) = outputs(text).map_err(|e| JsError::new(&e))?;
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
/// paired replication by replication exactly as `rollout-sim compare baseline text`.
#[wasm_bindgen]
pub fn compare(baseline: &str, text: &str) -> Result<Comparison, JsError> {
    let (json, html) = comparison(baseline, text).map_err(|e| JsError::new(&e))?;
    Ok(Comparison { json, html })
}

/// `comparison.json` and `comparison.html` of `text` against `baseline`, or the error
/// the CLI would print.
fn comparison(baseline: &str, text: &str) -> Result<(String, String), String> {
    let parse = |text: &str, name: &str| {
        scenario::parse(text, Path::new(name), &Overrides::default()).map_err(|e| e.to_string())
    };
    let scenarios = vec![parse(baseline, BASELINE)?, parse(text, SOURCE)?];
    if let Some((field, a, b)) = unpaired_field(&scenarios[0], &scenarios[1]) {
        return Err(format!(
            "{SOURCE}: {field}: {b} differs from the baseline's {a} ({BASELINE}); {CRN_FIELDS}"
        ));
    }
    let pairings = pairings(&scenarios, &[]).map_err(|e| e.to_string())?;
    let runs: Vec<_> = scenarios
        .into_iter()
        .map(|s| {
            let output = montecarlo::run(&s, &());
            (s, output)
        })
        .collect();
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
