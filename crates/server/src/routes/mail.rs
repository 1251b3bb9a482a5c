//! Email: the signed-in user's notification switches, the one-click unsubscribe link, and
//! the admins' view of the outbox.

use actix_web::{HttpResponse, get, post, put, web};
use shared::{
    Envelope, ErrorBody,
    mail::{
        NotificationPreferences, OutboxEntryDto, OutboxListQuery, UnsubscribeQuery, Unsubscribed,
        UpdateNotificationsRequest,
    },
};
use uuid::Uuid;

use crate::{
    auth::{AdminUser, AuthUser, JsonBody},
    error::ApiError,
    services::{
        self,
        mail::{Signer, outbox, prefs},
    },
    state::AppState,
};

/// The signed-in user's email notification switches (only the kinds their role receives).
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every switch and whether it is on", body = Envelope<NotificationPreferences>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
#[get("/auth/me/notifications")]
pub async fn get_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<web::Json<Envelope<NotificationPreferences>>, ApiError> {
    Ok(web::Json(Envelope::ok(
        prefs::get(&state.db, user.id, user.role).await?,
    )))
}

/// Turn kinds of email on or off; absent kinds stay as they are.
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    request_body = UpdateNotificationsRequest,
    responses(
        (status = 200, description = "The switches after the change", body = Envelope<NotificationPreferences>),
        (status = 400, description = "Malformed JSON or an unknown field (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A kind this account does not receive (`validation_failed`)", body = ErrorBody),
    )
)]
#[put("/auth/me/notifications")]
pub async fn update_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
    body: JsonBody<UpdateNotificationsRequest>,
) -> Result<web::Json<Envelope<NotificationPreferences>>, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner()?;
    Ok(web::Json(Envelope::ok(
        prefs::update(&state.db, user.id, user.role, &body, now).await?,
    )))
}

fn signer(state: &AppState) -> Result<Signer, ApiError> {
    match state.mail.context() {
        Some(ctx) => Ok(ctx.signer.clone()),
        // Links in mail sent before mail was switched off keep working.
        None => Ok(Signer::new(&state.settings.mail.secret)?),
    }
}

/// One-click unsubscribe (RFC 8058): turns off the kind of mail the signed token names, for
/// the user it names, without signing in. Mail clients POST `List-Unsubscribe=One-Click`.
#[utoipa::path(
    tag = "mail",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "That kind of mail is now off", body = Envelope<Unsubscribed>),
        (status = 400, description = "`invalid_unsubscribe_token` (forged, altered or unknown), or `invalid_query`", body = ErrorBody),
    )
)]
#[post("/mail/unsubscribe")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<web::Json<Envelope<Unsubscribed>>, ApiError> {
    let signer = signer(&state)?;
    let kind = prefs::unsubscribe(&state.db, &signer, &query.token, state.clock.now()).await?;
    log::info!("unsubscribed from {kind} mail by link");
    Ok(web::Json(Envelope::ok(Unsubscribed { kind })))
}

/// The page a person reaches by clicking the unsubscribe link: a button that sends the
/// one-click POST. Opening it changes nothing (link scanners open links too).
#[utoipa::path(
    tag = "mail",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "An HTML page with a confirm button", content_type = "text/html"),
        (status = 400, description = "`invalid_unsubscribe_token` or `invalid_query`", body = ErrorBody),
    )
)]
#[get("/mail/unsubscribe")]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, ApiError> {
    let signer = signer(&state)?;
    let Some((_, kind)) = signer.verify_unsubscribe(&query.token) else {
        return Err(ApiError::BadRequest(
            shared::ErrorCode::InvalidUnsubscribeToken,
            "this unsubscribe link is not valid".to_owned(),
        ));
    };
    let token = services::mail::compose::escape_html(&query.token);
    let what = services::mail::compose::escape_html(kind.describe());
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>\
         <body style=\"font-family:sans-serif\"><h1>Stop these emails?</h1>\
         <p>{what}</p><p id=\"done\"></p>\
         <button onclick=\"fetch('/api/mail/unsubscribe?token={token}',{{method:'POST'}})\
         .then(r=>document.getElementById('done').textContent=r.ok?'Done: you will not get these emails any more.':'This link is not valid.')\">\
         Unsubscribe</button></body></html>"
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page))
}

/// Recent outgoing mail, newest first, with delivery status, attempts, last error and the
/// SMTP server's reply (admins).
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    params(OutboxListQuery),
    responses(
        (status = 200, description = "One page of the outbox", body = Envelope<Vec<OutboxEntryDto>>),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/mail/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<OutboxListQuery>,
) -> Result<web::Json<Envelope<Vec<OutboxEntryDto>>>, ApiError> {
    let paging = services::paging(query.page, query.per_page)?;
    let (rows, count) = outbox::list(&state.db, query.status, paging).await?;
    Ok(web::Json(Envelope::page(
        rows.into_iter().map(Into::into).collect(),
        paging,
        count,
    )))
}

/// Queue a sent or failed mail again, with the same Message-ID (admins).
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Outbox entry id")),
    responses(
        (status = 200, description = "Queued again (`pending`)", body = Envelope<OutboxEntryDto>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such mail", body = ErrorBody),
        (status = 409, description = "Still pending, being sent, or suppressed (`conflict`)", body = ErrorBody),
    )
)]
#[post("/mail/outbox/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<Envelope<OutboxEntryDto>>, ApiError> {
    let row = outbox::resend(&state.db, id.into_inner(), state.clock.now()).await?;
    log::info!("admin {} queued mail {} again", admin.0.id, row.id);
    state.jobs.trigger_mail();
    Ok(web::Json(Envelope::ok(row.into())))
}
