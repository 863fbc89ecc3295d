//! Hostile and mistaken input: a catalogue of bad scenarios, each refused with exit 2,
//! one line on stderr naming the file and the field, and nothing touched.

use std::fs;
use std::io::Read;
use std::process::{Command as Process, Stdio};

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;

use serde_json::{Value, json};

use crate::common::*;
use crate::file_safety::{Scratch, small, snapshot, write_doc};

/// One bad input: the scenario, and the field path the one-line error must name.
struct Bad {
    doc: Value,
    field: &'static str,
}

fn bad(path: &str, value: Value, field: &'static str) -> Bad {
    Bad {
        doc: set(small(base("connect")), path, value),
        field,
    }
}

fn bad_forge(path: &str, value: Value, field: &'static str) -> Bad {
    Bad {
        doc: set(small(base("forge")), path, value),
        field,
    }
}

fn segments(list: Value) -> Value {
    set(small(base("connect")), "population.segments", list)
}

fn with_admin(admin: Value) -> Value {
    set(small(base("connect")), "admins.x", admin)
}

fn admin(extra: Value) -> Value {
    let mut a = json!({"approve": 0.5, "reject": 0.1});
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    with_admin(a)
}

fn releases(list: Value) -> Value {
    set(small(base("connect")), "releases", list)
}

