//! How one configuration source overrides another (defaults < file < `JOLT_*` < flags), and
//! how a section says a value is not acceptable ([`Invalid`], naming the key).
//!
//! A leaf below every section's config (`actions`, `services`, `api`, `listener`, ...): the
//! sections use it to apply their flags, and `config` assembles the sections, so no section
//! has to import `config` back.

/// Overrides `slot` when a value was given.
pub fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// A configuration value that is not acceptable, named by its key as the file spells it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct Invalid {
    /// `services.catalog.cart.latency`, `http.max_connections`, ...
    pub key: String,
    /// What is allowed.
    pub message: String,
}

impl Invalid {
    /// `key` is not acceptable because of `message`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_given_value_wins_and_none_keeps_the_slot() {
        let mut slot = 1;
        super::set(&mut slot, None);
        assert_eq!(slot, 1);
        super::set(&mut slot, Some(2));
        assert_eq!(slot, 2);
    }
}
