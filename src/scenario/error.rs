//! Errors in scenario input: always which file, which field, what was wrong, what is allowed.

use std::path::PathBuf;

pub use crate::input::FieldError;

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
    /// A field's problem, attributed to `file`.
    pub fn in_file(problem: FieldError, file: &std::path::Path) -> ScenarioError {
        ScenarioError::Field {
            file: file.to_path_buf(),
            field: problem.field,
            message: problem.message,
        }
    }

    /// The field path (`population.segments[2].share`), when the error is about one field.
    pub fn field(&self) -> Option<&str> {
        match self {
            ScenarioError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}
