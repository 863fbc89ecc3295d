//! Writing an output directory all at once, or not at all.

use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use super::Exporter;

/// The output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct OutputError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes every exporter's file into `dir`.
///
/// The files go to a staging directory beside `dir` first, which then replaces `dir` by
/// renames: readers see the old complete output or the new complete output, never a mix,
/// and a failure leaves `dir` as it was.
pub fn write_atomically<R>(
    dir: &Path,
    report: &R,
    exporters: &[Box<dyn Exporter<R>>],
) -> Result<(), OutputError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(at(parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(at(&staging))?;
        }
        fs::create_dir(&staging).map_err(at(&staging))?;
        for exporter in exporters {
            let path = staging.join(exporter.file_name());
            let file = fs::File::create(&path).map_err(at(&path))?;
            let mut w = BufWriter::new(file);
            exporter.write(report, &mut w).map_err(at(&path))?;
            w.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .map_err(at(&path))?;
        }
        replace_dir(&staging, dir)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn replace_dir(staging: &Path, dir: &Path) -> Result<(), OutputError> {
    if !dir.exists() {
        return fs::rename(staging, dir).map_err(at(dir));
    }
    let old = staging.with_extension("old");
    fs::rename(dir, &old).map_err(at(dir))?;
    if let Err(e) = fs::rename(staging, dir) {
        let _ = fs::rename(&old, dir);
        return Err(at(dir)(e));
    }
    fs::remove_dir_all(&old).map_err(at(&old))
}

/// Renders one exporter's output to a string (for stdout).
pub fn render<R>(exporter: &dyn Exporter<R>, report: &R) -> io::Result<String> {
    String::from_utf8(exporter.to_bytes(report)).map_err(io::Error::other)
}
