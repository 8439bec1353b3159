//! The OpenAPI document as served at `/openapi.json`, completed where poem-openapi leaves
//! it short, so that clients generated from it (and schemathesis) see what the API does:
//!
//! - optional members are serialised as `null`, so they are marked `nullable` (a `$ref`
//!   is wrapped in `allOf` for that, as OpenAPI 3.0 ignores siblings of `$ref`);
//! - text may not contain the NUL character (the input rule), so plain strings carry a
//!   pattern that says so;
//! - JSON answers are documented as `application/json` (the served `charset=utf-8` is a
//!   parameter of that type), `/metrics` as taking its own token, the public routes
//!   (health, readiness) as needing no credentials, and `servers` as the document's own
//!   origin.
//!
//! It also gives the routes and their methods, for the `Allow` header of a 405.

use serde_json::{json, Map, Value};

/// The security scheme of `GET /metrics`.
const METRICS_SCHEME: &str = "MetricsToken";

/// Text without the NUL character, as an ECMA-262 pattern.
const NO_NUL: &str = "^[^\\u0000]*$";

/// The served document, and each path's methods.
pub struct Document {
    pub json: String,
    pub routes: Vec<Route>,
}

/// A path template (`/api/v1/jobs/{id}`) split into segments, and its methods.
pub struct Route {
    segments: Vec<String>,
    pub methods: Vec<String>,
}

impl Route {
    /// How many segments are parameters.
    pub fn parameters(&self) -> usize {
        self.segments.iter().filter(|s| s.starts_with('{')).count()
    }

    /// The template as the document writes it, e.g. `/api/v1/jobs/{id}`.
    pub fn template(&self) -> String {
        self.segments.join("/")
    }

