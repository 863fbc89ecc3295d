//! What people read: charts (real SVG with the expected series, PNGs of the stated size),
//! `report.html`, `comparison.html` and `sweep.html` (self-contained, rendered by a real
//! headless Chromium that fetches nothing), `summary.md`, and verdicts that say what to
//! do when a rollout never ends.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::common::*;

const RELEASE_TRAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/connect-release-train.json"
);

fn run(scenario: &str, out: &Path, extra: &[&str]) {
    cli()
        .args([
            "run",
            scenario,
            "--replications",
            "20",
            "--instances",
            "300",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .arg("-q")
        .assert()
        .success();
}

/// Parses an SVG with a real XML parser and returns the text of every `<text>` element.
fn svg_texts(path: &Path) -> Vec<String> {
    let xml = fs::read_to_string(path).unwrap();
    let mut reader = Reader::from_str(&xml);
    let (mut texts, mut in_text, mut saw_svg) = (Vec::new(), false, false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.name().0 == "svg" => saw_svg = true,
            Ok(Event::Start(e)) if e.name().0 == "text" => {
                in_text = true;
                texts.push(String::new());
            }
            Ok(Event::End(e)) if e.name().0 == "text" => {
                in_text = false;
                if let Some(t) = texts.last_mut() {
                    *t = t.trim().to_string();
                }
            }
            // Text and entity references (`&apos;`) of one element, joined.
            Ok(Event::Text(t)) if in_text => texts.last_mut().unwrap().push_str(&t),
            Ok(Event::GeneralRef(r)) if in_text => {
                let decoded = html_escape::decode_html_entities(&format!("&{};", &*r)).into_owned();
                texts.last_mut().unwrap().push_str(&decoded);
            }
            Ok(Event::Eof) => break,
            Err(e) => panic!("{}: not well-formed XML: {e}", path.display()),
            _ => {}
        }
    }
    assert!(saw_svg, "{}: no <svg> root", path.display());
    texts
}

#[test]
fn run_charts_are_svg_with_one_series_per_release_and_pngs_of_slide_size() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(RELEASE_TRAIN, &out, &["--png"]);
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    let releases = report["releases"].as_array().unwrap();
    assert_eq!(releases.len(), 4);
    let legend = |r: &serde_json::Value| {
        format!(
            "{}: {} ({})",
            r["index"],
            r["label"].as_str().unwrap(),
            r["version"].as_str().unwrap()
        )
    };
    for chart in ["adoption", "survival"] {
        let texts = svg_texts(&out.join(format!("charts/{chart}.svg")));
        for r in releases {
            let name = legend(r);
            assert_eq!(
                texts.iter().filter(|t| **t == name).count(),
                1,
                "{chart}: one legend entry for {name}: {texts:?}"
            );
        }
    }
    let mix = svg_texts(&out.join("charts/version-mix.svg"));
    for v in ["3.2.0", "3.2.1", "3.3.0", "3.3.1", "3.4.0"] {
        assert!(mix.iter().any(|t| t == v), "version-mix names {v}");
    }
    for k in 0..releases.len() {
        let texts = svg_texts(&out.join(format!("charts/coexistence-{k}.svg")));
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with(&format!("Release {k}:")))
        );
    }
    // The scenario has churn: the installed count changes and is charted.
    svg_texts(&out.join("charts/installed.svg"));
    let mut charts = 0;
    for e in fs::read_dir(out.join("charts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "png") {
            let decoder = png::Decoder::new(fs::File::open(&p).unwrap());
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (1920, 1080), "{}", p.display());
            assert!(p.with_extension("svg").exists(), "a PNG beside each SVG");
            charts += 1;
        }
    }
    assert_eq!(charts, 3 + releases.len() + 1);
}

#[test]
fn no_charts_writes_only_the_data_and_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(RELEASE_TRAIN, &out, &["--no-charts"]);
    assert!(!out.join("charts").exists());
    assert!(!out.join("report.html").exists());
    assert!(out.join("summary.md").is_file());
    assert!(out.join("report.json").is_file());
}

#[test]
fn summary_md_is_printed_by_format_markdown_and_holds_the_verdict_and_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let printed = cli()
        .args([
            "run",
            RELEASE_TRAIN,
            "--replications",
            "20",
            "--instances",
            "300",
        ])
        .args(["--format", "markdown", "--out"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert_eq!(String::from_utf8(printed).unwrap(), md);
    assert!(md.contains("### Verdict"));
    assert!(md.contains("| # | release | version |"));
    // One table row per release.
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| ") && l.contains(" → "))
            .count(),
        4
    );
}

