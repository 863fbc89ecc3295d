//! Which release of an alternative is which release of the baseline: by label, by
//! change set, or as the user states; never silently by position.

use serde::Serialize;

use crate::scenario::Scenario;

/// How the releases of one alternative were paired with the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pairing {
    /// The other scenario's name.
    pub scenario: String,
    /// `stated` (`--pair`), `label` (equal labels written in both files) or
    /// `change set` (the k-th release with a change set with the k-th with the same).
    pub by: &'static str,
    /// (baseline release, other release).
    pub pairs: Vec<(usize, usize)>,
    /// Labels of the baseline's releases that have no partner.
    pub unpaired_baseline: Vec<String>,
    /// Labels of the other scenario's releases that have no partner.
    pub unpaired_other: Vec<String>,
}

/// Two release lists whose releases cannot be paired without the user saying how.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "cannot tell which releases of {other} are which of the baseline {baseline}: {reason}.\n  {baseline}: {baseline_list}\n  {other}: {other_list}\nstate the pairing with --pair BASELINE=OTHER,... (release indices, such as --pair 0=1), or give the releases the same \"label\" in both files"
)]
pub struct PairingError {
    /// The baseline scenario's name.
    pub baseline: String,
    /// The other scenario's name.
    pub other: String,
    /// Why the pairing is ambiguous.
    pub reason: String,
    /// The baseline's releases, described.
    pub baseline_list: String,
    /// The other scenario's releases, described.
    pub other_list: String,
}

/// A stated pairing, `B=A,...` with release indices: `0=1,1=2` pairs the baseline's
/// release 0 with the alternative's release 1, and 1 with 2.
pub fn parse_pairs(text: &str) -> Result<Vec<(usize, usize)>, String> {
    text.split(',')
        .map(|pair| {
            let parse = |s: &str| s.trim().parse::<usize>().ok();
            pair.split_once('=')
                .and_then(|(b, a)| Some((parse(b)?, parse(a)?)))
                .ok_or_else(|| {
                    format!(
                        "\"{}\" is not a pair; expected BASELINE=ALTERNATIVE release indices, such as 0=1,1=2",
                        crate::input::echo(pair)
                    )
                })
        })
        .collect()
}

/// The identity of a release when no label is written: its change kinds and, for a
/// backport, its line.
fn identity(r: &crate::scenario::ReleaseSpec) -> (crate::platform::ChangeSet, Option<u32>) {
    (r.changes, r.line)
}

