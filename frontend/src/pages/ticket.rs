//! One ticket: `/portal/tickets/:id` for its customer, `/agent/tickets/:id` (and
//! `/admin/tickets/:id`) for staff.
//!
//! Both show the header (status, priority, SLA timer), the conversation with a reply box, the
//! journey transcript and the attachments. Customers can close and reopen (only the transitions
//! `allowed_transitions(status, false)` offers); staff also see internal notes (styled apart,
//! written with a second button), status and priority controls limited to
//! `allowed_transitions(status, true)`, a "Take" button on unassigned tickets, and the history.
//! The page joins the ticket's live room while it is open, so replies and status changes
//! appear without a reload.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::journey::{Answer, QuestionType, TranscriptEntry};
use shared::macros::{ApplyMacroRequest, MacroActions, MacroDto};
use shared::tickets::{
    AttachmentDto, CreateMessageRequest, HistoryEntryDto, MessageDto, TicketDto,
    UpdateTicketRequest, allowed_transitions,
};
use shared::ws::Event;
use shared::{ErrorCode, Priority, Role, TicketStatus};
use uuid::Uuid;

use crate::api::{self, ApiError};
use crate::components::icons::{Icon, IconName};
use crate::components::{
    AlsoHere, AttachmentList, CollisionWarning, CsatPanel, EmptyState, ErrorPanel, EtaNote,
    FormAlert, ImagePicker, ImageUploads, LoadState, Loading, PriorityBadge, RequireRole, SlaBadge,
    StatusBadge, TagEditor, TicketPresence, load_state, set_title, use_clock, use_toasts,
};
use crate::format::{
    ago, local_time, priority_label, status_label, ticket_number, transition_label,
};
use crate::pages::admin::AssignSelect;
use crate::pages::macros::actions_summary;
use crate::pages::ticket_related::{LinksPanel, MergePanel, MergedFromTag, MergedNotice};
use crate::session::use_session;
use crate::ws::{debounce, use_live};

#[component]
pub fn CustomerTicketPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Customer]>
            <TicketPage staff=false/>
        </RequireRole>
    }
}

#[component]
pub fn StaffTicketPage() -> impl IntoView {
    view! {
        <RequireRole roles=&[Role::Agent, Role::Admin]>
            <TicketPage staff=true/>
        </RequireRole>
    }
}

#[component]
fn TicketPage(staff: bool) -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    });
    move || match id.get() {
        Some(id) => view! { <TicketDetail id=id staff=staff/> }.into_any(),
        None => view! {
            <section class="page">
                <ErrorPanel message="This ticket address is not valid."/>
            </section>
        }
        .into_any(),
    }
}

/// Everything on the page shares these.
#[derive(Clone, Copy)]
struct Ctx {
    id: Uuid,
    staff: bool,
    ticket: RwSignal<Option<TicketDto>>,
}

