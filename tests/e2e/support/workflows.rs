//! What tests do through a [`TestApp`]: publish workflows, make connections, move jobs,
//! and read what came of it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::TestApp;

impl TestApp {
    /// Publishes a fixture from `fixtures/workflows/`.
    pub async fn publish_fixture(&self, name: &str) -> Value {
        let path = format!(
            "{}/fixtures/workflows/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
        self.publish(doc).await
    }

    pub async fn publish(&self, doc: Value) -> Value {
        let (status, body) = self.post("/api/v1/workflows", &self.key, doc).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates a connection and returns its id.
    pub async fn create_connection(&self, provider: &str, credentials: Value) -> String {
        let (status, body) = self
            .post(
                "/api/v1/tenant/connections",
                &self.key,
                json!({"provider": provider, "connection_name": format!("{provider} test"), "credentials": credentials}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("id").to_string()
    }

    /// A `generic_rest` connection to `base_url` without auth; returns its id.
    pub async fn rest_connection(&self, base_url: &str) -> String {
        self.create_connection("generic_rest", json!({"base_url": base_url}))
            .await
    }

    /// Publishes workflow `name`: `open --go--> done` (and `open --again--> open`), whose
    /// transitions carry `actions`.
    pub async fn publish_actions(&self, name: &str, actions: Value) {
        self.publish(json!({
            "name": name, "initial": "open",
            "states": [{"name": "open"}, {"name": "done", "terminal": true}],
            "transitions": [
                {"name": "go", "from": ["open"], "to": "done", "actions": actions.clone()},
                {"name": "again", "from": ["open"], "to": "open", "actions": actions}
            ]
        }))
        .await;
    }

    /// Creates a job of `workflow`, applies `transition` with `data`, returns the job id.
    pub async fn run(&self, workflow: &str, transition: &str, data: Value) -> String {
        let job = self.create_job(workflow).await;
        let id = job["id"].as_str().unwrap().to_string();
        let (status, out) = self
            .transition(&id, json!({"transition": transition, "data": data}))
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        id
    }

    /// Waits until every action run of the job has a final status; returns the runs.
    pub async fn settled_actions(&self, job_id: &str) -> Vec<Value> {
        super::eventually(
            "the job's actions to finish",
            std::time::Duration::from_secs(30),
            || async {
                let (_, runs) = self
                    .get(&format!("/api/v1/jobs/{job_id}/actions"), &self.key)
                    .await;
                let runs = runs["items"].as_array()?.clone();
                let done = runs.iter().all(|r| {
                    matches!(
                        r["status"].as_str(),
                        Some("succeeded" | "failed" | "skipped")
                    )
                });
                done.then_some(runs)
            },
        )
        .await
    }

    /// The job's events of `type`.
    pub async fn job_events(&self, job_id: &str, event_type: &str) -> Vec<Value> {
        let (_, events) = self
            .get(
                &format!("/api/v1/jobs/{job_id}/events?limit=1000"),
                &self.key,
            )
            .await;
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == event_type)
            .cloned()
            .collect()
    }

    /// Creates a job of `workflow` and returns it.
    pub async fn create_job(&self, workflow: &str) -> Value {
        let (status, body) = self
            .post("/api/v1/jobs", &self.key, json!({"workflow": workflow}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Posts a transition to `job_id`.
    pub async fn transition(&self, job_id: &str, body: Value) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/jobs/{job_id}/transitions"),
            &self.key,
            body,
        )
        .await
    }

    /// Every event of the main tenant, following the cursor to the end.
    pub async fn all_events(&self, limit: usize) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = self
                .get(
                    &format!("/api/v1/events?limit={limit}&after={cursor}"),
                    &self.key,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let batch = page["items"].as_array().expect("items").clone();
            if batch.is_empty() {
                return items;
            }
            items.extend(batch);
            cursor = page["next_cursor"].as_str().expect("cursor").to_string();
        }
    }
}
