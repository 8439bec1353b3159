//! Text fields whose values are a closed set the engine defines (scopes, roles, providers,
//! statuses, ...), documented as a named string enum so generated clients get a union of
//! literals. They stay text on the wire and in requests: the engine checks what a request
//! gives and names the field in its 422, as it did before the set was documented.

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_actions::providers::Provider;
use switchyard_engine::api_key::Scope;
use switchyard_engine::health::Health;
use switchyard_engine::ledger;
use switchyard_engine::log::EventType;
use switchyard_engine::outcome::Outcome;
use switchyard_engine::queue::Status;
use switchyard_engine::user::Role;

/// A closed set of names, documented under `NAME`.
pub trait ClosedSet: Send + Sync + 'static {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    fn values() -> Vec<&'static str>;
}

/// One name out of the set `E`.
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct Closed<E>(pub String, #[serde(skip)] PhantomData<E>);

impl<E> Closed<E> {
    pub fn new(name: impl Into<String>) -> Self {
        Closed(name.into(), PhantomData)
    }
}

impl<E> From<String> for Closed<E> {
    fn from(name: String) -> Self {
        Closed::new(name)
    }
}

impl<E> From<&str> for Closed<E> {
    fn from(name: &str) -> Self {
        Closed::new(name)
    }
}

impl<E> From<Closed<E>> for String {
    fn from(name: Closed<E>) -> Self {
        name.0
    }
}

impl<E> std::ops::Deref for Closed<E> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<E> std::fmt::Display for Closed<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E> std::fmt::Debug for Closed<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E> Clone for Closed<E> {
    fn clone(&self) -> Self {
        Closed::new(self.0.clone())
    }
}

impl<E: ClosedSet> Type for Closed<E> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        E::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(E::NAME.to_string())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(E::NAME.to_string(), |_| MetaSchema {
            description: Some(E::DESCRIPTION),
            enum_items: E::values().into_iter().map(Value::from).collect(),
            ..MetaSchema::new("string")
        });
    }

    one_raw_value!();
}

impl<E: ClosedSet> ParseFromJSON for Closed<E> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        String::parse_from_json(value)
            .map(Closed::new)
            .map_err(|e| e.propagate())
    }
}

impl<E: ClosedSet> ToJSON for Closed<E> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

macro_rules! closed_set {
    ($(#[doc = $doc:literal])* $marker:ident, $name:literal, $values:expr) => {
        $(#[doc = $doc])*
        pub struct $marker;

        impl ClosedSet for $marker {
            const NAME: &'static str = $name;
            const DESCRIPTION: &'static str = concat!($($doc),*);
            fn values() -> Vec<&'static str> {
                $values
            }
        }
    };
}

closed_set!(
    /// What an API key may do.
    Scopes, "Scope", Scope::ALL.iter().map(|s| s.as_str()).collect()
);
closed_set!(
    /// What a console user may do.
    Roles, "Role", Role::ALL.iter().map(|r| r.as_str()).collect()
);
closed_set!(
    /// The kind of service a connection calls.
    Providers, "Provider", Provider::ALL.iter().map(|p| p.as_str()).collect()
);
closed_set!(
    /// Where a queued item (an action run, a delivery, a timer) stands.
    Statuses, "QueueStatus", Status::ALL.iter().map(|s| s.as_str()).collect()
);
closed_set!(
    /// How a destination's recent requests went.
    Healths, "Health", Health::ALL.iter().map(|h| h.as_str()).collect()
);
closed_set!(
    /// What an event records.
    EventTypes, "EventType", EventType::ALL.iter().map(|t| t.as_str()).collect()
);
closed_set!(
    /// How one attempt of an action or a delivery ended.
    Outcomes, "Outcome", Outcome::ALL.iter().map(|o| o.as_str()).collect()
);
closed_set!(
    /// What kind of metered request a ledger row is.
    LedgerKinds, "LedgerKind", vec![ledger::WEBHOOK_EGRESS]
);
closed_set!(
    /// How an intake endpoint's requests are signed.
    IntakeSchemes, "IntakeScheme", switchyard_actions::intake::config::SCHEMES.to_vec()
);
closed_set!(
    /// What a verified intake request did.
    ReceiptOutcomes, "ReceiptOutcome", vec!["pending", "applied", "created", "unmatched", "refused"]
);
closed_set!(
    /// A state's timeout, or a transition a service scheduled.
    TimerKinds, "TimerKind", vec!["state_timeout", "scheduled"]
);