#[component]
fn TicketDetail(id: Uuid, staff: bool) -> impl IntoView {
    let session = use_session();
    let live = use_live();
    live.follow_ticket(id);
    if staff {
        TicketPresence::start(id);
    }

    let loaded = LocalResource::new(move || {
        live.reloads();
        api::get_ticket(session, id)
    });
    let ticket = RwSignal::new(None::<TicketDto>);
    let load_error = RwSignal::new(None::<ApiError>);
    // The ticket on screen is the newest of what was loaded and what arrived live.
    Effect::new(move |_| match loaded.get() {
        Some(Ok(t)) => {
            load_error.set(None);
            ticket.update(|cur| {
                if cur.as_ref().is_none_or(|c| c.updated_at <= t.updated_at) {
                    *cur = Some(t);
                }
            });
        }
        Some(Err(err)) => load_error.set(Some(err)),
        None => {}
    });
    Effect::new(move |_| {
        if let Some((number, subject)) =
            ticket.with(|t| t.as_ref().map(|t| (t.number, t.subject.clone())))
        {
            set_title(&format!("{} {subject}", ticket_number(number)));
        }
    });

    let messages = RwSignal::new(Vec::<MessageDto>::new());
    let add_message = move |m: MessageDto| {
        if !staff && m.internal {
            return;
        }
        messages.update(|list| merge_messages(list, vec![m]));
    };

    let ctx = Ctx { id, staff, ticket };
    provide_context(ctx);
    let conversation_refresh = RwSignal::new(0u64);
    provide_context(ConversationRefresh(conversation_refresh));

    let history_refresh = RwSignal::new(0u64);
    let refetch_history = debounce(400, move || history_refresh.update(|n| *n += 1));
    live.on_event(move |msg| match &msg.event {
        Event::NewTicket { ticket: t }
        | Event::TicketUpdated { ticket: t }
        | Event::TicketAssigned { ticket: t, .. }
        | Event::SlaBreach { ticket: t, .. }
            if t.id == id =>
        {
            ticket.update(|cur| {
                if cur.as_ref().is_none_or(|c| c.updated_at <= t.updated_at) {
                    *cur = Some((**t).clone());
                }
            });
            refetch_history();
        }
        Event::NewMessage { message } if message.ticket_id == id => {
            add_message((**message).clone());
        }
        // Messages moved: out of the merged ticket, into its target.
        Event::TicketMerged { source, target } if source.id == id || target.id == id => {
            if source.id == id {
                messages.set(Vec::new());
            }
            conversation_refresh.update(|n| *n += 1);
            refetch_history();
        }
        _ => {}
    });

    let back = move || {
        let role = session.user().map(|u| u.role);
        match role {
            Some(Role::Admin) => ("/admin/tickets", "All tickets"),
            Some(Role::Agent) => ("/agent", "Dashboard"),
            _ => ("/portal", "My requests"),
        }
    };
    let has_ticket = Memo::new(move |_| ticket.with(Option::is_some));

    view! {
        <section class="page ticket-page">
            <a class="back-link" href=move || back().0>
                <Icon name=IconName::Back/>
                {move || back().1}
            </a>
            {move || {
                load_error
                    .get()
                    .map(|err| {
                        let message = if err.code() == Some(ErrorCode::NotFound) {
                            "This ticket does not exist, or you may not see it.".to_owned()
                        } else {
                            err.message()
                        };
                        view! {
                            <ErrorPanel message=message on_retry=Callback::new(move |()| loaded.refetch())/>
                        }
                    })
            }}
            <Show
                when=move || has_ticket.get()
                fallback=move || {
                    load_error
                        .with(Option::is_none)
                        .then(|| view! { <Loading label="Loading the ticket…"/> })
                }
            >
                <TicketHeader/>
                <AlsoHere/>
                <div class="ticket-layout">
                    <div class="ticket-main">
                        <Conversation messages=messages/>
                        <ReplyBox on_posted=Callback::new(add_message)/>
                    </div>
                    <aside class="ticket-side">
                        <Controls/>
                        {staff.then(|| view! { <TagEditor id=id ticket=ticket/> })}
                        {staff.then(|| view! { <MergePanel id=id ticket=ticket/> <LinksPanel id=id/> })}
                        <CsatPanel ticket=ticket staff=staff/>
                        <Transcript/>
                        <Attachments/>
                        {staff.then(|| view! { <History refresh=history_refresh/> })}
                    </aside>
                </div>
            </Show>
        </section>
    }
}

/// Bumped when the conversation must be loaded again (a merge moved messages).
#[derive(Clone, Copy)]
struct ConversationRefresh(RwSignal<u64>);

/// Adds `incoming` to `list` (skipping ones already there), oldest first.
fn merge_messages(list: &mut Vec<MessageDto>, incoming: Vec<MessageDto>) {
    for m in incoming {
        if !list.iter().any(|x| x.id == m.id) {
            list.push(m);
        }
    }
    list.sort_by_key(|m| m.created_at);
}

#[component]
fn TicketHeader() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        ctx.ticket.get().map(|t| {
            let staff = ctx.staff;
            view! {
                <header class="card ticket-header" data-ticket-id=t.id.to_string() data-number=t.number.to_string()>
                    <p class="ticket-number-line">
                        <span class="ticket-number">{ticket_number(t.number)}</span>
                        {t.category.clone().map(|c| view! { <span class="muted">{c}</span> })}
                        {t.escalated.then(|| view! {
                            <span class="escalated" title="Escalated after an SLA breach">
                                <Icon name=IconName::Alert/> "Escalated"
                            </span>
                        })}
                    </p>
                    <h1 data-testid="ticket-subject">{t.subject.clone()}</h1>
                    {t.merged_into.map(|target| view! { <MergedNotice target=target/> })}
                    <div class="ticket-badges">
                        <StatusBadge status=t.status testid="ticket-status"/>
                        <PriorityBadge priority=t.priority/>
                        <SlaBadge sla=t.sla.clone() status=t.status created_at=t.created_at long=true/>
                    </div>
                    {(!staff).then(|| view! { <EtaNote sla=t.sla.clone() status=t.status/> })}
                    <dl class="ticket-facts">
                        {staff.then(|| view! {
                            <div><dt>"Customer"</dt><dd>{t.customer.name.clone()}</dd></div>
                        })}
                        <div>
                            <dt>"Agent"</dt>
                            <dd data-testid="ticket-agent">
                                {t.assigned_agent.as_ref().map_or_else(|| "Not assigned yet".to_owned(), |a| a.name.clone())}
                            </dd>
                        </div>
                        <div><dt>"Opened"</dt><dd>{local_time(t.created_at)}</dd></div>
                        <div><dt>"Updated"</dt><dd>{local_time(t.updated_at)}</dd></div>
                    </dl>
                    // A journey ticket's description repeats its transcript, shown apart.
                    // A ticket opened by email shows where its description came from.
                    {(t.transcript.is_none() && !t.description.trim().is_empty()).then(|| view! {
                        <div class="ticket-description" data-testid="ticket-description">
                            <h2 class="visually-hidden">"Description"</h2>
                            <p>{t.description.clone()}</p>
                            {t.email.clone().map(|email| view! { <EmailOrigin email=email/> })}
                        </div>
                    })}
                </header>
            }
        })
    }
}