    /// Whether the router's pattern for a route (`/api/v1/jobs/:param0`, its parameters
    /// renamed) is this template.
    pub fn is_pattern(&self, pattern: &str) -> bool {
        // Called for every request: compares segment by segment without allocating.
        let mut parts = pattern.trim_end_matches('/').split('/');
        let mut templates = self.segments.iter();
        loop {
            match (templates.next(), parts.next()) {
                (None, None) => return true,
                (Some(template), Some(part)) => {
                    let both_parameters = template.starts_with('{') && part.starts_with(':');
                    if !both_parameters && template != part {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }

    /// Whether `path` is an instance of this template.
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        parts.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&parts)
                .all(|(template, part)| template.starts_with('{') || template == part)
    }
}

/// Completes poem-openapi's document `spec` (JSON text).
pub fn document(spec: &str) -> Document {
    let mut doc: Value = serde_json::from_str(spec).expect("poem-openapi writes valid JSON");
    let types = schema_types(&doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            mark_nullable(schema, &types);
        }
    }
    constrain_strings(&mut doc);
    // Relative: the server that serves this document, wherever it is reached.
    doc["servers"] = json!([{"url": "/", "description": "The server serving this document"}]);
    // `/metrics` checks its own bearer token (`SWITCHYARD_METRICS_TOKEN`), not an API key.
    if let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    {
        schemes.insert(
            METRICS_SCHEME.into(),
            json!({"type": "http", "scheme": "bearer",
                "description": "`Authorization: Bearer $SWITCHYARD_METRICS_TOKEN`: the metrics token, not an API key."}),
        );
    }
    if let Some(operation) = doc.pointer_mut("/paths/~1metrics/get") {
        operation["security"] = json!([{ METRICS_SCHEME: [] }]);
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in operation.values_mut().filter_map(Value::as_object_mut) {
                operation.entry("security").or_insert_with(|| json!([]));
                plain_json_media_type(operation);
            }
        }
    }
    let routes = doc["paths"]
        .as_object()
        .map(|paths| {
            paths
                .iter()
                .map(|(path, item)| Route {
                    segments: path
                        .trim_end_matches('/')
                        .split('/')
                        .map(str::to_string)
                        .collect(),
                    methods: item
                        .as_object()
                        .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Document {
        json: doc.to_string(),
        routes,
    }
}

/// Each named schema's `type`, so that a nullable reference can state it.
fn schema_types(doc: &Value) -> Map<String, Value> {
    doc.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .filter_map(|(name, s)| {
                    Some((
                        format!("#/components/schemas/{name}"),
                        s.get("type")?.clone(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON answer's media type without its `charset` parameter.
fn plain_json_media_type(operation: &mut Map<String, Value>) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for response in responses.values_mut() {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(json) = content.remove("application/json; charset=utf-8") {
            content.insert("application/json".into(), json);
        }
    }
}

/// Marks optional members nullable. A member of any type (`{}`) already admits `null`.
fn mark_nullable(schema: &mut Value, types: &Map<String, Value>) {
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        if required.contains(name) {
            continue;
        }
        if let Some(reference) = property.get("$ref").cloned() {
            let mut wrapped = Map::new();
            wrapped.insert("allOf".into(), json!([{ "$ref": reference }]));
            if let Some(description) = property.get("description") {
                wrapped.insert("description".into(), description.clone());
            }
            if let Some(ty) = reference.as_str().and_then(|r| types.get(r)) {
                wrapped.insert("type".into(), ty.clone());
            }
            *property = Value::Object(wrapped);
        }
        if let Some(p) = property.as_object_mut().filter(|p| p.contains_key("type")) {
            p.insert("nullable".into(), Value::Bool(true));
        }
    }
}

/// Every plain string schema (no format, enum or pattern) gets the no-NUL pattern.
fn constrain_strings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let plain_string = map.get("type") == Some(&json!("string"))
                && !map.contains_key("format")
                && !map.contains_key("enum")
                && !map.contains_key("pattern");
            if plain_string {
                map.insert("pattern".into(), json!(NO_NUL));
            }
            map.values_mut().for_each(constrain_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(constrain_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_members_become_nullable_and_strings_refuse_nul() {
        let spec = json!({
            "paths": {"/api/v1/jobs/{id}": {"get": {}, "delete": {}}},
            "components": {"schemas": {"A": {"type": "object", "required": ["x"], "properties": {
                "x": {"type": "string"},
                "y": {"type": "string", "format": "date-time"},
                "z": {"$ref": "#/components/schemas/B", "description": "d"},
                "any": {"description": "anything"}}},
                "B": {"type": "object"}}}
        });
        let doc = document(&spec.to_string());
        let out: Value = serde_json::from_str(&doc.json).unwrap();
        let props = &out["components"]["schemas"]["A"]["properties"];
        assert_eq!(props["x"]["pattern"], NO_NUL);
        assert!(props["x"].get("nullable").is_none());
        assert_eq!(props["y"]["nullable"], true);
        assert_eq!(props["z"]["allOf"][0]["$ref"], "#/components/schemas/B");
        assert_eq!(props["z"]["nullable"], true);
        assert_eq!(props["z"]["type"], "object");
        assert!(props["any"].get("nullable").is_none());
        assert_eq!(
            out["paths"]["/api/v1/jobs/{id}"]["get"]["security"],
            json!([])
        );
        assert!(doc.routes[0].matches("/api/v1/jobs/42"));
        assert!(!doc.routes[0].matches("/api/v1/jobs/42/events"));
        assert_eq!(doc.routes[0].methods, vec!["DELETE", "GET"]);
        assert!(doc.routes[0].is_pattern("/api/v1/jobs/:param0"));
        assert!(!doc.routes[0].is_pattern("/api/v1/jobs/42"));
        assert!(!doc.routes[0].is_pattern("/api/v1/jobs/:param0/events"));
        assert!(!doc.routes[0].is_pattern("/api/v1/jobs"));
        assert_eq!(doc.routes[0].template(), "/api/v1/jobs/{id}");
    }
}
