//! Prometheus metrics at `GET /metrics` (text exposition format, admins only).
//!
//! Counters and histograms are updated where things happen (HTTP requests by the middleware
//! here, job runs by the job loops, SLA escalations by the SLA loop). Gauges that describe the
//! state of the system (queue length, tickets by status, WebSocket connections and traffic,
//! the database pool) are read when scraped, so they cost nothing between scrapes. Each
//! application has its own registry: several servers in one process (the tests) never mix.

use std::time::Duration;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use sea_orm::{ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QuerySelect};

use crate::{
    entity::{MailOutbox, Ticket, mail_outbox, ticket},
    error::ApiError,
    state::AppState,
};

/// Every metric of one server.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    job_runs: IntCounterVec,
    job_duration: HistogramVec,
    /// SLA breaches escalated by this instance's monitor.
    pub sla_breaches: IntCounter,
    ws_connections: IntGauge,
    ws_sent: IntGauge,
    ws_dropped: IntGauge,
    ws_resyncs: IntGauge,
    queue_length: IntGauge,
    tickets: IntGaugeVec,
    db_pool_size: IntGauge,
    db_pool_idle: IntGauge,
    mail_outbox: IntGaugeVec,
    /// Mail delivery attempts by outcome (`sent`, `failed`: refused or out of attempts,
    /// `retried`: a temporary failure), by this instance's worker.
    pub mail_deliveries: IntCounterVec,
}

