//! The closed set of action kinds.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An action kind, as it appears in `POST /actions/{kind}` and in the `kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Busy CPU.
    Cpu,
    /// Resident memory.
    Memory,
    /// Disk reads and writes.
    Disk,
    /// HTTP requests at a rate.
    Traffic,
    /// Bytes at a bit rate.
    Network,
    /// Latency, errors or downtime in a simulated service.
    Fault,
}

impl Kind {
    /// Every kind, in documentation order.
    pub const ALL: [Kind; 6] = [
        Kind::Cpu,
        Kind::Memory,
        Kind::Disk,
        Kind::Traffic,
        Kind::Network,
        Kind::Fault,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cpu => "cpu",
            Kind::Memory => "memory",
            Kind::Disk => "disk",
            Kind::Traffic => "traffic",
            Kind::Network => "network",
            Kind::Fault => "fault",
        }
    }

    /// Parses a name; the error lists the known kinds.
    pub fn parse(name: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown action kind `{name}` (known: {})", known.join(", "))
            })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
