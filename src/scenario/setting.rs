//! Values set at a JSON path of a scenario before it is validated: the command line's
//! `--seed`/`--replications`/`--instances`, and every `sweep` grid point.

use serde_json::Value;

use super::FieldError;

/// `path = value`, e.g. `admins.casual.approve = 0.7` or `population.segments[0].share = 0.5`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// The JSON path, keys joined by dots with `[N]` for array items.
    pub path: String,
    /// The value to set.
    pub value: Value,
}

/// One step of a path: a key, or an index into an array.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Result<Vec<Step<'_>>, FieldError> {
    let bad = || {
        FieldError::new(
            path,
            "is not a path; expected keys joined by dots, with [N] for array items, e.g. population.segments[0].share",
        )
    };
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if key.is_empty() {
            return Err(bad());
        }
        out.push(Step::Key(key));
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(bad)?;
            let index = rest[1..close].parse().map_err(|_| bad())?;
            out.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad());
            }
        }
    }
    Ok(out)
}

/// A command-line value: JSON if it parses as JSON (`0.7`, `true`, `[1, 2]`), otherwise
/// the text itself as a string (`12h`, `Europe/Berlin`). An object or array must be
/// valid JSON with each key at most once, as in a scenario file: a typo there is an
/// error, not a string.
pub fn parse_value(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if text.starts_with('{') || text.starts_with('[') {
        return crate::input::parse_json(text).map_err(|e| {
            format!(
                "{} is not a valid JSON object or array: {e}",
                crate::input::echo(text)
            )
        });
    }
    Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())))
}

impl Setting {
    /// Sets `path` to `value`.
    pub fn new(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Setting {
            path: path.into(),
            value: value.into(),
        }
    }

    /// Sets the value, creating missing objects on the way. A key `*` stands for every
    /// entry the object already has (`admins.*.reminders` sets every profile written in
    /// the file).
    pub fn apply(&self, doc: &mut Value) -> Result<(), FieldError> {
        let steps = steps(&self.path)?;
        self.apply_steps(doc, &steps)
    }

    fn apply_steps(&self, cur: &mut Value, steps: &[Step<'_>]) -> Result<(), FieldError> {
        let Some((step, rest)) = steps.split_first() else {
            *cur = self.value.clone();
            return Ok(());
        };
        match step {
            Step::Key("*") => {
                let obj = cur
                    .as_object_mut()
                    .filter(|o| !o.is_empty())
                    .ok_or_else(|| {
                        FieldError::new(
                            &self.path,
                            "* matches no entry: its parent is not an object with entries",
                        )
                    })?;
                for item in obj.values_mut() {
                    self.apply_steps(item, rest)?;
                }
                Ok(())
            }
            Step::Key(key) => {
                let obj = cur.as_object_mut().ok_or_else(|| {
                    FieldError::new(
                        &self.path,
                        format!("cannot set {key:?}: its parent is not an object"),
                    )
                })?;
                let item = obj
                    .entry((*key).to_string())
                    .or_insert_with(|| Value::Object(Default::default()));
                self.apply_steps(item, rest)
            }
            Step::Index(index) => {
                let arr = cur.as_array_mut().ok_or_else(|| {
                    FieldError::new(
                        &self.path,
                        format!("cannot take item [{index}]: not an array"),
                    )
                })?;
                let len = arr.len();
                let item = arr.get_mut(*index).ok_or_else(|| {
                    FieldError::new(
                        &self.path,
                        format!("item [{index}] does not exist (the array has {len})"),
                    )
                })?;
                self.apply_steps(item, rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_star_sets_every_entry_the_object_has() {
        let mut doc = serde_json::json!({"admins": {"a": {"approve": 0.5}, "b": {"approve": 0.7}}});
        super::Setting::new("admins.*.reminders", serde_json::json!(["7d"]))
            .apply(&mut doc)
            .unwrap();
        assert_eq!(doc["admins"]["a"]["reminders"], serde_json::json!(["7d"]));
        assert_eq!(doc["admins"]["b"]["reminders"], serde_json::json!(["7d"]));
        assert_eq!(doc["admins"]["b"]["approve"], 0.7);
        let mut empty = serde_json::json!({"admins": {}});
        assert!(
            super::Setting::new("admins.*.approve", 0.5)
                .apply(&mut empty)
                .is_err()
        );
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn sets_nested_keys_and_array_items() {
        let mut doc = json!({"population": {"segments": [{"share": 0.5}, {"share": 0.5}]}});
        Setting::new("population.segments[1].share", 0.25)
            .apply(&mut doc)
            .unwrap();
        Setting::new("timing.upm_poll", "12h")
            .apply(&mut doc)
            .unwrap();
        assert_eq!(doc["population"]["segments"][1]["share"], json!(0.25));
        assert_eq!(doc["timing"]["upm_poll"], json!("12h"));
    }

    #[test]
    fn reports_bad_paths() {
        let mut doc = json!({"releases": [1]});
        assert!(
            Setting::new("releases[3].at", "1h")
                .apply(&mut doc)
                .unwrap_err()
                .message
                .contains("does not exist")
        );
        assert!(Setting::new("releases.at", "1h").apply(&mut doc).is_err());
        assert!(Setting::new("a..b", 1).apply(&mut doc).is_err());
        assert!(Setting::new("a[x]", 1).apply(&mut doc).is_err());
    }

    #[test]
    fn values_are_json_or_text() {
        assert_eq!(parse_value("0.7"), Ok(json!(0.7)));
        assert_eq!(parse_value("12h"), Ok(json!("12h")));
        assert_eq!(parse_value("\"x\""), Ok(json!("x")));
        assert_eq!(parse_value("[\"1h\", \"2h\"]"), Ok(json!(["1h", "2h"])));
        let dup = parse_value(r#"{"approve": 0.5, "approve": 0.9}"#).unwrap_err();
        assert!(dup.contains("approve"), "{dup}");
        assert!(parse_value("[1, 2").is_err());
    }
}