/// A route label for requests no route matched (static files, 404s): bounded cardinality.
const UNMATCHED: &str = "unmatched";

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("helpdesk".to_owned()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to the response head, by route template and method",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method"],
        )?;
        let job_runs = IntCounterVec::new(
            Opts::new(
                "job_runs_total",
                "Background job runs by job and outcome (ok, error)",
            ),
            &["job", "outcome"],
        )?;
        let job_duration = HistogramVec::new(
            HistogramOpts::new("job_duration_seconds", "Background job run time by job"),
            &["job"],
        )?;
        let sla_breaches = IntCounter::new(
            "sla_breaches_total",
            "SLA breaches escalated by this instance",
        )?;
        let ws_connections = IntGauge::new("websocket_connections", "Open WebSocket connections")?;
        let ws_sent = IntGauge::new(
            "websocket_events_queued_total",
            "Events queued to WebSocket connections since start",
        )?;
        let ws_dropped = IntGauge::new(
            "websocket_events_dropped_total",
            "Events skipped for connections whose queue was full (they resync) since start",
        )?;
        let ws_resyncs = IntGauge::new(
            "websocket_resyncs_total",
            "resync messages sent to WebSocket clients since start",
        )?;
        let queue_length = IntGauge::new("queue_length", "Tickets waiting in the queue")?;
        let tickets = IntGaugeVec::new(Opts::new("tickets", "Tickets by status"), &["status"])?;
        let db_pool_size = IntGauge::new("db_pool_connections", "Database pool connections")?;
        let db_pool_idle =
            IntGauge::new("db_pool_idle_connections", "Idle database pool connections")?;
        let mail_outbox = IntGaugeVec::new(
            Opts::new(
                "mail_outbox",
                "Outbox mails by status (pending + sending: the depth)",
            ),
            &["status"],
        )?;
        let mail_deliveries = IntCounterVec::new(
            Opts::new(
                "mail_deliveries_total",
                "Mail delivery attempts by outcome (sent, failed, retried)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(mail_outbox.clone()))?;
        registry.register(Box::new(mail_deliveries.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(job_runs.clone()))?;
        registry.register(Box::new(job_duration.clone()))?;
        registry.register(Box::new(sla_breaches.clone()))?;
        registry.register(Box::new(ws_connections.clone()))?;
        registry.register(Box::new(ws_sent.clone()))?;
        registry.register(Box::new(ws_dropped.clone()))?;
        registry.register(Box::new(ws_resyncs.clone()))?;
        registry.register(Box::new(queue_length.clone()))?;
        registry.register(Box::new(tickets.clone()))?;
        registry.register(Box::new(db_pool_size.clone()))?;
        registry.register(Box::new(db_pool_idle.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            job_runs,
            job_duration,
            sla_breaches,
            ws_connections,
            ws_sent,
            ws_dropped,
            ws_resyncs,
            queue_length,
            tickets,
            db_pool_size,
            db_pool_idle,
            mail_outbox,
            mail_deliveries,
        })
    }

    /// Records one finished job run.
    pub fn job(&self, job: &str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.job_runs.with_label_values(&[job, outcome]).inc();
        self.job_duration
            .with_label_values(&[job])
            .observe(took.as_secs_f64());
    }

    fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(took.as_secs_f64());
    }

    /// Reads the state gauges and renders every metric.
    pub async fn render(&self, state: &AppState) -> Result<String, ApiError> {
        let rt = state.realtime.stats();
        self.ws_connections.set(gauge(rt.sessions));
        self.ws_sent.set(gauge(rt.queued));
        self.ws_dropped.set(gauge(rt.dropped));
        self.ws_resyncs.set(gauge(rt.resyncs));
        let by_status: Vec<(ticket::Status, i64)> = Ticket::find()
            .select_only()
            .column(ticket::Column::Status)
            .column_as(ticket::Column::Id.count(), "n")
            .group_by(ticket::Column::Status)
            .into_tuple()
            .all(&state.db)
            .await?;
        self.tickets.reset();
        for (status, n) in by_status {
            self.tickets
                .with_label_values(&[&shared::TicketStatus::from(status).to_string()])
                .set(n);
        }
        let queue = crate::services::assignment::queue_length(&state.db).await?;
        self.queue_length.set(gauge(queue));
        let by_status: Vec<(String, i64)> = MailOutbox::find()
            .select_only()
            .column(mail_outbox::Column::Status)
            .column_as(mail_outbox::Column::Id.count(), "n")
            .group_by(mail_outbox::Column::Status)
            .into_tuple()
            .all(&state.db)
            .await?;
        self.mail_outbox.reset();
        for status in ["pending", "sending", "sent", "failed", "suppressed"] {
            self.mail_outbox.with_label_values(&[status]).set(0);
        }
        for (status, n) in by_status {
            self.mail_outbox.with_label_values(&[&status]).set(n);
        }
        let (size, idle) = pool_usage(&state.db);
        self.db_pool_size.set(size);
        self.db_pool_idle.set(idle);

        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding metrics: {e}")))?;
        String::from_utf8(out)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("metrics are not UTF-8: {e}")))
    }
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn pool_usage(db: &DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (i64::from(pool.size()), gauge(pool.num_idle() as u64))
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (i64::from(pool.size()), gauge(pool.num_idle() as u64))
        }
    }
}

/// Middleware: counts every request and times it, labelled by its route template (never the
/// concrete path, so ids do not explode the label set).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = std::time::Instant::now();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let method = req.method().to_string();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(res) => (
                res.request()
                    .match_pattern()
                    .unwrap_or_else(|| UNMATCHED.to_owned()),
                res.status().as_u16(),
            ),
            Err(e) => (
                UNMATCHED.to_owned(),
                e.as_response_error().status_code().as_u16(),
            ),
        };
        metrics.request(&route, &method, status, started.elapsed());
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let m = Metrics::new().unwrap();
        m.job("assignment", true, Duration::from_millis(3));
        m.request("/api/tickets/{id}", "GET", 200, Duration::from_millis(2));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&m.registry.gather(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(
            "helpdesk_http_requests_total{method=\"GET\",route=\"/api/tickets/{id}\",status=\"200\"} 1"
        ), "{text}");
        assert!(text.contains("helpdesk_job_runs_total{job=\"assignment\",outcome=\"ok\"} 1"));
    }
}
