//! The journey renderer: walks a [`JourneyDefinition`] one question at a time with the shared
//! evaluator, then shows a summary and hands the answers to `on_submit`.
//!
//! Reusable on purpose: the customer portal submits the answers to the server; the admin
//! journey builder renders the same component as a live preview (`preview = true`: images are
//! not uploaded, and the summary also shows the category and priority the ticket would get).
//!
//! State: `answers` remembers every answer given (also to questions left by going back, so
//! they are restored when the customer returns to them); `stack` lists the questions answered
//! so far along the current path. The step on screen is always
//! `shared::journey::next(definition, answers on the stack)`, so the form can never disagree
//! with the server's `evaluate`. The answer being edited is checked live by running `next` on
//! the tentative answers and showing the [`EvalError`] reported for this question.

use leptos::prelude::*;
use shared::journey::{
    Answer, Answers, EvalError, EvalErrorCode, JourneyDefinition, Outcome, Question, QuestionType,
    Step, next,
};
use uuid::Uuid;

use crate::api::sentence;
use crate::components::icons::{Icon, IconName};
use crate::components::upload::{ImagePicker, ImageUploads};
use crate::format::{plural, priority_label};

/// A customer-facing sentence for an evaluator error about `question`.
pub fn describe_error(err: &EvalError, question: Option<&Question>) -> String {
    use EvalError as E;
    match err {
        E::MissingRequired { .. } => match question.map(Question::question_type) {
            Some(QuestionType::SingleChoice) => "Please choose an option.".into(),
            Some(QuestionType::MultipleChoice) => "Please choose at least one option.".into(),
            Some(QuestionType::ImageUpload) => "Please add at least one image.".into(),
            _ => "Please answer this question.".into(),
        },
        E::TooShort { min, .. } => format!("Please write at least {min} characters."),
        E::TooLong { max, .. } => format!("Please keep it to {max} characters or fewer."),
        E::TooFewSelections { min, .. } => {
            format!(
                "Please choose at least {}.",
                plural(*min as usize, "option", "options")
            )
        }
        E::TooManySelections { max, .. } => {
            format!(
                "Please choose at most {}.",
                plural(*max as usize, "option", "options")
            )
        }
        E::TooManyFiles { max, .. } => {
            format!(
                "Please add at most {}.",
                plural(*max as usize, "image", "images")
            )
        }
        E::UnknownOption { .. } => {
            "That option is no longer available; please choose another.".into()
        }
        E::DuplicateSelection { .. } | E::DuplicateAttachment { .. } => {
            "The same item is selected twice.".into()
        }
        E::InvalidAttachmentId { .. } => {
            "An image could not be read; please remove it and add it again.".into()
        }
        E::WrongAnswerType { .. } => "This answer has the wrong form; please answer again.".into(),
        E::InvalidDefinition { problems } => match problems.first() {
            Some(p) => format!(
                "This form cannot be shown because the journey is invalid: {}",
                sentence(&p.message)
            ),
            None => "This form cannot be shown because the journey is invalid.".into(),
        },
        E::UnknownNode { .. } | E::NotOnPath { .. } => sentence(&err.to_string()),
    }
}

