//! Server-side sessions. The browser holds an opaque random token; the database holds its
//! SHA-256, the user, and two clocks: an idle limit ([`IDLE`]) and an absolute one
//! ([`LIFETIME`]). Signing in always makes a new token (no session fixation); signing out
//! revokes it.

use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

use super::{password, Role};
use crate::{Pool, StoreError, TenantId, UserId};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session ends this long after sign-in, however busy.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A session's token, as given to the browser once. Neither `Debug` nor `Display`.
pub struct SessionToken(String);

impl SessionToken {
    /// The token, for the one cookie that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Who a live session belongs to.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: Role,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Password checks running at once in this process. Each argon2 verification takes
/// 19 MiB and a core for tens of milliseconds: a flood of sign-ins must queue neither
/// memory nor blocking threads, so past this many the next is refused at once.
pub const CONCURRENT_VERIFICATIONS: usize = 4;

static VERIFYING: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(CONCURRENT_VERIFICATIONS);

/// A password check, run on one of the checking threads.
type Check = Box<dyn FnOnce() + Send>;

/// Runs `check` on one of [`CONCURRENT_VERIFICATIONS`] threads kept for the life of the
/// process; `None` if it panicked. Not on tokio's blocking threads: an argon2 check
/// frees its 19 MiB into the allocator of the thread that ran it (glibc keeps a large
/// block in the thread's arena once it has freed one), so checks spread over many
/// blocking threads would leave the process 19 MiB larger per thread. On these threads
/// the same memory serves every check, and a flood of sign-ins cannot grow the process
/// past their share.
async fn on_checker<T: Send + 'static>(check: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static CHECKERS: OnceLock<mpsc::Sender<Check>> = OnceLock::new();
    let checkers = CHECKERS.get_or_init(|| {
        let (send, receive) = mpsc::channel::<Check>();
        let receive = Arc::new(Mutex::new(receive));
        for n in 0..CONCURRENT_VERIFICATIONS {
            let receive = receive.clone();
            // Should none start, the channel has no receiver: every check answers `None`.
            let _ = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next check.
                    let next = receive.lock().map(|r| r.recv());
                    match next {
                        Ok(Ok(check)) => check(),
                        _ => return,
                    }
                });
        }
        send
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let check: Check = Box::new(move || {
        if let Ok(value) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
            let _ = done.send(value);
        }
    });
    checkers.send(check).ok()?;
    result.await.ok()
}

/// How a sign-in ended.
pub enum SignIn {
    SignedIn(SessionToken, SignedIn),
    /// The email and password do not match an active user (the same answer, and about
    /// the same time, either way).
    Wrong,
    /// Every password check slot is busy: try again in a moment. Nothing was checked.
    Busy,
    /// The email and password open accounts in several workspaces (tenants): name the
    /// workspace.
    ChooseWorkspace,
}

/// The most accounts one sign-in checks the password against (its oldest ones); an
/// account of an email with more is opened by naming its workspace. Each check is an
/// argon2 verification.
pub const MAX_ACCOUNTS_PER_SIGN_IN: usize = 3;

/// Checks `email` and `password` and starts a session. The same email may have an
/// account in several tenants: `workspace` (a tenant's name) picks one; without it, the
/// one account the password opens. No database connection is held while hashing.
pub async fn sign_in(
    pool: &Pool,
    email: &str,
    secret: &str,
    workspace: Option<&str>,
) -> Result<SignIn, StoreError> {
    let Ok(_verifying) = VERIFYING.try_acquire() else {
        return Ok(SignIn::Busy);
    };
    let workspace = workspace.map(str::trim).filter(|w| !w.is_empty());
    let rows = pool
        .get()
        .await?
        .query(
            "SELECT u.id, u.tenant_id, u.email, u.role, u.password_hash FROM users u \
             JOIN tenants t ON t.id = u.tenant_id \
             WHERE lower(u.email) = lower($1) AND u.disabled_at IS NULL \
               AND ($2::text IS NULL OR lower(t.name) = lower($2)) \
             ORDER BY u.created_at, u.id LIMIT $3",
            &[
                &email.trim(),
                &workspace,
                &(MAX_ACCOUNTS_PER_SIGN_IN as i64),
            ],
        )
        .await?;
    // Only what the password opens may tell anything: an email with more accounts than
    // one sign-in checks is checked against its oldest ones (the LIMIT), and the others
    // need their workspace named (the page says so), rather than a "choose" that anyone
    // could see without the password.
    let stored: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("password_hash"))
        .collect::<Result<_, _>>()?;
    let given = secret.to_string();
    // Without an account, one check against nothing: the same time as a wrong password.
    let opened = on_checker(move || {
        if stored.is_empty() {
            password::verify(None, &given);
            return Vec::new();
        }
        stored
            .iter()
            .enumerate()
            .filter(|(_, phc)| password::verify(Some(phc), &given))
            .map(|(i, _)| i)
            .collect::<Vec<usize>>()
    })
    .await
    .unwrap_or_default();
    let row = match opened.as_slice() {
        [] => return Ok(SignIn::Wrong),
        [one] => &rows[*one],
        _ => return Ok(SignIn::ChooseWorkspace),
    };
    let signed_in = SignedIn {
        user_id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
    };
    let token = Alphanumeric.sample_string(&mut rand::rng(), 43);
    pool.get()
        .await?
        .execute(
            "INSERT INTO sessions (id, user_id, token_sha256, expires_at) \
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
            &[
                &uuid::Uuid::now_v7(),
                &signed_in.user_id.0,
                &digest(&token),
                &(LIFETIME.as_secs_f64()),
            ],
        )
        .await?;
    Ok(SignIn::SignedIn(SessionToken(token), signed_in))
}

/// The session behind `token`, if it is live; keeps it alive.
pub async fn resume(pool: &Pool, token: &str) -> Result<Option<SignedIn>, StoreError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT s.id AS session_id, s.last_seen_at, u.id, u.tenant_id, u.email, u.role \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > now() \
               AND s.last_seen_at > now() - make_interval(secs => $2) AND u.disabled_at IS NULL",
            &[&digest(token), &IDLE.as_secs_f64()],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let last_seen: DateTime<Utc> = row.try_get("last_seen_at")?;
    if (Utc::now() - last_seen).to_std().unwrap_or_default() > TOUCH_EVERY {
        let id: uuid::Uuid = row.try_get("session_id")?;
        client
            .execute(
                "UPDATE sessions SET last_seen_at = now() WHERE id = $1",
                &[&id],
            )
            .await?;
    }
    Ok(Some(SignedIn {
        user_id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
    }))
}

/// Ends the session behind `token` (signing out); unknown tokens are ignored.
pub async fn sign_out(pool: &Pool, token: &str) -> Result<(), StoreError> {
    let client = pool.get().await?;
    client
        .execute(
            "UPDATE sessions SET revoked_at = now() WHERE token_sha256 = $1 AND revoked_at IS NULL",
            &[&digest(token)],
        )
        .await?;
    Ok(())
}
