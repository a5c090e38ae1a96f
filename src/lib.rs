//! jolt: a Prometheus exporter and load controller in one daemon.

pub mod actions;
pub mod api;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod control;
pub mod events;
pub mod footprint;
pub mod listener;
pub mod logging;
pub mod merge;
pub mod metrics;
pub mod prom;
pub mod registry;
pub mod reports;
pub mod scenarios;
pub mod server;
pub mod services;
pub mod strict_json;
pub mod supervise;
pub mod telemetry;
pub mod token;
pub mod units;