/// Status changes (and for staff: take, priority).
#[component]
fn Controls() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let session = use_session();
    let toasts = use_toasts();
    let error = RwSignal::new(None::<String>);
    let id = ctx.id;

    let update = Action::new_local(move |req: &UpdateTicketRequest| {
        let req = req.clone();
        async move {
            match api::update_ticket(session, id, &req).await {
                Ok(t) => {
                    error.set(None);
                    ctx.ticket.set(Some(t));
                }
                Err(err) => {
                    error.set(Some(err.message()));
                    // Show the real state again (the select, or a changed status).
                    if let Ok(t) = api::get_ticket(session, id).await {
                        ctx.ticket.set(Some(t));
                    } else {
                        ctx.ticket.update(|_| {});
                    }
                }
            }
        }
    });
    let take = Action::new_local(move |(): &()| async move {
        // The `ticket-assigned` event may arrive before the answer: it must not toast too.
        let key = format!("taken:{id}");
        toasts.mark_handled(key.clone());
        match api::take_ticket(session, id).await {
            Ok(t) => {
                error.set(None);
                toasts.success(
                    format!("Ticket {} is now yours", ticket_number(t.number)),
                    None,
                );
                ctx.ticket.set(Some(t));
            }
            Err(err) => {
                toasts.take_handled(&key);
                error.set(Some(err.message()));
                if let Ok(t) = api::get_ticket(session, id).await {
                    ctx.ticket.set(Some(t));
                }
            }
        }
    });
    let busy = move || update.pending().get() || take.pending().get();
    let is_agent = move || session.user().is_some_and(|u| u.role == Role::Agent);

    let status_buttons = move || {
        ctx.ticket.get().map(|t| {
            let from = t.status;
            let allowed = allowed_transitions(from, ctx.staff);
            if allowed.is_empty() {
                return view! {
                    <p class="muted">
                        {if ctx.staff { "This ticket is closed." } else { "This request is closed. Open a new request if you need more help." }}
                    </p>
                }
                .into_any();
            }
            allowed
                .iter()
                .map(|&to| {
                    let primary = matches!(to, TicketStatus::Resolved | TicketStatus::Open);
                    view! {
                        <button
                            type="button"
                            class=if primary { "btn btn-primary" } else { "btn btn-secondary" }
                            data-status-to=to.as_str()
                            disabled=busy
                            on:click=move |_| {
                                update.dispatch(UpdateTicketRequest { status: Some(to), ..Default::default() });
                            }
                        >
                            {transition_label(from, to, ctx.staff)}
                        </button>
                    }
                })
                .collect_view()
                .into_any()
        })
    };

    let take_button = move || {
        let unassigned = ctx.ticket.with(|t| {
            t.as_ref()
                .is_some_and(|t| t.assigned_agent.is_none() && t.status.is_active())
        });
        (ctx.staff && unassigned && is_agent()).then(|| {
            view! {
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="take"
                    disabled=busy
                    on:click=move |_| {
                        take.dispatch(());
                    }
                >
                    "Take this ticket"
                </button>
            }
        })
    };

    let priority_select = move || {
        ctx.staff.then(|| {
            let current = move || ctx.ticket.with(|t| t.as_ref().map(|t| t.priority.as_str()).unwrap_or("medium"));
            let closed = move || ctx.ticket.with(|t| t.as_ref().is_some_and(|t| t.status == TicketStatus::Closed));
            view! {
                <div class="field">
                    <label for="ticket-priority">"Priority"</label>
                    <select
                        id="ticket-priority"
                        prop:value=current
                        disabled=move || busy() || closed()
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            if let Ok(p) = value.parse::<Priority>() {
                                update.dispatch(UpdateTicketRequest { priority: Some(p), ..Default::default() });
                            }
                        }
                    >
                        {Priority::ALL
                            .iter()
                            .rev()
                            .map(|p| view! { <option value=p.as_str() selected=move || current() == p.as_str()>{priority_label(*p)}</option> })
                            .collect_view()}
                    </select>
                </div>
            }
        })
    };

    let is_admin = move || session.user().is_some_and(|u| u.role == Role::Admin);

    view! {
        <section class="card side-card" aria-labelledby="controls-title">
            <h2 id="controls-title">{if ctx.staff { "Work on it" } else { "Your request" }}</h2>
            <FormAlert message=error/>
            <div class="actions">
                {take_button}
                {status_buttons}
            </div>
            {priority_select}
            {move || (ctx.staff && is_admin()).then(|| view! { <Reassign/> })}
        </section>
    }
}

