//! Reading a scenario: the file (bounded), overrides, validation, and errors that name
//! the file and the field; and the JSON Schema of the format.

use std::path::Path;

use super::{Overrides, Scenario, ScenarioError, file, validate};
use crate::input;

/// The JSON Schema of scenario files, generated from the types that read them (so it
/// cannot drift from what `validate` accepts), pretty-printed with a final newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(file::ScenarioFile);
    let mut value = serde_json::to_value(&schema).expect("a schema serialises");
    allow_comments(&mut value);
    serde_json::to_string_pretty(&value).expect("a schema serialises") + "\n"
}

/// Lets every object of the schema hold notes for people: keys that start with
/// `$comment`, which the reader ignores.
fn allow_comments(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(o) => {
            if o.get("properties")
                .is_some_and(serde_json::Value::is_object)
            {
                o.insert(
                    "patternProperties".into(),
                    serde_json::json!({"^\\$comment": {"type": "string", "description": "A note for people; rollout-sim ignores it."}}),
                );
            }
            o.values_mut().for_each(allow_comments);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(allow_comments),
        _ => {}
    }
}

/// Reads, overrides and validates a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    parse(&read(path)?, path, overrides)
}

/// Reads a scenario file's text (bounded, regular files only), for [`parse`]; `-`
/// reads standard input (bounded the same way).
pub fn read(path: &Path) -> Result<String, ScenarioError> {
    let text = if path == Path::new("-") {
        input::read_stream_bounded(std::io::stdin().lock(), input::MAX_INPUT_BYTES)
    } else {
        input::read_bounded(path)
    };
    text.map_err(|source| ScenarioError::Unreadable {
        file: path.to_path_buf(),
        source,
    })
}

/// Parses scenario text; `file` names it in error messages.
pub fn parse(text: &str, file: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    parse_unannotated(text, file, overrides).map_err(|e| with_origin(e, overrides))
}

fn parse_unannotated(
    text: &str,
    file: &Path,
    overrides: &Overrides,
) -> Result<Scenario, ScenarioError> {
    let mut value = input::parse_json(text).map_err(|e| ScenarioError::Syntax {
        file: file.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    input::strip_comments(&mut value);
    if !value.is_object() {
        return Err(ScenarioError::Field {
            file: file.to_path_buf(),
            field: "(top level)".into(),
            message: "a scenario is a JSON object, e.g. {\"name\": ..., \"platform\": ...}".into(),
        });
    }
    for setting in overrides.settings() {
        setting
            .apply(&mut value)
            .map_err(|e| ScenarioError::in_file(e, file))?;
    }
    let raw: file::ScenarioFile = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        ScenarioError::Field {
            file: file.to_path_buf(),
            field: if field == "." {
                "(top level)".into()
            } else {
                field
            },
            message: e.into_inner().to_string(),
        }
    })?;
    let scenario = validate::validate(raw).map_err(|e| ScenarioError::in_file(e, file))?;
    drawn_values_set(&scenario, overrides).map_err(|(field, message)| ScenarioError::Field {
        file: file.to_path_buf(),
        field,
        message,
    })?;
    Ok(scenario)
}

/// A `--set` of `approve` or `delay` on a profile whose `parameter_draws` decide them in
/// every replication would change nothing: refused, saying what to do instead.
fn drawn_values_set(scenario: &Scenario, overrides: &Overrides) -> Result<(), (String, String)> {
    for setting in overrides.settings() {
        let mut steps = setting.path.split('.');
        let (Some("admins"), Some(name), Some(key)) = (steps.next(), steps.next(), steps.next())
        else {
            continue;
        };
        let key = key.split('[').next().unwrap_or_default();
        // `*` sets every profile the file has, drawn ones among them.
        let drawn = scenario
            .population
            .segments
            .iter()
            .map(|s| &s.admin)
            .find(|a| (name == "*" || a.name == name) && !a.parameter_draws.is_empty());
        if let Some(admin) = drawn.filter(|_| key == "approve" || key == "delay") {
            let name = &admin.name;
            return Err((
                setting.path.clone(),
                format!(
                    "profile {name:?} has parameter_draws (from `rollout-sim fit`), which set approve and delay in every replication, so this value would change nothing; to run a fixed value, also clear them: --set admins.{name}.parameter_draws=[]"
                ),
            ));
        }
    }
    Ok(())
}

/// Names the command-line flag behind a field error, when a flag set that field.
fn with_origin(e: ScenarioError, overrides: &Overrides) -> ScenarioError {
    match e {
        ScenarioError::Field {
            file,
            field,
            message,
        } => match overrides.origin_of(&field) {
            Some(flag) => ScenarioError::Field {
                message: format!("{message} (the value comes from {flag})"),
                file,
                field,
            },
            None => ScenarioError::Field {
                file,
                field,
                message,
            },
        },
        other => other,
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
