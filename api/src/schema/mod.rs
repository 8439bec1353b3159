//! Types that exist for the OpenAPI document: they give a schema to JSON the engine reads
//! and checks itself, so that generated clients see the shape the server enforces.
//!
//! - [`JsonObject`]: free-form JSON that must be an object (a job's `context`, a
//!   transition's `data`).
//! - [`Documented`]: a raw JSON value documented as a schema type `S` but parsed and
//!   checked by the engine, which reports every problem at once with its path
//!   (workflow definitions).
//! - [`Closed`]: text from a closed set, documented as an enum.
//! - [`WorkflowDefinition`], [`DeliveredEvent`], [`EventTypeEntry`], [`IntakeRoute`]:
//!   schemas of JSON the engine and the delivery code build or check, each tested against
//!   them.

/// The `Type` methods of a wrapper whose one field is its raw value.
macro_rules! one_raw_value {
    () => {
        fn as_raw_value(&self) -> Option<&Self::RawValueType> {
            Some(&self.0)
        }

        fn raw_element_iter<'a>(
            &'a self,
        ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
            Box::new(self.as_raw_value().into_iter())
        }
    };
}

mod closed;
mod event;
mod intake;
mod workflow;

use std::borrow::Cow;
use std::marker::PhantomData;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use closed::{
    Closed, ClosedSet, EventTypes, Healths, IntakeSchemes, LedgerKinds, Outcomes, Providers,
    ReceiptOutcomes, Roles, Scopes, Statuses, TimerKinds,
};
pub use event::{DeliveredEvent, EventTypeEntry};
pub use intake::IntakeRoute;
pub use workflow::WorkflowDefinition;

/// A JSON object with any members. A request giving anything else is refused (400) with
/// the field named, before any route sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl Type for JsonObject {
    const IS_REQUIRED: bool = true;
    type RawValueType = Map<String, Value>;
    type RawElementValueType = Map<String, Value>;

    fn name() -> Cow<'static, str> {
        "object".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::ANY)))),
            ..MetaSchema::new("object")
        }))
    }

    one_raw_value!();
}

impl ParseFromJSON for JsonObject {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::Object(map) => Ok(JsonObject(map)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for JsonObject {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Object(self.0.clone()))
    }
}

/// A JSON value documented as `S`, kept as it came: the engine checks it and names every
/// problem, which a typed parse would stop at the first of.
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct Documented<S>(pub Value, #[serde(skip)] PhantomData<S>);

impl<S> Documented<S> {
    pub fn new(value: Value) -> Self {
        Documented(value, PhantomData)
    }
}

impl<S> std::fmt::Debug for Documented<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S: Type> Type for Documented<S> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Value;
    type RawElementValueType = Value;

    fn name() -> Cow<'static, str> {
        S::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        S::schema_ref()
    }

    fn register(registry: &mut Registry) {
        S::register(registry);
    }

    one_raw_value!();
}

impl<S: Type> ParseFromJSON for Documented<S> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Ok(Documented::new(value.unwrap_or_default()))
    }
}

impl<S: Type> ToJSON for Documented<S> {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}
