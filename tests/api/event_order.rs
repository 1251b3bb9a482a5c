//! The order of the event stream when writers commit concurrently and out of order
//! (PostgreSQL, two server instances): writers never wait for each other, and every WebSocket
//! client and every replay sees each event exactly once, in one and the same order, with
//! consecutive `seq`s.

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use sea_orm::TransactionTrait;
use serde_json::Value;
use server::services::events;
use shared::{Role, ws::Event};

use crate::{
    helpers::{Backend, Overrides, spawn_app, spawn_app_with},
    ws_client::{WAIT, Ws},
};

/// Open transactions at once.
const WRITERS: u64 = 8;
/// Events each of them writes.
const PER_WRITER: u64 = 3;

/// The marker a test event carries: writer `w`, its `k`-th event.
fn marker(w: u64, k: u64) -> u64 {
    1_000_000 + w * 100 + k
}

/// `(seq, marker)` of the test events a client received, in the order received.
fn test_events(ws: &Ws) -> Vec<(i64, u64)> {
    ws.events("queue-updated")
        .into_iter()
        .filter_map(|e| {
            let m = e["data"]["queue_length"].as_u64()?;
            (m >= 1_000_000).then(|| (e["seq"].as_i64().unwrap_or(-1), m))
        })
        .collect()
}

/// Reads until `ws` holds `n` test events (or the deadline passes).
async fn collect(ws: &mut Ws, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while test_events(ws).len() < n {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if ws.next(left).await.is_none() {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_order_commits_reach_every_client_once_in_one_order_on_postgres() {
    let Some(mut a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let cleanup = a.take_cleanup();
    let overrides = Overrides {
        vars: HashMap::from([("DATABASE_URL", a.db_url.clone())]),
    };
    let mut b = spawn_app_with(Backend::Postgres, overrides).await.unwrap();
    let cleanup_b = b.take_cleanup();
    let admin = a.user(Role::Admin).await;
    let (mut on_a, welcome) = Ws::signed_in(&a, &admin.token).await;
    let (mut on_b, _) = Ws::signed_in(&b, &admin.token).await;
    let start = welcome["last_seq"].as_i64().unwrap();

    // Every writer opens its transaction and writes its first event before any commits; the
    // rest of the events are written in reverse order of opening. With a lock held from the
    // first event to the commit, the second writer would wait here forever.
    let mut txns = Vec::new();
    for w in 0..WRITERS {
        let txn = a.db.begin().await.unwrap();
        let emitted = tokio::time::timeout(
            Duration::from_secs(10),
            events::emit(
                &txn,
                &Event::QueueUpdated {
                    queue_length: marker(w, 0),
                },
                vec![shared::ws::rooms::ADMINS.to_owned()],
                false,
                Utc::now(),
            ),
        )
        .await;
        assert!(
            matches!(emitted, Ok(Ok(_))),
            "writer {w} had to wait for another open transaction"
        );
        txns.push(txn);
    }
    for (w, txn) in txns.iter().enumerate().rev() {
        for k in 1..PER_WRITER {
            events::emit(
                txn,
                &Event::QueueUpdated {
                    queue_length: marker(w as u64, k),
                },
                vec![shared::ws::rooms::ADMINS.to_owned()],
                false,
                Utc::now(),
            )
            .await
            .unwrap();
        }
    }

    // Commit the newest first. Each writer's events are delivered as soon as it commits,
    // while the older transactions are still open, on both instances.
    let mut committed = Vec::new();
    while let Some(txn) = txns.pop() {
        let w = txns.len() as u64;
        txn.commit().await.unwrap();
        committed.push(w);
        // Only instance A is told; B hears of it through the database.
        a.state.realtime.poke();
        let expected = committed.len() * PER_WRITER as usize;
        collect(&mut on_a, expected).await;
        collect(&mut on_b, expected).await;
        assert_eq!(
            test_events(&on_a).len(),
            expected,
            "writer {w}'s events must arrive while older writers are still open"
        );
        assert_eq!(test_events(&on_b).len(), expected);
    }

    let total = (WRITERS * PER_WRITER) as usize;
    let live_a = test_events(&on_a);
    let live_b = test_events(&on_b);
    // The same order on both instances; gap-free consecutive numbers; each event once.
    assert_eq!(live_a, live_b);
    let seqs: Vec<i64> = live_a.iter().map(|(s, _)| *s).collect();
    let expected_seqs: Vec<i64> = (start + 1..=start + total as i64).collect();
    assert_eq!(seqs, expected_seqs, "consecutive, in order");
    let mut markers: Vec<u64> = live_a.iter().map(|(_, m)| *m).collect();
    // In commit order (newest writer first), each writer's events in the order written.
    let by_commit: Vec<u64> = committed
        .iter()
        .flat_map(|w| (0..PER_WRITER).map(move |k| marker(*w, k)))
        .collect();
    assert_eq!(markers, by_commit);
    markers.sort_unstable();
    markers.dedup();
    assert_eq!(markers.len(), total, "no event twice");

    // A replay from before the writes, on either instance, gives exactly the same stream.
    for app in [&a, &b] {
        let mut back = Ws::connect(app, &format!("token={}&after_seq={start}", admin.token)).await;
        collect(&mut back, total).await;
        assert_eq!(test_events(&back), live_a, "replay on {}", app.address);
        back.close().await;
    }
    // And a resume from the middle gives exactly the rest.
    let middle = live_a[total / 2].0;
    let mut back = Ws::connect(&b, &format!("token={}&after_seq={middle}", admin.token)).await;
    collect(&mut back, total - total / 2 - 1).await;
    assert_eq!(test_events(&back), live_a[total / 2 + 1..].to_vec());
    let stray: Vec<&Value> = back
        .received
        .iter()
        .filter(|v| v["type"] == "resync")
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    back.close().await;

    on_a.close().await;
    on_b.close().await;
    cleanup_b.run().await;
    cleanup.run().await;
}
