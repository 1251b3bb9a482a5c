//! Inline SVG icons (24×24, stroked with `currentColor`), so no icon font or image is fetched.
//!
//! [`Icon`] draws one by name; journeys name their icon freely, so [`JourneyIcon`] maps common
//! names, synonyms and emoji onto these shapes, shows other emoji as text, and falls back to a
//! question mark.

use leptos::prelude::*;

/// The shapes this app draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconName {
    Help,
    Package,
    Card,
    User,
    Bug,
    Truck,
    Settings,
    Lock,
    Mail,
    Wifi,
    Monitor,
    Clock,
    Paperclip,
    Image,
    Send,
    Back,
    Close,
    Check,
    Alert,
    Inbox,
    Refresh,
    Note,
}

impl IconName {
    /// The journey icon for a free-form name such as `"credit-card"` or `"shipping"`, or a
    /// common emoji (drawn, because not every system has an emoji font); `None` for other
    /// emoji, which are shown as text.
    pub fn for_journey(name: &str) -> Option<Self> {
        let name = name.trim().trim_end_matches('\u{fe0f}');
        let by_emoji = match name {
            "📦" | "🛒" | "🛍" => Some(Self::Package),
            "💳" | "💰" | "💶" | "💵" | "🧾" => Some(Self::Card),
            "👤" | "🙍" | "🧑" => Some(Self::User),
            "🐛" | "🐞" | "🔧" | "🛠" => Some(Self::Bug),
            "🚚" | "🚛" | "📮" => Some(Self::Truck),
            "⚙" => Some(Self::Settings),
            "🔒" | "🔐" | "🔑" | "🛡" => Some(Self::Lock),
            "✉" | "📧" | "📨" | "💬" => Some(Self::Mail),
            "📶" | "🌐" | "📡" => Some(Self::Wifi),
            "💻" | "🖥" | "📱" => Some(Self::Monitor),
            "📷" | "📸" | "🖼" => Some(Self::Image),
            "⏰" | "🕐" | "⌛" | "⏳" => Some(Self::Clock),
            "❓" | "❔" | "🙋" => Some(Self::Help),
            _ => None,
        };
        if by_emoji.is_some() || !name.is_ascii() {
            return by_emoji;
        }
        Some(match name.to_ascii_lowercase().as_str() {
            "package" | "box" | "order" | "orders" | "product" | "shopping" | "cart" => {
                Self::Package
            }
            "credit-card" | "card" | "billing" | "payment" | "payments" | "invoice" | "money"
            | "refund" | "wallet" => Self::Card,
            "user" | "account" | "person" | "profile" | "login" => Self::User,
            "bug" | "technical" | "tech" | "error" | "issue" | "wrench" | "tool" => Self::Bug,
            "truck" | "shipping" | "delivery" | "shipment" => Self::Truck,
            "settings" | "gear" | "cog" | "config" => Self::Settings,
            "lock" | "security" | "shield" | "key" | "password" | "privacy" => Self::Lock,
            "mail" | "email" | "envelope" | "message" | "contact" => Self::Mail,
            "wifi" | "network" | "internet" | "connection" => Self::Wifi,
            "monitor" | "computer" | "laptop" | "device" | "desktop" | "screen" => Self::Monitor,
            "image" | "photo" | "camera" => Self::Image,
            "clock" | "time" | "schedule" => Self::Clock,
            _ => Self::Help,
        })
    }
}

