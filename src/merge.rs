//! How one configuration source overrides another (defaults < file < `JOLT_*` < flags).
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
