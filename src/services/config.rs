//! The `services:` section: which simulated services exist, how fast and how reliable each
//! is when healthy, how much load each takes before requests queue, and the baseline traffic.

use super::objective::{Objective, SloSpec};
use crate::merge::{Invalid, set};
use crate::units::HumanDuration;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Names a service may not take: they are routes of their own on the services listener.
const RESERVED: [&str; 2] = ["echo", "healthz"];

/// The `services:` section of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesConfig {
    /// Requests per second each service receives in the background, so dashboards show life
    /// before anyone triggers anything (0 = none).
    pub baseline_rps: f64,
    /// The services by name; replacing it replaces the whole default set.
    pub catalog: BTreeMap<String, ServiceSpec>,
}

/// One simulated service when healthy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSpec {
    /// Median service time; the distribution is log-normal around it.
    pub latency: HumanDuration,
    /// Log-normal sigma: 0 = always the median; 0.5 puts p99 at about 3.2× the median.
    pub spread: f64,
    /// Share of requests answered with 500 when healthy, 0..1.
    pub error_ratio: f64,
    /// Requests served at once; more wait in a queue, so a flood raises latency.
    pub capacity: u32,
    /// What the alerts hold it to; fields left out are derived (see `objective.rs`).
    #[serde(skip_serializing_if = "is_default")]
    pub slo: SloSpec,
}

fn is_default(slo: &SloSpec) -> bool {
    *slo == SloSpec::default()
}

impl ServiceSpec {
    /// The objective the Prometheus rules judge this service against.
    pub fn objective(&self) -> Objective {
        Objective::resolve(&self.slo, self.latency.0, self.spread, self.error_ratio)
    }
}

impl Default for ServiceSpec {
    fn default() -> Self {
        spec(20, 0.5, 0.005, 64)
    }
}

fn spec(median_ms: u64, spread: f64, error_ratio: f64, capacity: u32) -> ServiceSpec {
    ServiceSpec {
        latency: HumanDuration(Duration::from_millis(median_ms)),
        spread,
        error_ratio,
        capacity,
        slo: SloSpec::default(),
    }
}

impl Default for ServicesConfig {
    fn default() -> Self {
        // Capacities in requests per second are about capacity / mean latency:
        // auth ≈ 3,900, payment ≈ 940, reporting ≈ 130, search ≈ 1,400.
        let catalog = [
            ("auth", spec(15, 0.4, 0.002, 64)),
            ("payment", spec(60, 0.5, 0.005, 64)),
            ("reporting", spec(200, 0.6, 0.01, 32)),
            ("search", spec(40, 0.5, 0.005, 64)),
        ]
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
        ServicesConfig {
            baseline_rps: 3.0,
            catalog,
        }
    }
}

/// Flags of the simulated services.
#[derive(Debug, Clone, Default, Args)]
pub struct ServicesArgs {
    /// Background requests per second per simulated service (0 = none) [default: 3]
    #[arg(long, env = "JOLT_BASELINE_RPS", value_name = "RATE")]
    pub baseline_rps: Option<f64>,
}

impl ServicesArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut ServicesConfig) {
        set(&mut cfg.baseline_rps, self.baseline_rps);
    }
}

impl ServicesConfig {
    /// Range checks; errors name the key.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(0.0..=1000.0).contains(&self.baseline_rps) {
            return Err(Invalid::new(
                "services.baseline_rps",
                "must be between 0 and 1000",
            ));
        }
        if self.catalog.len() > 32 {
            return Err(Invalid::new("services.catalog", "at most 32 services"));
        }
        for (name, s) in &self.catalog {
            let valid = !name.is_empty()
                && name.len() <= 32
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid {
                return Err(Invalid::new(
                    format!("services.catalog.{name}"),
                    "a name is 1-32 of a-z, 0-9, '-' and '_'",
                ));
            }
            if RESERVED.contains(&name.as_str()) {
                return Err(Invalid::new(
                    format!("services.catalog.{name}"),
                    format!("`{name}` is reserved for a built-in route"),
                ));
            }
            if s.latency.0 > Duration::from_secs(60) {
                return Err(Invalid::new(
                    format!("services.catalog.{name}.latency"),
                    "at most 60s",
                ));
            }
            if !(0.0..=3.0).contains(&s.spread) {
                return Err(Invalid::new(
                    format!("services.catalog.{name}.spread"),
                    "must be between 0 and 3",
                ));
            }
            if !(0.0..=1.0).contains(&s.error_ratio) {
                return Err(Invalid::new(
                    format!("services.catalog.{name}.error_ratio"),
                    "must be between 0 and 1",
                ));
            }
            if !(1..=100_000).contains(&s.capacity) {
                return Err(Invalid::new(
                    format!("services.catalog.{name}.capacity"),
                    "must be between 1 and 100000",
                ));
            }
            s.slo.validate(&format!("services.catalog.{name}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_named() {
        let c = ServicesConfig::default();
        c.validate().unwrap();
        let names: Vec<_> = c.catalog.keys().map(String::as_str).collect();
        assert_eq!(names, ["auth", "payment", "reporting", "search"]);
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut c = ServicesConfig::default();
        c.catalog.get_mut("auth").unwrap().error_ratio = 2.0;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("services.catalog.auth.error_ratio"), "{e}");
        let mut c = ServicesConfig::default();
        c.catalog.insert("echo".into(), ServiceSpec::default());
        assert!(c.validate().unwrap_err().to_string().contains("reserved"));
        let mut c = ServicesConfig::default();
        c.catalog.insert("Bad/Name".into(), ServiceSpec::default());
        assert!(c.validate().is_err());
    }

    #[test]
    fn yaml_with_partial_spec_fills_defaults() {
        let c: ServicesConfig =
            serde_yaml_ng::from_str("baseline_rps: 0\ncatalog:\n  cart: {latency: 5ms}\n").unwrap();
        assert_eq!(c.baseline_rps, 0.0);
        let cart = &c.catalog["cart"];
        assert_eq!(cart.latency.0, Duration::from_millis(5));
        assert_eq!(cart.capacity, ServiceSpec::default().capacity);
        let err = serde_yaml_ng::from_str::<ServicesConfig>("catalog:\n  x: {bogus: 1}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn builtin_objectives_and_an_explicit_slo() {
        let c = ServicesConfig::default();
        let o = |n: &str| {
            let o = c.catalog[n].objective();
            (o.latency.as_millis(), o.error_ratio)
        };
        // The README table documents these.
        assert_eq!(o("auth"), (52, 0.01));
        assert_eq!(o("payment"), (282, 0.025));
        assert_eq!(o("reporting"), (1278, 0.05));
        assert_eq!(o("search"), (188, 0.025));
        let c: ServicesConfig =
            serde_yaml_ng::from_str("catalog:\n  cart: {slo: {latency: 300ms}}\n").unwrap();
        c.validate().unwrap();
        let cart = c.catalog["cart"].objective();
        assert_eq!(cart.latency, Duration::from_millis(300));
        assert_eq!(cart.error_ratio, 0.025);
        let c: ServicesConfig =
            serde_yaml_ng::from_str("catalog:\n  cart: {slo: {error_ratio: 0}}\n").unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("services.catalog.cart.slo.error_ratio"), "{e}");
    }
}
