//! JSON request bodies whose errors name the field at fault.
//!
//! poem-openapi's `Json<T>` reports a wrong type without saying where. `JsonBody<T>` keeps
//! T's schema in the OpenAPI document but parses with serde and `serde_path_to_error`, so a
//! 400 says which field (`data.items[2]`) was wrong and why. Every body also meets the
//! engine's input rule (depth, no NUL characters) before any route sees it.

use poem::http::StatusCode;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchyard_engine::input_rule;
use switchyard_engine::json_path::JsonPath;

use crate::problem::{ApiError, Problem};

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(ct) if ct.type_() == "application"
            && (ct.subtype() == "json" || ct.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let data = Vec::<u8>::from_request(request, body).await?;
        let value: Value = serde_json::from_slice(&data).map_err(|err| {
            // serde_json stops at 128 levels, before the input rule could name the field.
            let detail = if err.to_string().starts_with("recursion limit exceeded") {
                format!(
                    "the request body nests deeper than {} levels of arrays and objects",
                    input_rule::MAX_DEPTH
                )
            } else {
                format!("the request body is not valid JSON: {err}")
            };
            malformed(None, detail)
        })?;
        // One rule for every body, so that whatever is stored can be read back.
        input_rule::check(&value, &JsonPath::root()).map_err(|v| {
            let field = v.path.to_string();
            let field = field.strip_prefix("$.").unwrap_or(&field).to_string();
            malformed(Some(field.clone()), format!("{field}: {}", v.message))
        })?;
        match serde_path_to_error::deserialize(value) {
            Ok(value) => Ok(JsonBody(value)),
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                Err(if path == "." {
                    malformed(None, format!("the request body is not valid: {inner}"))
                } else {
                    malformed(Some(path.clone()), format!("{path}: {inner}"))
                })
            }
        }
    }
}

fn malformed(field: Option<String>, detail: String) -> poem::Error {
    let mut problem = Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-body",
        "Malformed request body",
        detail,
    );
    problem.field = field;
    ApiError::from(problem).into()
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: Type + DeserializeOwned + Send);
