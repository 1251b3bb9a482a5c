//! Who else is here, on a staff member's ticket page: the heartbeat that keeps this tab listed
//! on the ticket, the "typing" signal from the reply box, the "Also here" strip, and the warning
//! shown when someone else replied to the customer while this tab was writing a reply.
//!
//! [`TicketPresence::start`] is called by the ticket page for staff and provided as context;
//! the reply box reports keystrokes with [`TicketPresence::typed`] and asks
//! [`TicketPresence::hold_send`] before sending a reply. The wire side (announcing, the lists
//! the server sends) is in `crate::ws`.

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ws::{Activity, Event, PresentUser};
use uuid::Uuid;

use crate::session::use_session;
use crate::ws::{Live, use_live};

/// How often the page repeats `viewing` (the server forgets after 60 s).
const HEARTBEAT_MS: u32 = 20_000;
/// Least time between two `typing` signals (the server keeps one for 5 s).
const TYPING_EVERY_MS: f64 = 2_000.0;

/// This tab's presence on one ticket. `Copy`; lives as long as the component that started it.
#[derive(Clone, Copy)]
pub struct TicketPresence {
    live: Live,
    ticket: Uuid,
    me: Option<Uuid>,
    /// The reply box holds a draft.
    drafting: StoredValue<bool>,
    /// When the last `typing` signal went out (ms since the epoch).
    typing_sent: StoredValue<f64>,
    /// Who replied to the customer while this tab was writing, until reviewed or sent.
    replied: RwSignal<Option<String>>,
}

impl TicketPresence {
    /// Announces this tab on `ticket` now and every [`HEARTBEAT_MS`] until the calling
    /// component is cleaned up (then says it left), watches for replies from others, and
    /// provides itself as context.
    pub fn start(ticket: Uuid) -> Self {
        let live = use_live();
        let session = use_session();
        let presence = TicketPresence {
            live,
            ticket,
            me: session.user().map(|u| u.id),
            drafting: StoredValue::new(false),
            typing_sent: StoredValue::new(0.0),
            replied: RwSignal::new(None),
        };
        provide_context(presence);

        let alive = StoredValue::new(true);
        live.announce(ticket, Activity::Viewing);
        spawn_local(async move {
            loop {
                TimeoutFuture::new(HEARTBEAT_MS).await;
                if !alive.try_get_value().unwrap_or(false) {
                    break;
                }
                live.announce(ticket, Activity::Viewing);
            }
        });
        // Leaving the page altogether (a reload, another address, closing the tab) runs no
        // cleanup, and the browser may keep the page and its socket alive for a while
        // (back/forward cache): say so before the page goes, and again on coming back.
        let hidden = window_event_listener(leptos::ev::pagehide, move |_| {
            live.announce(ticket, Activity::Left);
        });
        let shown = window_event_listener(leptos::ev::pageshow, move |e| {
            if e.persisted() {
                live.announce(ticket, Activity::Viewing);
            }
        });
        on_cleanup(move || {
            alive.try_update_value(|a| *a = false);
            hidden.remove();
            shown.remove();
            live.announce(ticket, Activity::Left);
        });

        live.on_event(move |msg| {
            if let Event::NewMessage { message } = &msg.event
                && message.ticket_id == ticket
                && !message.internal
                && message.author.role.is_staff()
                && Some(message.author.id) != presence.me
                && presence.drafting.try_get_value().unwrap_or(false)
            {
                presence
                    .replied
                    .try_update(|r| *r = Some(message.author.name.clone()));
            }
        });
        presence
    }

    /// The reply box changed; `has_draft` says whether it holds any text.
    pub fn typed(&self, has_draft: bool) {
        self.drafting.set_value(has_draft);
        if !has_draft {
            return;
        }
        let now = web_sys::js_sys::Date::now();
        if now - self.typing_sent.get_value() >= TYPING_EVERY_MS {
            self.typing_sent.set_value(now);
            self.live.announce(self.ticket, Activity::Typing);
        }
    }

    /// True when a reply must wait because someone else replied while this one was written
    /// (the warning is then on screen).
    pub fn hold_send(&self) -> bool {
        self.replied.with_untracked(Option::is_some)
    }

    /// The reply went out: nothing to warn about any more.
    pub fn sent(&self) {
        self.drafting.set_value(false);
        self.replied.set(None);
    }
}

/// `[data-testid=also-here]`: everyone else on the ticket, "(typing…)" after those typing.
/// Shows nothing while this tab is alone.
#[component]
pub fn AlsoHere() -> impl IntoView {
    let Some(presence) = use_context::<TicketPresence>() else {
        return ().into_any();
    };
    let live = presence.live;
    let others = Memo::new(move |_| {
        live.here(presence.ticket)
            .into_iter()
            .filter(|u| Some(u.user_id) != presence.me)
            .collect::<Vec<PresentUser>>()
    });
    view! {
        <Show when=move || others.with(|o| !o.is_empty())>
            <p class="also-here" data-testid="also-here" role="status" aria-live="polite">
                <span class="also-here-label">"Also here:"</span>
                <For
                    each=move || others.get()
                    key=|u| (u.user_id, u.typing)
                    children=move |u: PresentUser| {
                        view! {
                            <span
                                class="also-here-person"
                                class:typing=u.typing
                                data-testid="present-user"
                                data-typing=if u.typing { "true" } else { "false" }
                            >
                                <span class="avatar" aria-hidden="true">{initials(&u.name)}</span>
                                {u.name.clone()}
                                {u.typing.then_some(" (typing…)")}
                            </span>
                        }
                    }
                />
            </p>
        </Show>
    }
    .into_any()
}

/// `[data-testid=reply-collision]`: "Ana replied while you were typing", with "Review" (keep
/// the draft, look at the conversation) and "Send anyway".
#[component]
pub fn CollisionWarning(on_send: Callback<()>) -> impl IntoView {
    let Some(presence) = use_context::<TicketPresence>() else {
        return ().into_any();
    };
    let replied = presence.replied;
    view! {
        {move || replied.get().map(|name| view! {
            <div class="alert alert-warning collision" role="alert" data-testid="reply-collision">
                <p>{format!("{name} replied while you were typing.")}</p>
                <div class="actions">
                    <button type="button" class="btn btn-small" id="collision-review"
                        on:click=move |_| {
                            replied.set(None);
                            if let Some(el) = document().query_selector("[data-testid=messages] > li:last-child").ok().flatten() {
                                el.scroll_into_view();
                            }
                        }>
                        "Review"
                    </button>
                    <button type="button" class="btn btn-small btn-primary" id="collision-send"
                        on:click=move |_| {
                            replied.set(None);
                            on_send.run(());
                        }>
                        "Send anyway"
                    </button>
                </div>
            </div>
        })}
    }
    .into_any()
}

/// Up to two initials for an avatar.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