/// A Connect scope change whose admins mostly ignore it: the coexistence never ends.
fn never_ending(dir: &Path) -> PathBuf {
    let doc = base("connect");
    let doc = set(
        doc,
        "releases",
        json!([{"at": "0h", "changes": ["scopes"], "label": "new scope"}]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"slow": {"approve": 0.5, "reject": 0.1, "delay": {"fixed": "1d"}}}),
    );
    let doc = set(
        doc,
        "population",
        json!({"instances": 200, "segments": [{"name": "all", "share": 1.0, "admin": "slow"}]}),
    );
    let doc = set(doc, "horizon", json!("40d"));
    let path = dir.join("never.json");
    fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn the_verdict_of_a_never_ending_rollout_names_the_never_updating_share_and_a_lever() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = never_ending(tmp.path());
    let out = tmp.path().join("out");
    let table = cli()
        .args(["run"])
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    for text in [&table, &md, &html] {
        // Half the admins never approve (40% ignore, 10% reject and stay on the old
        // version): half the instances stay behind.
        let at = text
            .find("At the horizon ")
            .expect("the never-updating share");
        let share: f64 = text[at + 15..].split('%').next().unwrap().parse().unwrap();
        // 20 replications of 200 instances, each behind with probability 0.5: the mean
        // share has a standard deviation of sqrt(0.25 / 4000) = 0.8 points; 5 of them.
        assert!((share - 50.0).abs() < 4.0, "{share}");
        assert!(text.contains("40% of admins ignore the approval request and 10% reject it"));
        assert!(text.contains(
            "Lever, a cut-off of the old version (policy.cutoff_at): at 7 days would break"
        ));
    }
}

/// The installed Chromium, from the system's package manager (`.ci/run` installs it).
fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("Chromium is not installed: `.ci/run` installs it (apt-get install chromium)")
}

/// Opens `page` in headless Chromium; returns the screenshot's pixels (RGBA) and the
/// URLs the page itself asked the network for (the browser's own background requests
/// have no initiator and are left out).
fn render(page: &Path, work: &Path) -> (Vec<u8>, Vec<String>) {
    let shot = work.join("shot.png");
    let netlog = work.join("net.json");
    let status = Process::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,1600",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium starts");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let decoder = png::Decoder::new(fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    let rgba: Vec<u8> = buf
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    let log: serde_json::Value = serde_json::from_slice(&fs::read(&netlog).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    let requests = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == start_job)
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect();
    (rgba, requests)
}

/// (share of pixels that are not white, count of strongly coloured pixels).
fn ink(rgba: &[u8]) -> (f64, usize) {
    let pixels = rgba.chunks(4);
    let n = pixels.len() as f64;
    let not_white = rgba
        .chunks(4)
        .filter(|p| p[0] < 245 || p[1] < 245 || p[2] < 245)
        .count();
    let coloured = rgba
        .chunks(4)
        .filter(|p| {
            let (max, min) = (p[..3].iter().max().unwrap(), p[..3].iter().min().unwrap());
            max - min > 80
        })
        .count();
    (not_white as f64 / n, coloured)
}

#[test]
#[ignore = "system test: needs Chromium; run with `cargo test -- --include-ignored` (.ci/run does)"]
fn the_html_pages_render_in_headless_chromium_with_charts_and_fetch_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run_out = tmp.path().join("run");
    run(RELEASE_TRAIN, &run_out, &[]);
    let compare_out = tmp.path().join("compare");
    let scenarios = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    cli()
        .args(["compare"])
        .arg(format!("{scenarios}/policy-deploy-in-window.json"))
        .arg(format!("{scenarios}/policy-deploy-outside-window.json"))
        .args(["--replications", "20", "--instances", "300", "--out"])
        .arg(&compare_out)
        .arg("-q")
        .assert()
        .success();
    // The sweep's scenario has one automatic release, so its time to 90% is never
    // censored and each grid point has a mean to draw.
    let sweep_out = tmp.path().join("sweep");
    cli()
        .args(["sweep"])
        .arg(format!("{scenarios}/connect-micro.json"))
        .args(["--replications", "5", "--instances", "200"])
        .args(["--set", "timing.upm_poll=12h,24h,48h", "--out"])
        .arg(&sweep_out)
        .arg("-q")
        .assert()
        .success();
    // One adoption series per scenario, and the paired differences as rows.
    let adoption = svg_texts(&compare_out.join("charts/adoption-0.svg"));
    for name in ["policy-deploy-in-window", "policy-deploy-outside-window"] {
        assert_eq!(
            adoption
                .iter()
                .filter(|t| t.starts_with(&format!("{name}: ")))
                .count(),
            1,
            "{adoption:?}"
        );
    }
    let differences = svg_texts(&compare_out.join("charts/differences.svg"));
    assert!(
        differences
            .iter()
            .any(|t| t == "release 0: coexistence window"),
        "{differences:?}"
    );
    // The sweep's figures against the swept value: one point per grid point.
    let sweep_svg = fs::read_to_string(sweep_out.join("charts/time-to-90.svg")).unwrap();
    svg_texts(&sweep_out.join("charts/time-to-90.svg"));
    let line = sweep_svg
        .lines()
        .find(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"3\""))
        .expect("the mean line");
    let points = line
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(
        points.split_whitespace().count(),
        3,
        "one point per grid point: {line}"
    );
    let pages = [
        run_out.join("report.html"),
        compare_out.join("comparison.html"),
        sweep_out.join("sweep.html"),
    ];
    // Each page leads with its answer, and the comparison's table is a table.
    let report_html = fs::read_to_string(&pages[0]).unwrap();
    let answer = report_html.find("class=\"answer\"").expect("an answer");
    assert!(answer < report_html.find("class=\"verdict\"").expect("a verdict"));
    let comparison_html = fs::read_to_string(&pages[1]).unwrap();
    assert!(comparison_html.contains("<table class=\"comparison\">"));
    assert!(!comparison_html.contains("<pre>"));
    for (i, page) in pages.iter().enumerate() {
        let html = fs::read_to_string(page).unwrap();
        for forbidden in [
            "<script", "<link", "<img", "<iframe", "url(", "@import", "src=",
        ] {
            assert!(!html.contains(forbidden), "{}: {forbidden}", page.display());
        }
        let work = tmp.path().join(format!("chromium-{i}"));
        fs::create_dir(&work).unwrap();
        let (rgba, requests) = render(page, &work);
        let (not_white, coloured) = ink(&rgba);
        assert!(
            not_white > 0.05,
            "{}: the page is blank ({not_white})",
            page.display()
        );
        assert!(
            coloured > 2_000,
            "{}: no chart colours visible ({coloured})",
            page.display()
        );
        assert!(
            requests.is_empty(),
            "{} requested {requests:?}",
            page.display()
        );
    }
    // The check itself sees a request a page makes: a control page with a remote image.
    let control = tmp.path().join("control.html");
    fs::write(
        &control,
        "<html><body><img src=\"http://example.invalid/x.png\"></body></html>",
    )
    .unwrap();
    let work = tmp.path().join("chromium-control");
    fs::create_dir(&work).unwrap();
    let (_, requests) = render(&control, &work);
    assert!(
        requests.iter().any(|u| u.contains("example.invalid")),
        "the control page's request was not seen: {requests:?}"
    );
}