fn catalogue() -> Vec<Bad> {
    let seg = |extra: Value| {
        let mut s = json!({"name": "a", "share": 1.0});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        segments(json!([s]))
    };
    let b = |doc: Value, field| Bad { doc, field };
    vec![
        bad("name", json!(""), "name"),
        bad("name", json!("/tmp/x"), "name"),
        bad("name", json!("../../x"), "name"),
        bad("name", json!(5), "name"),
        bad("platform", json!("aws"), "platform"),
        bad("platform", json!(5), "platform"),
        bad("start", json!("yesterday"), "start"),
        bad("start", json!("2026-13-01T00:00:00Z"), "start"),
        bad("horizon", json!("0h"), "horizon"),
        bad("horizon", json!("5x"), "horizon"),
        bad("horizon", json!("-5h"), "horizon"),
        bad("horizon", json!(5), "horizon"),
        bad("horizon", json!("99999999999w"), "horizon"),
        bad("seed", json!(-1), "seed"),
        bad("seed", json!("x"), "seed"),
        bad("seed", json!(1.5), "seed"),
        bad("replications", json!(0), "replications"),
        bad("replications", json!(4_294_967_296_u64), "replications"),
        bad("replications", json!(-3), "replications"),
        bad("initial_version", json!("1.4"), "initial_version"),
        bad("initial_version", json!("1.4.2.1"), "initial_version"),
        bad("initial_version", json!("a.b.c"), "initial_version"),
        bad(
            "initial_version",
            json!("1.4.4294967296"),
            "initial_version",
        ),
        bad("initial_version", json!("1.4.4294967295"), "releases[0]"),
        bad_forge("initial_version", json!("1.4.2"), "initial_version"),
        bad_forge("initial_api_version", json!(2), "initial_api_version"),
        bad("initial_licensing", json!("maybe"), "initial_licensing"),
        bad("colour", json!("blue"), "colour"),
        bad(
            "timing.descriptor_poll",
            json!("0h"),
            "timing.descriptor_poll",
        ),
        bad("timing.upm_poll", json!("0h"), "timing.upm_poll"),
        bad("timing.upm_poll", json!("abc"), "timing.upm_poll"),
        bad(
            "timing.slip_probability",
            json!(1.5),
            "timing.slip_probability",
        ),
        bad(
            "timing.slip_probability",
            json!(-0.1),
            "timing.slip_probability",
        ),
        bad(
            "timing.forge_detection",
            json!(["5m", "1m"]),
            "timing.forge_detection",
        ),
        bad(
            "timing.forge_propagation",
            json!(["1m"]),
            "timing.forge_propagation",
        ),
        bad(
            "timing.licensing_review",
            json!(["1d", "x"]),
            "timing.licensing_review[1]",
        ),
        bad("timing.speed", json!("1h"), "timing"),
        bad("population.instances", json!(0), "population.instances"),
        bad("population.instances", json!(-1), "population.instances"),
        bad(
            "population.instances",
            json!("many"),
            "population.instances",
        ),
        bad(
            "population.churn.installs_per_day",
            json!(-1),
            "population.churn.installs_per_day",
        ),
        bad(
            "population.churn.uninstall_rate_per_day",
            json!("x"),
            "population.churn.uninstall_rate_per_day",
        ),
        b(segments(json!([])), "population.segments"),
        b(seg(json!({"share": 1.5})), "population.segments[0].share"),
        b(
            segments(json!([{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}])),
            "population.segments[1].share",
        ),
        b(
            seg(json!({"timezones": {"Mars/Olympus": 1.0}})),
            "population.segments[0].timezones.Mars/Olympus",
        ),
        b(
            seg(json!({"timezones": {"UTC": 0.0}})),
            "population.segments[0].timezones.UTC",
        ),
        b(
            seg(json!({"timezones": {}})),
            "population.segments[0].timezones",
        ),
        b(
            seg(json!({"admin": "nobody"})),
            "population.segments[0].admin",
        ),
        b(
            seg(json!({"maintenance": "never"})),
            "population.segments[0].maintenance",
        ),
        b(
            seg(json!({"holidays": ["2026-02-30"]})),
            "population.segments[0].holidays[0]",
        ),
        b(seg(json!({"weight": 0})), "population.segments[0].weight"),
        b(seg(json!({"colour": "red"})), "population.segments[0]"),
        b(segments(json!([{"share": 1.0}])), "population.segments[0]"),
        b(
            with_admin(json!({"approve": 1.5, "reject": 0.0})),
            "admins.x.approve",
        ),
        b(
            with_admin(json!({"approve": 0.8, "reject": 0.3})),
            "admins.x.reject",
        ),
        b(
            admin(json!({"delay": {"weibull": {"shape": 1}}})),
            "admins.x.delay",
        ),
        b(
            admin(json!({"delay": {"lognormal": {"median": "1d", "sigma": -1.0}}})),
            "admins.x.delay.lognormal.sigma",
        ),
        b(
            admin(json!({"delay": {"exponential": {"mean": "0h"}}})),
            "admins.x.delay.exponential.mean",
        ),
        b(
            admin(json!({"delay": {"uniform": ["2h", "1h"]}})),
            "admins.x.delay.uniform",
        ),
        b(
            admin(json!({"delay": {"empirical": []}})),
            "admins.x.delay.empirical",
        ),
        b(
            admin(json!({"delay": {"empirical": [["1h", 0.5]]}})),
            "admins.x.delay.empirical[0]",
        ),
        b(
            admin(json!({"delay": {"empirical": [["2h", 0.5], ["1h", 1.0]]}})),
            "admins.x.delay.empirical[1]",
        ),
        b(admin(json!({"on_reject": "explode"})), "admins.x.on_reject"),
        b(
            admin(json!({"working_hours": {"from": "25:00", "to": "17:00"}})),
            "admins.x.working_hours.from",
        ),
        b(
            admin(json!({"working_hours": {"from": "17:00", "to": "09:00"}})),
            "admins.x.working_hours.to",
        ),
        b(
            admin(json!({"working_hours": {"days": "someday", "from": "09:00", "to": "17:00"}})),
            "admins.x.working_hours.days",
        ),
        b(
            admin(
                json!({"reminders": ["1d", "2d", "3d", "4d", "5d", "6d", "7d", "8d"], "reminder_response": 0.5}),
            ),
            "admins.x.reminders",
        ),
        b(
            admin(json!({"reminders": ["2d", "1d"], "reminder_response": 0.5})),
            "admins.x.reminders",
        ),
        b(
            admin(json!({"reminders": ["2d"]})),
            "admins.x.reminder_response",
        ),
        b(
            admin(json!({"reminders": ["2d"], "reminder_response": 2})),
            "admins.x.reminder_response",
        ),
        bad(
            "maintenance.night",
            json!({"from": "1am", "to": "03:00"}),
            "maintenance.night.from",
        ),
        bad(
            "maintenance.night",
            json!({"from": "01:00", "to": "03:00", "zone": "Nowhere"}),
            "maintenance.night.zone",
        ),
        bad(
            "maintenance.night",
            json!([{"from": "01:00", "to": "03:00", "extra": 1}]),
            "maintenance.night[0]",
        ),
        bad("maintenance.night", json!(5), "maintenance.night"),
        bad(
            "maintenance.night",
            json!({"days": 7, "from": "01:00", "to": "03:00"}),
            "maintenance.night.days",
        ),
        b(releases(json!([])), "releases"),
        b(
            releases(json!([{"at": "tomorrow", "changes": ["other"]}])),
            "releases[0].at",
        ),
        b(
            releases(json!([{"at": "11d", "changes": ["other"]}])),
            "releases[0].at",
        ),
        b(
            releases(
                json!([{"at": "2d", "changes": ["other"]}, {"at": "1d", "changes": ["other"]}]),
            ),
            "releases[1].at",
        ),
        b(
            releases(json!([{"at": "1d", "changes": ["magic"]}])),
            "releases[0].changes[0]",
        ),
        b(
            releases(json!([{"at": "1d", "changes": ["other"], "scopes": ["read"]}])),
            "releases[0].changes",
        ),
        b(
            releases(json!([{"at": "1d", "changes": ["other"], "line": 1}])),
            "releases[0].line",
        ),
        b(
            releases(json!([{"at": "1d", "scopes": []}])),
            "releases[0].scopes",
        ),
        b(
            releases(json!([{"at": "1d", "when": "now"}])),
            "releases[0]",
        ),
        bad_forge(
            "releases",
            json!([{"at": "1d", "api_version": 3}]),
            "releases[0].api_version",
        ),
        bad(
            "policy.drop_old_support_after",
            json!("x"),
            "policy.drop_old_support_after",
        ),
        bad("policy.cutoff_at", json!("soon"), "policy.cutoff_at"),
        bad(
            "policy.cutoff_action",
            json!("maybe"),
            "policy.cutoff_action",
        ),
        bad(
            "policy.bulk_upgrade",
            json!({"at": "1d", "requests_per_hour": 1}),
            "policy.bulk_upgrade",
        ),
        bad("report.thresholds", json!([]), "report.thresholds"),
        bad(
            "report.thresholds",
            json!([0.9, 0.5]),
            "report.thresholds[1]",
        ),
        bad("report.thresholds", json!([1.5]), "report.thresholds[0]"),
        bad("report.sample_every", json!("0h"), "report.sample_every"),
        bad(
            "report.coexistence_tolerance",
            json!(2),
            "report.coexistence_tolerance",
        ),
        bad(
            "report.compat_window_quantile",
            json!(0),
            "report.compat_window_quantile",
        ),
        // Segment names: unique, not empty, printable (they are printed and fit by name).
        b(
            segments(json!([{"name": "eu", "share": 0.5}, {"name": "eu", "share": 0.5}])),
            "population.segments[1].name",
        ),
        b(
            segments(json!([{"name": "", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "  ", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "eu\u{1b}[31m", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "a\u{7}", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "x".repeat(201), "share": 1.0}])),
            "population.segments[0].name",
        ),
        // Release labels, profile and calendar names: printable text.
        b(
            releases(json!([{"at": "0h", "changes": ["other"], "label": "fix\r\u{1b}[2K"}])),
            "releases[0].label",
        ),
        b(
            releases(json!([{"at": "0h", "changes": ["other"], "label": ""}])),
            "releases[0].label",
        ),
        b(
            set(
                small(base("connect")),
                "admins",
                json!({"a\u{1b}b": {"approve": 0.5, "reject": 0.1}}),
            ),
            "admins.a\\u{1b}b",
        ),
        b(
            set(
                small(base("connect")),
                "maintenance",
                json!({"w\nx": {"from": "01:00", "to": "02:00"}}),
            ),
            "maintenance.w\\nx",
        ),
        // An expectation bound of the wrong type names the field and the accepted forms.
        b(
            set(
                small(base("connect")),
                "expect",
                json!([{"figure": "coexistence", "max": true}]),
            ),
            "expect[0].max",
        ),
        b(
            set(
                small(base("connect")),
                "expect",
                json!([{"figure": "coexistence", "min": [1]}]),
            ),
            "expect[0].min",
        ),
    ]
}

