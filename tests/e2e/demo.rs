//! `switchyard demo` runs its walk-through on a fresh data directory and keeps serving.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::embedded::binary;

#[test]
fn the_demo_walks_a_job_through_delivers_its_actions_and_keeps_serving() {
    let data = crate::support::scratch_dir("demo");
    let mut child = Command::new(binary())
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--hook-listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        let _ = tx.send(text);
    });
    let output = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the demo finishes its walk-through");
    let url = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("export SWITCHYARD_URL="))
        .expect("the demo prints its URL")
        .to_string();
    let healthy = plain_http::blocking_get(&format!("{url}/healthz"));
    // The walk-through in README.md reads the demo's address and key from demo.env.
    let env_file = data.join("demo.env");
    let env = std::fs::read_to_string(&env_file).expect("the demo writes demo.env");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only its owner may read the demo's key");
    }
    assert!(
        env.contains(&format!("export SWITCHYARD_URL={url}\n")),
        "{env}"
    );
    assert!(env.contains("export SWITCHYARD_KEY=sy_"), "{env}");
    assert!(
        env.contains("export SWITCHYARD_HOOK_URL=http://127.0.0.1:"),
        "{env}"
    );
    // SAFETY: sending a signal has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);

    for expected in [
        "schedule without a technician is refused",
        "PUT /crm/jobs/",
        "signature verified",
        "POST /billing/invoices answered 500",
        "create_invoice  failed    attempts 3",
        "thank_customer  skipped",
        "action.retry_scheduled",
        "WebhookEgress: 6 requests (3 succeeded, 3 failed)",
        "hash chains verified: ok=true",
        "timer.fired",
        "\"sent\" -> \"follow_up\" by timer",
        "/reminders",
        "intake endpoint 'Twilio status callbacks' (scheme twilio)",
        "Twilio status callback 'sent', signature verified: unmatched",
        "Twilio status callback 'delivered', signature verified: applied",
        "the callback moved the job to 'sms_delivered' (version 2)",
        "export SWITCHYARD_KEY=sy_",
    ] {
        assert!(
            output.contains(expected),
            "missing '{expected}' in:\n{output}"
        );
    }
    assert!(healthy, "the demo keeps serving after its walk-through");
    assert!(
        status.success(),
        "SIGTERM stops the demo cleanly: {status:?}"
    );
}

mod plain_http {
    /// A plain GET over a blocking socket, to keep this test off any async runtime.
    pub fn blocking_get(url: &str) -> bool {
        use std::io::{BufRead, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, "/".into()));
        let Ok(mut stream) = std::net::TcpStream::connect(host) else {
            return false;
        };
        let _ = write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        );
        // The status line is enough; the server may keep the connection open.
        let mut status_line = String::new();
        let _ = std::io::BufReader::new(stream).read_line(&mut status_line);
        status_line.starts_with("HTTP/1.1 200")
    }
}
