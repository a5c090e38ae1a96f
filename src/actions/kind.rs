//! What every kind answers to: parsing its name and printing it (the enum itself comes from
//! the table in `params.rs`).

use super::Kind;
use std::fmt;

impl Kind {
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
