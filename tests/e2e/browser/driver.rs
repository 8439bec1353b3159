//! A real headless Chromium driven over WebDriver: one chromedriver process and one
//! browser session per test, both ended when the test's `Browser` drops.
//! `scripts/ensure-chromium.sh` installs Chromium and chromedriver when they are missing.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use poem::http::Method;
use serde_json::{json, Value};

use crate::support::eventually;

/// How long a step may take before the test fails.
const STEP: Duration = Duration::from_secs(15);

/// The widths the console must work at.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

pub struct Browser {
    pub client: Client,
    base: String,
    driver: Child,
    driver_port: u16,
    session: Option<String>,
}

/// `DELETE /session/{id}` to chromedriver, synchronously.
fn end_session(port: u16, session: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // The answer comes once Chromium has quit; its first bytes are enough.
    let mut answer = [0u8; 512];
    let _first = stream.read(&mut answer)?;
    Ok(())
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit Chromium and reap its processes.
        // Drop cannot await, so this is one plain HTTP request.
        if let Some(session) = &self.session {
            let _ = end_session(self.driver_port, session);
        }
        // Then chromedriver, and anything left of its process group (Chromium is in it).
        let group = self.driver.id() as i32;
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

/// `browser/se/log`: the browser console's entries since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session for the console at `base`.
    pub async fn open(base: &str) -> Browser {
        let port = free_port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/ensure-chromium.sh installs it)");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-sync", "--lang=en-US"
            ]}),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let url = format!("http://127.0.0.1:{port}");
        let client = eventually("chromedriver to accept a session", STEP, || {
            let caps = caps.clone();
            let url = url.clone();
            async move {
                // chromedriver speaks plain HTTP on 127.0.0.1: no TLS connector needed.
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps)
                    .connect(&url)
                    .await
                    .ok()
            }
        })
        .await;
        let session = client.session_id().await.ok().flatten();
        Browser {
            client,
            base: base.to_string(),
            driver,
            driver_port: port,
            session,
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigation");
    }

    /// The current address's path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Waits until the address's path is `path`.
    pub async fn wait_path(&self, path: &str) {
        let mut last = String::new();
        let found = tokio::time::timeout(STEP, async {
            loop {
                last = self.path().await;
                if last.split('?').next() == Some(path) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(found.is_ok(), "expected to reach {path}, still at {last}");
    }

    /// Waits until the address's path starts with `prefix`.
    pub async fn wait_path_prefix(&self, prefix: &str) {
        eventually(&format!("an address under {prefix}"), STEP, || async {
            self.path().await.starts_with(prefix).then_some(())
        })
        .await;
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
    }

    /// The form control labelled `label`, found through the label's `for`: so a control
    /// without a label tied to it is not found.
    pub async fn labelled(&self, label: &str) -> Element {
        let xpath = format!("//label[normalize-space(.)={}]", xpath_literal(label));
        let label_el = self
            .client
            .wait()
            .at_most(STEP)
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no label '{label}': {e}"));
        let id = label_el
            .attr("for")
            .await
            .expect("attr")
            .unwrap_or_else(|| panic!("label '{label}' is tied to no control"));
        self.find(&format!("[id=\"{id}\"]")).await
    }

    /// Types `text` into the control labelled `label`, replacing what was there.
    pub async fn fill(&self, label: &str, text: &str) {
        let input = self.labelled(label).await;
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("typing");
    }

    /// Selects the option whose text is `option` in the select labelled `label`.
    pub async fn choose(&self, label: &str, option: &str) {
        let select = self.labelled(label).await;
        select
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("no option '{option}' in '{label}': {e}"));
    }

    /// The first visible button, link or summary whose text is `text`.
    pub async fn control(&self, text: &str) -> Element {
        let literal = xpath_literal(text);
        let xpath =
            format!("//*[self::button or self::a or self::summary][normalize-space(.)={literal}]");
        let found = eventually(&format!("a visible '{text}' control"), STEP, || async {
            for el in self.client.find_all(Locator::XPath(&xpath)).await.ok()? {
                if el.is_displayed().await.unwrap_or(false) {
                    return Some(el);
                }
            }
            None
        })
        .await;
        found
    }

    pub async fn click(&self, text: &str) {
        self.control(text).await.click().await.expect("click");
    }

    /// Waits until the element `css` shows text containing `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        eventually(&format!("{css} to show '{needle}'"), STEP, || async {
            let el = self.client.find(Locator::Css(css)).await.ok()?;
            let text = el.text().await.ok()?;
            text.contains(needle).then_some(text)
        })
        .await
    }

    /// The visible text of the page's main content.
    pub async fn main_text(&self) -> String {
        self.find("main").await.text().await.expect("text")
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    pub async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize");
    }

    /// Errors the browser's console recorded since the last call (CSP violations, failed
    /// loads, script errors).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("browser log");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Asserts the page fits the window's width (nothing scrolls sideways but the
    /// elements meant to: tables and diagrams inside `.scroll`).
    pub async fn assert_fits(&self, what: &str) {
        let widths = self
            .js("return [document.documentElement.scrollWidth, window.innerWidth];")
            .await;
        let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
        if scroll > inner {
            let culprits = self
                .js("return [...document.querySelectorAll('body *')]
                       .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                                    && !e.closest('.scroll'))
                       .slice(0, 5).map(e => e.outerHTML.slice(0, 160));")
                .await;
            panic!("{what}: the page is {scroll}px wide in a {inner}px window: {culprits:#}");
        }
    }

    /// Saves a screenshot as `<dir>/<name>.png` when `SWITCHYARD_SCREENSHOTS` names a
    /// directory (`scripts/screenshots.sh` sets it).
    pub async fn screenshot(&self, name: &str) {
        let Ok(dir) = std::env::var("SWITCHYARD_SCREENSHOTS") else {
            return;
        };
        // From the top of the page, as a visitor first sees it.
        self.js("window.scrollTo(0, 0); return 1;").await;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = PathBuf::from(dir).join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).expect("screenshot directory");
        std::fs::write(&path, png).expect("write screenshot");
    }

    /// Accepts the page's confirm() dialog.
    pub async fn accept_dialog(&self) {
        eventually("a confirm dialog", STEP, || async {
            self.client.accept_alert().await.ok()
        })
        .await;
    }

    /// Signs in through the sign-in page with the keyboard alone: type, Tab, type, Enter.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/admin/sign-in").await;
        let email_input = self.labelled("Email").await;
        email_input.send_keys(email).await.expect("typing");
        // Tab to the password field and submit with Enter.
        email_input
            .send_keys(&format!("\u{E004}{password}\u{E007}"))
            .await
            .expect("typing");
        eventually("sign-in to finish", STEP, || async {
            let path = self.path().await;
            (!path.starts_with("/admin/sign-in")).then_some(())
        })
        .await;
    }
}

fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else {
        format!(
            "concat('{}')",
            text.split('\'').collect::<Vec<_>>().join("', \"'\", '")
        )
    }
}