#[test]
fn a_two_axis_sweep_draws_a_heat_map_with_one_cell_per_grid_point() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sweep");
    cli()
        .args([
            "sweep",
            RELEASE_TRAIN,
            "--replications",
            "4",
            "--instances",
            "150",
        ])
        .args([
            "--set",
            "admins.office.approve=0.5,0.9",
            "--set",
            "timing.upm_poll=6h,12h,24h",
        ])
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .assert()
        .success();
    for map in ["coexistence-map", "time-to-90-map"] {
        let texts = svg_texts(&out.join(format!("charts/{map}.svg")));
        let cells = texts
            .iter()
            // Cell values: a mean with one decimal, or "censored"; the axis labels 0.5
            // and 0.9 are not cells.
            .filter(|t| {
                *t == "censored"
                    || (t.parse::<f64>().is_ok()
                        && t.contains('.')
                        && !["0.5", "0.9"].contains(&t.as_str()))
            })
            .count();
        assert_eq!(cells, 2 * 3, "{map}: {texts:?}");
        for label in ["0.5", "0.9", "6h", "12h", "24h"] {
            assert!(texts.iter().any(|t| t == label), "{map} labels {label}");
        }
    }
}

#[test]
fn check_charts_each_drifted_figure_baseline_against_the_new_run() {
    let tmp = tempfile::tempdir().unwrap();
    let baselines = tmp.path().join("baselines");
    let micro = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/connect-micro.json");
    cli()
        .args(["check", micro, "--baseline"])
        .arg(&baselines)
        .args(["--update", "-q"])
        .assert()
        .success();
    let charts = tmp.path().join("drift");
    let table = cli()
        .args(["check", micro, "--baseline"])
        .arg(&baselines)
        .args(["--set", "timing.upm_poll=24.5h", "--charts"])
        .arg(&charts)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    let svgs: Vec<PathBuf> = fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    assert!(!svgs.is_empty(), "a chart per drifted figure");
    for svg in &svgs {
        let texts = svg_texts(svg);
        // Two series, named in the legend, and the figure in the title.
        assert!(texts.iter().any(|t| t == "baseline"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "new run"), "{texts:?}");
        let title = texts
            .iter()
            .find(|t| t.contains(" drifted ("))
            .expect("a title");
        let figure = title.split(": ").nth(1).unwrap().split(' ').next().unwrap();
        assert!(
            table.contains(figure),
            "{figure} is reported as drifted:\n{table}"
        );
    }
    // Without drift, the folder holds no chart.
    let calm = tmp.path().join("calm");
    cli()
        .args(["check", micro, "--baseline"])
        .arg(&baselines)
        .arg("--charts")
        .arg(&calm)
        .arg("-q")
        .assert()
        .success();
    assert_eq!(
        tree(&calm)
            .keys()
            .filter(|k| std::path::Path::new(k)
                .extension()
                .is_some_and(|e| e == "svg"))
            .count(),
        0
    );
}
