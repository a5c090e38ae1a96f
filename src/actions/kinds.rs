//! The registration table of action kinds. Each kind implements [`ActionKind`] in its own
//! file (its parameters with their defaults, its ranges and words, its validation, its
//! metrics, its runner); [`kinds!`] lists them once (in `params.rs`), and from that list come
//! the [`Kind`] enum, the [`Params`] enum, the kinds' metrics and every dispatch over kinds.
//! Adding a kind: its file and a line in the table.
//!
//! [`Params`]: super::Params

use super::ranges::Range;
use super::{ActionError, Env, RunCtx};
use crate::units::{Given, HumanDuration};
use prometheus_client::registry::Registry;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// Parameters that take one of a few words: (parameter, words).
pub type Choices = &'static [(&'static str, &'static [&'static str])];

/// One action kind: its parameters (the implementing type, deserialized with unknown fields
/// rejected and defaults filled in), their checks and the load they produce.
pub trait ActionKind: Serialize + DeserializeOwned + Send + Sized + 'static {
    /// True when it runs for a `duration` (a scenario step gives it the step's length).
    const TIMED: bool = true;
    /// Its numeric parameters' ranges: checked by `validate`, published in the schemas.
    const RANGES: &'static [Range] = &[];
    /// Its parameters that take one of a few words (serde enums), for the schemas.
    const CHOICES: Choices = &[];

    /// Its own series (targets, achieved figures, counters), shared by its running actions.
    type Metrics: Clone + Send + Sync + 'static;

    /// Creates and registers its series; counters start at 0 so `rate()` works from the
    /// first scrape.
    fn metrics(registry: &mut Registry) -> Self::Metrics;

    /// Range and safety checks against the host (`ActionError::Invalid`), resolving relative
    /// values (a percentage of memory to bytes).
    fn validate(&mut self, env: &Env) -> Result<(), ActionError>;

    /// How long it runs, when that is known in advance.
    fn duration(&self) -> Option<Duration>;

    /// Its lengths a scenario's speed compresses (duration first, then ramps).
    fn timing(&mut self) -> Vec<&mut Given<HumanDuration>> {
        Vec::new()
    }

    /// Produces the load until done or stopped, cleaning up whatever it made; `Err` is why it
    /// failed.
    fn run(self, ctx: RunCtx) -> impl Future<Output = Result<(), String>> + Send;
}

/// The table: `Variant(name) => params type`, one line per kind (with its doc line), in
/// documentation order; `name` is the kind as the API and the `kind` label write it.
macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident($name:ident) => $ty:ty),* $(,)?) => {
        /// An action kind, as it appears in `POST /actions/{kind}` and in the `kind` label.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Kind {
            $($(#[$doc])* $variant,)*
        }

        impl Kind {
            /// Every kind, in documentation order.
            pub const ALL: [Kind; [$(stringify!($variant)),*].len()] = [$(Kind::$variant),*];

            /// The lowercase name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => stringify!($name),)*
                }
            }
        }

        /// Each kind's own series.
        #[derive(Clone)]
        pub struct KindMetrics {
            $(
                #[doc = concat!("The series of [`", stringify!($ty), "`].")]
                pub $name: <$ty as ActionKind>::Metrics,
            )*
        }

        impl KindMetrics {
            /// Creates and registers every kind's series, in table order.
            pub fn new(registry: &mut prometheus_client::registry::Registry) -> Self {
                KindMetrics {
                    $($name: <$ty as ActionKind>::metrics(registry),)*
                }
            }
        }

        /// The parameters of one action, resolved by `validate`.
        #[derive(Debug, Clone)]
        pub enum Params {
            $(
                #[doc = concat!("See [`", stringify!($ty), "`].")]
                $variant($ty),
            )*
        }

        impl Params {
            /// The kind.
            pub fn kind(&self) -> Kind {
                match self {
                    $(Params::$variant(_) => Kind::$variant,)*
                }
            }

            /// Decodes `kind`'s parameters with `decode` (JSON, form or query text, or a value).
            fn decode_as(
                kind: Kind,
                decode: impl DecodeAny,
            ) -> Result<Params, ActionError> {
                Ok(match kind {
                    $(Kind::$variant => Params::$variant(decode.decode()?),)*
                })
            }
        }

        impl Params {
            /// Range and safety checks against the host, resolving relative values.
            pub fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
                match self {
                    $(Params::$variant(p) => p.validate(env),)*
                }
            }

            /// How long the action runs, when that is known in advance.
            pub fn duration(&self) -> Option<Duration> {
                match self {
                    $(Params::$variant(p) => p.duration(),)*
                }
            }

            /// The resolved parameters as the action object shows them.
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $(Params::$variant(p) => serde_json::to_value(p).unwrap_or_default(),)*
                }
            }

            /// The lengths a scenario's speed compresses (duration first, then ramps).
            fn timing(&mut self) -> Vec<&mut Given<HumanDuration>> {
                match self {
                    $(Params::$variant(p) => p.timing(),)*
                }
            }

            /// Produces the load until done or stopped; `Err` is the reason it failed.
            pub async fn run(self, ctx: RunCtx) -> Result<(), String> {
                match self {
                    $(Params::$variant(p) => p.run(ctx).await,)*
                }
            }
        }

        impl Kind {
            /// True when the kind runs for a `duration` (all but disk, which runs a number of
            /// operations): a scenario step gives it the step's length.
            pub fn timed(self) -> bool {
                match self {
                    $(Kind::$variant => <$ty as ActionKind>::TIMED,)*
                }
            }

            /// The numeric ranges of the kind's parameters.
            pub fn ranges(self) -> &'static [Range] {
                match self {
                    $(Kind::$variant => <$ty as ActionKind>::RANGES,)*
                }
            }

            /// The kind's parameters that take one of a few words.
            pub fn choices(self) -> Choices {
                match self {
                    $(Kind::$variant => <$ty as ActionKind>::CHOICES,)*
                }
            }
        }
    };
}

/// Something that decodes into any kind's parameters.
pub(super) trait DecodeAny {
    /// Decodes `T`.
    fn decode<T: DeserializeOwned>(&self) -> Result<T, ActionError>;
}

pub(super) use kinds;
