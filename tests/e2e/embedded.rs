//! The embedded cluster survives `switchyard serve` being killed, including a stale
//! `postmaster.pid`, and keeps its data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::eventually;
use crate::support::http::read;

/// The `switchyard` binary of this build profile, built if needed.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "-q", "-p", "switchyard-api", "--bin", "switchyard"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(
        build.status().unwrap().success(),
        "building the switchyard binary"
    );
    profile_dir.join("switchyard")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Serve {
    child: Child,
    base: String,
}

fn serve(bin: &Path, data: &Path) -> Serve {
    let port = free_port();
    Serve {
        child: spawn_serve(bin, data, port, &[]),
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// `switchyard serve` on the embedded cluster in `data`, at `port`, with extra `env`.
pub fn spawn_serve(bin: &Path, data: &Path, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(bin)
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    eventually(
        "switchyard serve to be ready",
        Duration::from_secs(90),
        || async {
            let resp = http.get(format!("{base}/readyz")).send().await.ok()?;
            (resp.status() == StatusCode::OK).then_some(())
        },
    )
    .await;
}

pub fn postmaster_pid(data: &Path) -> Option<i32> {
    std::fs::read_to_string(data.join("pg/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
                .unwrap_or(true)
        })
        .unwrap_or(false)
}

/// `switchyard tenant create` on the cluster in `data`; the new tenant's API key.
pub fn create_tenant(bin: &Path, data: &Path, name: &str) -> String {
    let out = Command::new(bin)
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "tenant",
            "create",
            "--name",
            name,
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tenant: Value = serde_json::from_slice(&out.stdout).unwrap();
    tenant["api_key"].as_str().unwrap().to_string()
}

pub fn kill9(pid: i32) {
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Sends an API request with `key`; the status and JSON body.
pub async fn call(req: reqwest::RequestBuilder, key: &str) -> (StatusCode, Value) {
    read(req.bearer_auth(key).send().await.unwrap()).await
}

async fn read_job(http: &reqwest::Client, s: &Serve, key: &str, id: &str) -> Value {
    let resp = http
        .get(format!("{}/api/v1/jobs/{id}", s.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_serve_killed_with_sigkill_then_a_restart_finds_the_data() {
    let bin = binary();
    let data = crate::support::scratch_dir("kill");
    let http = reqwest::Client::new();

    let mut first = serve(&bin, &data);
    wait_ready(&http, &first.base).await;
    // A second process attaches to the running cluster instead of fighting over it.
    let key = create_tenant(&bin, &data, "survivor");

    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/fixtures/workflows/field_service_job.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let (status, _) = call(
        http.post(format!("{}/api/v1/workflows", first.base))
            .json(&fixture),
        &key,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, job) = call(
        http.post(format!("{}/api/v1/jobs", first.base))
            .json(&json!({"workflow": "field_service_job"})),
        &key,
    )
    .await;
    let id = job["id"].as_str().unwrap().to_string();
    let transition = json!({"transition": "schedule", "data": {"technician": "ana"}});
    let (status, _) = call(
        http.post(format!("{}/api/v1/jobs/{id}/transitions", first.base))
            .json(&transition),
        &key,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Round 1: only switchyard dies.
    kill9(first.child.id() as i32);
    first.child.wait().unwrap();
    let mut second = serve(&bin, &data);
    wait_ready(&http, &second.base).await;
    assert_eq!(
        read_job(&http, &second, &key, &id).await["state"],
        "scheduled"
    );

    // Round 2: PostgreSQL dies too, leaving a stale postmaster.pid behind.
    let pg = postmaster_pid(&data).expect("a running cluster has a pid file");
    kill9(pg);
    kill9(second.child.id() as i32);
    second.child.wait().unwrap();
    eventually(
        "the killed postmaster to be gone",
        Duration::from_secs(10),
        || async { (!alive(pg)).then_some(()) },
    )
    .await;
    assert!(
        data.join("pg/postmaster.pid").exists(),
        "SIGKILL leaves the pid file behind"
    );
    let mut third = serve(&bin, &data);
    wait_ready(&http, &third.base).await;
    let job = read_job(&http, &third, &key, &id).await;
    assert_eq!(
        (job["state"].as_str(), job["version"].as_i64()),
        (Some("scheduled"), Some(1))
    );
    let (_, verify) = call(
        http.get(format!("{}/api/v1/events/verify", third.base)),
        &key,
    )
    .await;
    assert_eq!(verify["ok"], true, "{verify}");

    // A polite stop stops the cluster with it.
    let pg = postmaster_pid(&data).unwrap();
    // SAFETY: as in kill9.
    unsafe { libc::kill(third.child.id() as i32, libc::SIGTERM) };
    assert!(third.child.wait().unwrap().success());
    assert!(!alive(pg), "the embedded PostgreSQL stops with switchyard");
    let _ = std::fs::remove_dir_all(&data);
}

/// `pg_ctl <args>` on the cluster in `data`, as its owner, the way an operator restarts
/// or stops it by hand.
fn pg_ctl(data: &Path, args: &[&str]) {
    let binaries = switchyard_engine::embedded::binaries::locate().unwrap();
    let pgdata = data.join("pg");
    // PostgreSQL will not run as root: the cluster belongs to `postgres` then.
    // SAFETY: geteuid has no preconditions.
    let mut command = if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"])
            .arg(binaries.program("pg_ctl"));
        c
    } else {
        Command::new(binaries.program("pg_ctl"))
    };
    let status = command
        .arg("-D")
        .arg(&pgdata)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {args:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_restarted_by_hand_is_attached_to_not_stopped_and_serve_carries_on() {
    let bin = binary();
    let data = crate::support::scratch_dir("restarted");
    let http = reqwest::Client::new();
    let mut served = serve(&bin, &data);
    wait_ready(&http, &served.base).await;
    let first_pg = postmaster_pid(&data).unwrap();

    pg_ctl(&data, &["restart", "-m", "fast", "-w"]);
    let restarted = postmaster_pid(&data).unwrap();
    assert_ne!(restarted, first_pg, "a new postmaster runs");
    // A CLI command attaches to it and leaves it running.
    let key = create_tenant(&bin, &data, "after the restart");
    assert!(
        alive(restarted),
        "the CLI never stops a server it did not start"
    );
    // serve reconnects to it and answers, with the tenant the CLI just made.
    let listed = eventually("serve to answer again", Duration::from_secs(30), || async {
        let (status, body) =
            call(http.get(format!("{}/api/v1/workflows", served.base)), &key).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert!(listed["items"].is_array(), "{listed}");
    // SAFETY: as in kill9.
    unsafe { libc::kill(served.child.id() as i32, libc::SIGTERM) };
    assert!(served.child.wait().unwrap().success());
    // serve did not start this one: it is left for whoever did.
    assert!(alive(restarted), "serve stops only the server it started");
    pg_ctl(&data, &["stop", "-m", "fast", "-w"]);
    let _ = std::fs::remove_dir_all(&data);
}