/// Admins hand the ticket to another agent, or back to the queue.
#[component]
fn Reassign() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let session = use_session();
    let live = use_live();
    let agents = LocalResource::new(move || {
        live.reloads();
        api::list_agents(session)
    });
    let list = Signal::derive(move || agents.get().and_then(Result::ok).unwrap_or_default());
    // Rebuilt when the assignee or status changes (the select shows the server's truth).
    let key = Memo::new(move |_| {
        ctx.ticket.with(|t| {
            t.as_ref()
                .map(|t| (t.assigned_agent.as_ref().map(|a| a.id), t.status))
        })
    });
    move || {
        key.get()?;
        let ticket = ctx.ticket.get_untracked()?;
        Some(view! {
            <AssignSelect
                ticket=ticket
                agents=list
                id="ticket-assignee".to_owned()
                label="Assigned agent".to_owned()
                show_label=true
                on_assigned=Callback::new(move |t: TicketDto| ctx.ticket.set(Some(t)))
            />
        })
    }
}

/// The conversation, loaded over REST and extended live.
#[component]
fn Conversation(messages: RwSignal<Vec<MessageDto>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let session = use_session();
    let live = use_live();
    let id = ctx.id;
    let refresh = use_context::<ConversationRefresh>();
    let loaded = LocalResource::new(move || {
        live.reloads();
        if let Some(r) = refresh {
            r.0.track();
        }
        async move { api::all_pages(|page| api::list_messages(session, id, page)).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(list)) = loaded.get() {
            messages.update(|m| merge_messages(m, list));
        }
    });
    let state = load_state(loaded, |_| false);
    let me = move || session.user().map(|u| u.id);

    view! {
        <section class="card conversation" aria-labelledby="conversation-title">
            <h2 id="conversation-title">"Conversation"</h2>
            {move || match state.get() {
                LoadState::Loading => view! { <Loading label="Loading messages…"/> }.into_any(),
                LoadState::Failed(msg) => view! {
                    <ErrorPanel message=msg on_retry=Callback::new(move |()| loaded.refetch())/>
                }
                .into_any(),
                LoadState::Empty | LoadState::Ready => view! {
                    <Show
                        when=move || messages.with(|m| !m.is_empty())
                        fallback=move || view! {
                            <EmptyState
                                title="No messages yet."
                                hint=if ctx.staff { "Reply below to start the conversation." } else { "An agent will answer here; you can add details below." }
                            />
                        }
                    >
                        <ol class="messages" aria-live="polite" data-testid="messages">
                            <For each=move || messages.get() key=|m| m.id let:m>
                                <MessageItem message=m mine=me()/>
                            </For>
                        </ol>
                    </Show>
                }
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn MessageItem(message: MessageDto, mine: Option<Uuid>) -> impl IntoView {
    let clock = use_clock();
    let at = message.created_at;
    let is_mine = mine == Some(message.author.id);
    let staff_author = message.author.role.is_staff();
    view! {
        <li
            class="message"
            class:message-internal=message.internal
            class:message-staff=staff_author
            class:message-mine=is_mine
            data-testid="message"
            data-internal=if message.internal { "true" } else { "false" }
            data-message-id=message.id.to_string()
        >
            <header class="message-head">
                <strong class="message-author">{message.author.name.clone()}</strong>
                <span class=format!("badge badge-{}", message.author.role.as_str())>
                    {crate::session::role_label(message.author.role)}
                </span>
                {message.internal.then(|| view! {
                    <span class="note-tag">
                        <Icon name=IconName::Lock/>
                        "Internal note · staff only"
                    </span>
                })}
                {message.merged_from.map(|from| view! { <MergedFromTag from=from/> })}
                <time class="muted message-time" datetime=at.to_rfc3339() title=local_time(at)>
                    {move || ago(clock.now(), at)}
                </time>
            </header>
            <p class="message-body">{message.body.clone()}</p>
            <AttachmentList attachments=message.attachments.clone()/>
            {message.email.clone().map(|email| view! { <EmailOrigin email=email/> })}
        </li>
    }
}

/// A message (or a ticket's description) that came by email: a label with the sender, and a
/// toggle that shows the mail as it arrived (quoted history included). Its HTML was sanitised
/// by the server and is shown in a sandboxed frame (no scripts, no same-origin access) as a
/// second line of defence.
#[component]
fn EmailOrigin(email: shared::mail::EmailOriginDto) -> impl IntoView {
    let open = RwSignal::new(false);
    let from = email.from.clone().unwrap_or_default();
    let text = email.original_text.clone();
    let html = email.safe_html.clone();
    view! {
        <div class="email-origin" data-testid="via-email">
            <span class="muted">{format!("By email from {from} · ")}</span>
            <button
                type="button"
                class="btn btn-small btn-link"
                data-testid="toggle-original"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if open.get() { "Hide original" } else { "Show original" }}
            </button>
            <Show when=move || open.get()>
                {html.clone().map(|h| view! {
                    <iframe
                        class="email-original-html"
                        data-testid="original-html"
                        title="The email as received"
                        sandbox=""
                        srcdoc=h
                    ></iframe>
                })}
                {text.clone().map(|t| view! {
                    <pre class="email-original-text" data-testid="original-text">{t}</pre>
                })}
            </Show>
        </div>
    }
}

/// A macro picked for the reply being written: its reply is sent with it, then its changes.
#[derive(Debug, Clone, PartialEq)]
struct ChosenMacro {
    id: Uuid,
    title: String,
    actions: MacroActions,
}

/// Reply (and, for staff, internal note) with optional images. Staff can start from a macro:
/// the Macros button or Alt+M opens a searchable list (arrows and Enter pick one); the reply box
/// then holds its text, filled in for this ticket, to check and edit before sending.
#[component]
fn ReplyBox(on_posted: Callback<MessageDto>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let session = use_session();
    let id = ctx.id;
    let body = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let uploads = ImageUploads::new(false);
    let sending = RwSignal::new(None::<bool>);
    let chosen = RwSignal::new(None::<ChosenMacro>);
    let picker_open = RwSignal::new(false);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let presence = use_context::<TicketPresence>();

    let send = Action::new_local(move |internal: &bool| {
        let text = body.get_untracked().trim().to_owned();
        let internal = *internal;
        let attachment_ids = uploads.ids("");
        let with_macro = chosen.get_untracked();
        async move {
            let result = match with_macro {
                Some(m) => {
                    let req = ApplyMacroRequest {
                        body: Some(text),
                        internal,
                        attachment_ids,
                    };
                    api::apply_macro(session, id, m.id, &req)
                        .await
                        .map(|applied| {
                            let t = applied.ticket;
                            ctx.ticket.update(|cur| {
                                if cur.as_ref().is_none_or(|c| c.updated_at <= t.updated_at) {
                                    *cur = Some(t);
                                }
                            });
                            applied.message
                        })
                }
                None => {
                    let req = CreateMessageRequest {
                        body: text,
                        internal,
                        attachment_ids,
                    };
                    api::post_message(session, id, &req).await
                }
            };
            match result {
                Ok(message) => {
                    body.set(String::new());
                    uploads.clear("");
                    chosen.set(None);
                    error.set(None);
                    if let Some(p) = presence {
                        p.sent();
                    }
                    on_posted.run(message);
                }
                Err(err) => error.set(Some(err.message())),
            }
            sending.set(None);
        }
    });
    let closed = move || {
        ctx.ticket
            .with(|t| t.as_ref().is_some_and(|t| t.status == TicketStatus::Closed))
    };
    let busy = move || sending.get().is_some() || uploads.busy();
    let submit = move |internal: bool| {
        if busy() || closed() {
            return;
        }
        if body.with_untracked(|b| b.trim().is_empty()) {
            error.set(Some(if internal {
                "Please write the note first.".into()
            } else {
                "Please write a message first.".into()
            }));
            return;
        }
        // Someone else answered the customer meanwhile: the warning asks first.
        if !internal && presence.is_some_and(|p| p.hold_send()) {
            return;
        }
        error.set(None);
        sending.set(Some(internal));
        send.dispatch(internal);
    };
    let pick = Callback::new(move |m: MacroDto| {
        picker_open.set(false);
        let title = m.title.clone();
        leptos::task::spawn_local(async move {
            match api::preview_macro(session, id, m.id).await {
                Ok(preview) => {
                    body.set(preview.body);
                    chosen.set(Some(ChosenMacro {
                        id: m.id,
                        title,
                        actions: preview.actions,
                    }));
                    error.set(None);
                    if let Some(el) = textarea.get_untracked() {
                        let _ = el.focus();
                    }
                }
                Err(err) => error.set(Some(err.message())),
            }
        });
    });

    view! {
        <section class="card reply" aria-labelledby="reply-title">
            <form
                class="form"
                novalidate
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    submit(false);
                }
            >
                <h2 id="reply-title">{if ctx.staff { "Reply or add a note" } else { "Add a reply" }}</h2>
                {move || closed().then(|| view! {
                    <p class="alert alert-warning">
                        {if ctx.staff { "This ticket is closed; nothing can be added." } else { "This request is closed; nothing can be added. Open a new request if you need more help." }}
                    </p>
                })}
                <FormAlert message=error/>
                <CollisionWarning on_send=Callback::new(move |()| submit(false))/>
                {move || (ctx.staff && !closed()).then(|| view! {
                    <MacroPicker open=picker_open on_pick=pick/>
                })}
                {move || chosen.get().map(|m| {
                    let summary = actions_summary(&m.actions);
                    view! {
                        <p class="macro-chosen" data-testid="macro-chosen">
                            {format!("Macro “{}”", m.title)}
                            {summary.map(|s| format!(" · {s} when sent"))}
                            " "
                            <button type="button" class="btn btn-small" id="macro-drop"
                                on:click=move |_| chosen.set(None)>
                                "Keep the text only"
                            </button>
                        </p>
                    }
                })}
                <div class="field">
                    <label for="reply-body">"Message"</label>
                    <textarea
                        id="reply-body"
                        name="reply-body"
                        rows="4"
                        node_ref=textarea
                        prop:value=move || body.get()
                        disabled=closed
                        aria-describedby="reply-hint"
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            if let Some(p) = presence {
                                p.typed(!text.trim().is_empty());
                            }
                            body.set(text);
                        }
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                                ev.prevent_default();
                                submit(false);
                            } else if ctx.staff && ev.alt_key() && ev.code() == "KeyM" {
                                ev.prevent_default();
                                picker_open.set(true);
                            }
                        }
                    ></textarea>
                    <p class="field-hint" id="reply-hint">
                        {if ctx.staff {
                            "Replies go to the customer; internal notes are seen by agents and admins only. Ctrl+Enter sends the reply; Alt+M picks a macro."
                        } else {
                            "Ctrl+Enter sends the reply."
                        }}
                    </p>
                </div>
                {move || (!closed()).then(|| view! {
                    <ImagePicker input_id="reply-files" uploads=uploads group="" max=10 label="Attach images"/>
                })}
                <div class="actions">
                    <button
                        id="reply-send"
                        type="submit"
                        class="btn btn-primary"
                        disabled=move || busy() || closed()
                        aria-busy=move || if sending.get() == Some(false) { "true" } else { "false" }
                    >
                        <Icon name=IconName::Send/>
                        {move || if sending.get() == Some(false) { "Sending…" } else { "Send reply" }}
                    </button>
                    {ctx.staff.then(|| view! {
                        <button
                            id="note-send"
                            type="button"
                            class="btn btn-note"
                            disabled=move || busy() || closed()
                            aria-busy=move || if sending.get() == Some(true) { "true" } else { "false" }
                            on:click=move |_| submit(true)
                        >
                            <Icon name=IconName::Lock/>
                            {move || if sending.get() == Some(true) { "Saving…" } else { "Add internal note" }}
                        </button>
                    })}
                </div>
            </form>
        </section>
    }
}

