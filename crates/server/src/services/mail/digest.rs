//! The admins' SLA-breach digest (setting `sla_breach_mail: digest`): one mail per admin and
//! period (`sla_digest_hours`, periods aligned to the Unix epoch in UTC) listing the breaches
//! the SLA monitor recorded in it, queued through the outbox once the period is over.
//!
//! Exactly once per admin and period, whichever instance and however often it runs: the
//! outbox dedupe key is `sla-digest:{period start}:{admin}`. A period without breaches sends
//! nothing. Admins who turned `sla_breached` mail off get no digest either.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use shared::{
    mail::{MailKind, OutboxStatus},
    settings::SlaBreachMail,
};

use crate::{
    entity::{Ticket, TicketHistory, User, ticket_history, user},
    error::ApiError,
    services::{
        begin_write,
        mail::{
            Mailer,
            compose::escape_html,
            notify::unsubscribe_url,
            outbox::{self, NewMail},
            prefs,
        },
        settings,
    },
};

/// The period before the one `now` is in: `[start, end)`.
pub fn last_period(now: DateTime<Utc>, hours: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let len = i64::from(hours.max(1)) * 3600;
    let end_ts = now.timestamp().div_euclid(len) * len;
    let end = Utc.timestamp_opt(end_ts, 0).single().unwrap_or(now);
    (end - Duration::seconds(len), end)
}

/// One breach as the digest lists it.
struct Line {
    number: i64,
    subject: String,
    what: String,
    at: DateTime<Utc>,
    ticket_id: uuid::Uuid,
}

/// Queues the digest of the last complete period, if the setting asks for digests; returns
/// how many mails were queued (0 on every run but the first after a period ends).
pub async fn run(
    db: &DatabaseConnection,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let Some(ctx) = mailer.context() else {
        return Ok(0);
    };
    let setting = settings::mail_admin(db).await?;
    if setting.sla_breach_mail != SlaBreachMail::Digest {
        return Ok(0);
    }
    let (start, end) = last_period(now, setting.digest_hours);
    let txn = begin_write(db).await?;
    let lines = breaches(&txn, start, end).await?;
    if lines.is_empty() {
        return Ok(0);
    }
    let admins = User::find()
        .filter(user::Column::Role.eq(user::UserRole::Admin))
        .filter(user::Column::Active.eq(true))
        .all(&txn)
        .await?;
    let mut queued = 0;
    for admin in admins {
        if !prefs::enabled(&txn, admin.id, MailKind::SlaBreached).await? {
            continue;
        }
        let unsubscribe = unsubscribe_url(ctx, admin.id, MailKind::SlaBreached);
        let (subject, text, html) = compose(
            &ctx.public_url,
            &lines,
            setting.digest_hours,
            start,
            end,
            &admin.name,
            &unsubscribe,
        );
        let mut headers = serde_json::Map::new();
        for (name, value) in [
            ("Auto-Submitted", "auto-generated".to_owned()),
            ("X-Auto-Response-Suppress", "All".to_owned()),
            ("Precedence", "bulk".to_owned()),
            ("X-Loop", ctx.settings.message_id_domain.clone()),
            ("List-Unsubscribe", format!("<{unsubscribe}>")),
            (
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ),
        ] {
            headers.insert(name.into(), value.into());
        }
        let (status, recipient, last_error) = match admin.email.trim().parse::<lettre::Address>() {
            Ok(a) if admin.email_bouncing_at.is_none() => (
                OutboxStatus::Pending,
                lettre::message::Mailbox::new(Some(admin.name.clone()), a).to_string(),
                None,
            ),
            _ => (
                OutboxStatus::Suppressed,
                admin.email.clone(),
                Some("the address is not deliverable or bounced".to_owned()),
            ),
        };
        let mail = NewMail {
            dedupe_key: format!("sla-digest:{}:{}", start.timestamp(), admin.id),
            kind: MailKind::SlaBreached,
            ticket_id: None,
            user_id: Some(admin.id),
            recipient,
            subject,
            body_text: text,
            body_html: html,
            message_id: format!(
                "<sla-digest.{}.{}@{}>",
                start.timestamp(),
                admin.id.simple(),
                ctx.settings.message_id_domain
            ),
            in_reply_to: None,
            references: None,
            reply_to: None,
            headers,
            status,
            last_error,
        };
        if outbox::enqueue(&txn, mail, now).await? {
            queued += 1;
        }
    }
    txn.commit().await?;
    Ok(queued)
}

async fn breaches<C: ConnectionTrait>(
    db: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Line>, ApiError> {
    let rows = TicketHistory::find()
        .filter(ticket_history::Column::Field.eq("sla"))
        .filter(ticket_history::Column::CreatedAt.gte(start))
        .filter(ticket_history::Column::CreatedAt.lt(end))
        .order_by_asc(ticket_history::Column::CreatedAt)
        .all(db)
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(t) = Ticket::find_by_id(row.ticket_id).one(db).await? {
            lines.push(Line {
                number: t.number,
                subject: t.subject,
                what: row.to_value.unwrap_or_else(|| "breached".to_owned()),
                at: row.created_at,
                ticket_id: t.id,
            });
        }
    }
    Ok(lines)
}

#[allow(clippy::too_many_arguments)]
fn compose(
    public_url: &str,
    lines: &[Line],
    hours: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    name: &str,
    unsubscribe: &str,
) -> (String, String, String) {
    let n = lines.len();
    let subject = format!(
        "SLA digest: {n} breach{} in the last {hours} h",
        if n == 1 { "" } else { "es" }
    );
    let span = format!(
        "{} to {} (UTC)",
        start.format("%Y-%m-%d %H:%M"),
        end.format("%Y-%m-%d %H:%M")
    );
    let mut text = format!("Hello {name},\n\nSLA breaches from {span}:\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n<p>Hello {},</p>\n<p>SLA breaches from {}:</p>\n<ul>\n",
        escape_html(name),
        escape_html(&span)
    );
    for l in lines {
        let link = format!("{public_url}/admin/tickets/{}", l.ticket_id);
        let subject: String = l
            .subject
            .chars()
            .filter(|c| !c.is_control())
            .take(120)
            .collect();
        text.push_str(&format!(
            "- #{} {}: {} at {}\n  {link}\n",
            l.number,
            subject,
            l.what,
            l.at.format("%Y-%m-%d %H:%M")
        ));
        html.push_str(&format!(
            "<li><a href=\"{}\">#{} {}</a>: {} at {}</li>\n",
            escape_html(&link),
            l.number,
            escape_html(&subject),
            escape_html(&l.what),
            l.at.format("%Y-%m-%d %H:%M")
        ));
    }
    text.push_str(&format!("\nStop these emails: {unsubscribe}\n"));
    html.push_str(&format!(
        "</ul>\n<p style=\"color:#888888; font-size:small\"><a href=\"{}\">Stop these emails</a></p>\n</body></html>\n",
        escape_html(unsubscribe)
    ));
    (subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_aligned_and_complete() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 3, 13, 45, 0)
            .single()
            .unwrap_or_default();
        let (start, end) = last_period(now, 24);
        assert_eq!(
            end,
            Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0)
                .single()
                .unwrap_or_default()
        );
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0)
                .single()
                .unwrap_or_default()
        );
        let (start, end) = last_period(now, 1);
        assert_eq!(end - start, Duration::hours(1));
        assert_eq!(
            end,
            Utc.with_ymd_and_hms(2026, 12, 3, 13, 0, 0)
                .single()
                .unwrap_or_default()
        );
    }
}
