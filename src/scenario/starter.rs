//! `rollout-sim init`: a starting scenario for a platform and a question, with a
//! `$comment` beside each choice saying what it means and what to change. Comments are
//! part of the file format: keys that start with `$comment` are ignored at any depth
//! (as JSON Schema's `$comment`), so the file runs as written.

/// The platform a starting scenario is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StarterPlatform {
    /// Connect: descriptor polled every 5 h, UPM polls every 24 h.
    Connect,
    /// Forge: changes detected within minutes.
    Forge,
}

/// The question a starting scenario asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StarterQuestion {
    /// How long must I serve the old version after an automatic update?
    Automatic,
    /// A change that adds scopes: when can I switch the old version off?
    Approval,
    /// Free to paid: how long does the free version live, and with a deadline?
    Paid,
}

/// The starting scenario's JSON text.
pub fn starter(platform: StarterPlatform, question: StarterQuestion) -> String {
    let (platform_name, platform_note) = match platform {
        StarterPlatform::Connect => (
            "connect",
            "Connect: the Marketplace polls the descriptor every 5 h, each instance's UPM every 24 h; maintenance windows slip an update by 4 h. `rollout-sim presets` lists the timings and their sources.",
        ),
        StarterPlatform::Forge => (
            "forge",
            "Forge: the Marketplace detects a change within minutes; each instance's UPM polls every 24 h. `rollout-sim presets` lists the timings and their sources.",
        ),
    };
    let (name, description, changes, release_note, policy) = match question {
        StarterQuestion::Automatic => (
            "my-automatic-update",
            "How long must the vendor keep serving the old version after an update every instance takes automatically?",
            r#"["other"]"#,
            "other: a change that needs no approval, so every instance takes it at its next poll.",
            r#""policy": {
    "$comment": "Stop serving older versions 7 days after each deploy: the report counts the instances still on them then (left_behind).",
    "drop_old_support_after": "7d"
  },"#,
        ),
        StarterQuestion::Approval => (
            "my-scope-change",
            "A release adds scopes, so each site's admin must approve it. When can the vendor switch the old version off?",
            r#"["scopes"]"#,
            "scopes: new permissions, so an admin must approve; admins who never do keep the old version.",
            r#""policy": {
    "$comment": "Stop serving older versions 30 days after the deploy: the report counts the instances still on them then (left_behind).",
    "drop_old_support_after": "30d"
  },"#,
        ),
        StarterQuestion::Paid => (
            "my-free-to-paid",
            "The app moves from free to paid. How long does the free version live, and what does an approval deadline change?",
            r#"["licensing"]"#,
            "licensing: free to paid, reviewed by the Marketplace, then approved by each site's admin.",
            r#""policy": {
    "$comment": "Sites that have not approved the paid version 30 days after its publication are uninstalled: this ends the free version's window. Remove it to see the window without a deadline.",
    "uninstall_unapproved_after": "30d"
  },"#,
        ),
    };
    format!(
        r#"{{
  "$comment": "A starting scenario written by `rollout-sim init`. Run it with `rollout-sim run FILE`; every \"$comment\" is a note for people and is ignored. The README's Scenario files section lists every field.",
  "name": "{name}",
  "description": "{description}",
  "platform": "{platform_name}",
  "$comment_platform": "{platform_note}",
  "start": "2026-03-02T14:00:00Z",
  "horizon": "60d",
  "seed": 1,
  "replications": 200,
  "initial_version": "1.0.0",
  "population": {{
    "$comment": "Your installed base: how many instances, in which time zones, and how their admins answer approval requests. Fit the admins to a past release with `rollout-sim fit`.",
    "instances": 5000,
    "segments": [
      {{"name": "self-serve", "share": 0.7, "timezones": {{"Europe/Berlin": 0.5, "America/New_York": 0.5}}, "admin": "casual"}},
      {{"name": "enterprise", "share": 0.3, "timezones": {{"America/Los_Angeles": 1.0}}, "admin": "careful"}}
    ]
  }},
  "releases": [
    {{
      "$comment": "{release_note} Add releases to model a release train; \"at\" is the time after the start.",
      "at": "0h",
      "changes": {changes},
      "label": "next release"
    }}
  ],
  {policy}
  "report": {{
    "$comment": "The question in a planner's words: when can the old version go, with at most this many instances left on it? A share such as \"5%\" or a count such as \"100 instances\".",
    "switch_off_when_at_most": "0%"
  }}
}}
"#
    )
}
