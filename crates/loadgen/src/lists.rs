//! The admin's ticket list (its first page and a deep page) and direct ticket creation with
//! `POST /api/tickets`: the rows an integrator or the admin tickets page would see.

use std::sync::Arc;

use anyhow::Context;
use reqwest::Method;
use serde_json::json;

use crate::{
    load::{self, Bounds},
    scenarios::{Ctx, Row, load_text},
};

/// Tickets per page of both list rows (the SPA's default page size).
const PER_PAGE: u64 = 25;
/// The deepest page the deep-page row asks for.
const DEEPEST_PAGE: u64 = 2_000;

/// The page the deep-page row reads: halfway through the seeded tickets, at most
/// [`DEEPEST_PAGE`].
pub fn deep_page(tickets: u64) -> u64 {
    (tickets / PER_PAGE / 2).clamp(1, DEEPEST_PAGE)
}

/// `GET /api/tickets?page={page}&per_page=25` as the admin (newest first, the default sort).
pub async fn admin_list(ctx: &Arc<Ctx>, b: Bounds, page: u64) -> Row {
    let path = format!("/api/tickets?page={page}&per_page={PER_PAGE}");
    let c = ctx.clone();
    let p = path.clone();
    let out = load::run(b, move |_, _| {
        let (c, p) = (c.clone(), p.clone());
        async move {
            let body = c.api.get(&p, &c.admin).await?;
            let items = body["data"].as_array().context("list without data")?;
            anyhow::ensure!(!items.is_empty(), "{p}: an empty page");
            Ok(())
        }
    })
    .await;
    let name = if page == 1 {
        "admin ticket list, first page".to_owned()
    } else {
        format!("admin ticket list, page {page}")
    };
    Row::from_outcome(
        &name,
        load_text(&b),
        &out,
        format!("`GET {path}` as admin, newest first"),
    )
}

/// Customers open tickets with `POST /api/tickets`, one customer per client.
pub async fn create_direct(ctx: &Arc<Ctx>, b: Bounds) -> Row {
    let c = ctx.clone();
    let out = load::run(b, move |w, i| {
        let c = c.clone();
        async move {
            let token = &c.customers[w % c.customers.len()];
            let body = json!({
                "subject": format!("Bench request {i}"),
                "description": format!(
                    "Request {i} sent straight to the API: the parcel arrived damaged and I would \
                     like a replacement."
                ),
                "priority": "medium",
            });
            let data = c
                .api
                .call(Method::POST, "/api/tickets", Some(token), Some(&body))
                .await?;
            data["data"]["id"]
                .as_str()
                .context("create answered without a ticket id")?;
            Ok(())
        }
    })
    .await;
    Row::from_outcome(
        "ticket creation (`POST /api/tickets`)",
        load_text(&b),
        &out,
        format!(
            "{} distinct customers, agents offline (tickets queue up)",
            b.concurrency.min(ctx.customers.len())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deep_page_is_halfway_and_bounded() {
        assert_eq!(deep_page(0), 1);
        assert_eq!(deep_page(1_000), 20);
        assert_eq!(deep_page(100_000), 2_000);
        assert_eq!(deep_page(1_000_000), 2_000);
    }
}
