//! The live page (`web/`), built by `web/build.sh` and driven in real headless Chromium
//! over the `DevTools` protocol: it opens a scenario from the URL fragment, computes in
//! the browser exactly the `report.json` the CLI writes for the same text, recomputes
//! when a control changes, shows the CLI's own error beside the control that caused
//! it, and asks the network for nothing. System tests, opt-in like the others (they
//! need Chromium, the wasm32 target and wasm-bindgen-cli; `.ci/run` installs them).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use std::{fs, thread};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::common::cli;

/// The page, built by `web/build.sh` into a folder of its own (so a test never touches
/// the working tree's web/dist): the folder, and its `index.html`. `None` (saying so)
/// where `.ci/run` could not install the wasm32 target.
fn page() -> Option<(tempfile::TempDir, PathBuf)> {
    if let Ok(why) = std::env::var("ROLLOUT_SIM_SKIP_LIVE_PAGE") {
        println!("skipped: the live page cannot be built: {why}");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folder = tempfile::tempdir().unwrap();
    let dist = folder.path().join("site");
    let status = Command::new("bash")
        .arg(root.join("web/build.sh"))
        .arg(&dist)
        .status()
        .expect("bash runs web/build.sh");
    assert!(
        status.success(),
        "web/build.sh failed: it needs `rustup target add wasm32-unknown-unknown` and `cargo install wasm-bindgen-cli --version 0.2.130` (.ci/run installs both)"
    );
    for file in [
        "index.html",
        "app.js",
        "style.css",
        "engine.js",
        "scenarios.js",
    ] {
        assert!(dist.join(file).is_file(), "web/build.sh wrote no {file}");
    }
    Some((folder, dist.join("index.html")))
}

/// Headless Chromium with one page, driven over the `DevTools` protocol.
struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Every URL the page asked for.
    requests: Vec<String>,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        let mut child = Command::new("/usr/bin/chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Chromium starts (.ci/run installs it)");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let url = loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "Chromium ended before it listened"
            );
            if let Some(at) = line.find("ws://") {
                break line[at..].trim().to_string();
            }
        };
        // Keep draining Chromium's log so it never blocks on a full pipe.
        thread::spawn(move || {
            let mut sink = String::new();
            while stderr.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        let (socket, _) = tungstenite::connect(url).expect("DevTools accepts the connection");
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            requests: Vec::new(),
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Network.enable", "Page.enable", "Runtime.enable"] {
            browser.call(domain, json!({}));
        }
        browser
    }

    /// Sends `method` (to the page once attached) and returns its result, noting the
    /// page's requests among the events that arrive meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap();
        loop {
            let Message::Text(text) = self.socket.read().unwrap() else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["method"] == "Network.requestWillBeSent" {
                let url = reply["params"]["request"]["url"].as_str().unwrap_or("");
                self.requests.push(url.to_string());
            }
            if reply["id"] == id {
                assert!(reply["error"].is_null(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    fn wait_for(&mut self, expression: &str, timeout: Duration) {
        let started = Instant::now();
        while self.eval(expression) != json!(true) {
            assert!(
                started.elapsed() < timeout,
                "still not true after {timeout:?}: {expression}; title {}, error {}",
                self.eval("document.title"),
                self.eval("String(window.rolloutSim && window.rolloutSim.error)")
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens `url` and waits for its run to be ready; returns the report's text.
    fn open(&mut self, url: &str) -> String {
        // From a blank page, so that a link differing only in its fragment loads anew.
        self.call("Page.navigate", json!({"url": "about:blank"}));
        self.wait_for("location.href === 'about:blank'", Duration::from_secs(10));
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            "document.readyState === 'complete' && window.rolloutSim !== undefined && document.title.endsWith(' - ready')",
            Duration::from_secs(120),
        );
        self.report_text()
    }

    fn report_text(&mut self) -> String {
        self.eval("window.rolloutSim.reportText")
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The scenario text the page ran (what "Download scenario" saves).
    fn scenario_text(&mut self) -> String {
        self.eval("document.getElementById('json').value")
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Types `value` into the control of `field` and waits for the page to settle.
    fn set_control(&mut self, field: &str, value: &str) {
        self.act(&format!(
            "(() => {{ const i = document.querySelector('input[data-field=\"{field}\"]'); i.value = {value}; i.dispatchEvent(new Event('input')); return true; }})()",
            value = json!(value)
        ));
    }

    /// Clicks the button `id` and waits for the page to settle.
    fn click(&mut self, id: &str) {
        self.act(&format!(
            "(() => {{ document.getElementById('{id}').click(); return true; }})()"
        ));
    }

    /// Runs `script` (a change) and waits for the run it starts, or its error.
    fn act(&mut self, script: &str) {
        let runs = self.eval("window.rolloutSim.runs");
        self.eval(script);
        self.wait_for(
            &format!(
                "window.rolloutSim.error !== undefined || (window.rolloutSim.runs > {runs} && document.title.endsWith(' - ready'))"
            ),
            Duration::from_secs(120),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fragment link of a scenario text.
fn link(page: &Path, text: &str) -> String {
    link_with_workers(page, text, None)
}

/// [`link`] with the page's pool of workers set to `workers` (default: one per core).
fn link_with_workers(page: &Path, text: &str, workers: Option<usize>) -> String {
    use base64::Engine;
    let query = workers.map_or(String::new(), |n| format!("?workers={n}"));
    format!(
        "file://{}{query}#s={}",
        page.display(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    )
}

/// `report.json` from `rollout-sim run` on `text`.
fn native_report(dir: &Path, name: &str, text: &str) -> String {
    let scenario = dir.join(format!("{name}.json"));
    fs::write(&scenario, text).unwrap();
    let out = dir.join(format!("{name}-run"));
    cli()
        .arg("run")
        .arg(&scenario)
        .args(["-q", "--no-charts", "--out"])
        .arg(&out)
        .assert()
        .success();
    fs::read_to_string(out.join("report.json")).unwrap()
}

/// The browser's output is the CLI's, byte for byte (else: the first line that differs).
fn assert_same_text(in_browser: &str, native: &str, what: &str) {
    if in_browser != native {
        let (line, (a, b)) = in_browser
            .lines()
            .zip(native.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((0, ("(lengths differ)", "")));
        panic!(
            "{what}: the browser's output differs from the CLI's, first at line {}:\n  browser: {a}\n  CLI:     {b}",
            line + 1
        );
    }
}

/// A shipped scenario at a reduced size (the browser test is about equality, not scale).
fn reduced(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut doc: Value = serde_json::from_str(
        &fs::read_to_string(root.join(format!("scenarios/{name}.json"))).unwrap(),
    )
    .unwrap();
    doc["population"]["instances"] = json!(500);
    doc["replications"] = json!(8);
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

/// `connect-scope-change` at a reduced size with its admins' delay drawn from each law
/// the model has: every law's sampler (logarithms, powers, the incomplete gamma's
/// inverse) must give the same bits in the browser as natively.
fn every_delay_law() -> Vec<(String, String)> {
    let laws = [
        ("fixed", json!({"fixed": "20h"})),
        ("uniform", json!({"uniform": ["2h", "3d"]})),
        ("exponential", json!({"exponential": {"mean": "30h"}})),
        ("weibull", json!({"weibull": {"shape": 0.7, "scale": "2d"}})),
        ("gamma", json!({"gamma": {"shape": 2.5, "scale": "11h"}})),
        (
            "gamma-small-shape",
            json!({"gamma": {"shape": 0.3, "scale": "3d"}}),
        ),
        (
            "empirical",
            json!({"empirical": [["2h", 0.05], ["20h", 0.4], ["7d", 0.41], ["21d", 1.0]]}),
        ),
        (
            "mixture",
            json!({"mixture": [
                {"share": 0.4, "delay": {"lognormal": {"median": "8h", "sigma": 0.8}}},
                {"share": 0.6, "delay": {"gamma": {"shape": 4.0, "scale": "1d"}}}
            ]}),
        ),
    ];
    laws.into_iter()
        .map(|(name, law)| {
            let mut doc: Value = serde_json::from_str(&reduced("connect-scope-change")).unwrap();
            doc["admins"]["casual"]["delay"] = law;
            (
                format!("delay-{name}"),
                serde_json::to_string_pretty(&doc).unwrap() + "\n",
            )
        })
        .collect()
}

#[test]
#[ignore = "system test: needs Chromium, the wasm32 target and wasm-bindgen-cli; run with `cargo test -- --include-ignored` (.ci/run does)"]
fn the_live_page_computes_what_the_cli_does_recomputes_on_a_change_and_names_errors() {
    let Some((_site, page)) = page() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut browser = Browser::start(&tmp.path().join("profile"));
    // Every shipped scenario, from a link: the browser's report is the CLI's, byte for
    // byte, for the very text the page ran (the one "Download scenario" saves).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut cases: Vec<(String, String)> = names
        .iter()
        .map(|name| (name.clone(), reduced(name)))
        .collect();
    cases.extend(every_delay_law());
    // Whole in one worker, and split into shards over a pool of workers (one per core,
    // and three: an uneven split) that the page merges: every path gives the same bytes.
    for (i, (name, text)) in cases.iter().enumerate() {
        let workers = [None, Some(1), Some(3)][i % 3];
        let in_browser = browser.open(&link_with_workers(&page, text, workers));
        let native = native_report(tmp.path(), name, &browser.scenario_text());
        assert_same_text(&in_browser, &native, name);
        let pool = workers.map_or_else(
            || {
                browser
                    .eval("navigator.hardwareConcurrency")
                    .as_u64()
                    .unwrap()
            },
            |n| n as u64,
        );
        let replications = 8;
        assert_eq!(
            browser.eval("window.rolloutSim.workers").as_u64(),
            Some(pool.clamp(1, 16).min(replications)),
            "{name}: shards"
        );
    }
    println!(
        "{} shipped scenarios and {} delay laws: report.json byte-identical in the browser",
        names.len(),
        cases.len() - names.len()
    );
    // The link reopens the same run.
    let start = browser.open(&link(&page, &reduced("connect-scope-change")));
    let href = browser.eval("location.href");
    assert_eq!(browser.open(href.as_str().unwrap()), start);
    // A control changes the scenario, the fragment and the report.
    browser.set_control("population.instances", "700");
    let changed = browser.report_text();
    assert_ne!(changed, start);
    let report: Value = serde_json::from_str(&changed).unwrap();
    assert_eq!(report["scenario"]["instances"], 700);
    assert_eq!(
        changed,
        native_report(tmp.path(), "changed", &browser.scenario_text())
    );
    let href = browser.eval("location.href");
    assert!(href.as_str().unwrap().contains("#s="));
    // Pinned as the baseline, then changed: the difference is `compare`'s, on common
    // random numbers.
    let baseline = browser.scenario_text();
    browser.click("pin");
    browser.set_control("admins.casual.approve", "0.9");
    let in_browser = browser.eval("window.rolloutSim.comparisonText");
    assert!(
        in_browser.is_string(),
        "the page shows no comparison: {}",
        browser.eval("String(window.rolloutSim.error)")
    );
    assert!(browser.eval("typeof window.rolloutSim.comparison") == json!("object"));
    fs::write(tmp.path().join("baseline.json"), &baseline).unwrap();
    fs::write(tmp.path().join("candidate.json"), browser.scenario_text()).unwrap();
    cli()
        .current_dir(tmp.path())
        .args([
            "compare",
            "baseline.json",
            "candidate.json",
            "-q",
            "--no-charts",
            "--out",
            "compared",
        ])
        .assert()
        .success();
    let native = fs::read_to_string(tmp.path().join("compared/comparison.json")).unwrap();
    assert_same_text(in_browser.as_str().unwrap(), &native, "comparison.json");
    browser.click("unpin");
    assert!(browser.eval("window.rolloutSim.comparison === undefined && window.rolloutSim.comparisonText === undefined") == json!(true));
    // An invalid value: the CLI's words, beside the control that caused it.
    browser.set_control("admins.casual.approve", "1.5");
    let error = browser.eval("window.rolloutSim.error");
    let error = error.as_str().expect("the page reports the error");
    let beside = browser
        .eval("document.querySelector('[data-error-for=\"admins.casual.approve\"]').textContent");
    assert_eq!(beside.as_str().unwrap(), error);
    assert!(browser.eval("window.rolloutSim.report === undefined") == json!(true));
    let invalid = tmp.path().join("scenario.json");
    fs::write(&invalid, browser.scenario_text()).unwrap();
    let refused = cli()
        .current_dir(tmp.path())
        .args(["run", "scenario.json", "-q", "--no-charts"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains(error),
        "the CLI says {stderr:?}, the page {error:?}"
    );
    // Nothing from the network: the page's own files, its worker (a blob) and data.
    let foreign: Vec<&String> = browser
        .requests
        .iter()
        .filter(|u| !(u.starts_with("file:") || u.starts_with("blob:") || u.starts_with("data:")))
        .collect();
    assert!(
        foreign.is_empty(),
        "the page asked the network for {foreign:?}"
    );
}

#[test]
#[ignore = "benchmark: needs Chromium, the wasm32 target and wasm-bindgen-cli; prints the browser's recompute times (BENCHMARKS.md)"]
fn benchmark_live_page_recompute_times() {
    let Some((_site, page)) = page() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut browser = Browser::start(&tmp.path().join("profile"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base: Value = serde_json::from_str(
        &fs::read_to_string(root.join("scenarios/connect-scope-change.json")).unwrap(),
    )
    .unwrap();
    for (instances, replications) in [(10_000, 100), (1_000_000, 1)] {
        let mut doc = base.clone();
        doc["population"]["instances"] = json!(instances);
        doc["replications"] = json!(replications);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        for workers in [Some(1), None] {
            let mut times = Vec::new();
            let mut shards = 0;
            for seed in 1..=5 {
                doc["seed"] = json!(seed);
                let text = serde_json::to_string_pretty(&doc).unwrap();
                browser.open(&link_with_workers(&page, &text, workers));
                times.push(
                    browser
                        .eval("window.rolloutSim.milliseconds")
                        .as_f64()
                        .unwrap(),
                );
                shards = browser.eval("window.rolloutSim.workers").as_u64().unwrap();
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{instances} instances x {replications} replications on {shards} worker(s): median {:.0} ms (min {:.0}, max {:.0}) over 5 seeds; scenario {} bytes",
                times[2],
                times[0],
                times[4],
                text.len()
            );
        }
    }
    // The README's screenshot: the page on a shipped scenario, as a planner sees it.
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
    );
    browser.open(&link(&page, &reduced("policy-reminders")));
    thread::sleep(Duration::from_millis(500));
    let shot = browser.call("Page.captureScreenshot", json!({"format": "png"}));
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-page.png");
    fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
}

/// `web/build.sh` replaces only a folder it built itself: a user's folder or file where
/// the page would go stops it with exit 2 before anything is built, untouched and with
/// no staging debris beside it. Hermetic: the refusal comes before the build.
#[test]
fn the_page_build_never_replaces_what_it_did_not_build() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("site");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("index.html"), "the user's page").unwrap();
    let file = tmp.path().join("notes");
    fs::write(&file, "the user's notes").unwrap();
    let link = tmp.path().join("link");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&folder, &link).unwrap();
    let build = |args: &[&Path]| {
        Command::new("bash")
            .arg(root.join("web/build.sh"))
            .args(args)
            .output()
            .expect("bash runs web/build.sh")
    };
    let mut targets = vec![&folder, &file];
    if cfg!(unix) {
        targets.push(&link);
    }
    for target in targets {
        let out = build(&[target]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", target.display());
        assert!(
            stderr.contains(&target.display().to_string())
                && stderr.contains("was not built by this script"),
            "{stderr}"
        );
    }
    let missing = tmp.path().join("no-such-folder/dist");
    let out = build(&[&missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = build(&[&folder, &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
    // Everything as it was, and nothing added.
    assert_eq!(
        fs::read_to_string(folder.join("index.html")).unwrap(),
        "the user's page"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "the user's notes");
    let mut entries: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    let mut expected = vec!["notes", "site"];
    if cfg!(unix) {
        expected.insert(0, "link");
    }
    assert_eq!(entries, expected);
    assert_eq!(fs::read_dir(&folder).unwrap().count(), 1);
}