/// True when every word of `filter` is in the macro's title or body (case-insensitive).
fn macro_matches(m: &MacroDto, filter: &str) -> bool {
    let haystack = format!("{} {}", m.title, m.body).to_lowercase();
    filter
        .to_lowercase()
        .split_whitespace()
        .all(|word| haystack.contains(word))
}

/// The Macros button and its searchable list.
#[component]
fn MacroPicker(open: RwSignal<bool>, on_pick: Callback<MacroDto>) -> impl IntoView {
    let session = use_session();
    // Loaded when first opened, then kept for the page.
    let loaded = RwSignal::new(false);
    let list = LocalResource::new(move || {
        let wanted = loaded.get();
        async move {
            if wanted {
                api::list_macros(session).await.map(Some)
            } else {
                Ok(None)
            }
        }
    });
    Effect::new(move |_| {
        if open.get() {
            loaded.set(true);
        }
    });
    let filter = RwSignal::new(String::new());
    let highlight = RwSignal::new(0usize);
    let search = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = search.get() {
            let _ = el.focus();
        }
    });
    let matching = Memo::new(move |_| {
        let f = filter.get();
        match list.get() {
            Some(Ok(Some(items))) => items
                .into_iter()
                .filter(|m| macro_matches(m, &f))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        }
    });
    let choose = move |m: MacroDto| {
        filter.set(String::new());
        highlight.set(0);
        on_pick.run(m);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" => {
            ev.prevent_default();
            let n = matching.with_untracked(Vec::len);
            if n > 0 {
                highlight.update(|h| *h = (*h + 1) % n);
            }
        }
        "ArrowUp" => {
            ev.prevent_default();
            let n = matching.with_untracked(Vec::len);
            if n > 0 {
                highlight.update(|h| *h = (*h + n - 1) % n);
            }
        }
        "Enter" => {
            ev.prevent_default();
            let pick =
                matching.with_untracked(|items| items.get(highlight.get_untracked()).cloned());
            if let Some(m) = pick {
                choose(m);
            }
        }
        "Escape" => {
            ev.prevent_default();
            open.set(false);
        }
        _ => {}
    };

    view! {
        <div class="macro-picker">
            <button
                id="macro-open"
                type="button"
                class="btn btn-small"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "Macros"
            </button>
            {move || open.get().then(|| view! {
                <div class="macro-menu" data-testid="macro-menu">
                    <input
                        id="macro-search"
                        type="search"
                        placeholder="Search macros"
                        aria-label="Search macros"
                        aria-controls="macro-options"
                        node_ref=search
                        prop:value=move || filter.get()
                        on:input=move |ev| {
                            filter.set(event_target_value(&ev));
                            highlight.set(0);
                        }
                        on:keydown=on_key
                    />
                    {move || match list.get() {
                        Some(Ok(Some(_))) => {
                            let items = matching.get();
                            if items.is_empty() {
                                view! { <p class="muted" data-testid="macro-none">"No macro matches."</p> }.into_any()
                            } else {
                                view! {
                                    <ul id="macro-options" role="listbox" class="macro-options">
                                        {items
                                            .into_iter()
                                            .enumerate()
                                            .map(|(i, m)| {
                                                let summary = actions_summary(&m.actions);
                                                let title = m.title.clone();
                                                view! {
                                                    <li
                                                        role="option"
                                                        class="macro-option"
                                                        data-testid="macro-option"
                                                        aria-selected=move || if highlight.get() == i { "true" } else { "false" }
                                                        on:mousedown=move |ev| {
                                                            ev.prevent_default();
                                                            choose(m.clone());
                                                        }
                                                    >
                                                        <strong>{title}</strong>
                                                        {summary.map(|s| view! { <span class="muted">{format!(" · {s}")}</span> })}
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                .into_any()
                            }
                        }
                        Some(Err(err)) => view! { <p class="field-error">{err.message()}</p> }.into_any(),
                        _ => view! { <Loading label="Loading macros…"/> }.into_any(),
                    }}
                </div>
            })}
        </div>
    }
}

/// The journey's questions and answers (`ticket.transcript`).
#[component]
fn Transcript() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let (entries, attachments) = ctx.ticket.with(|t| {
            let t = t.as_ref()?;
            let entries = parse_transcript(t.transcript.as_ref()?)?;
            Some((entries, t.attachments.clone()))
        })?;
        if entries.is_empty() {
            return None;
        }
        let by_id: BTreeMap<String, AttachmentDto> = attachments
            .into_iter()
            .map(|a| (a.id.to_string(), a))
            .collect();
        let rows = entries
            .into_iter()
            .map(|e| {
                let images: Vec<AttachmentDto> = match (&e.kind, &e.answer) {
                    (Some(QuestionType::ImageUpload), Some(Answer::Many(ids))) => ids
                        .iter()
                        .filter_map(|id| by_id.get(&id.to_lowercase()).cloned())
                        .collect(),
                    _ => Vec::new(),
                };
                view! {
                    <div class="summary-row">
                        <dt>{e.question}</dt>
                        <dd>
                            {if e.display.is_empty() {
                                view! { <span class="muted">"Skipped"</span> }.into_any()
                            } else {
                                view! { <span>{e.display}</span> }.into_any()
                            }}
                            <AttachmentList attachments=images/>
                        </dd>
                    </div>
                }
            })
            .collect_view();
        let title = if ctx.staff {
            "Journey answers"
        } else {
            "Your answers"
        };
        Some(view! {
            <section class="card side-card" aria-labelledby="transcript-title">
                <h2 id="transcript-title" class="with-icon"><Icon name=IconName::Note/>{title}</h2>
                <dl class="summary transcript" data-testid="transcript">{rows}</dl>
            </section>
        })
    }
}

/// One transcript line, read leniently (older tickets may store fewer fields).
struct Line {
    question: String,
    display: String,
    kind: Option<QuestionType>,
    answer: Option<Answer>,
}

fn parse_transcript(value: &serde_json::Value) -> Option<Vec<Line>> {
    if let Ok(entries) = serde_json::from_value::<Vec<TranscriptEntry>>(value.clone()) {
        return Some(
            entries
                .into_iter()
                .map(|e| Line {
                    question: e.question,
                    display: e.display,
                    kind: Some(e.question_type),
                    answer: e.answer,
                })
                .collect(),
        );
    }
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    Some(
        value
            .as_array()?
            .iter()
            .map(|v| Line {
                question: text(v, "question"),
                display: text(v, "display"),
                kind: None,
                answer: None,
            })
            .collect(),
    )
}

#[component]
fn Attachments() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        let attachments = ctx
            .ticket
            .with(|t| t.as_ref().map(|t| t.attachments.clone()))?;
        (!attachments.is_empty()).then(|| {
            view! {
                <section class="card side-card" aria-labelledby="attachments-title">
                    <h2 id="attachments-title">{format!("Images ({})", attachments.len())}</h2>
                    <AttachmentList attachments=attachments/>
                </section>
            }
        })
    }
}

