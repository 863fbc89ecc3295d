//! The parts folder: where each shard writes its part file, beside the other shards'
//! parts, and how a part file is named.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::{Shard, is_part_file};
use crate::output::{self, OutputError};

/// A part file a shard of a run or sweep wrote.
#[derive(Clone, Debug)]
pub struct PartWritten {
    /// The part file.
    pub file: PathBuf,
    /// The folder of the parts, which `merge` reads when every shard has run.
    pub folder: PathBuf,
}

/// Writes a shard's part file into `dir`, beside the other shards' parts: `write` runs
/// the shard and streams its part once every check has passed.
pub fn write_part(
    dir: &Path,
    shard: Shard,
    force: bool,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<PartWritten, OutputError> {
    let name = shard.file_name();
    output::write_single_file(dir, &name, force, is_part_file, write)?;
    Ok(PartWritten {
        file: dir.join(&name),
        folder: dir.to_path_buf(),
    })
}

/// `part-I-of-N.jsonl` with decimal I and N.
pub fn is_part_name(name: &str) -> bool {
    let Some(middle) = name
        .strip_prefix("part-")
        .and_then(|n| n.strip_suffix(".jsonl"))
    else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    middle
        .split_once("-of-")
        .is_some_and(|(i, n)| digits(i) && digits(n))
}
