//! What every route needs from an API token: the one table (method, route pattern) → [`Need`].
//!
//! The auth extractor looks the matched route up here (`HttpRequest::match_pattern`) whenever
//! the caller sent an API token, and the OpenAPI document shows each operation's scope from
//! the same table ([`document`]), so what is documented is what is enforced. A login session
//! (JWT) is not limited by scopes: it has all the rights of its user's role.
//!
//! A route missing here cannot be reached with an API token (the extractor fails closed) and
//! cannot ship: a unit test below walks every operation of the OpenAPI document, and the black-
//! box matrix in `tests/api/tokens.rs` tries every scoped operation with and without its scope.

use actix_web::http::Method;
use shared::tokens::Scope;
use utoipa::openapi::{
    Content, OpenApi, Ref, RefOr, Response,
    path::Operation,
    security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
};

/// What a route asks of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// No user credential at all: public, or the route's own (a signed link, the mail ingest
    /// token).
    Nothing,
    /// A login session only; an API token is refused with 403 `session_required`. Managing
    /// tokens is one: a leaked token must not be able to mint fresh ones (outliving its own
    /// revocation) or widen its scopes. So is one's own profile, password, notification
    /// preferences and signing out everywhere: the person's, not an integration's, business.
    Session,
    /// A login session, or an API token holding this scope (and an owner whose role allows
    /// the route).
    Scope(Scope),
}

use Need::{Nothing, Scope as S, Session};
use Scope::{
    Admin, AnalyticsRead, JourneysRead, JourneysWrite, MessagesWrite, TicketsRead, TicketsWrite,
};

