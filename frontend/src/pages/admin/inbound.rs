//! Received mail on the admin Mail page: newest first, with what became of each mail
//! (a ticket, a reply, a note, or why not), a status filter, and Reprocess on quarantined,
//! rejected or rate-limited mail.

use leptos::prelude::*;
use shared::mail::{InboundEntryDto, InboundStatus};

use crate::api;
use crate::components::{ErrorPanel, Loading, use_toasts};
use crate::format::local_time;
use crate::session::use_session;

fn status_label(status: InboundStatus) -> &'static str {
    match status {
        InboundStatus::Processed => "Processed",
        InboundStatus::Autoreply => "Auto-reply",
        InboundStatus::Bounce => "Bounce",
        InboundStatus::Own => "Our own",
        InboundStatus::Rejected => "Rejected",
        InboundStatus::RateLimited => "Rate-limited",
        InboundStatus::Quarantined => "Quarantined",
    }
}

#[component]
pub fn Inbound() -> impl IntoView {
    let session = use_session();
    let filter = RwSignal::new(None::<InboundStatus>);
    let page = RwSignal::new(1u64);
    let list = LocalResource::new(move || {
        let (status, page) = (filter.get(), page.get());
        api::inbound_page(session, status, page)
    });
    let on_filter = move |ev: leptos::ev::Event| {
        filter.set(event_target_value(&ev).parse().ok());
        page.set(1);
    };
    view! {
        <section class="page" data-testid="inbound-section">
            <header class="page-header">
                <h2>"Received mail"</h2>
                <p class="muted">
                    "Mail that came in (IMAP, the ingest endpoint or the mail-ingest command) and what became of it. Held-back mail can be run again."
                </p>
            </header>
            <div class="toolbar">
                <label for="inbound-status">"Status "</label>
                <select id="inbound-status" on:change=on_filter>
                    <option value="" selected=true>"Any"</option>
                    {InboundStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{status_label(s)}</option> })
                        .collect_view()}
                </select>
                <button type="button" class="btn btn-small" on:click=move |_| list.refetch()>
                    "Refresh"
                </button>
            </div>
            {move || match list.get() {
                None => view! { <Loading label="Loading received mail…"/> }.into_any(),
                Some(Err(err)) => view! {
                    <ErrorPanel message=err.message() on_retry=Callback::new(move |()| list.refetch())/>
                }
                .into_any(),
                Some(Ok(p)) if p.items.is_empty() => {
                    view! { <p class="muted" data-testid="inbound-empty">"No mail received yet."</p> }.into_any()
                }
                Some(Ok(p)) => {
                    let (current, pages, count) = (p.page, p.pages, p.count);
                    view! {
                        <table class="an-table" data-testid="inbound-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Received"</th>
                                    <th scope="col">"From"</th>
                                    <th scope="col">"Subject"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Outcome"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {p.items
                                    .into_iter()
                                    .map(|m| view! { <InboundRow mail=m on_change=Callback::new(move |()| list.refetch())/> })
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
fn InboundRow(mail: InboundEntryDto, on_change: Callback<()>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let id = mail.id;
    let reprocess = Action::new_local(move |_: &()| async move {
        match api::reprocess_mail(session, id).await {
            Ok(out) => {
                toasts.success(
                    format!("Processed again: {}.", status_label(out.status)),
                    None,
                );
                on_change.run(());
            }
            Err(err) => toasts.error(err.message()),
        }
    });
    let pending = reprocess.pending();
    let outcome = match (&mail.action, &mail.reason) {
        (Some(a), Some(r)) => format!("{a}: {r}"),
        (Some(a), None) => a.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => String::new(),
    };
    view! {
        <tr data-status=mail.status.as_str()>
            <td>{local_time(mail.created_at)}</td>
            <td>{mail.sender.clone().unwrap_or_default()}</td>
            <td>{mail.subject.clone().unwrap_or_default()}</td>
            <td>{status_label(mail.status)}</td>
            <td class="muted">{outcome}</td>
            <td>
                {mail.status.reprocessable().then(|| view! {
                    <button type="button" class="btn btn-small" disabled=move || pending.get()
                        on:click=move |_| { reprocess.dispatch(()); }>
                        "Reprocess"
                    </button>
                })}
            </td>
        </tr>
    }
}
