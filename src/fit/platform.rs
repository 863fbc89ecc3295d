//! The platform part of an instance's update time, known from the model and not fitted:
//! the Marketplace's publication of the release, the maintenance slip, and the wait for
//! the instance's next UPM poll, after which the admin is notified.
//!
//! What is shared matters: on Connect one descriptor poll publishes the version for the
//! whole field, so the publication delay is one draw common to every observed instance
//! (likewise a Forge detection or a licensing review, and a slip whose scope is the
//! release). The likelihood therefore integrates over that one draw, on the nodes built
//! here, instead of treating it as independent per instance.

use crate::model::{InstanceModel, Publication, VersionTable};
use crate::scenario::{Scenario, SlipScope};

/// Publication draws simulated to find the shared delay's distribution.
const PUBLICATION_DRAWS: u64 = 4096;
/// Quadrature nodes over the shared publication delay (midpoint rule on its quantiles).
const PUBLICATION_NODES: usize = 32;

/// One value of the field-wide draws, with its probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Node {
    /// Its probability (the nodes' weights sum to 1).
    pub weight: f64,
    /// Hours from the deploy to the publication.
    pub published_hours: f64,
    /// Whether the slip applies to the field (`slip_scope: release`; with per-instance
    /// slips this is true and each instance draws its own).
    pub field_slip: bool,
}

/// The platform part for one observed release.
#[derive(Clone, Debug)]
pub(super) struct PlatformPart {
    /// The field-wide draws.
    pub nodes: Vec<Node>,
    /// The UPM poll period in hours: the notice comes a uniform wait after publication.
    pub poll_hours: f64,
    /// The maintenance slip in hours.
    pub slip_hours: f64,
    /// Per segment: the share of its instances whose window was open at the deploy.
    window_open: Vec<f64>,
    /// Per segment: its share of the population.
    segment_shares: Vec<f64>,
    /// The per-instance probability that an open window delays the release.
    instance_slip_probability: f64,
}

impl PlatformPart {
    /// The platform part of release `release` as `scenario` models it. `published_at`
    /// (hours after the deploy), when the user knows it from the Marketplace's version
    /// history, replaces the publication draw.
    pub(super) fn new(
        scenario: &Scenario,
        release: usize,
        published_at: Option<f64>,
    ) -> PlatformPart {
        let plan = VersionTable::new(scenario);
        let model = InstanceModel::new(scenario, &plan);
        let timing = &scenario.timing;
        let deploy = scenario.releases[release].at;
        let mut delays: Vec<f64> = match published_at {
            Some(h) => vec![h],
            None => (0..PUBLICATION_DRAWS)
                .map(|r| {
                    Publication::draw(scenario, &plan, r).at[release]
                        .since(deploy)
                        .as_hours()
                })
                .collect(),
        };
        delays.sort_by(f64::total_cmp);
        let count = PUBLICATION_NODES.min(delays.len());
        let publication: Vec<f64> = (0..count)
            .map(|j| delays[((2 * j + 1) * delays.len()) / (2 * count)])
            .collect();
        let p = timing.slip_probability.clamp(0.0, 1.0);
        let field_states: Vec<(bool, f64)> = match timing.slip_scope {
            SlipScope::Release if p > 0.0 && p < 1.0 => vec![(true, p), (false, 1.0 - p)],
            SlipScope::Release => vec![(p >= 1.0, 1.0)],
            SlipScope::Instance => vec![(true, 1.0)],
        };
        let mut nodes = Vec::with_capacity(publication.len() * field_states.len());
        for &(field_slip, w) in &field_states {
            for &published_hours in &publication {
                nodes.push(Node {
                    weight: w / publication.len() as f64,
                    published_hours,
                    field_slip,
                });
            }
        }
        let segments = scenario.population.segments.len();
        PlatformPart {
            nodes,
            poll_hours: timing.upm_poll.as_hours(),
            slip_hours: timing.maintenance_slip.as_hours(),
            window_open: (0..segments)
                .map(|g| model.window_open_share(release, g))
                .collect(),
            segment_shares: scenario
                .population
                .segments
                .iter()
                .map(|s| s.share)
                .collect(),
            instance_slip_probability: match timing.slip_scope {
                SlipScope::Instance => p,
                SlipScope::Release => 1.0,
            },
        }
    }

    /// The probability that an instance of `segment` (or of the whole population, by
    /// segment share, when `None`) reaches its notice a slip later, at `node`.
    pub(super) fn slip_probability(&self, segment: Option<usize>, node: &Node) -> f64 {
        if self.slip_hours <= 0.0 || !node.field_slip {
            return 0.0;
        }
        let open = match segment {
            Some(g) => self.window_open[g],
            None => self
                .window_open
                .iter()
                .zip(&self.segment_shares)
                .map(|(o, s)| o * s)
                .sum(),
        };
        open * self.instance_slip_probability
    }
}

#[cfg(test)]
impl PlatformPart {
    /// A platform part with the given nodes, poll period and slip (hours), no segments.
    pub(super) fn for_tests(nodes: Vec<Node>, poll_hours: f64, slip_hours: f64) -> PlatformPart {
        PlatformPart {
            nodes,
            poll_hours,
            slip_hours,
            window_open: Vec::new(),
            segment_shares: Vec::new(),
            instance_slip_probability: 1.0,
        }
    }
}