#[test]
fn bad_input_catalogue_exit_2_one_line_and_nothing_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = write_doc(tmp.path(), &small(base("connect")));
    cli()
        .args([
            "run",
            good.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let before = snapshot(tmp.path());
    let cases = catalogue();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    let file = tmp.path().join("bad.json");
    let mut texts: Vec<(String, &str)> = cases
        .iter()
        .map(|c| (serde_json::to_string_pretty(&c.doc).unwrap(), c.field))
        .collect();
    // Text-level cases: a duplicate key, broken JSON.
    let valid = serde_json::to_string_pretty(&small(base("connect"))).unwrap();
    texts.push((
        valid.replacen("\"seed\": 42,", "\"seed\": 42,\n  \"seed\": 43,", 1),
        "duplicate key",
    ));
    texts.push((valid.replacen("\"seed\": 42,", "\"seed\": 42", 1), "line"));
    texts.push((String::new(), "line 1"));
    texts.push(("[1, 2]".into(), "(top level)"));
    for (text, field) in &texts {
        fs::write(&file, text).unwrap();
        let o = cli()
            .args([
                "run",
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{field}: {err}");
        assert!(o.stdout.is_empty());
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {err}");
        assert!(
            lines[0].contains(&format!("bad.json: {field}"))
                || lines[0].contains(field) && lines[0].contains("bad.json"),
            "expected bad.json and {field:?} in: {err}"
        );
        fs::remove_file(&file).unwrap();
        assert_eq!(
            snapshot(tmp.path()),
            before,
            "{field}: the output folder is unchanged"
        );
    }
}

#[test]
fn messages_name_the_field_once_and_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        small(base("connect")),
        "maintenance.night",
        json!({"from": "01:00", "to": "03:00", "fromm": "x"}),
    );
    let file = write_doc(tmp.path(), &doc);
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("maintenance.night")
                .and(predicate::str::contains("fromm"))
                .and(predicate::str::contains("untagged").not()),
        );
    let doc = set(small(base("connect")), "maintenance.night", json!(5));
    let file = write_doc(tmp.path(), &doc);
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("maintenance.night")
                .and(predicate::str::contains("a list of windows")),
        );
    let missing = tmp.path().join("nope.json");
    let o = cli()
        .args(["validate", missing.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    cli()
        .args([
            "run",
            "scenarios/forge-minor.json",
            "--set",
            "report.thresholds=[2]",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("forge-minor.json: report.thresholds[0]")
                .and(predicate::str::contains("--set report.thresholds=[2]")),
        );
}

#[test]
fn a_closed_stdout_is_a_quiet_exit_not_a_panic() {
    let scratch = Scratch::new();
    let (tmp, file) = (&scratch.dir, &scratch.scenario);
    for args in [
        vec![
            "run",
            file.to_str().unwrap(),
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ],
        vec!["presets"],
    ] {
        let mut child = Process::new(cargo_bin("rollout-sim"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // like `| head -0`: the reader is gone
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
