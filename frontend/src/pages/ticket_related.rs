//! The ticket page's merge and link parts: the "merged into #N" notice, the "merged from #N"
//! tag on messages that came over, the staff's "Merge into…" action (with the admin's
//! cross-customer confirmation) and the links panel (add by number and relation, remove).
//! Customers see only the notice and the tags: links are staff-only.

use leptos::prelude::*;
use shared::links::{TicketLinkDto, TicketRefDto, TicketRelation};
use shared::tickets::TicketDto;
use shared::ws::Event;
use shared::{ErrorCode, Role, TicketStatus};
use uuid::Uuid;

use crate::api::{self, ApiError};
use crate::components::{FormAlert, use_toasts};
use crate::format::{status_label, ticket_number};
use crate::session::use_session;
use crate::ws::use_live;

/// Where a ticket's page is for the signed-in user.
fn ticket_href(role: Option<Role>, id: Uuid) -> String {
    match role {
        Some(Role::Admin) => format!("/admin/tickets/{id}"),
        Some(Role::Agent) => format!("/agent/tickets/{id}"),
        _ => format!("/portal/tickets/{id}"),
    }
}

/// "This ticket was merged into #N", linking to it.
#[component]
pub fn MergedNotice(target: TicketRefDto) -> impl IntoView {
    let session = use_session();
    let href = move || ticket_href(session.user().map(|u| u.role), target.id);
    view! {
        <p class="merged-notice" data-testid="merged-into" role="status">
            "This ticket was merged into "
            <a href=href data-testid="merged-into-link">{ticket_number(target.number)}</a>
            ". The conversation continues there."
        </p>
    }
}

/// The tag on a message that came over from a merged ticket.
#[component]
pub fn MergedFromTag(from: TicketRefDto) -> impl IntoView {
    let session = use_session();
    let href = move || ticket_href(session.user().map(|u| u.role), from.id);
    view! {
        <span class="merged-tag" data-testid="merged-from">
            "Merged from "
            <a href=href>{ticket_number(from.number)}</a>
        </span>
    }
}

/// A ticket number as typed: `1042` or `#1042`.
fn parse_number(raw: &str) -> Option<i64> {
    raw.trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
}

