//! Reading input files safely: bounded in size, regular files only, and JSON objects
//! with each key at most once (`serde_json` alone lets the last duplicate win silently).

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::time::{DurationText, SimDuration};

/// The largest data file read (`fit --observed` CSVs, `--from-events` logs): an event
/// log of a million instances is about 200 MiB.
pub const MAX_DATA_BYTES: u64 = 512 << 20;

/// The largest input file read: far above any real scenario (the shipped ones are a few
/// KiB; an empirical delay table of 10,000 rows is about 300 KiB), far below memory.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    /// The operating system refused.
    Io(std::io::Error),
    #[error("is not a regular file (a folder, FIFO or device); input must be a regular file")]
    /// A folder, FIFO or device.
    NotRegular,
    #[error("is larger than {} MiB, the most this input file may be", .0 >> 20)]
    /// Above the cap for this kind of input (bytes).
    TooLarge(u64),
}

/// The most characters of user input an error message repeats.
pub const MAX_ECHO_CHARS: usize = 120;

/// User input as an error message may repeat it: control characters (a newline, ESC,
/// BEL, CR) escaped so that a message stays one line and cannot drive the terminal, and
/// at most [`MAX_ECHO_CHARS`] characters, with how many more were left out.
pub fn echo(input: &str) -> String {
    echo_at_most(input, MAX_ECHO_CHARS)
}

/// [`echo`] with a cap of `max` characters.
pub fn echo_at_most(input: &str, max: usize) -> String {
    let total = input.chars().count();
    let mut shown = String::new();
    for c in input.chars().take(max) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if total > max {
        shown.push_str(&format!("... ({} more characters)", total - max));
    }
    shown
}

/// Opens `path` for reading only if it is a regular file (a link to one is followed).
/// The open never blocks: a FIFO swapped in after the look would otherwise wait for a
/// writer for ever, so it is opened non-blocking and refused by what the open handle is.
pub fn open_regular(path: &Path) -> Result<std::fs::File, InputError> {
    if !std::fs::metadata(path).map_err(InputError::Io)?.is_file() {
        return Err(InputError::NotRegular);
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(InputError::Io)?;
    if !file.metadata().map_err(InputError::Io)?.is_file() {
        return Err(InputError::NotRegular);
    }
    Ok(file)
}

/// Reads a regular file of at most [`MAX_INPUT_BYTES`] as UTF-8 text.
pub fn read_bounded(path: &Path) -> Result<String, InputError> {
    read_bounded_to(path, MAX_INPUT_BYTES)
}

/// Reads a regular file of at most `cap` bytes (see [`open_regular`]).
pub fn read_bytes_bounded(path: &Path, cap: u64) -> Result<Vec<u8>, InputError> {
    let file = open_regular(path)?;
    let meta = file.metadata().map_err(InputError::Io)?;
    if meta.len() > cap {
        return Err(InputError::TooLarge(cap));
    }
    // The file may grow while it is read: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge(cap));
    }
    Ok(bytes)
}

/// Reads a regular file of at most `cap` bytes as UTF-8 text.
pub fn read_bounded_to(path: &Path, cap: u64) -> Result<String, InputError> {
    text(read_bytes_bounded(path, cap)?)
}

/// Reads at most `cap` bytes of UTF-8 text from `reader` (standard input, for a
/// scenario given as `-`): one byte past the cap is refused, so a stream without end
/// cannot exhaust memory.
pub fn read_stream_bounded(reader: impl Read, cap: u64) -> Result<String, InputError> {
    let mut bytes = Vec::new();
    reader
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge(cap));
    }
    text(bytes)
}

/// Bytes as UTF-8 text, a leading byte order mark dropped.
fn text(bytes: Vec<u8>) -> Result<String, InputError> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        // A UTF-8 byte order mark (some Windows editors write one) carries no text.
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        InputError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// Whether a key is a note for people (`$comment`, `$comment_platform`, ...), which
/// the file format ignores at any depth.
pub fn is_comment(key: &str) -> bool {
    key.starts_with("$comment")
}

/// Removes every comment key ([`is_comment`]) at any depth.
pub fn strip_comments(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(o) => {
            o.retain(|k, _| !is_comment(k));
            o.values_mut().for_each(strip_comments);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

/// A scenario file's JSON in canonical form: keys sorted, compact, `$schema` and
/// comments dropped.
pub fn canonical_json(mut value: serde_json::Value) -> String {
    strip_comments(&mut value);
    if let Some(o) = value.as_object_mut() {
        o.remove("$schema");
    }
    value.to_string()
}

/// Parses JSON text, refusing an object that repeats a key.
pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue::deserialize(&mut de)?.0;
    de.end()?;
    Ok(value)
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("numbers must be finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key {key:?}: each key may appear once in an object"
                )));
            }
            let StrictValue(v) = map.next_value()?;
            object.insert(key, v);
        }
        Ok(Value::Object(object))
    }
}

/// A problem with one field of an input file: its path and what was wrong; the file name
/// is added by the caller that knows it.
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
}

/// `d` if it is longer than zero.
pub(crate) fn positive(d: SimDuration, field: &str) -> Result<SimDuration, FieldError> {
    if d.is_zero() {
        return Err(FieldError::new(field, "must be longer than zero"));
    }
    Ok(d)
}

/// The pair `[low, high]` if `low` is not above `high`.
pub(crate) fn range(
    pair: &[DurationText; 2],
    field: &str,
) -> Result<(SimDuration, SimDuration), FieldError> {
    let (lo, hi) = (pair[0].0, pair[1].0);
    if lo > hi {
        return Err(FieldError::new(
            field,
            format!("the lower bound {lo} is above the upper bound {hi}"),
        ));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_line() {
        let e = parse_json("{\n \"a\": 1,\n \"b\": {\"c\": 1, \"c\": 2}\n}").unwrap_err();
        assert!(e.to_string().contains("duplicate key \"c\""), "{e}");
        assert_eq!(e.line(), 3);
        assert_eq!(
            parse_json("{\"a\": [1, 2.5, null, true, \"x\"]}").unwrap(),
            serde_json::json!({"a": [1, 2.5, null, true, "x"]})
        );
        assert!(parse_json("{} trailing").is_err());
    }

    #[test]
    fn only_bounded_regular_files_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_bounded(tmp.path()),
            Err(InputError::NotRegular)
        ));
        let big = tmp.path().join("big.json");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_INPUT_BYTES + 1)
            .unwrap();
        assert!(matches!(read_bounded(&big), Err(InputError::TooLarge(_))));
        if Path::new("/dev/zero").exists() {
            assert!(matches!(
                read_bounded(Path::new("/dev/zero")),
                Err(InputError::NotRegular)
            ));
        }
    }
}
