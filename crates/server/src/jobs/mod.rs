//! Background jobs: the assignment loop, the SLA monitor, the analytics rollups, the webhook
//! dispatcher and delivery worker, (with `MAIL_ENABLED`) the mail delivery worker and (with
//! `MAIL_IMAP_URL`) the IMAP poller.
//!
//! Each loop sleeps for its interval (read from the settings every round, so changes apply
//! without a restart) or until it is triggered, then runs the same service function the tests
//! call. Errors are logged and the loop carries on.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::{
    sync::{Notify, watch},
    task::LocalSet,
};

use crate::{
    services::{analytics, assignment, events, mail, settings, sla_monitor, webhooks},
    state::AppState,
};

/// Handle for triggering jobs from request handlers.
#[derive(Clone, Default)]
pub struct Jobs {
    assign: Arc<Notify>,
    mail: Arc<Notify>,
    webhooks: Arc<Notify>,
    /// True while the jobs' thread is running its loops (for the readiness check).
    running: Arc<AtomicBool>,
}

impl Jobs {
    /// Whether the background loops are running in this process.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Asks the assignment loop to run now (coalesces with other pending requests).
    pub fn trigger_assignment(&self) {
        self.assign.notify_one();
    }

    /// Asks the mail worker to deliver now; call it after a commit that may have queued mail.
    pub fn trigger_mail(&self) {
        self.mail.notify_one();
    }

    /// Asks the webhook worker to look for events and due deliveries now.
    pub fn trigger_webhooks(&self) {
        self.webhooks.notify_one();
    }
}

/// Starts the loops on their own thread and returns a switch that stops them.
///
/// The loops run on a single-threaded runtime of their own (like the HTTP workers): the
/// service functions hold database transactions across awaits and are not `Send`.
pub fn start(state: AppState) -> Stopper {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Running from now until the thread's loops end (or it fails to start).
    let running = state.jobs.running.clone();
    running.store(true, Ordering::Release);
    let flag = running.clone();
    let spawned = std::thread::Builder::new()
        .name("helpdesk-jobs".to_owned())
        .spawn(move || {
            let running = flag;
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    log::error!("cannot start the background jobs: {e}");
                    running.store(false, Ordering::Release);
                    return;
                }
            };
            let local = LocalSet::new();
            local.block_on(&runtime, async move {
                tokio::task::spawn_local(assignment_loop(state.clone(), stop_rx.clone()));
                tokio::task::spawn_local(sla_loop(state.clone(), stop_rx.clone()));
                if state.mail.is_enabled() {
                    tokio::task::spawn_local(mail_loop(state.clone(), stop_rx.clone()));
                }
                if let Some(imap) = state.settings.mail.inbound.imap.clone() {
                    match mail::inbound::Inbox::new(
                        state.db.clone(),
                        state.mail.clone(),
                        state.settings.clone(),
                    ) {
                        Ok(inbox) => {
                            let worker = format!("imap-{}", uuid::Uuid::new_v4().simple());
                            let wake = state.clone();
                            tokio::task::spawn_local(mail::inbound::imap::run(
                                inbox,
                                Arc::new(imap),
                                worker,
                                stop_rx.clone(),
                                Box::new(move || {
                                    wake.realtime.poke();
                                    wake.jobs.trigger_mail();
                                }),
                            ));
                        }
                        Err(e) => log::error!("cannot start the IMAP poller: {e}"),
                    }
                }
                tokio::task::spawn_local(webhook_loop(state.clone(), stop_rx.clone()));
                tokio::task::spawn_local(rollup_loop(state, stop_rx.clone()));
                let mut stop = stop_rx;
                while !*stop.borrow() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            });
            // A loop stopped in the middle of a run (the poller waiting on the IMAP server,
            // the worker on SMTP) is dropped with the LocalSet; inside the runtime, so what it
            // holds (database connections, the SMTP pool) can clean up instead of panicking.
            {
                let _entered = runtime.enter();
                drop(local);
            }
            running.store(false, Ordering::Release);
        });
    let thread = match spawned {
        Ok(thread) => Some(thread),
        Err(e) => {
            log::error!("cannot start the background jobs thread: {e}");
            running.store(false, Ordering::Release);
            None
        }
    };
    Stopper {
        stop: stop_tx,
        thread,
    }
}

