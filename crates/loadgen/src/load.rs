//! The HTTP client of the benchmark and the bounded closed-loop runner every HTTP scenario
//! uses: a fixed number of workers, each sending its next request when the last one answered,
//! until a request count or a time limit is reached, whichever comes first.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{loopback::ensure_loopback, stats};

/// JSON API client for one server.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Api {
    pub fn new(http: reqwest::Client, base: &str) -> anyhow::Result<Api> {
        ensure_loopback(base)?;
        Ok(Api {
            http,
            base: base.to_owned(),
        })
    }

    /// Sends a request and returns the envelope's `data` (and the whole body) on a 2xx.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            bail!(
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Signs in; returns the bearer token.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = self
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(&json!({"email": email, "password": password})),
            )
            .await?;
        body["data"]["token"]
            .as_str()
            .map(str::to_owned)
            .context("login answered without a token")
    }
}

/// The bounds of one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub concurrency: usize,
    pub requests: usize,
    pub time_limit: Duration,
}

/// What a bounded run measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Latency of every successful request.
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// The time limit ended the run before the request count was reached.
    pub timed_out: bool,
}

impl Outcome {
    pub fn ok(&self) -> usize {
        self.latencies.len()
    }

    /// Successful requests per second of wall time.
    pub fn rate(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn summary(&self) -> Option<stats::Summary> {
        stats::summarize(&self.latencies)
    }
}

/// Runs `request(worker, index)` under `bounds`; each call is one timed request.
pub async fn run<F, Fut>(bounds: Bounds, request: F) -> Outcome
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + bounds.time_limit;
    let shared = Arc::new(Mutex::new(Outcome::default()));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..bounds.concurrency.max(1) {
        let (request, next, shared) = (request.clone(), next.clone(), shared.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            let mut timed_out = false;
            loop {
                if Instant::now() >= deadline {
                    timed_out = true;
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bounds.requests {
                    break;
                }
                let t0 = Instant::now();
                // A request still running at the deadline is abandoned, not waited for.
                match tokio::time::timeout_at(deadline.into(), request(w, i)).await {
                    Ok(Ok(())) => latencies.push(t0.elapsed()),
                    Ok(Err(e)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                    Err(_) => {
                        timed_out = true;
                        break;
                    }
                }
            }
            if let Ok(mut o) = shared.lock() {
                o.latencies.extend(latencies);
                o.errors += errors;
                o.timed_out |= timed_out;
                if o.first_error.is_none() {
                    o.first_error = first_error;
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut out = shared.lock().map(|o| o.clone()).unwrap_or_default();
    out.elapsed = started.elapsed();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stops_at_the_request_count() {
        let out = run(
            Bounds {
                concurrency: 4,
                requests: 10,
                time_limit: Duration::from_secs(10),
            },
            |_, i| async move {
                if i % 5 == 0 {
                    bail!("boom {i}");
                }
                Ok(())
            },
        )
        .await;
        assert_eq!(out.ok() + out.errors, 10);
        assert_eq!(out.errors, 2);
        assert!(out.first_error.is_some_and(|e| e.starts_with("boom")));
        assert!(!out.timed_out);
    }

    #[tokio::test]
    async fn stops_at_the_time_limit() {
        let out = run(
            Bounds {
                concurrency: 2,
                requests: usize::MAX,
                time_limit: Duration::from_millis(200),
            },
            |_, _| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(())
            },
        )
        .await;
        // An unbounded request count: only the time limit can have ended it.
        assert!(out.timed_out);
        assert_eq!(out.errors, 0);
    }

    #[test]
    fn refuses_remote_targets() {
        let http = reqwest::Client::new();
        assert!(Api::new(http.clone(), "http://10.1.2.3:8080").is_err());
        assert!(Api::new(http, "http://127.0.0.1:8080").is_ok());
    }
}
