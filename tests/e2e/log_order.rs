//! The log reads in order across transaction-id boundaries. A fresh cluster's transaction
//! ids pass 1,000 minutes in, then 10,000: a cursor or an `ORDER BY` that compared them as
//! text would sort `1000` before `999`, and readers would skip and repeat events. Each test
//! here runs its own cluster, burns transaction ids to just below a power of ten and writes
//! events across it, twice.

use std::collections::HashSet;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_engine::embedded::EmbeddedPostgres;
use switchyard_engine::log::{self, Cursor, EventFilter, Xid8};

use crate::subscriptions::subscribe;
use crate::support::http::test_worker;
use crate::support::receiver::Receiver;
use crate::support::{eventually, TestApp};

/// Transaction ids the test leaves between its burn and the boundary: the worker's own
/// claims take ids too while the first event is written.
const RUNWAY: u64 = 30;

/// One event's place in the log as the database orders it.
#[derive(Clone, Debug, PartialEq)]
struct Placed {
    id: String,
    cursor: Cursor,
}

/// A private cluster whose log crosses two powers of ten, the app and worker on it, and a
/// subscription to every job event.
struct Crossed {
    _cluster: EmbeddedPostgres,
    app: TestApp,
    receiver: Receiver,
    boundaries: Vec<u64>,
}