/// Stops the background jobs when told to or dropped. A loop stops only between two runs, so
/// a job in progress finishes (or its transaction rolls back if the process dies).
pub struct Stopper {
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stopper {
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops the loops and waits (at most `grace`) for a run in progress to finish.
    pub async fn stop_and_wait(mut self, grace: Duration) {
        self.stop();
        let Some(thread) = self.thread.take() else {
            return;
        };
        let joined = tokio::task::spawn_blocking(move || thread.join());
        if tokio::time::timeout(grace, joined).await.is_err() {
            log::warn!("a background job was still running after {grace:?}; stopping anyway");
        }
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn interval_of(state: &AppState, pick: fn(&settings::QueueSettings) -> u32) -> Duration {
    let s = settings::queue(&state.db)
        .await
        .unwrap_or(settings::QueueSettings::DEFAULT);
    Duration::from_secs(u64::from(pick(&s).max(1)))
}

async fn assignment_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let trigger = state.jobs.assign.clone();
    loop {
        let interval = interval_of(&state, |s| s.assignment_interval_secs).await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = trigger.notified() => {}
            _ = stop.changed() => return,
        }
        let started = std::time::Instant::now();
        let result = assignment::run(&state.db, &state.mail, state.clock.now()).await;
        state
            .metrics
            .job("assignment", result.is_ok(), started.elapsed());
        match result {
            Ok(report) if !report.assigned.is_empty() => {
                log::info!("assigned {} tickets", report.assigned.len());
                state.realtime.poke();
                state.jobs.trigger_mail();
            }
            Ok(_) => {}
            Err(e) => log::error!("assignment run failed: {e}"),
        }
    }
}

async fn sla_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        let interval = interval_of(&state, |s| s.sla_check_interval_secs).await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        let started = std::time::Instant::now();
        let result = sla_monitor::run(&state.db, &state.mail, state.clock.now()).await;
        state
            .metrics
            .job("sla_monitor", result.is_ok(), started.elapsed());
        match result {
            Ok(breaches) if !breaches.is_empty() => {
                log::warn!("{} SLA breaches escalated", breaches.len());
                state.metrics.sla_breaches.inc_by(breaches.len() as u64);
                state.realtime.poke();
                state.jobs.trigger_mail();
            }
            Ok(_) => {}
            Err(e) => log::error!("SLA monitor run failed: {e}"),
        }
        match sla_monitor::warn(&state.db, &state.mail, state.clock.now()).await {
            Ok(warnings) if !warnings.is_empty() => {
                log::info!("{} SLA warnings sent", warnings.len());
                state.realtime.poke();
                state.jobs.trigger_mail();
            }
            Ok(_) => {}
            Err(e) => log::error!("SLA warning run failed: {e}"),
        }
        match mail::digest::run(&state.db, &state.mail, state.clock.now()).await {
            Ok(0) => {}
            Ok(n) => {
                log::info!("SLA digest queued for {n} admins");
                state.jobs.trigger_mail();
            }
            Err(e) => log::error!("SLA digest failed: {e}"),
        }
        let cutoff = state.clock.now() - events::RETENTION;
        if let Err(e) = events::prune(&state.db, cutoff).await {
            log::error!("pruning old events failed: {e}");
        }
        let expired = state.clock.now() - crate::services::idempotency::TTL;
        if let Err(e) = crate::services::idempotency::prune(&state.db, expired).await {
            log::error!("pruning expired idempotency keys failed: {e}");
        }
    }
}

/// How often the analytics rollups catch up with ticket writes. Readers never wait for it
/// (days not yet rolled up are computed live); it only keeps that live part small.
const ROLLUP_INTERVAL: Duration = Duration::from_secs(10);

async fn rollup_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        // Drain the change log in batches, yielding to stop requests between them.
        loop {
            let started = std::time::Instant::now();
            let result = analytics::rollup::refresh(&state.db).await;
            state
                .metrics
                .job("rollup", result.is_ok(), started.elapsed());
            match result {
                Ok(n) if n == analytics::rollup::BATCH => {
                    if *stop.borrow() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    log::error!("analytics rollup failed: {e}");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(ROLLUP_INTERVAL) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often the mail worker looks for due mail when nobody woke it (retries, other
/// instances' mail).
const MAIL_TICK: Duration = Duration::from_secs(5);

async fn mail_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = match state
        .mail
        .context()
        .map(|ctx| mail::deliver::Worker::new(&ctx.settings))
    {
        Some(Ok(worker)) => worker,
        Some(Err(e)) => {
            log::error!("cannot start the mail worker: {e}");
            return;
        }
        None => return,
    };
    let trigger = state.jobs.mail.clone();
    loop {
        let started = std::time::Instant::now();
        let result = mail::deliver::run(&state.db, &worker, state.clock.now()).await;
        state.metrics.job("mail", result.is_ok(), started.elapsed());
        match result {
            Ok(report) if !report.is_empty() => {
                for (outcome, n) in [
                    ("sent", report.sent),
                    ("failed", report.failed),
                    ("retried", report.retried),
                ] {
                    state
                        .metrics
                        .mail_deliveries
                        .with_label_values(&[outcome])
                        .inc_by(n as u64);
                }
                log::info!(
                    "mail: {} sent, {} failed, {} to retry",
                    report.sent,
                    report.failed,
                    report.retried
                )
            }
            Ok(_) => {}
            Err(e) => log::error!("mail delivery run failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(MAIL_TICK) => {}
            _ = trigger.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Feeds the webhook queue from the event log and delivers what is due, every
/// `WEBHOOK_POLL_MS` or when triggered.
async fn webhook_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = webhooks::deliver::Worker::new(state.settings.webhooks);
    let poll = Duration::from_millis(state.settings.webhooks.poll_ms.max(50));
    let trigger = state.jobs.webhooks.clone();
    loop {
        let started = std::time::Instant::now();
        let dispatched = webhooks::dispatch::run(&state.db, state.clock.now()).await;
        let result = match &dispatched {
            Err(e) => {
                log::error!("webhook dispatch failed: {e}");
                webhooks::deliver::run(&state.db, &worker, &*state.clock).await
            }
            // No enabled endpoint: nothing is due.
            Ok(d) if d.endpoints == 0 => Ok(Default::default()),
            Ok(_) => webhooks::deliver::run(&state.db, &worker, &*state.clock).await,
        };
        state.metrics.job(
            "webhooks",
            dispatched.is_ok() && result.is_ok(),
            started.elapsed(),
        );
        match result {
            Ok(report) if !report.is_empty() => {
                log::info!(
                    "webhooks: {} delivered, {} to retry, {} failed",
                    report.delivered,
                    report.retried,
                    report.failed
                );
                if report.disabled > 0 {
                    // The `webhook-disabled` events.
                    state.realtime.poke();
                }
            }
            Ok(_) => {}
            Err(e) => log::error!("webhook delivery run failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = trigger.notified() => {}
            _ = stop.changed() => return,
        }
    }
}