#[component]
fn History(refresh: RwSignal<u64>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let session = use_session();
    let id = ctx.id;
    let live = use_live();
    let history = LocalResource::new(move || {
        live.reloads();
        refresh.track();
        async move { api::all_pages(|page| api::ticket_history(session, id, page)).await }
    });
    let state = load_state(history, |h: &Vec<HistoryEntryDto>| h.is_empty());
    let entries = move || history.get().and_then(Result::ok).unwrap_or_default();
    // Assignee changes record user ids; show the names the page knows.
    let names = Memo::new(move |_| {
        let mut names = BTreeMap::new();
        ctx.ticket.with(|t| {
            if let Some(t) = t {
                names.insert(t.customer.id, t.customer.name.clone());
                if let Some(a) = &t.assigned_agent {
                    names.insert(a.id, a.name.clone());
                }
            }
        });
        history.with(|h| {
            if let Some(Ok(entries)) = h {
                for actor in entries.iter().filter_map(|e| e.actor.as_ref()) {
                    names.insert(actor.id, actor.name.clone());
                }
            }
        });
        names
    });
    view! {
        <section class="card side-card" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            {move || match state.get() {
                LoadState::Loading => view! { <Loading label="Loading history…"/> }.into_any(),
                LoadState::Failed(msg) => view! {
                    <ErrorPanel message=msg on_retry=Callback::new(move |()| history.refetch())/>
                }
                .into_any(),
                LoadState::Empty => view! { <p class="muted">"No changes recorded yet."</p> }.into_any(),
                LoadState::Ready => view! {
                    <ol class="history" data-testid="history">
                        <For each=entries key=|h| h.id let:h>
                            <HistoryItem entry=h names=names.get_untracked()/>
                        </For>
                    </ol>
                }
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn HistoryItem(entry: HistoryEntryDto, names: BTreeMap<Uuid, String>) -> impl IntoView {
    // The server names the agents of assignee changes; fall back to names known here.
    let mut names = names;
    for person in [&entry.from_person, &entry.to_person].into_iter().flatten() {
        names.insert(person.id, person.name.clone());
    }
    let field = match entry.field.as_str() {
        "status" => "Status".to_owned(),
        "priority" => "Priority".to_owned(),
        "category" => "Category".to_owned(),
        "assignee" => "Agent".to_owned(),
        "sla" => "SLA".to_owned(),
        "escalation" => "Escalation".to_owned(),
        "created" => "Created".to_owned(),
        other => crate::api::sentence(&other.replace('_', " "))
            .trim_end_matches('.')
            .to_owned(),
    };
    let pretty = |v: &Option<String>| -> String {
        let Some(s) = v.as_deref().filter(|s| !s.is_empty()) else {
            return "—".to_owned();
        };
        if let Ok(st) = s.parse::<TicketStatus>() {
            return status_label(st).to_owned();
        }
        if let Ok(p) = s.parse::<Priority>() {
            return priority_label(p).to_owned();
        }
        if let Ok(id) = s.parse::<Uuid>() {
            return names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "another user".to_owned());
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(s) {
            return local_time(at.with_timezone(&chrono::Utc));
        }
        s.to_owned()
    };
    let change = if entry.field == "created" {
        String::new()
    } else {
        format!("{} → {}", pretty(&entry.from), pretty(&entry.to))
    };
    let who = entry
        .actor
        .as_ref()
        .map_or_else(|| "System".to_owned(), |a| a.name.clone());
    view! {
        <li class="history-item" data-field=entry.field.clone()>
            <span class="history-field">{field}</span>
            <span class="history-change">{change}</span>
            <span class="muted history-meta">
                {who} " · " <time datetime=entry.created_at.to_rfc3339()>{local_time(entry.created_at)}</time>
            </span>
        </li>
    }
}
