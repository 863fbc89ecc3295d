//! Proof that a single file was written by rollout-sim and not changed since.
//!
//! A file that is not inside an output folder of ours (a `check --markdown` summary, a
//! `--junit` report, a baseline) has no manifest beside it to say it is ours. Looking at
//! its text ("contains `rollout-sim check`") is not ownership: a README or a CI log may
//! quote that. So each such file carries one seal line: a marker followed by the
//! SHA-256 of the file's own text with the hash written as zeros. A file is ours only
//! when the marker occurs exactly once and the hash matches, which a user's file cannot
//! do by accident, and which a file the user edited no longer does (it is then theirs,
//! and is replaced only with `--force`).

use sha2::{Digest, Sha256};

/// The marker before the hash; the hash is 64 lower-case hex digits.
const MARKER: &str = "rollout-sim-written sha256=";

/// The seal before its hash is known: the marker and 64 zeros.
pub(crate) const PLACEHOLDER: &str =
    "rollout-sim-written sha256=0000000000000000000000000000000000000000000000000000000000000000";

const HASH_LEN: usize = 64;

fn digest(text: &[u8]) -> String {
    Sha256::digest(text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seals `text`, which holds [`PLACEHOLDER`] exactly once where the seal belongs (in a
/// comment, or a JSON string): the zeros are replaced by the hash of `text`.
pub(crate) fn seal(text: &str) -> String {
    debug_assert_eq!(text.matches(MARKER).count(), 1, "one seal placeholder");
    let hash = digest(text.as_bytes());
    text.replacen(PLACEHOLDER, &format!("{MARKER}{hash}"), 1)
}

/// Seals a Markdown text: the seal goes in an HTML comment at the end, which renders
/// as nothing.
pub(crate) fn seal_markdown(text: &str) -> String {
    seal(&format!("{}\n\n<!-- {PLACEHOLDER} -->\n", text.trim_end()))
}

/// Seals an XML text: the seal goes in a comment after the declaration (first line).
pub(crate) fn seal_xml(text: &str) -> String {
    let (decl, rest) = text.split_once('\n').unwrap_or((text, ""));
    seal(&format!("{decl}\n<!-- {PLACEHOLDER} -->\n{rest}"))
}

/// Seals a pretty-printed JSON object: the seal is its first member, `written_by`.
pub(crate) fn seal_json_object(text: &str) -> String {
    let body = text.strip_prefix('{').unwrap_or(text);
    seal(&format!("{{\n  \"written_by\": \"{PLACEHOLDER}\",{body}"))
}

/// Whether `bytes` are a file [`seal`] wrote, unchanged since.
pub(crate) fn is_sealed(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut found = text.match_indices(MARKER);
    let (Some((at, _)), None) = (found.next(), found.next()) else {
        return false;
    };
    let start = at + MARKER.len();
    let Some(hash) = text.get(start..start + HASH_LEN) else {
        return false;
    };
    if !hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return false;
    }
    let unsealed = format!(
        "{}{}{}",
        &text[..at],
        PLACEHOLDER,
        &text[start + HASH_LEN..]
    );
    digest(unsealed.as_bytes()) == hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_text_verifies_and_any_change_breaks_the_seal() {
        let text = format!("# rollout-sim check\n\nall fine\n<!-- {PLACEHOLDER} -->\n");
        let sealed = seal(&text);
        assert!(is_sealed(sealed.as_bytes()));
        assert_ne!(sealed, text);
        // Every single-byte change anywhere is detected.
        for i in 0..sealed.len() {
            let mut bytes = sealed.clone().into_bytes();
            bytes[i] ^= 0x01;
            assert!(!is_sealed(&bytes), "a change at byte {i} went unnoticed");
        }
        // Appending or a second marker breaks it too.
        assert!(!is_sealed(format!("{sealed}more").as_bytes()));
        assert!(!is_sealed(format!("{sealed}{sealed}").as_bytes()));
    }

    #[test]
    fn each_format_stays_valid_when_sealed() {
        let json = seal_json_object("{\n  \"a\": 1\n}\n");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["a"], 1);
        assert!(value["written_by"].as_str().unwrap().starts_with(MARKER));
        let xml = seal_xml("<?xml version=\"1.0\"?>\n<a>\n</a>");
        assert!(xml.starts_with("<?xml version=\"1.0\"?>\n<!-- rollout-sim-written"));
        let md = seal_markdown("# title\n");
        assert!(md.starts_with("# title\n\n<!-- rollout-sim-written"));
        for text in [json, xml, md] {
            assert!(is_sealed(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn texts_that_only_look_like_ours_are_not() {
        for text in [
            "rollout-sim check quoted in a README",
            "<testsuite name=\"rollout-sim check\">",
            PLACEHOLDER,
            "rollout-sim-written sha256=",
            "rollout-sim-written sha256=zz",
            &format!("{MARKER}{}", "a".repeat(64)),
        ] {
            assert!(!is_sealed(text.as_bytes()), "{text}");
        }
        assert!(!is_sealed(&[0xff, 0xfe]));
    }
}
