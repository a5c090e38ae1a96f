//! Per-service objectives: how slow and how failing a service may be before the Prometheus
//! rules call it unhealthy. jolt exports them (`jolt_service_objective_*`) so the rules judge
//! each service against its own promise and a custom catalog gets sensible alerts with no rule
//! edits.
//!
//! An objective is either given in the catalog (`slo: {latency: 300ms, error_ratio: 0.02}`) or
//! derived from the service's healthy behaviour:
//! - latency (a p99 objective): the healthy p99.9, `median × e^(3.09 σ)`, rounded up to the
//!   millisecond. A healthy service has one request in a thousand slower than that, so "more
//!   than 1 % of requests slower" (p99 above the objective) is ten times its normal tail.
//! - error ratio: five times the healthy error ratio, at least 1 % and at most 50 %.

use crate::merge::Invalid;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// z-score of the 99.9th percentile of a normal distribution.
const Z_999: f64 = 3.090_232;
/// How many times its healthy error ratio a service may fail before it breaks its objective.
const ERROR_FACTOR: f64 = 5.0;
/// Bounds of a derived error-ratio objective: below 1 % a few unlucky requests would page.
const ERROR_FLOOR: f64 = 0.01;
const ERROR_CEILING: f64 = 0.5;

/// The `slo:` of a catalog entry; a field left out is derived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SloSpec {
    /// The p99 latency objective (queueing included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<HumanDuration>,
    /// The error-ratio objective (share of 5xx answers), 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_ratio: Option<f64>,
}

/// A service's objective, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// 99 % of requests should be answered within this.
    pub latency: Duration,
    /// At most this share of requests should fail.
    pub error_ratio: f64,
}

impl Objective {
    /// The objective of a service whose healthy time is log-normal around `median` with sigma
    /// `spread` and fails `error_ratio` of requests, unless `slo` says otherwise.
    pub fn resolve(slo: &SloSpec, median: Duration, spread: f64, error_ratio: f64) -> Objective {
        let derived_latency = || {
            let secs = median.as_secs_f64() * (Z_999 * spread).exp();
            Duration::from_millis((secs * 1000.0).ceil().max(1.0) as u64)
        };
        Objective {
            latency: slo.latency.map_or_else(derived_latency, |l| l.0),
            error_ratio: slo
                .error_ratio
                .unwrap_or_else(|| (ERROR_FACTOR * error_ratio).clamp(ERROR_FLOOR, ERROR_CEILING)),
        }
    }
}

impl SloSpec {
    /// Range checks; `key` names the entry in errors.
    pub fn validate(&self, key: &str) -> Result<(), Invalid> {
        if let Some(l) = self.latency
            && (l.0.is_zero() || l.0 > Duration::from_secs(60))
        {
            return Err(Invalid::new(
                format!("{key}.slo.latency"),
                "must be above 0 and at most 60s",
            ));
        }
        if let Some(e) = self.error_ratio
            && !(e > 0.0 && e <= 1.0)
        {
            return Err(Invalid::new(
                format!("{key}.slo.error_ratio"),
                "must be above 0 and at most 1",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn derived_from_the_healthy_behaviour() {
        let o = Objective::resolve(&SloSpec::default(), ms(200), 0.6, 0.01);
        // 0.2 s × e^(3.09 × 0.6) = 1.2775 s
        assert_eq!(o.latency, ms(1278));
        assert_eq!(o.error_ratio, 0.05);
        // No spread: the median itself; error floor and ceiling.
        let o = Objective::resolve(&SloSpec::default(), ms(20), 0.0, 0.0);
        assert_eq!(o.latency, ms(20));
        assert_eq!(o.error_ratio, 0.01);
        let o = Objective::resolve(&SloSpec::default(), ms(20), 0.5, 0.3);
        assert_eq!(o.error_ratio, 0.5);
    }

    #[test]
    fn explicit_fields_win_one_by_one() {
        let slo = SloSpec {
            latency: Some(HumanDuration(ms(300))),
            error_ratio: None,
        };
        let o = Objective::resolve(&slo, ms(60), 0.5, 0.005);
        assert_eq!(o.latency, ms(300));
        assert_eq!(o.error_ratio, 0.025);
        let slo = SloSpec {
            latency: None,
            error_ratio: Some(0.2),
        };
        assert_eq!(
            Objective::resolve(&slo, ms(60), 0.5, 0.005).error_ratio,
            0.2
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let zero = SloSpec {
            latency: Some(HumanDuration(Duration::ZERO)),
            ..Default::default()
        };
        let e = zero.validate("services.catalog.x").unwrap_err().to_string();
        assert!(e.contains("services.catalog.x.slo.latency"), "{e}");
        let ratio = SloSpec {
            error_ratio: Some(1.5),
            ..Default::default()
        };
        let e = ratio
            .validate("services.catalog.x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("services.catalog.x.slo.error_ratio"), "{e}");
        SloSpec::default().validate("k").unwrap();
    }
}
