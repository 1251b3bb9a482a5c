//! Labelled form inputs with live validation.
//!
//! A [`FieldState`] holds a field's value and decides which message to show: the client-side
//! check (the same `shared::validate` parsers the server runs) only once the user has touched
//! the field, and the server's message for the field until the user edits it again.

use leptos::prelude::*;

use crate::api::sentence;

/// Value, touched flag and errors of one input.
#[derive(Debug, Clone, Copy)]
pub struct FieldState {
    pub value: RwSignal<String>,
    /// Set on blur and on submit; errors stay hidden before, so typing is not nagged.
    pub touched: RwSignal<bool>,
    /// The client-side verdict on the current value, already phrased as a sentence.
    pub client_error: Memo<Option<String>>,
    /// What the server said about this field; cleared on the next edit.
    pub server_error: RwSignal<Option<String>>,
}

impl FieldState {
    /// A field checked by `validate` (`Err(message)` when invalid).
    pub fn new(
        initial: impl Into<String>,
        validate: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        let value = RwSignal::new(initial.into());
        Self {
            value,
            touched: RwSignal::new(false),
            client_error: Memo::new(move |_| {
                value.with(|v| validate(v).err().map(|e| sentence(&e)))
            }),
            server_error: RwSignal::new(None),
        }
    }

    /// A field that only has to be filled in.
    pub fn required(what: &'static str) -> Self {
        Self::new("", move |v| {
            if v.is_empty() {
                Err(format!("{what} is required"))
            } else {
                Ok(())
            }
        })
    }

    /// The message under the input right now (tracked).
    pub fn shown_error(&self) -> Option<String> {
        self.server_error.get().or_else(|| {
            self.touched
                .get()
                .then(|| self.client_error.get())
                .flatten()
        })
    }

    /// Marks the field touched and returns its client-side error, for a submit handler.
    pub fn check(&self) -> Option<String> {
        self.touched.set(true);
        self.client_error.get_untracked()
    }

    pub fn get(&self) -> String {
        self.value.get_untracked()
    }

    /// Empties the value and hides its errors (e.g. password inputs after a successful save).
    pub fn reset(&self) {
        self.value.set(String::new());
        self.touched.set(false);
        self.server_error.set(None);
    }
}

/// A labelled `<input>` bound to a [`FieldState`], with its message underneath.
#[component]
pub fn TextField(
    /// The input's `id` (stable selectors for tests and the label's `for`).
    id: &'static str,
    label: &'static str,
    field: FieldState,
    /// The input `type`.
    #[prop(default = "text")]
    kind: &'static str,
    /// The `autocomplete` hint, so password managers fill the right thing.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// A permanent help text under the input.
    #[prop(optional)]
    hint: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let invalid = move || field.shown_error().is_some();
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if invalid() {
                ids.push(error_id.clone());
            }
            // No attribute at all rather than an empty one.
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };

    view! {
        <div class="field" class:field-invalid=invalid>
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind
                autocomplete=autocomplete
                prop:value=move || field.value.get()
                aria-invalid=move || if invalid() { "true" } else { "false" }
                aria-describedby=described_by
                on:input=move |ev| {
                    field.value.set(event_target_value(&ev));
                    field.server_error.set(None);
                }
                on:blur=move |_| field.touched.set(true)
            />
            {hint.map(|text| view! { <p class="field-hint" id=hint_id.clone()>{text}</p> })}
            {move || {
                field
                    .shown_error()
                    .map(|msg| view! { <p class="field-error" id=error_id.clone()>{msg}</p> })
            }}
        </div>
    }
}