/// The table: every route of the server, by method and actix route pattern.
pub const ROUTES: &[(&str, &str, Need)] = &[
    // Auth and one's own account.
    ("POST", "/api/auth/register", Nothing),
    ("POST", "/api/auth/login", Nothing),
    ("GET", "/api/auth/me", Session),
    ("PUT", "/api/auth/me", Session),
    ("POST", "/api/auth/logout-everywhere", Session),
    ("GET", "/api/auth/me/notifications", Session),
    ("PUT", "/api/auth/me/notifications", Session),
    // API tokens.
    ("GET", "/api/tokens", Session),
    ("POST", "/api/tokens", Session),
    ("DELETE", "/api/tokens/{id}", Session),
    // Tickets and their conversation.
    ("GET", "/api/tickets", S(TicketsRead)),
    ("POST", "/api/tickets", S(TicketsWrite)),
    ("GET", "/api/tickets/export.csv", S(TicketsRead)),
    ("GET", "/api/tickets/{id}", S(TicketsRead)),
    ("PATCH", "/api/tickets/{id}", S(TicketsWrite)),
    ("GET", "/api/tickets/{id}/history", S(TicketsRead)),
    ("GET", "/api/tickets/{id}/messages", S(TicketsRead)),
    ("POST", "/api/tickets/{id}/messages", S(MessagesWrite)),
    ("POST", "/api/tickets/{id}/take", S(TicketsWrite)),
    ("POST", "/api/tickets/{id}/assign", S(TicketsWrite)),
    ("POST", "/api/tickets/{id}/merge", S(TicketsWrite)),
    ("GET", "/api/tickets/{id}/links", S(TicketsRead)),
    ("POST", "/api/tickets/{id}/links", S(TicketsWrite)),
    ("DELETE", "/api/tickets/{id}/links/{other}", S(TicketsWrite)),
    ("PUT", "/api/tickets/{id}/tags", S(TicketsWrite)),
    ("GET", "/api/tags", S(TicketsRead)),
    // Saved ticket-list views.
    ("GET", "/api/views", S(TicketsRead)),
    ("GET", "/api/views/counts", S(TicketsRead)),
    ("POST", "/api/views", S(TicketsWrite)),
    ("PATCH", "/api/views/{id}", S(TicketsWrite)),
    ("DELETE", "/api/views/{id}", S(TicketsWrite)),
    // The event feed: what a WebSocket would receive (which accepts `tickets:read` too).
    ("GET", "/api/events", S(TicketsRead)),
    ("GET", "/api/tickets/{id}/csat", S(TicketsRead)),
    ("PUT", "/api/tickets/{id}/csat", S(TicketsWrite)),
    (
        "GET",
        "/api/tickets/{id}/macros/{macro_id}/preview",
        S(TicketsRead),
    ),
    (
        "POST",
        "/api/tickets/{id}/macros/{macro_id}/apply",
        S(MessagesWrite),
    ),
    // Attachments go with messages.
    ("POST", "/api/upload", S(MessagesWrite)),
    ("GET", "/api/attachments/{id}", S(TicketsRead)),
    ("DELETE", "/api/attachments/{id}", S(MessagesWrite)),
    // Macros.
    ("GET", "/api/macros", S(TicketsRead)),
    ("POST", "/api/macros", S(TicketsWrite)),
    ("GET", "/api/macros/{id}", S(TicketsRead)),
    ("PUT", "/api/macros/{id}", S(TicketsWrite)),
    ("DELETE", "/api/macros/{id}", S(TicketsWrite)),
    // Agents: reading them is part of working tickets; managing them is administration.
    ("GET", "/api/agents", S(TicketsRead)),
    ("POST", "/api/agents", S(Admin)),
    ("GET", "/api/agents/me", S(TicketsRead)),
    ("PUT", "/api/agents/me/status", S(TicketsWrite)),
    ("GET", "/api/agents/{id}", S(TicketsRead)),
    ("PATCH", "/api/agents/{id}", S(Admin)),
    ("PUT", "/api/agents/{id}/status", S(Admin)),
    // Journeys. Submitting one creates a ticket.
    ("GET", "/api/journeys", S(JourneysRead)),
    ("POST", "/api/journeys", S(JourneysWrite)),
    ("GET", "/api/journeys/{id}", S(JourneysRead)),
    ("PUT", "/api/journeys/{id}", S(JourneysWrite)),
    ("GET", "/api/journeys/{id}/export", S(JourneysRead)),
    ("POST", "/api/journeys/{id}/activate", S(JourneysWrite)),
    ("POST", "/api/journeys/{id}/deactivate", S(JourneysWrite)),
    ("POST", "/api/journeys/{id}/archive", S(JourneysWrite)),
    ("POST", "/api/journeys/{id}/submit", S(TicketsWrite)),
    // Analytics.
    ("GET", "/api/analytics/overview", S(AnalyticsRead)),
    ("GET", "/api/analytics/sla", S(AnalyticsRead)),
    ("GET", "/api/analytics/tags", S(AnalyticsRead)),
    ("GET", "/api/analytics/csat", S(AnalyticsRead)),
    // Administration.
    ("GET", "/api/users", S(Admin)),
    ("POST", "/api/users", S(Admin)),
    ("GET", "/api/users/{id}", S(Admin)),
    ("PATCH", "/api/users/{id}", S(Admin)),
    ("GET", "/api/settings", S(Admin)),
    ("PUT", "/api/settings", S(Admin)),
    ("GET", "/api/webhooks", S(Admin)),
    ("POST", "/api/webhooks", S(Admin)),
    ("GET", "/api/webhooks/events", S(Admin)),
    ("GET", "/api/webhooks/settings", S(Admin)),
    ("PUT", "/api/webhooks/settings", S(Admin)),
    ("GET", "/api/webhooks/{id}", S(Admin)),
    ("PATCH", "/api/webhooks/{id}", S(Admin)),
    ("DELETE", "/api/webhooks/{id}", S(Admin)),
    ("POST", "/api/webhooks/{id}/rotate-secret", S(Admin)),
    ("POST", "/api/webhooks/{id}/test", S(Admin)),
    ("GET", "/api/webhooks/{id}/deliveries", S(Admin)),
    (
        "POST",
        "/api/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        S(Admin),
    ),
    ("GET", "/api/sla/calendars", S(Admin)),
    ("POST", "/api/sla/calendars", S(Admin)),
    ("GET", "/api/sla/calendars/{id}", S(Admin)),
    ("PUT", "/api/sla/calendars/{id}", S(Admin)),
    ("DELETE", "/api/sla/calendars/{id}", S(Admin)),
    ("POST", "/api/sla/recompute", S(Admin)),
    ("GET", "/api/mail/outbox", S(Admin)),
    ("POST", "/api/mail/outbox/{id}/resend", S(Admin)),
    ("GET", "/api/mail/inbound", S(Admin)),
    ("POST", "/api/mail/inbound/{id}/reprocess", S(Admin)),
    // Their own credentials.
    ("POST", "/api/inbound/email", Nothing),
    ("GET", "/api/mail/unsubscribe", Nothing),
    ("POST", "/api/mail/unsubscribe", Nothing),
    ("GET", "/api/csat", Nothing),
    ("PUT", "/api/csat", Nothing),
    ("GET", "/api/health", Nothing),
    ("GET", "/api/health/live", Nothing),
    ("GET", "/api/health/ready", Nothing),
    // Outside the REST API.
    ("GET", "/ws", S(TicketsRead)),
    ("GET", "/metrics", S(Admin)),
];