/// Staff: merge this ticket into another one, after a confirmation (and, for tickets of two
/// customers, an admin's second confirmation).
#[component]
pub fn MergePanel(id: Uuid, ticket: RwSignal<Option<TicketDto>>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let number = RwSignal::new(String::new());
    // The target number waiting for confirmation, and whether the merge crosses customers.
    let confirming = RwSignal::new(None::<(i64, bool)>);
    let error = RwSignal::new(None::<String>);
    let is_admin = move || session.user().is_some_and(|u| u.role == Role::Admin);

    let merge = Action::new_local(move |&(target, cross): &(i64, bool)| async move {
        match api::merge_ticket(session, id, target, cross).await {
            Ok(done) => {
                confirming.set(None);
                error.set(None);
                number.set(String::new());
                toasts.success(
                    format!("Merged into {}", ticket_number(done.target.number)),
                    Some(ticket_href(
                        session.user_untracked().map(|u| u.role),
                        done.target.id,
                    )),
                );
                if let Ok(t) = api::get_ticket(session, id).await {
                    ticket.set(Some(t));
                }
            }
            Err(err) if err.code() == Some(ErrorCode::CrossCustomerMerge) && !cross => {
                if session
                    .user_untracked()
                    .is_some_and(|u| u.role == Role::Admin)
                {
                    error.set(None);
                    confirming.set(Some((target, true)));
                } else {
                    confirming.set(None);
                    error.set(Some(err.message()));
                }
            }
            Err(err) => {
                confirming.set(None);
                error.set(Some(merge_error(&err)));
            }
        }
    });
    let busy = move || merge.pending().get();
    let open = move || {
        ticket.with(|t| {
            t.as_ref()
                .is_some_and(|t| t.merged_into.is_none() && t.status != TicketStatus::Closed)
        })
    };
    let this_number = move || ticket.with(|t| t.as_ref().map(|t| t.number).unwrap_or_default());

    let ask = move || {
        let Some(target) = parse_number(&number.get_untracked()) else {
            error.set(Some(
                "Enter the number of the ticket to merge into.".to_owned(),
            ));
            return;
        };
        if target == this_number() {
            error.set(Some("A ticket cannot be merged into itself.".to_owned()));
            return;
        }
        error.set(None);
        confirming.set(Some((target, false)));
    };

    move || {
        open().then(|| {
            view! {
                <section class="card side-card merge-panel" aria-labelledby="merge-title">
                    <h2 id="merge-title">"Merge"</h2>
                    <FormAlert message=error/>
                    {move || match confirming.get() {
                        None => view! {
                            <form
                                class="inline-form"
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    ask();
                                }
                            >
                                <div class="field">
                                    <label for="merge-target">"Merge into ticket number"</label>
                                    <input
                                        id="merge-target"
                                        data-testid="merge-target"
                                        inputmode="numeric"
                                        placeholder="#1042"
                                        prop:value=move || number.get()
                                        on:input=move |ev| number.set(event_target_value(&ev))
                                    />
                                </div>
                                <button type="submit" class="btn btn-secondary" data-testid="merge-start" disabled=busy>
                                    "Merge into…"
                                </button>
                            </form>
                        }
                        .into_any(),
                        Some((target, cross)) => view! {
                            <div class="merge-confirm" data-testid="merge-confirm">
                                <p>
                                    {format!(
                                        "Merge {} into {}? Its messages and attachments move there and this ticket is closed for good.",
                                        ticket_number(this_number()),
                                        ticket_number(target)
                                    )}
                                </p>
                                {cross.then(|| view! {
                                    <p class="merge-warning" data-testid="merge-cross-customer">
                                        "These tickets belong to different customers. The customer of "
                                        {ticket_number(target)}
                                        " will read this ticket's public messages (internal notes stay internal)."
                                    </p>
                                })}
                                <div class="actions">
                                    <button
                                        type="button"
                                        class="btn btn-primary"
                                        data-testid="merge-confirm-button"
                                        disabled=move || busy() || (cross && !is_admin())
                                        on:click=move |_| {
                                            merge.dispatch((target, cross));
                                        }
                                    >
                                        {if cross { "Merge anyway" } else { "Merge" }}
                                    </button>
                                    <button
                                        type="button"
                                        class="btn btn-secondary"
                                        disabled=busy
                                        on:click=move |_| confirming.set(None)
                                    >
                                        "Cancel"
                                    </button>
                                </div>
                            </div>
                        }
                        .into_any(),
                    }}
                </section>
            }
        })
    }
}

fn merge_error(err: &ApiError) -> String {
    match err.code() {
        Some(ErrorCode::NotFound) => "There is no such ticket, or you may not see it.".to_owned(),
        Some(ErrorCode::TicketMerged) => {
            "That ticket was merged already; merge into the ticket it was merged into.".to_owned()
        }
        Some(ErrorCode::TicketClosed) => "That ticket is closed; pick an open one.".to_owned(),
        _ => err.message(),
    }
}

