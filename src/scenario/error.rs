//! Errors in scenario input: always which file, which field, what was wrong, what is allowed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario")]
    Unreadable {
        file: PathBuf,
        #[source]
        source: super::input::InputError,
    },
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {field}: {message}")]
    Field {
        file: PathBuf,
        field: String,
        message: String,
    },
}

impl ScenarioError {
    /// The field path (`population.segments[2].share`), when the error is about one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            ScenarioError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// A field-level problem found while checking a parsed scenario; the file name is added
/// by the caller that knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem, attributed to `file`.
    pub fn in_file(self, file: &std::path::Path) -> ScenarioError {
        ScenarioError::Field {
            file: file.to_path_buf(),
            field: self.field,
            message: self.message,
        }
    }
}
