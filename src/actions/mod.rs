//! Load actions: the engine that starts, tracks and stops them, and one file per kind.
//!
//! A kind is a `…Params` struct (the contract's parameters with their defaults, deserialized
//! with unknown fields rejected), a `validate` that resolves and range-checks them against
//! the host, its own series (`metrics`), and an async `run` that produces the load until its
//! time is up or its cancellation token fires, cleaning up everything it made before
//! returning. The `kinds!` table in `params.rs` lists them once.

mod config;
mod context;
mod engine;
mod entry;
mod error;
mod kind;
mod kinds;
mod metrics;
mod pacer;
mod params;
pub mod ranges;

pub mod cpu;
pub mod disk;
pub mod fault;
pub mod memory;
pub mod network;
pub mod traffic;

pub use config::{ActionsArgs, ActionsConfig};
pub use context::RunCtx;
pub use engine::{Engine, Env};
pub use entry::{ActionView, State};
pub use error::{ActionError, in_range};
pub use kinds::{ActionKind, Choices};
pub use metrics::ActionMetrics;
pub use params::{Kind, KindMetrics, Params, Source, check_timing};