/// Staff: the tickets linked to this one, with a form to add one and a button to remove each.
#[component]
pub fn LinksPanel(id: Uuid) -> impl IntoView {
    let session = use_session();
    let live = use_live();
    let refresh = RwSignal::new(0u64);
    let links = LocalResource::new(move || {
        live.reloads();
        refresh.track();
        api::list_links(session, id)
    });
    live.on_event(move |msg| match &msg.event {
        Event::TicketLinked { ticket_id, .. } | Event::TicketUnlinked { ticket_id, .. }
            if *ticket_id == id =>
        {
            refresh.update(|n| *n += 1);
        }
        _ => {}
    });
    let number = RwSignal::new(String::new());
    let relation = RwSignal::new(TicketRelation::Related);
    let error = RwSignal::new(None::<String>);

    let add = Action::new_local(move |&(target, rel): &(i64, TicketRelation)| async move {
        match api::create_link(session, id, target, rel).await {
            Ok(_) => {
                error.set(None);
                number.set(String::new());
                refresh.update(|n| *n += 1);
            }
            Err(err) => error.set(Some(match err.code() {
                Some(ErrorCode::NotFound) => {
                    "There is no such ticket, or you may not see it.".to_owned()
                }
                Some(ErrorCode::AlreadyLinked) => {
                    "These tickets are linked already; remove the link to change it.".to_owned()
                }
                _ => err.message(),
            })),
        }
    });
    let remove = Action::new_local(move |&other: &Uuid| async move {
        match api::delete_link(session, id, other).await {
            Ok(()) => {
                error.set(None);
                refresh.update(|n| *n += 1);
            }
            Err(err) => error.set(Some(err.message())),
        }
    });
    let busy = move || add.pending().get() || remove.pending().get();
    let rows = move || links.get().and_then(Result::ok).unwrap_or_default();
    let failed = move || links.get().and_then(Result::err).map(|e| e.message());
    let role = move || session.user().map(|u| u.role);

    view! {
        <section class="card side-card links-panel" aria-labelledby="links-title">
            <h2 id="links-title">"Linked tickets"</h2>
            <FormAlert message=error/>
            {move || failed().map(|m| view! { <p class="muted">{m}</p> })}
            <Show
                when=move || !rows().is_empty()
                fallback=|| view! { <p class="muted" data-testid="no-links">"No linked tickets."</p> }
            >
                <ul class="links" data-testid="links">
                    <For each=rows key=|l: &TicketLinkDto| (l.ticket.id, l.relation) let:l>
                        <li class="link-row" data-testid="link" data-relation=l.relation.as_str()>
                            <span class="muted">{l.relation.label()}</span>
                            " "
                            <a href=ticket_href(role(), l.ticket.id)>{ticket_number(l.ticket.number)}</a>
                            {l.subject.clone().map(|s| view! { <span class="link-subject">{format!(" {s}")}</span> })}
                            {l.status.map(|s| view! { <span class="muted">{format!(" · {}", status_label(s))}</span> })}
                            <button
                                type="button"
                                class="btn btn-small btn-link"
                                data-testid="link-remove"
                                aria-label=format!("Remove the link to {}", ticket_number(l.ticket.number))
                                disabled=busy
                                on:click=move |_| {
                                    remove.dispatch(l.ticket.id);
                                }
                            >
                                "Remove"
                            </button>
                        </li>
                    </For>
                </ul>
            </Show>
            <form
                class="inline-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    match parse_number(&number.get_untracked()) {
                        Some(n) => {
                            add.dispatch((n, relation.get_untracked()));
                        }
                        None => error.set(Some("Enter the number of the ticket to link.".to_owned())),
                    }
                }
            >
                <div class="field">
                    <label for="link-relation">"This ticket is"</label>
                    <select
                        id="link-relation"
                        data-testid="link-relation"
                        on:change=move |ev| {
                            if let Ok(r) = event_target_value(&ev).parse::<TicketRelation>() {
                                relation.set(r);
                            }
                        }
                    >
                        {TicketRelation::ALL
                            .into_iter()
                            .map(|r| view! {
                                <option value=r.as_str() selected=move || relation.get() == r>{r.label()}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="link-target">"Ticket number"</label>
                    <input
                        id="link-target"
                        data-testid="link-target"
                        inputmode="numeric"
                        placeholder="#1042"
                        prop:value=move || number.get()
                        on:input=move |ev| number.set(event_target_value(&ev))
                    />
                </div>
                <button type="submit" class="btn btn-secondary" data-testid="link-add" disabled=busy>
                    "Link"
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_are_read_with_or_without_the_hash() {
        assert_eq!(parse_number("1042"), Some(1042));
        assert_eq!(parse_number(" #7 "), Some(7));
        assert_eq!(parse_number("#"), None);
        assert_eq!(parse_number("0"), None);
        assert_eq!(parse_number("abc"), None);
    }
}
