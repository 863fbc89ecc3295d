//! Errors in scenario input: always which file, which field, what was wrong, what is allowed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
/// Why a scenario file was refused.
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario")]
    /// The file could not be read.
    Unreadable {
        /// The scenario file.
        file: PathBuf,
        #[source]
        /// Why.
        source: crate::input::InputError,
    },
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    /// The file is not valid JSON.
    Syntax {
        /// The scenario file.
        file: PathBuf,
        /// Line of the error (from 1).
        line: usize,
        /// Column of the error (from 1).
        column: usize,
        /// The parser's message.
        message: String,
    },
    #[error("{file}: {field}: {message}")]
    /// A field has a value that is not allowed.
    Field {
        /// The scenario file.
        file: PathBuf,
        /// The field's path, e.g. `population.segments[2].share`.
        field: String,
        /// What was wrong and what is allowed.
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
    /// The field's path, e.g. `population.segments[2].share`.
    pub field: String,
    /// What was wrong and what is allowed.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`, described by `message`.
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