fn describe(s: &Scenario) -> String {
    s.releases
        .iter()
        .enumerate()
        .map(|(k, r)| {
            format!(
                "#{k} \"{}\" ({}{} at {:.1} h)",
                r.label,
                r.changes.names().join(" + "),
                r.line
                    .map_or(String::new(), |l| format!(", backport to line {l}")),
                r.at.as_hours()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Pairing {
    /// Pairs the releases of `other` with the baseline's: as `stated` (baseline index,
    /// other index) when given; by label when every release of both has a written
    /// label; otherwise by change set, the k-th release with a change set with the
    /// k-th release with the same one, which must pair every release of both lists.
    /// Anything else is ambiguous: a [`PairingError`] naming both lists. (Versions
    /// are not used: they are derived from the change kinds, so equal change sets
    /// already give equal versions, and an equal number reached by different changes
    /// does not name the same release.)
    pub fn of(
        base: &Scenario,
        other: &Scenario,
        stated: Option<&[(usize, usize)]>,
    ) -> Result<Pairing, PairingError> {
        let error = |reason: String| PairingError {
            baseline: base.name.clone(),
            other: other.name.clone(),
            reason,
            baseline_list: describe(base),
            other_list: describe(other),
        };
        let labelled = base
            .releases
            .iter()
            .chain(&other.releases)
            .all(|r| r.label_given);
        let (by, pairs) = match stated {
            Some(stated) => ("stated", stated_pairs(base, other, stated)),
            None if labelled => ("label", pairs_by_label(base, other)),
            None => ("change set", pairs_by_change_set(base, other)),
        };
        let pairs = pairs.map_err(error)?;
        let unpaired = |s: &Scenario, paired: &dyn Fn(usize) -> bool| {
            s.releases
                .iter()
                .enumerate()
                .filter(|(k, _)| !paired(*k))
                .map(|(_, r)| r.label.clone())
                .collect()
        };
        Ok(Pairing {
            scenario: other.name.clone(),
            by,
            unpaired_baseline: unpaired(base, &|k| pairs.iter().any(|p| p.0 == k)),
            unpaired_other: unpaired(other, &|k| pairs.iter().any(|p| p.1 == k)),
            pairs,
        })
    }
}

/// The pairs as stated (`--pair B=O`), each naming releases that exist, none twice; or
/// why not.
fn stated_pairs(
    base: &Scenario,
    other: &Scenario,
    stated: &[(usize, usize)],
) -> Result<Vec<(usize, usize)>, String> {
    for &(b, o) in stated {
        if b >= base.releases.len() || o >= other.releases.len() {
            return Err(format!(
                "--pair {b}={o} names a release that does not exist (the baseline has {}, {} has {})",
                base.releases.len(),
                other.name,
                other.releases.len()
            ));
        }
        let used = |f: &dyn Fn(&(usize, usize)) -> bool| stated.iter().filter(|p| f(p)).count() > 1;
        if used(&|p| p.0 == b) || used(&|p| p.1 == o) {
            return Err(format!(
                "--pair pairs a release twice ({b}={o}); each release pairs with at most one"
            ));
        }
    }
    Ok(stated.to_vec())
}

/// The releases paired by their written labels, unique in each list; or why not.
fn pairs_by_label(base: &Scenario, other: &Scenario) -> Result<Vec<(usize, usize)>, String> {
    let repeated = |s: &Scenario| {
        s.releases
            .iter()
            .enumerate()
            .find(|(k, r)| s.releases[..*k].iter().any(|q| q.label == r.label))
            .map(|(_, r)| r.label.clone())
    };
    if let Some(label) = repeated(base).or_else(|| repeated(other)) {
        return Err(format!(
            "the label \"{label}\" names two releases of one list"
        ));
    }
    let pairs: Vec<(usize, usize)> = base
        .releases
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            other
                .releases
                .iter()
                .position(|o| o.label == r.label)
                .map(|j| (i, j))
        })
        .collect();
    if pairs.is_empty() {
        return Err("no label is written in both lists".into());
    }
    Ok(pairs)
}

/// The k-th release with a change set paired with the other's k-th with the same one,
/// which must pair every release of both lists; or why not.
fn pairs_by_change_set(base: &Scenario, other: &Scenario) -> Result<Vec<(usize, usize)>, String> {
    let mut pairs = Vec::new();
    for (i, r) in base.releases.iter().enumerate() {
        let nth = base.releases[..i]
            .iter()
            .filter(|q| identity(q) == identity(r))
            .count();
        if let Some(j) = other
            .releases
            .iter()
            .enumerate()
            .filter(|(_, o)| identity(o) == identity(r))
            .nth(nth)
            .map(|(j, _)| j)
        {
            pairs.push((i, j));
        }
    }
    if pairs.len() != base.releases.len() || pairs.len() != other.releases.len() {
        return Err(
            "their releases are not labelled in both files and their change sets differ".into(),
        );
    }
    Ok(pairs)
}

/// How each alternative's releases pair with the baseline's (`scenarios[0]`), as
/// [`Pairing::of`] says; `stated` is empty, one pairing for every alternative, or one
/// per alternative in order.
pub fn pairings(
    scenarios: &[Scenario],
    stated: &[Vec<(usize, usize)>],
) -> Result<Vec<Pairing>, PairingError> {
    let alternatives = scenarios.len().saturating_sub(1);
    if stated.len() > 1 && stated.len() != alternatives {
        return Err(PairingError {
            baseline: scenarios[0].name.clone(),
            other: scenarios[1..]
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            reason: format!(
                "--pair is given {} times for {alternatives} alternatives; give it once for all, or once per alternative",
                stated.len()
            ),
            baseline_list: describe(&scenarios[0]),
            other_list: scenarios[1..]
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    scenarios[1..]
        .iter()
        .enumerate()
        .map(|(i, other)| {
            let stated = stated.get(i).or(stated.first()).map(Vec::as_slice);
            Pairing::of(&scenarios[0], other, stated)
        })
        .collect()
}
