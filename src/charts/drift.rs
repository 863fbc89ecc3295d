//! The chart of a figure that `check` found drifted.

use super::{Axis, Chart, Drawing, Series};

/// The empirical distribution of a per-replication figure in the baseline and in the new
/// run, as two step curves: the share of replications whose value is at most x.
/// Censored replications count as beyond every value, so a curve that ends below 1 says
/// how many were censored.
pub(crate) fn drift_chart(
    scenario: &str,
    figure: &str,
    test: &str,
    p_value: f64,
    baseline: &[Option<f64>],
    new: &[Option<f64>],
) -> Chart {
    let curve = |values: &[Option<f64>]| {
        let mut seen: Vec<f64> = values.iter().flatten().copied().collect();
        seen.sort_by(f64::total_cmp);
        let n = values.len().max(1) as f64;
        let mut line = Vec::with_capacity(2 * seen.len());
        for (i, v) in seen.iter().enumerate() {
            line.push((*v, i as f64 / n));
            line.push((*v, (i + 1) as f64 / n));
        }
        line
    };
    let (base, newer) = (curve(baseline), curve(new));
    let (lo, hi) = base
        .iter()
        .chain(&newer)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(0.05);
    let unit = if figure.starts_with("left_behind") {
        "instances"
    } else {
        "hours"
    };
    Chart {
        name: file_stem(&format!("{scenario}-{figure}")),
        title: format!(
            "{scenario}: {figure} drifted ({test} test, {})",
            p_text(p_value)
        ),
        caption: format!(
            "The share of replications whose {figure} is at most the value, in the baseline and in the new run (same seeds, so replication by replication comparable); a curve that ends below 1 has censored replications."
        ),
        drawing: Drawing::Lines {
            x: Axis {
                label: format!("{figure} ({unit})"),
                range: (lo - pad, hi + pad),
                ..Axis::default()
            },
            y: Axis::share("share of replications"),
            series: vec![
                Series {
                    label: "baseline".into(),
                    line: base,
                    band: Vec::new(),
                    markers: Vec::new(),
                    colour: None,
                },
                Series {
                    label: "new run".into(),
                    line: newer,
                    band: Vec::new(),
                    markers: Vec::new(),
                    colour: None,
                },
            ],
            references: Vec::new(),
        },
    }
}

/// A p-value as a reader takes it in: "p < 0.001", else three decimals.
pub(super) fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// A file name from a figure name such as `share:0.9@1`: letters, digits, `.`, `-`, `_`.
fn file_stem(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_read_as_a_reader_takes_them_in() {
        assert_eq!(p_text(0.0), "p < 0.001");
        assert_eq!(p_text(0.000_99), "p < 0.001");
        assert_eq!(p_text(0.0123), "p = 0.012");
        let chart = drift_chart("s", "coexistence@0", "KS", 0.0, &[Some(1.0)], &[Some(2.0)]);
        assert!(
            chart.title.ends_with("(KS test, p < 0.001)"),
            "{}",
            chart.title
        );
    }
}
