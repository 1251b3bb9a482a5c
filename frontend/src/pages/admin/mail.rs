//! `/admin/mail`: the outbox — recent outgoing mail, newest first, with its delivery status,
//! attempts, last error and the SMTP server's reply; a status filter; and a Resend button on
//! sent or failed mail (it keeps the Message-ID, so clients can tell a resend from new mail) —
//! and below it the received mail (see [`super::inbound`]).

use leptos::prelude::*;
use shared::Role;
use shared::mail::{OutboxEntryDto, OutboxStatus};

use crate::api;
use crate::components::{ErrorPanel, Loading, RequireRole, set_title, use_toasts};
use crate::format::local_time;
use crate::session::use_session;

#[component]
pub fn MailPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Admin]>
            <Mail/>
            <super::inbound::Inbound/>
        </RequireRole>
    }
}

fn status_label(status: OutboxStatus) -> &'static str {
    match status {
        OutboxStatus::Pending => "Pending",
        OutboxStatus::Sending => "Sending",
        OutboxStatus::Sent => "Sent",
        OutboxStatus::Failed => "Failed",
        OutboxStatus::Suppressed => "Suppressed",
    }
}

#[component]
fn Mail() -> impl IntoView {
    set_title("Mail");
    let session = use_session();
    let filter = RwSignal::new(None::<OutboxStatus>);
    let page = RwSignal::new(1u64);
    let list = LocalResource::new(move || {
        let (status, page) = (filter.get(), page.get());
        api::outbox_page(session, status, page)
    });
    let on_filter = move |ev: leptos::ev::Event| {
        filter.set(event_target_value(&ev).parse().ok());
        page.set(1);
    };
    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="page-title">"Mail"</h1>
                <p class="muted">
                    "Notifications and replies sent by email, newest first. Failed mail can be sent again."
                </p>
            </header>
            <div class="toolbar">
                <label for="mail-status">"Status "</label>
                <select id="mail-status" on:change=on_filter>
                    <option value="" selected=true>"Any"</option>
                    {OutboxStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{status_label(s)}</option> })
                        .collect_view()}
                </select>
                <button type="button" class="btn btn-small" on:click=move |_| list.refetch()>
                    "Refresh"
                </button>
            </div>
            {move || match list.get() {
                None => view! { <Loading label="Loading mail…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| list.refetch())/>
                }
                .into_any(),
                Some(Ok(p)) if p.items.is_empty() => {
                    view! { <p class="muted" data-testid="mail-empty">"No mail yet."</p> }.into_any()
                }
                Some(Ok(p)) => {
                    let (current, pages, count) = (p.page, p.pages, p.count);
                    view! {
                        <table class="an-table" data-testid="mail-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Queued"</th>
                                    <th scope="col">"To"</th>
                                    <th scope="col">"Subject"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Server reply / error"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {p.items
                                    .into_iter()
                                    .map(|m| view! { <MailRow mail=m on_change=Callback::new(move |()| list.refetch())/> })
                                    .collect_view()}
                            </tbody>
                        </table>
                        <p class="muted">
                            {format!("{count} mails · page {current} of {pages} ")}
                            <button type="button" class="btn btn-small" disabled=current <= 1
                                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>
                                "Previous"
                            </button>
                            " "
                            <button type="button" class="btn btn-small" disabled=current >= pages
                                on:click=move |_| page.update(|p| *p += 1)>
                                "Next"
                            </button>
                        </p>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn MailRow(mail: OutboxEntryDto, on_change: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let id = mail.id;
    let resend = Action::new_local(move |_: &()| async move {
        match api::resend_mail(session, id).await {
            Ok(_) => {
                toasts.success("Queued to be sent again.", None);
                on_change.run(());
            }
            Err(err) => toasts.error(err.message()),
        }
    });
    let pending = resend.pending();
    let can_resend = matches!(mail.status, OutboxStatus::Sent | OutboxStatus::Failed);
    let detail = mail
        .last_error
        .clone()
        .filter(|_| mail.status != OutboxStatus::Sent)
        .or(mail.smtp_reply.clone())
        .unwrap_or_default();
    view! {
        <tr data-status=mail.status.as_str()>
            <td>{local_time(mail.created_at)}</td>
            <td>{mail.recipient.clone()}</td>
            <td>{mail.subject.clone()}</td>
            <td>{status_label(mail.status)}</td>
            <td>{mail.attempts}</td>
            <td class="muted">{detail}</td>
            <td>
                {can_resend.then(|| view! {
                    <button type="button" class="btn btn-small" disabled=move || pending.get()
                        on:click=move |_| { resend.dispatch(()); }>
                        "Resend"
                    </button>
                })}
            </td>
        </tr>
    }
}
