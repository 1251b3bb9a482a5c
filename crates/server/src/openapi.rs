//! The OpenAPI document's frame: title, security scheme, tags and shared schemas. Paths are
//! collected from the route table by `utoipa_actix_web`; [`add_common_responses`] then adds
//! the error responses that follow from an operation's shape (a JSON body, a path id, query
//! parameters, a bearer token), so no route can forget them.

use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, Ref, RefOr, Response,
        path::{Operation, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Helpdesk API",
        description = "REST API of the Helpdesk customer support system. Every response is an \
envelope: `{\"success\": true, \"data\": ...}` on success (lists add `count`, `page`, `pages`), \
`{\"success\": false, \"error\": \"...\", \"code\": \"snake_case\", \"details\": {...}}` on failure. \
Authenticate with `Authorization: Bearer <token>`: a login token from `/api/auth/login`, or \
an API token (`hdk_…`) from `POST /api/tokens`, limited to its scopes (each operation's \
`api_token` security requirement names the scope it needs)."
    ),
    modifiers(&BearerAuth),
    // The route table collects the schemas of request and response bodies, not those that
    // only `IntoParams` fields use (roles, ticket sorting): those are listed here.
    components(schemas(
        shared::ErrorBody,
        shared::ErrorCode,
        shared::Role,
        shared::tickets::TicketSort,
        shared::tickets::SortOrder,
    )),
    tags(
        (name = "auth", description = "Registration, sign-in and one's own profile"),
        (name = "users", description = "Account management (admins)"),
        (name = "tickets", description = "Tickets, their conversation and history"),
        (name = "attachments", description = "Image uploads and downloads"),
        (name = "journeys", description = "Guided intake flows"),
        (name = "macros", description = "Canned responses for agents and admins"),
        (name = "views", description = "Saved ticket-list views with their counts, for agents and admins"),
        (name = "csat", description = "Customer satisfaction surveys: rating resolved tickets in the portal or by the signed link of the resolved mail"),
        (name = "agents", description = "Agent profiles, status and metrics"),
        (name = "analytics", description = "Numbers for admins (agents: their own)"),
        (name = "settings", description = "SLA policies and queue behaviour (admins)"),
        (name = "sla", description = "Business-hours calendars and SLA recompute (admins)"),
        (name = "mail", description = "Email: notification preferences, unsubscribe, the outbox and received mail (admins), the ingest endpoint"),
        (name = "tokens", description = "API tokens for integrations (admins) and personal use (agents); a login session only"),
        (name = "events", description = "The live event stream as a feed to poll"),
        (name = "webhooks", description = "Signed event deliveries to admin-registered HTTP endpoints, their delivery log, redelivery and test pings (admins)"),
        (name = "health", description = "Service health"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // `POST /api/inbound/email`: the shared secret MAIL_INGEST_TOKEN, not a user's JWT.
        components.add_security_scheme(
            "ingest_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Reusable responses in `components.responses`, by name: (status, description).
const SHARED_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "Unauthorized",
        "401",
        "No valid bearer token: `unauthorized` (none sent), `invalid_token`, `token_expired`, \
         `token_revoked` (an API token) or `account_disabled`",
    ),
    (
        "PayloadTooLarge",
        "413",
        "`payload_too_large`: the body is over 1 MiB (`details.limit_bytes`)",
    ),
    (
        "UnsupportedMediaType",
        "415",
        "`unsupported_media_type`: the body is not sent as `Content-Type: application/json`",
    ),
    (
        "TooManyRequests",
        "429",
        "`rate_limited`: this API token, user or (anonymous) address sent more requests than \
         its window allows; retry after `Retry-After` seconds. Every `/api` response carries \
         `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`",
    ),
    (
        "InternalError",
        "500",
        "`internal_error`: a fault on the server; it is logged and the body discloses nothing",
    ),
];

/// Why a request can be a 400, by what the operation takes.
const BAD_JSON: &str = "`invalid_json`: the body is not JSON of the documented shape (unknown \
fields, wrong types, missing fields)";
const BAD_PATH: &str = "`bad_request`: an id in the path is not a UUID";
const BAD_QUERY: &str = "`invalid_query`: a query parameter is unknown, malformed or out of its \
documented range";

/// The headers of a `429 rate_limited` answer (see [`crate::rate_limit`]).
fn add_rate_limit_headers(response: &mut Response) {
    use utoipa::openapi::{Header, Object, Type};
    for (name, description) in [
        ("Retry-After", "Seconds to wait before the next request"),
        ("RateLimit-Limit", "Requests allowed per window"),
        ("RateLimit-Remaining", "Requests left in the current window"),
        ("RateLimit-Reset", "Seconds until the current window ends"),
    ] {
        let mut header = Header::new(Object::with_type(Type::Integer));
        header.description = Some(description.to_owned());
        response.headers.insert(name.to_owned(), header);
    }
}

fn error_response(description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".to_owned(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    );
    response
}

/// Adds to every operation the responses that follow from its shape, keeping what the route
/// documents itself:
///
/// - a JSON body: 400 `invalid_json`, 413 and 415;
/// - a path parameter: 400 `bad_request` and 404;
/// - query parameters: 400 `invalid_query`;
/// - a bearer token: 401;
/// - every operation: 429 (rate limits) and 500.
///
/// A 400 the route documents keeps its description, extended by the causes it does not name.
pub fn add_common_responses(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, status, description) in SHARED_RESPONSES {
        let mut response = error_response(description);
        if *status == "429" {
            add_rate_limit_headers(&mut response);
        }
        components
            .responses
            .insert((*name).to_owned(), RefOr::T(response));
    }
    for item in openapi.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_to_operation(op);
        }
    }
}

fn add_to_operation(op: &mut Operation) {
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let takes = |place: ParameterIn| {
        op.parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let (path_id, query) = (takes(ParameterIn::Path), takes(ParameterIn::Query));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());

    let mut shared = vec!["InternalError", "TooManyRequests"];
    if json_body {
        shared.extend(["PayloadTooLarge", "UnsupportedMediaType"]);
    }
    if secured {
        shared.push("Unauthorized");
    }
    let responses = &mut op.responses.responses;
    for name in shared {
        if let Some((_, status, _)) = SHARED_RESPONSES.iter().find(|(n, ..)| *n == name) {
            responses
                .entry((*status).to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
    if path_id {
        responses.entry("404".to_owned()).or_insert_with(|| {
            RefOr::T(error_response(
                "`not_found`: no such resource, or not visible to you",
            ))
        });
    }

    let causes: Vec<&str> = [
        (json_body, BAD_JSON),
        (path_id, BAD_PATH),
        (query, BAD_QUERY),
    ]
    .into_iter()
    .filter_map(|(applies, cause)| applies.then_some(cause))
    .collect();
    if causes.is_empty() {
        return;
    }
    match responses.get_mut("400") {
        Some(RefOr::T(existing)) => {
            for cause in causes {
                // The code in backticks opens each cause; a route that names it already
                // explains it.
                let code = cause.split(':').next().unwrap_or(cause);
                if !existing.description.contains(code) {
                    existing.description = format!("{}; {cause}", existing.description);
                }
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            responses.insert(
                "400".to_owned(),
                RefOr::T(error_response(&causes.join("; "))),
            );
        }
    }
}