async fn crossed_log(name: &str) -> Crossed {
    let (cluster, url) = crate::support::cluster::private_cluster(name, None).await;

    let receiver = Receiver::ok().await;
    let app = TestApp::spawn_on(&url, test_worker(Default::default(), true)).await;
    subscribe(&app, &receiver.url("/hook"), json!(["job.*"])).await;
    app.publish_fixture("field_service_job").await;

    let (burner, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let first = next_power_of_ten(current_xid(&burner).await + RUNWAY);
    let mut boundaries = Vec::new();
    for boundary in [first, first * 10] {
        burn_to(&burner, boundary - RUNWAY).await;
        write_across(&app, boundary).await;
        boundaries.push(boundary);
    }
    Crossed {
        _cluster: cluster,
        app,
        receiver,
        boundaries,
    }
}

fn next_power_of_ten(above: u64) -> u64 {
    let mut power = 10;
    while power <= above {
        power *= 10;
    }
    power
}

async fn current_xid(client: &tokio_postgres::Client) -> u64 {
    let row = client
        .query_one("SELECT txid_current()", &[])
        .await
        .unwrap();
    row.get::<_, i64>(0) as u64
}

/// Takes transaction ids (one per autocommitted `txid_current()`, many in flight on the
/// connection at once) until the next one is at least `target`.
async fn burn_to(client: &tokio_postgres::Client, target: u64) {
    let stmt = client.prepare("SELECT txid_current()").await.unwrap();
    let mut reached = current_xid(client).await;
    while reached + 1 < target {
        let batch = (target - reached - 1).min(500);
        let taken =
            futures_util::future::join_all((0..batch).map(|_| client.query_one(&stmt, &[]))).await;
        for row in taken {
            reached = reached.max(row.unwrap().get::<_, i64>(0) as u64);
        }
    }
}

/// Creates and schedules jobs, one transaction each, until the tenant's log holds events
/// on both sides of `boundary`.
async fn write_across(app: &TestApp, boundary: u64) {
    for _ in 0..40 {
        let job = app.create_job("field_service_job").await;
        let (status, body) = app
            .transition(
                job["id"].as_str().unwrap(),
                json!({"transition": "schedule", "data": {"technician": "ana"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (below, above) = sides(app, boundary).await;
        assert!(
            below > 0 || above == 0,
            "the burn overshot {boundary}: no event was written below it"
        );
        if above >= 6 {
            return;
        }
    }
    panic!("40 jobs did not carry the log past {boundary}");
}

/// How many of the tenant's events were written below and at or above `boundary`.
async fn sides(app: &TestApp, boundary: u64) -> (i64, i64) {
    let client = app.pool.get().await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE tx_id < $2), count(*) FILTER (WHERE tx_id >= $2) \
             FROM event_log WHERE tenant_id = $1",
            &[&app.tenant_id.0, &Xid8(boundary)],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// The tenant's whole log in the order the database gives `(tx_id, position)`, once every
/// event is below the visibility horizon.
async fn whole_log(app: &TestApp) -> Vec<Placed> {
    let client = app.pool.get().await.unwrap();
    eventually(
        "every event below the horizon",
        Duration::from_secs(20),
        || async {
            let pending: i64 = client
                .query_one(
                    "SELECT count(*) FROM event_log WHERE tenant_id = $1 \
                 AND tx_id >= pg_snapshot_xmin(pg_current_snapshot())",
                    &[&app.tenant_id.0],
                )
                .await
                .unwrap()
                .get(0);
            (pending == 0).then_some(())
        },
    )
    .await;
    client
        .query(
            "SELECT event_id, tx_id, position FROM event_log WHERE tenant_id = $1 \
             ORDER BY tx_id, position",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| Placed {
            id: row.get::<_, uuid::Uuid>(0).to_string(),
            cursor: Cursor {
                tx_id: row.get::<_, Xid8>(1).0,
                position: row.get(2),
            },
        })
        .collect()
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_a_power_of_ten_paging_the_poll_and_subscriptions_see_every_event_once_in_order() {
    let crossed = crossed_log("log-order").await;
    let app = &crossed.app;
    let log = whole_log(app).await;
    for boundary in &crossed.boundaries {
        let (below, above) = sides(app, *boundary).await;
        assert!(below > 0 && above > 0, "events on both sides of {boundary}");
    }
    let expected: Vec<String> = log.iter().map(|p| p.id.clone()).collect();
    assert!(
        log.windows(2).any(|w| {
            let (a, b) = (w[0].cursor.tx_id.to_string(), w[1].cursor.tx_id.to_string());
            a > b
        }),
        "the log holds neighbours whose ids sort the other way round as text"
    );

    // Small pages, followed by their cursors, return every event exactly once in log order.
    for limit in [1, 2, 3, 7] {
        assert_eq!(ids(&app.all_events(limit).await), expected, "limit={limit}");
    }
    // One page of the default size is in log order too.
    let (status, page) = app.get("/api/v1/events", &app.key).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let first_page = ids(page["items"].as_array().unwrap());
    assert_eq!(first_page, expected[..first_page.len()]);

    // The Zapier poll answers the newest job event first.
    let service = app.key_with(&["service"]).await;
    let (status, polled) = app
        .get("/api/webhooks/zapier/poll?event_type=job.*", &service)
        .await;
    assert_eq!(status, StatusCode::OK, "{polled}");
    let client = app.pool.get().await.unwrap();
    let newest_job_event: uuid::Uuid = client
        .query_one(
            "SELECT event_id FROM event_log WHERE tenant_id = $1 AND type LIKE 'job.%' \
             ORDER BY tx_id DESC, position DESC LIMIT 1",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        polled[0]["id"],
        newest_job_event.to_string(),
        "newest first: {polled}"
    );

    // The subscription receives every job event across both boundaries, each once.
    let job_events: HashSet<String> = client
        .query(
            "SELECT event_id FROM event_log WHERE tenant_id = $1 AND type LIKE 'job.%'",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, uuid::Uuid>(0).to_string())
        .collect();
    crossed.receiver.wait_for(job_events.len()).await;
    app.idle().await;
    let delivered: Vec<String> = crossed
        .receiver
        .requests()
        .iter()
        .map(|r| r.json()["event"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        delivered.len(),
        job_events.len(),
        "each event delivered once"
    );
    assert_eq!(delivered.into_iter().collect::<HashSet<_>>(), job_events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_a_power_of_ten_pages_from_any_cursor_with_any_limits_concatenate_to_the_log() {
    let crossed = crossed_log("log-pages").await;
    let app = &crossed.app;
    let log = whole_log(app).await;
    let (lowest, highest) = (log[0].cursor, log[log.len() - 1].cursor);

    // A start is an event's own cursor, the empty cursor, or any (tx, position) around the
    // log, most of which name no event; limits vary from page to page.
    let start = prop_oneof![
        Just(None),
        (0..log.len()).prop_map(|i| Some(log[i].cursor)),
        (
            lowest.tx_id.saturating_sub(2)..highest.tx_id + 2,
            lowest.position - 2..highest.position + 2
        )
            .prop_map(|(tx_id, position)| Some(Cursor { tx_id, position })),
    ];
    let limits = prop::collection::vec(1i64..12, 1..8);
    let handle = tokio::runtime::Handle::current();
    let client = app.pool.get().await.unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    tokio::task::block_in_place(|| {
        runner
            .run(&(start, limits), |(start, limits)| {
                let read: Vec<String> = handle.block_on(async {
                    let mut filter = EventFilter {
                        tenant_id: Some(app.tenant_id),
                        // The cursor as a client holds it: its text, parsed back.
                        after: start.map(|c: Cursor| c.to_string().parse().unwrap()),
                        ..EventFilter::default()
                    };
                    let mut read = Vec::new();
                    for limit in limits.iter().cycle() {
                        let page = log::read::page(&client, &filter, *limit).await.unwrap();
                        if page.items.is_empty() {
                            break;
                        }
                        read.extend(page.items.iter().map(|e| e.id.0.to_string()));
                        filter.after = page.next_cursor;
                    }
                    read
                });
                let expected: Vec<String> = log
                    .iter()
                    .filter(|p| start.is_none_or(|s| p.cursor > s))
                    .map(|p| p.id.clone())
                    .collect();
                prop_assert_eq!(read, expected, "from {:?} with limits {:?}", start, limits);
                Ok(())
            })
            .unwrap();
    });
}