/// One icon. Decorative (`aria-hidden`); put the meaning in the surrounding text or label.
#[component]
pub fn Icon(name: IconName, #[prop(optional)] class: &'static str) -> impl IntoView {
    let class = if class.is_empty() {
        "icon".to_owned()
    } else {
        format!("icon {class}")
    };
    let shape = match name {
        IconName::Help => view! {
            <circle cx="12" cy="12" r="9"/>
            <path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .8-1 1.5v.7"/>
            <path d="M12 17.2v.1"/>
        }
        .into_any(),
        IconName::Package => view! {
            <path d="M3.5 7.5 12 3.5l8.5 4v9L12 20.5l-8.5-4z"/>
            <path d="M3.5 7.5 12 11.5l8.5-4"/>
            <path d="M12 11.5v9"/>
        }
        .into_any(),
        IconName::Card => view! {
            <rect x="3" y="5.5" width="18" height="13" rx="2"/>
            <path d="M3 10h18"/>
            <path d="M7 14.5h4"/>
        }
        .into_any(),
        IconName::User => view! {
            <circle cx="12" cy="8" r="4"/>
            <path d="M4.5 20.5c.8-3.6 3.8-5.5 7.5-5.5s6.7 1.9 7.5 5.5"/>
        }
        .into_any(),
        IconName::Bug => view! {
            <rect x="7.5" y="8" width="9" height="12" rx="4.5"/>
            <path d="M12 11v9"/>
            <path d="M3.5 13.5h4M16.5 13.5h4M4.5 8.5l3 2M19.5 8.5l-3 2M4.5 19l3-2M19.5 19l-3-2"/>
            <path d="M9.5 8a2.5 2.5 0 0 1 5 0"/>
        }
        .into_any(),
        IconName::Truck => view! {
            <path d="M2.5 6.5h11v9h-11z"/>
            <path d="M13.5 9.5h4l3.5 3.5v2.5h-7.5"/>
            <circle cx="6.5" cy="17.5" r="1.8"/>
            <circle cx="17" cy="17.5" r="1.8"/>
        }
        .into_any(),
        IconName::Settings => view! {
            <path d="M4 7h9M17 7h3M4 12h3M11 12h9M4 17h11M19 17h1"/>
            <circle cx="15" cy="7" r="2"/>
            <circle cx="9" cy="12" r="2"/>
            <circle cx="17" cy="17" r="2"/>
        }
        .into_any(),
        IconName::Lock => view! {
            <rect x="5" y="10.5" width="14" height="10" rx="2"/>
            <path d="M8 10.5V8a4 4 0 0 1 8 0v2.5"/>
        }
        .into_any(),
        IconName::Mail => view! {
            <rect x="3" y="5.5" width="18" height="13" rx="2"/>
            <path d="m3.5 7 8.5 6 8.5-6"/>
        }
        .into_any(),
        IconName::Wifi => view! {
            <path d="M2.5 9a14 14 0 0 1 19 0"/>
            <path d="M5.5 12.5a9.5 9.5 0 0 1 13 0"/>
            <path d="M8.8 16a4.8 4.8 0 0 1 6.4 0"/>
            <path d="M12 19.5v.1"/>
        }
        .into_any(),
        IconName::Monitor => view! {
            <rect x="3" y="4" width="18" height="12" rx="2"/>
            <path d="M8 20h8M12 16v4"/>
        }
        .into_any(),
        IconName::Clock => view! {
            <circle cx="12" cy="12" r="9"/>
            <path d="M12 7v5l3 2"/>
        }
        .into_any(),
        IconName::Paperclip => view! {
            <path d="m20 11.5-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.4 3.4 0 0 1 4.8 4.8l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8"/>
        }
        .into_any(),
        IconName::Image => view! {
            <rect x="3" y="4" width="18" height="16" rx="2"/>
            <circle cx="9" cy="10" r="2"/>
            <path d="m21 16-5-5-9 9"/>
        }
        .into_any(),
        IconName::Send => view! {
            <path d="M21 3 3 10.5l7 2.5 2.5 7z"/>
            <path d="m10 13 4.5-4.5"/>
        }
        .into_any(),
        IconName::Back => view! { <path d="M15 18l-6-6 6-6"/> }.into_any(),
        IconName::Close => view! { <path d="M6 6l12 12M18 6 6 18"/> }.into_any(),
        IconName::Check => view! { <path d="m5 12.5 4.5 4.5L19 7.5"/> }.into_any(),
        IconName::Alert => view! {
            <path d="M12 3.5 21.5 20h-19z"/>
            <path d="M12 10v4.5M12 17.3v.1"/>
        }
        .into_any(),
        IconName::Inbox => view! {
            <path d="M3 13.5 6 5h12l3 8.5V19H3z"/>
            <path d="M3 13.5h5l1 2.5h6l1-2.5h5"/>
        }
        .into_any(),
        IconName::Refresh => view! {
            <path d="M20 11a8 8 0 0 0-14.5-4.5L4 8"/>
            <path d="M4 3.5V8h4.5"/>
            <path d="M4 13a8 8 0 0 0 14.5 4.5L20 16"/>
            <path d="M20 20.5V16h-4.5"/>
        }
        .into_any(),
        IconName::Note => view! {
            <path d="M5 3.5h10l4 4v13H5z"/>
            <path d="M14.5 3.5v4.5H19M8.5 12h7M8.5 16h5"/>
        }
        .into_any(),
    };
    view! {
        <svg
            class=class
            viewBox="0 0 24 24"
            width="20"
            height="20"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            {shape}
        </svg>
    }
}

/// A journey's icon: a known name or emoji is drawn, another emoji is shown as text (see
/// [`IconName::for_journey`]).
#[component]
pub fn JourneyIcon(#[prop(into)] icon: String) -> impl IntoView {
    match IconName::for_journey(&icon) {
        Some(name) => view! { <Icon name=name class="journey-svg"/> }.into_any(),
        None => {
            view! { <span class="journey-emoji" aria-hidden="true">{icon.trim().to_owned()}</span> }
                .into_any()
        }
    }
}
