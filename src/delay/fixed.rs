//! Fixed: every admin acts after exactly this long.

use super::DelayLaw;
use crate::input::FieldError;
use crate::time::{DurationText, SimDuration};

/// Always this long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fixed(pub SimDuration);

impl DelayLaw for Fixed {
    /// `"6h"`.
    type File = DurationText;

    fn from_file(file: &DurationText, _field: &str) -> Result<Fixed, FieldError> {
        Ok(Fixed(file.0))
    }

    fn quantile(&self, _u: f64) -> SimDuration {
        self.0
    }
}