/// What the route `pattern` (as actix matched it) needs for `method`; `None` if the table does
/// not know it.
pub fn need(method: &Method, pattern: &str) -> Option<Need> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *p == pattern && m.eq_ignore_ascii_case(method.as_str()))
        .map(|(.., need)| *need)
}

/// The security scheme's name in the OpenAPI document.
pub const SCHEME: &str = "api_token";

/// Shows the table in the OpenAPI document: an `api_token` security scheme, and for every
/// operation with a bearer requirement either the alternative requirement `api_token: [scope]`
/// plus a 403 `insufficient_scope`, or (session only) a 403 `session_required`.
pub fn document(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("hdk_…")
                .description(Some(
                    "An API token (`hdk_…`, created at `POST /api/tokens`), limited to the \
                     scopes it was created with; the scope each operation needs is listed \
                     in its security requirement.",
                ))
                .build(),
        ),
    );
    for (path, item) in openapi.paths.paths.iter_mut() {
        for (method, op) in [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ] {
            if let Some(op) = op {
                document_operation(op, need(&method, path));
            }
        }
    }
}

fn document_operation(op: &mut Operation, need: Option<Need>) {
    let bearer = op.security.as_ref().is_some_and(|reqs| !reqs.is_empty());
    // Public routes and those with a credential of their own (the mail ingest token).
    if !bearer || need == Some(Need::Nothing) {
        return;
    }
    let (code, explanation) = match need {
        Some(Need::Scope(scope)) => {
            op.security
                .get_or_insert_with(Vec::new)
                .push(SecurityRequirement::new(SCHEME, [scope.as_str()]));
            append(
                &mut op.description,
                &format!("API tokens need the scope `{scope}`."),
            );
            (
                "insufficient_scope",
                format!("`insufficient_scope`: the API token lacks `{scope}` (`details.scope`)"),
            )
        }
        // A route missing from the table is refused to tokens like a session-only one (and
        // fails the unit test below).
        Some(Need::Session) | Some(Need::Nothing) | None => {
            // (`Nothing` returned above.)
            append(
                &mut op.description,
                "A login session only: API tokens are refused.",
            );
            (
                "session_required",
                "`session_required`: API tokens cannot call this; sign in".to_owned(),
            )
        }
    };
    let responses = &mut op.responses.responses;
    match responses.get_mut("403") {
        Some(RefOr::T(existing)) => {
            if !existing.description.contains(code) {
                existing.description = format!("{}; {explanation}", existing.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut response = Response::new(explanation);
            response.content.insert(
                "application/json".to_owned(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
            responses.insert("403".to_owned(), RefOr::T(response));
        }
    }
}

fn append(description: &mut Option<String>, line: &str) {
    *description = Some(match description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{line}"),
        _ => line.to_owned(),
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every operation of the OpenAPI document, as (METHOD, path).
    fn operations() -> BTreeSet<(String, String)> {
        let doc = crate::startup::openapi_document();
        let mut ops = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if op.is_some() {
                    ops.insert((method.to_owned(), path.clone()));
                }
            }
        }
        ops
    }

    #[test]
    fn every_documented_operation_is_in_the_table() {
        let ops = operations();
        assert!(
            ops.len() > 50,
            "the document lists {} operations",
            ops.len()
        );
        for (method, path) in &ops {
            let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
            assert!(
                need(&method, path).is_some(),
                "{method} {path} declares no scope in auth::scopes::ROUTES"
            );
        }
    }

    #[test]
    fn every_row_of_the_table_is_a_route_and_appears_once() {
        let ops = operations();
        let mut seen = BTreeSet::new();
        for (method, path, _) in ROUTES {
            assert!(
                seen.insert((*method, *path)),
                "{method} {path} appears twice"
            );
            if !path.starts_with("/api/") {
                continue;
            }
            assert!(
                ops.contains(&((*method).to_owned(), (*path).to_owned())),
                "{method} {path} is in the table but not a documented route"
            );
        }
    }

    #[test]
    fn the_document_shows_each_operations_scope() {
        let doc = crate::startup::openapi_document();
        let json = serde_json::to_value(&doc).unwrap_or_default();
        let list = &json["paths"]["/api/tickets"]["get"]["security"];
        assert!(
            list.as_array().is_some_and(|reqs| reqs
                .iter()
                .any(|r| r[SCHEME] == serde_json::json!(["tickets:read"]))),
            "{list}"
        );
        let tokens = &json["paths"]["/api/tokens"]["post"]["security"];
        assert!(
            tokens
                .as_array()
                .is_some_and(|reqs| reqs.iter().all(|r| r.get(SCHEME).is_none())),
            "{tokens}"
        );
        assert!(json["components"]["securitySchemes"][SCHEME].is_object());
    }
}
