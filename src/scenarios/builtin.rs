//! The five scenarios shipped with jolt, embedded from `scenarios/*.yaml` so the binary is
//! self-contained and the files stay readable examples in the repository.

/// (name, YAML text) of every built-in, in the order the README lists them.
pub const FILES: [(&str, &str); 5] = [
    (
        "startup-launch-day",
        include_str!("../../scenarios/startup-launch-day.yaml"),
    ),
    (
        "black-friday-rush",
        include_str!("../../scenarios/black-friday-rush.yaml"),
    ),
    (
        "ddos-attack",
        include_str!("../../scenarios/ddos-attack.yaml"),
    ),
    (
        "memory-leak",
        include_str!("../../scenarios/memory-leak.yaml"),
    ),
    (
        "morning-rush-hour",
        include_str!("../../scenarios/morning-rush-hour.yaml"),
    ),
];
