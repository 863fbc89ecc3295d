//! `init` and `validate`: a commented starting scenario, and a scenario checked without
//! running it.

use std::path::Path;

use anyhow::{Context, Result};

use crate::scenario::starter::{StarterPlatform, StarterQuestion, starter};
use crate::scenario::{self, Overrides, Scenario};

/// Writes the starting scenario for `platform` and `question` to a new `file` (never
/// over an existing one, which may be the user's; a failed write leaves nothing).
pub fn init(file: &Path, platform: StarterPlatform, question: StarterQuestion) -> Result<()> {
    let text = starter(platform, question);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                " (init never replaces an existing file; choose another name)"
            } else {
                ""
            };
            anyhow::Error::new(e).context(format!("{}: cannot create it{why}", file.display()))
        })?;
    // The file is written and closed (the block owns it) before anything else touches it.
    let written = {
        let mut created = created;
        std::io::Write::write_all(&mut created, text.as_bytes())
    };
    if let Err(e) = written {
        // The file is ours and half written: remove it, leave nothing behind.
        let _ = std::fs::remove_file(file);
        return Err(e).with_context(|| format!("{}: cannot write it", file.display()));
    }
    Ok(())
}

/// Reads and validates the scenario at `path`.
pub fn validate(path: &Path) -> Result<Scenario> {
    Ok(scenario::load(path, &Overrides::default())?)
}