/// The form. See the module documentation.
#[component]
pub fn JourneyForm(
    /// The journey to walk; when it changes (the builder's live preview) the form restarts.
    #[prop(into)]
    definition: Signal<JourneyDefinition>,
    /// Called with the normalised answers of the finished path (`Outcome::answers`).
    on_submit: Callback<Answers>,
    /// True while the caller is submitting: buttons are disabled.
    #[prop(optional, into)]
    busy: Signal<bool>,
    /// An error from the caller (e.g. the server refused the answers), shown above the buttons.
    #[prop(optional, into)]
    error: Signal<Option<String>>,
    /// Back on the first question calls this (e.g. return to the journey list).
    #[prop(optional)]
    on_cancel: Option<Callback<()>>,
    #[prop(default = "Submit request")] submit_label: &'static str,
    /// Builder preview: simulate uploads and show category and priority in the summary.
    #[prop(optional)]
    preview: bool,
) -> impl IntoView {
    let answers = RwSignal::new(Answers::new());
    let stack = RwSignal::new(Vec::<String>::new());
    let draft = RwSignal::new(None::<Answer>);
    let touched = RwSignal::new(false);
    let navigated = StoredValue::new(false);
    let uploads = ImageUploads::new(preview);
    let heading = NodeRef::<leptos::html::H2>::new();

    // The answers on the current path, as `next` must see them.
    let path_answers = move || -> Answers {
        stack.with(|s| {
            answers.with(|a| {
                s.iter()
                    .filter_map(|id| a.get(id).map(|v| (id.clone(), v.clone())))
                    .collect()
            })
        })
    };
    let step = Memo::new(move |_| {
        let given = path_answers();
        definition.with(|d| next(d, &given))
    });
    let current = Memo::new(move |_| {
        step.with(|s| match s {
            Ok(Step::Question { node_id }) => Some(node_id.clone()),
            _ => None,
        })
    });
    let question = Memo::new(move |_| {
        let id = current.get()?;
        definition.with(|d| d.question(&id).cloned())
    });

    // The answer on screen for the current question (`None`: nothing given, i.e. a skip).
    let current_answer = move || -> Option<Answer> {
        let id = current.get()?;
        match question.get()? {
            Question::ImageUpload(_) => {
                let ids = uploads.ids(&id);
                (!ids.is_empty()).then(|| Answer::Many(ids.iter().map(Uuid::to_string).collect()))
            }
            _ => draft.get(),
        }
    };
    let live_error = Memo::new(move |_| {
        let id = current.get()?;
        let mut given = path_answers();
        given.insert(id.clone(), current_answer());
        match definition.with(|d| next(d, &given)) {
            Err(e) if e.node_id() == Some(id.as_str()) => Some(e),
            _ => None,
        }
    });
    // "Not enough yet" is shown only after Next or leaving a text field; "too much" at once.
    let shown_error = Memo::new(move |_| {
        let err = live_error.get()?;
        let patient = matches!(
            err.code(),
            EvalErrorCode::MissingRequired
                | EvalErrorCode::TooShort
                | EvalErrorCode::TooFewSelections
        );
        (touched.get() || !patient).then(|| question.with(|q| describe_error(&err, q.as_ref())))
    });

    // Loads the remembered answer of the question now on screen.
    let sync_draft = move || {
        let remembered = current
            .get_untracked()
            .and_then(|id| answers.with_untracked(|a| a.get(&id).cloned().flatten()));
        draft.set(remembered);
        touched.set(false);
        navigated.set_value(true);
    };

    // A new journey (the builder edited it) starts over.
    Effect::new(move |previous: Option<()>| {
        definition.track();
        if previous.is_some() {
            answers.set(Answers::new());
            stack.set(Vec::new());
            draft.set(None);
            touched.set(false);
        }
    });

    // Move keyboard and screen-reader focus to each new question or the summary.
    Effect::new(move |_| {
        step.track();
        if navigated.get_value()
            && let Some(h) = heading.get()
        {
            let _ = h.focus();
        }
    });

    let blocked = move || busy.get() || uploads.busy();

    let go_next = move || {
        if blocked() {
            return;
        }
        let Some(id) = current.get_untracked() else {
            return;
        };
        touched.set(true);
        if live_error.get_untracked().is_some() {
            return;
        }
        let value = current_answer();
        answers.update(|a| {
            a.insert(id.clone(), value);
        });
        stack.update(|s| s.push(id));
        sync_draft();
    };

    let go_back = move || {
        if blocked() {
            return;
        }
        // Keep what was entered here, even unfinished, for when the customer comes back.
        if let Some(id) = current.get_untracked() {
            let value = current_answer();
            answers.update(|a| {
                a.insert(id, value);
            });
        }
        match stack.try_update(Vec::pop).flatten() {
            Some(_) => sync_draft(),
            None => {
                if let Some(cancel) = on_cancel {
                    cancel.run(());
                }
            }
        }
    };

    let jump_to = move |node_id: String| {
        if blocked() {
            return;
        }
        if let Some(i) = stack.with_untracked(|s| s.iter().position(|x| *x == node_id)) {
            stack.update(|s| s.truncate(i));
            sync_draft();
        }
    };

    let submit = move |outcome: &Outcome| {
        if blocked() {
            return;
        }
        on_submit.run(outcome.answers());
    };

    let can_go_back = move || on_cancel.is_some() || stack.with(|s| !s.is_empty());

    let back_button = move || {
        view! {
            <button
                id="journey-back"
                type="button"
                class="btn btn-secondary"
                disabled=move || !can_go_back() || blocked()
                on:click=move |_| go_back()
            >
                <Icon name=IconName::Back/>
                "Back"
            </button>
        }
    };

    let caller_error = move || {
        error.get().map(|msg| {
            view! { <div class="alert alert-error" role="alert" data-testid="journey-error">{msg}</div> }
        })
    };

    let question_view = move |id: String, q: Question| {
        let number = stack.with_untracked(Vec::len) + 1;
        let has_help = q.help().is_some();
        let described_by = move || {
            let mut ids = Vec::new();
            if has_help {
                ids.push("question-help".to_owned());
            }
            if shown_error.with(Option::is_some) {
                ids.push("answer-error".to_owned());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        };
        let required = q.required();
        let input = answer_input(&id, &q, draft, touched, uploads, described_by);
        view! {
            <form
                class="journey-step"
                novalidate
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    go_next();
                }
            >
                <p class="journey-progress">
                    {format!("Question {number}")}
                    {(!required).then(|| view! { <span class="optional-tag">"Optional"</span> })}
                </p>
                <h2
                    id="question-title"
                    class="question-title"
                    data-testid="question-title"
                    data-node-id=id.clone()
                    tabindex="-1"
                    node_ref=heading
                >
                    {q.title().to_owned()}
                </h2>
                {q.help().map(|h| view! { <p class="field-hint question-help" id="question-help">{h.to_owned()}</p> })}
                {input}
                {move || {
                    shown_error
                        .get()
                        .map(|msg| {
                            view! {
                                <p class="field-error" id="answer-error" role="alert" data-testid="answer-error">
                                    {msg}
                                </p>
                            }
                        })
                }}
                {caller_error}
                <div class="journey-actions">
                    {back_button}
                    <button
                        id="journey-next"
                        type="submit"
                        class="btn btn-primary"
                        disabled=blocked
                        aria-busy=move || if uploads.busy() { "true" } else { "false" }
                    >
                        {move || if uploads.busy() { "Uploading…" } else { "Next" }}
                    </button>
                </div>
            </form>
        }
    };

    let summary_view = move |outcome: Outcome| {
        let for_submit = outcome.clone();
        let rows = outcome
            .transcript
            .iter()
            .map(|entry| {
                let node_id = entry.node_id.clone();
                let row_id = node_id.clone();
                let question = entry.question.clone();
                let answer = if entry.display.is_empty() {
                    view! { <span class="muted">"Skipped"</span> }.into_any()
                } else {
                    view! { <span>{entry.display.clone()}</span> }.into_any()
                };
                let images = match (&entry.question_type, &entry.answer) {
                    (QuestionType::ImageUpload, Some(Answer::Many(ids))) => ids
                        .iter()
                        .filter_map(|id| Uuid::parse_str(id).ok())
                        .filter_map(|id| uploads.preview_of(id))
                        .map(|(url, name)| view! { <img class="summary-thumb" src=url alt=name/> })
                        .collect_view()
                        .into_any(),
                    _ => ().into_any(),
                };
                view! {
                    <div class="summary-row" data-node-id=row_id>
                        <dt>{question.clone()}</dt>
                        <dd>
                            {answer}
                            <span class="summary-thumbs">{images}</span>
                        </dd>
                        <dd class="summary-change">
                            <button
                                type="button"
                                class="btn btn-ghost btn-small"
                                aria-label=format!("Change the answer to: {question}")
                                disabled=blocked
                                on:click=move |_| jump_to(node_id.clone())
                            >
                                "Change"
                            </button>
                        </dd>
                    </div>
                }
            })
            .collect_view();
        view! {
            <section class="journey-summary" data-testid="journey-summary" aria-labelledby="summary-title">
                <h2 id="summary-title" class="question-title" tabindex="-1" node_ref=heading>
                    "Check your answers"
                </h2>
                <p class="muted">
                    "Your request will be opened as "
                    <strong data-testid="journey-subject">{outcome.subject.clone()}</strong>
                    "."
                </p>
                {preview
                    .then(|| {
                        view! {
                            <p class="muted" data-testid="journey-outcome">
                                "Category " <code>{outcome.category.clone()}</code> ", priority "
                                <strong>{priority_label(outcome.priority)}</strong> "."
                            </p>
                        }
                    })}
                <dl class="summary">{rows}</dl>
                {caller_error}
                <div class="journey-actions">
                    {back_button}
                    <button
                        id="journey-submit"
                        type="button"
                        class="btn btn-primary"
                        disabled=blocked
                        aria-busy=move || if busy.get() { "true" } else { "false" }
                        on:click=move |_| submit(&for_submit)
                    >
                        {move || if busy.get() { "Submitting…" } else { submit_label }}
                    </button>
                </div>
            </section>
        }
    };

    view! {
        <div class="journey-form">
            {move || match step.get() {
                Ok(Step::Question { node_id }) => match question.get() {
                    Some(q) => question_view(node_id, q).into_any(),
                    None => view! {
                        <div class="alert alert-error" role="alert">
                            "This form points to a question that does not exist."
                        </div>
                    }
                    .into_any(),
                },
                Ok(Step::End(outcome)) => summary_view(outcome).into_any(),
                Err(err) => {
                    let msg = question.with_untracked(|q| describe_error(&err, q.as_ref()));
                    view! {
                        <div class="alert alert-error" role="alert" data-testid="journey-broken">
                            <p>{msg}</p>
                            {back_button}
                        </div>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

/// The input for one question, bound to `draft` (or to `uploads` for images).
fn answer_input(
    id: &str,
    q: &Question,
    draft: RwSignal<Option<Answer>>,
    touched: RwSignal<bool>,
    uploads: ImageUploads,
    described_by: impl Fn() -> Option<String> + Clone + Send + Sync + 'static,
) -> AnyView {
    match q {
        Question::SingleChoice(sc) => {
            let optional = !sc.required;
            let options = sc
                .options
                .iter()
                .enumerate()
                .map(|(i, opt)| {
                    let value = opt.value.clone();
                    let checked = {
                        let value = value.clone();
                        move || draft.with(|d| matches!(d, Some(Answer::One(v)) if *v == value))
                    };
                    let on_change = {
                        let value = value.clone();
                        move |_| draft.set(Some(Answer::One(value.clone())))
                    };
                    let input_id = format!("answer-{i}");
                    let label_for = input_id.clone();
                    view! {
                        <label class="choice" for=label_for>
                            <input
                                type="radio"
                                id=input_id
                                name="answer"
                                value=value
                                prop:checked=checked
                                on:change=on_change
                            />
                            <span>{opt.label.clone()}</span>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="choices" aria-labelledby="question-title" aria-describedby=described_by>
                    <legend class="visually-hidden">"Choose one"</legend>
                    {options}
                    {move || {
                        (optional && draft.with(Option::is_some))
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn-ghost btn-small choice-clear"
                                        on:click=move |_| draft.set(None)
                                    >
                                        "Clear selection"
                                    </button>
                                }
                            })
                    }}
                </fieldset>
            }
            .into_any()
        }
        Question::MultipleChoice(mc) => {
            let (min, max) = (mc.min(), mc.max());
            let hint = if min == max {
                format!("Choose {}.", plural(min as usize, "option", "options"))
            } else if min <= 1 {
                format!("Choose up to {max}.")
            } else {
                format!("Choose {min} to {max}.")
            };
            let order: Vec<String> = mc.options.iter().map(|o| o.value.clone()).collect();
            let options = mc
                .options
                .iter()
                .enumerate()
                .map(|(i, opt)| {
                    let value = opt.value.clone();
                    let checked = {
                        let value = value.clone();
                        move || {
                            draft.with(
                                |d| matches!(d, Some(Answer::Many(vs)) if vs.contains(&value)),
                            )
                        }
                    };
                    let order = order.clone();
                    let on_change = {
                        let value = value.clone();
                        move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            draft.update(|d| {
                                let mut chosen = match d.take() {
                                    Some(Answer::Many(vs)) => vs,
                                    _ => Vec::new(),
                                };
                                chosen.retain(|v| *v != value);
                                if on {
                                    chosen.push(value.clone());
                                }
                                // Keep the question's option order.
                                chosen.sort_by_key(|v| order.iter().position(|o| o == v));
                                *d = Some(Answer::Many(chosen));
                            });
                        }
                    };
                    let input_id = format!("answer-{i}");
                    let label_for = input_id.clone();
                    view! {
                        <label class="choice" for=label_for>
                            <input
                                type="checkbox"
                                id=input_id
                                name="answer"
                                value=value
                                prop:checked=checked
                                on:change=on_change
                            />
                            <span>{opt.label.clone()}</span>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="choices" aria-labelledby="question-title" aria-describedby=described_by>
                    <legend class="visually-hidden">"Choose options"</legend>
                    <p class="field-hint">{hint}</p>
                    {options}
                </fieldset>
            }
            .into_any()
        }
        Question::Text(tq) => {
            let (min, max) = (tq.min(), tq.max());
            let text = move || match draft.get() {
                Some(Answer::One(t)) => t,
                _ => String::new(),
            };
            let count = move || text().trim().chars().count();
            let on_input = move |ev: leptos::ev::Event| {
                draft.set(Some(Answer::One(event_target_value(&ev))));
            };
            let counter = move || {
                let n = count();
                let lead = if min > 0 && (n as u32) < min {
                    format!("At least {min} characters. ")
                } else {
                    String::new()
                };
                format!("{lead}{n} / {max}")
            };
            let field = if tq.multiline {
                view! {
                    <textarea
                        id="answer-text"
                        name="answer-text"
                        rows="5"
                        aria-labelledby="question-title"
                        aria-describedby=described_by
                        prop:value=text
                        on:input=on_input
                        on:blur=move |_| touched.set(true)
                    ></textarea>
                }
                .into_any()
            } else {
                view! {
                    <input
                        id="answer-text"
                        name="answer-text"
                        type="text"
                        autocomplete="off"
                        aria-labelledby="question-title"
                        aria-describedby=described_by
                        prop:value=text
                        on:input=on_input
                        on:blur=move |_| touched.set(true)
                    />
                }
                .into_any()
            };
            view! {
                <div class="field answer-text">
                    {field}
                    <p class="field-hint char-count" aria-live="polite">{counter}</p>
                </div>
            }
            .into_any()
        }
        Question::ImageUpload(iq) => {
            let max = iq.max() as usize;
            view! {
                <ImagePicker
                    input_id="answer-files"
                    uploads=uploads
                    group=id.to_owned()
                    max=max
                    label="Add images"
                    described_by="question-title"
                />
            }
            .into_any()
        }
    }
}
