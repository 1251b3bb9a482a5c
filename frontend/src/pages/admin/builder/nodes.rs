//! The node editor: one card per node (`[data-testid=node]` with `data-node-id` and
//! `data-node-type`), with its problems right under the header, then the inputs of its kind:
//! questions (type, title, help, required, limits, options and where each leads), conditions
//! (branches of rules, and a default), ends (category, priority, subject template).
//!
//! Every input is bound to one signal of the draft; inputs carry `data-field` so tests and
//! styles can find them, and an id derived from the node's key for their labels.

use leptos::prelude::*;
use shared::Priority;
use shared::journey::{MatchMode, QuestionType, RuleOp};

use super::draft::{
    BranchDraft, Draft, Issue, Kind, NodeDraft, OptionDraft, RuleDraft, move_by, slug, takes_list,
    takes_value,
};
use crate::format::priority_label;

/// The problems shown on a node.
#[component]
pub fn NodeProblems(node: NodeDraft, issues: Memo<Vec<Issue>>) -> impl IntoView {
    let mine = Memo::new(move |_| {
        issues.with(|all| {
            all.iter()
                .filter(|i| i.node == Some(node.key))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    move || {
        let list = mine.get();
        (!list.is_empty()).then(|| {
            view! {
                <ul
                    class="node-problems"
                    data-testid="node-problems"
                    data-node-id=move || node.id.get()
                    aria-label="Problems with this node"
                >
                    {list
                        .into_iter()
                        .map(|i| view! {
                            <li data-testid="node-problem" data-code=i.code.clone()>{i.message.clone()}</li>
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// A select of the nodes a target may point at (every node but `own`), with `none` as the
/// empty choice; a target that names no node stays visible as "(missing)".
#[component]
pub fn TargetSelect(
    draft: Draft,
    /// The node the select belongs to (not offered); 0 offers every node.
    own: u64,
    value: RwSignal<String>,
    id: String,
    label: &'static str,
    /// The `data-field` of the select.
    field: &'static str,
    /// The label of the empty choice.
    #[prop(default = "Choose a node…")]
    none: &'static str,
) -> impl IntoView {
    let choices = Memo::new(move |_| {
        draft.nodes.with(|n| {
            n.iter()
                .filter(|d| d.key != own)
                .map(|d| (d.id.get(), d.kind.get()))
                .collect::<Vec<_>>()
        })
    });
    let options = move || {
        let current = value.get();
        let list = choices.get();
        let missing = !current.is_empty() && !list.iter().any(|(id, _)| *id == current);
        let mut out = vec![
            view! {
                <option value="" prop:selected=current.is_empty()>{none}</option>
            }
            .into_any(),
        ];
        if missing {
            let shown = format!("{current} (missing)");
            out.push(
                view! { <option value=current.clone() prop:selected=true>{shown}</option> }
                    .into_any(),
            );
        }
        for (node_id, kind) in list {
            let selected = node_id == current;
            let text = format!("{node_id} · {}", kind.short());
            out.push(
                view! { <option value=node_id prop:selected=selected>{text}</option> }.into_any(),
            );
        }
        out
    };
    view! {
        <div class="field target-field">
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                data-field=field
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {options}
            </select>
        </div>
    }
}

/// A text input bound to `value`.
#[component]
fn Text(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    field: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] on_edit: Option<Callback<String>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let set = move |v: String| {
        value.set(v.clone());
        if let Some(cb) = on_edit {
            cb.run(v);
        }
    };
    let input = if multiline {
        view! {
            <textarea
                id=id.clone()
                rows="2"
                data-field=field
                placeholder=placeholder
                aria-describedby=hint.map(|_| hint_id.clone())
                prop:value=move || value.get()
                on:input=move |ev| set(event_target_value(&ev))
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                type="text"
                id=id.clone()
                data-field=field
                placeholder=placeholder
                autocomplete="off"
                aria-describedby=hint.map(|_| hint_id.clone())
                prop:value=move || value.get()
                on:input=move |ev| set(event_target_value(&ev))
            />
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {input}
            {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
        </div>
    }
}

/// A small number input bound to `value` (kept as text; the draft reports non-numbers).
#[component]
fn Limit(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    field: &'static str,
) -> impl IntoView {
    view! {
        <div class="field limit-field">
            <label for=id.clone()>{label}</label>
            <input
                type="number"
                min="0"
                inputmode="numeric"
                id=id
                data-field=field
                placeholder="default"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}

/// A checkbox bound to `value`.
#[component]
fn Check(
    id: String,
    label: &'static str,
    value: RwSignal<bool>,
    field: &'static str,
) -> impl IntoView {
    let for_id = id.clone();
    view! {
        <label class="check" for=for_id>
            <input
                type="checkbox"
                id=id
                data-field=field
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <span>{label}</span>
        </label>
    }
}

/// Small up / down / remove buttons for a row of a list.
#[component]
fn RowTools(
    /// What the row is, for the buttons' labels ("option 2").
    #[prop(into)]
    what: Signal<String>,
    /// `data-action` prefix, e.g. `option` gives `option-up`.
    prefix: &'static str,
    on_move: Callback<isize>,
    on_remove: Callback<()>,
) -> impl IntoView {
    let up = move || format!("Move {} up", what.get());
    let down = move || format!("Move {} down", what.get());
    let remove = move || format!("Remove {}", what.get());
    view! {
        <span class="row-tools">
            <button
                type="button"
                class="btn btn-ghost btn-icon"
                data-action=format!("{prefix}-up")
                aria-label=up
                title=up
                on:click=move |_| on_move.run(-1)
            >
                "↑"
            </button>
            <button
                type="button"
                class="btn btn-ghost btn-icon"
                data-action=format!("{prefix}-down")
                aria-label=down
                title=down
                on:click=move |_| on_move.run(1)
            >
                "↓"
            </button>
            <button
                type="button"
                class="btn btn-ghost btn-icon btn-danger-text"
                data-action=format!("{prefix}-remove")
                aria-label=remove
                title=remove
                on:click=move |_| on_remove.run(())
            >
                "✕"
            </button>
        </span>
    }
}

/// One node's card.
#[component]
pub fn NodeCard(draft: Draft, node: NodeDraft, issues: Memo<Vec<Issue>>) -> impl IntoView {
    let key = node.key;
    let fid = move |what: &str| format!("node-{key}-{what}");
    let is_start = move || draft.start.with(|s| node.id.with(|id| s == id));
    let has_problems = move || issues.with(|all| all.iter().any(|i| i.node == Some(key)));
    let kind = node.kind;
    let id_value = node.id;
    let name = move || {
        let id = id_value.get();
        if id.is_empty() {
            "this node".to_owned()
        } else {
            format!("node {id}")
        }
    };

    let body = move || match kind.get() {
        Kind::Question(qt) => view! { <QuestionBody draft=draft node=node qt=qt/> }.into_any(),
        Kind::Condition => view! { <ConditionBody draft=draft node=node/> }.into_any(),
        Kind::End => view! { <EndBody node=node/> }.into_any(),
    };

    view! {
        <li
            class=move || format!("node-card node-{}", kind.get().short().replace(' ', "-"))
            class:node-start=is_start
            class:node-invalid=has_problems
            id=format!("node-{key}")
            data-testid="node"
            data-node-id=move || id_value.get()
            data-node-type=move || kind.get().value()
        >
            <header class="node-head">
                <div class="field node-id-field">
                    <label for=fid("id")>"Node id"</label>
                    <input
                        type="text"
                        id=fid("id")
                        data-field="id"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || id_value.get()
                        on:input=move |ev| {
                            let new = event_target_value(&ev);
                            let old = id_value.get_untracked();
                            id_value.set(new.clone());
                            draft.rename(key, &old, &new);
                        }
                    />
                </div>
                <div class="field node-kind-field">
                    <label for=fid("kind")>"Type"</label>
                    <select
                        id=fid("kind")
                        data-field="kind"
                        on:change=move |ev| {
                            if let Some(k) = Kind::from_value(&event_target_value(&ev)) {
                                draft.set_kind(node, k);
                            }
                        }
                    >
                        {Kind::ALL
                            .into_iter()
                            .map(|k| view! {
                                <option value=k.value() prop:selected=move || kind.get() == k>{k.label()}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="node-tools">
                    {move || if is_start() {
                        view! { <span class="tag tag-start" data-testid="start-tag">"Start"</span> }.into_any()
                    } else {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost btn-small"
                                data-action="make-start"
                                on:click=move |_| draft.start.set(id_value.get_untracked())
                            >
                                "Make start"
                            </button>
                        }
                        .into_any()
                    }}
                    <button
                        type="button"
                        class="btn btn-ghost btn-icon"
                        data-action="move-up"
                        aria-label=move || format!("Move {} up", name())
                        title="Move up"
                        on:click=move |_| draft.shift(key, -1)
                    >
                        "↑"
                    </button>
                    <button
                        type="button"
                        class="btn btn-ghost btn-icon"
                        data-action="move-down"
                        aria-label=move || format!("Move {} down", name())
                        title="Move down"
                        on:click=move |_| draft.shift(key, 1)
                    >
                        "↓"
                    </button>
                    <button
                        type="button"
                        class="btn btn-ghost btn-small btn-danger-text"
                        data-action="remove"
                        aria-label=move || format!("Remove {}", name())
                        on:click=move |_| draft.remove(key)
                    >
                        "Remove"
                    </button>
                </div>
            </header>
            <NodeProblems node=node issues=issues/>
            {body}
        </li>
    }
}

#[component]
fn QuestionBody(draft: Draft, node: NodeDraft, qt: QuestionType) -> impl IntoView {
    let key = node.key;
    let fid = move |what: &str| format!("node-{key}-{what}");
    let limits = match qt {
        QuestionType::Text => view! {
            <div class="limits">
                <Limit id=fid("min") label="Shortest answer (characters)" value=node.min field="min"/>
                <Limit id=fid("max") label="Longest answer (characters)" value=node.max field="max"/>
                <Check id=fid("multiline") label="Several lines" value=node.multiline field="multiline"/>
            </div>
        }
        .into_any(),
        QuestionType::MultipleChoice => view! {
            <div class="limits">
                <Limit id=fid("min") label="Fewest selections" value=node.min field="min"/>
                <Limit id=fid("max") label="Most selections" value=node.max field="max"/>
            </div>
        }
        .into_any(),
        QuestionType::ImageUpload => view! {
            <div class="limits">
                <Limit id=fid("max") label="Most images (1–10)" value=node.max field="max"/>
            </div>
        }
        .into_any(),
        QuestionType::SingleChoice => ().into_any(),
    };
    let choice = matches!(
        qt,
        QuestionType::SingleChoice | QuestionType::MultipleChoice
    );
    let single = qt == QuestionType::SingleChoice;
    let (next_label, none) = if single {
        (
            "Options without their own target (and a skipped answer) go to",
            "Nowhere: every option chooses",
        )
    } else {
        ("Then go to", "Choose a node…")
    };
    view! {
        <div class="node-body">
            <Text id=fid("title") label="Question" value=node.title field="title" placeholder="What should the customer answer?"/>
            <Text id=fid("help") label="Help text (optional)" value=node.help field="help" multiline=true/>
            <Check id=fid("required") label="An answer is required" value=node.required field="required"/>
            {limits}
            {choice.then(|| view! { <Options draft=draft node=node single=single/> })}
            <TargetSelect draft=draft own=key value=node.next id=fid("next") label=next_label field="next" none=none/>
        </div>
    }
}

#[component]
fn Options(draft: Draft, node: NodeDraft, single: bool) -> impl IntoView {
    let key = node.key;
    let options = node.options;
    let rows = move || options.get();
    view! {
        <fieldset class="options-editor">
            <legend>"Options"</legend>
            <ol class="option-list">
                <For each=rows key=|o| o.key let:option>
                    <OptionRow draft=draft node=key options=options option=option single=single/>
                </For>
            </ol>
            <button
                type="button"
                class="btn btn-secondary btn-small"
                data-action="add-option"
                on:click=move |_| {
                    let o = draft.new_option();
                    options.update(|list| list.push(o));
                }
            >
                "Add option"
            </button>
        </fieldset>
    }
}

#[component]
fn OptionRow(
    draft: Draft,
    node: u64,
    options: RwSignal<Vec<OptionDraft>>,
    option: OptionDraft,
    single: bool,
) -> impl IntoView {
    let k = option.key;
    let fid = move |what: &str| format!("option-{k}-{what}");
    let position = move || options.with(|l| l.iter().position(|o| o.key == k).unwrap_or(0));
    let what = move || format!("option {}", position() + 1);
    view! {
        <li class="option-row" data-testid="option" data-index=move || position().to_string()>
            <div class="field">
                <label for=fid("label")>"Label"</label>
                <input
                    type="text"
                    id=fid("label")
                    data-field="option-label"
                    autocomplete="off"
                    prop:value=move || option.label.get()
                    on:input=move |ev| {
                        let label = event_target_value(&ev);
                        if option.value_follows_label.get_untracked() {
                            option.value.set(slug(&label));
                        }
                        option.label.set(label);
                    }
                />
            </div>
            <div class="field">
                <label for=fid("value")>"Value"</label>
                <input
                    type="text"
                    id=fid("value")
                    data-field="option-value"
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || option.value.get()
                    on:input=move |ev| {
                        option.value_follows_label.set(false);
                        option.value.set(event_target_value(&ev));
                    }
                />
            </div>
            {single.then(|| view! {
                <TargetSelect
                    draft=draft
                    own=node
                    value=option.next
                    id=fid("next")
                    label="Leads to"
                    field="option-next"
                    none="The question's target"
                />
            })}
            <RowTools
                what=Signal::derive(what)
                prefix="option"
                on_move=Callback::new(move |d| options.update(|l| move_by(l, |o| o.key == k, d)))
                on_remove=Callback::new(move |()| options.update(|l| l.retain(|o| o.key != k)))
            />
        </li>
    }
}

#[component]
fn ConditionBody(draft: Draft, node: NodeDraft) -> impl IntoView {
    let key = node.key;
    let fid = move |what: &str| format!("node-{key}-{what}");
    let branches = node.branches;
    view! {
        <div class="node-body">
            <Text id=fid("title") label="Label (only you see it)" value=node.title field="title"/>
            <p class="field-hint">"The first branch whose rules match decides where the customer goes next."</p>
            <ol class="branch-list">
                <For each=move || branches.get() key=|b| b.key let:branch>
                    <BranchCard draft=draft node=key branches=branches branch=branch/>
                </For>
            </ol>
            <button
                type="button"
                class="btn btn-secondary btn-small"
                data-action="add-branch"
                on:click=move |_| {
                    let first_question = draft.nodes.with_untracked(|n| {
                        n.iter()
                            .find(|d| matches!(d.kind.get_untracked(), Kind::Question(_)))
                            .map(|d| d.id.get_untracked())
                            .unwrap_or_default()
                    });
                    let b = draft.new_branch(&first_question);
                    branches.update(|l| l.push(b));
                }
            >
                "Add branch"
            </button>
            <TargetSelect draft=draft own=key value=node.default id=fid("default") label="Otherwise go to" field="default"/>
        </div>
    }
}

#[component]
fn BranchCard(
    draft: Draft,
    node: u64,
    branches: RwSignal<Vec<BranchDraft>>,
    branch: BranchDraft,
) -> impl IntoView {
    let k = branch.key;
    let fid = move |what: &str| format!("branch-{k}-{what}");
    let position = move || branches.with(|l| l.iter().position(|b| b.key == k).unwrap_or(0));
    let rules = branch.rules;
    view! {
        <li class="branch" data-testid="branch" data-index=move || position().to_string()>
            <div class="branch-head">
                <strong>{move || format!("Branch {}", position() + 1)}</strong>
                <div class="field field-inline">
                    <label for=fid("match")>"Match"</label>
                    <select
                        id=fid("match")
                        data-field="branch-match"
                        on:change=move |ev| branch.mode.set(if event_target_value(&ev) == "any" { MatchMode::Any } else { MatchMode::All })
                    >
                        <option value="all" prop:selected=move || branch.mode.get() == MatchMode::All>"all rules"</option>
                        <option value="any" prop:selected=move || branch.mode.get() == MatchMode::Any>"any rule"</option>
                    </select>
                </div>
                <RowTools
                    what=Signal::derive(move || format!("branch {}", position() + 1))
                    prefix="branch"
                    on_move=Callback::new(move |d| branches.update(|l| move_by(l, |b| b.key == k, d)))
                    on_remove=Callback::new(move |()| branches.update(|l| l.retain(|b| b.key != k)))
                />
            </div>
            <ol class="rule-list">
                <For each=move || rules.get() key=|r| r.key let:rule>
                    <RuleRow draft=draft rules=rules rule=rule/>
                </For>
            </ol>
            <div class="branch-foot">
                <button
                    type="button"
                    class="btn btn-ghost btn-small"
                    data-action="add-rule"
                    on:click=move |_| {
                        let node = rules.with_untracked(|r| r.last().map(|r| r.node.get_untracked())).unwrap_or_default();
                        let r = draft.new_rule(&node);
                        rules.update(|l| l.push(r));
                    }
                >
                    "Add rule"
                </button>
                <TargetSelect draft=draft own=node value=branch.next id=fid("next") label="Then go to" field="branch-next"/>
            </div>
        </li>
    }
}

fn op_label(op: RuleOp) -> &'static str {
    match op {
        RuleOp::Equals => "is",
        RuleOp::NotEquals => "is not",
        RuleOp::Contains => "contains",
        RuleOp::AnyOf => "is one of",
        RuleOp::IsEmpty => "was skipped",
        RuleOp::IsNotEmpty => "was answered",
    }
}

const OPS: [RuleOp; 6] = [
    RuleOp::Equals,
    RuleOp::NotEquals,
    RuleOp::Contains,
    RuleOp::AnyOf,
    RuleOp::IsEmpty,
    RuleOp::IsNotEmpty,
];

#[component]
fn RuleRow(draft: Draft, rules: RwSignal<Vec<RuleDraft>>, rule: RuleDraft) -> impl IntoView {
    let k = rule.key;
    let fid = move |what: &str| format!("rule-{k}-{what}");
    // The questions a rule can test, and the option values of the one it tests.
    let questions = Memo::new(move |_| {
        draft.nodes.with(|n| {
            n.iter()
                .filter(|d| matches!(d.kind.get(), Kind::Question(_)))
                .map(|d| d.id.get())
                .collect::<Vec<_>>()
        })
    });
    let tested = Memo::new(move |_| {
        let id = rule.node.get();
        draft.nodes.with(|n| {
            n.iter().find(|d| d.id.get() == id).map(|d| {
                let values = d
                    .options
                    .with(|os| os.iter().map(|o| o.value.get()).collect::<Vec<_>>());
                (d.kind.get(), values)
            })
        })
    });
    let node_options = move || {
        let current = rule.node.get();
        let list = questions.get();
        let mut out = vec![
            view! {
                <option value="" prop:selected=current.is_empty()>"Choose a question…"</option>
            }
            .into_any(),
        ];
        if !current.is_empty() && !list.contains(&current) {
            let shown = format!("{current} (not a question)");
            out.push(
                view! { <option value=current.clone() prop:selected=true>{shown}</option> }
                    .into_any(),
            );
        }
        for id in list {
            let selected = id == current;
            out.push(
                view! { <option value=id.clone() prop:selected=selected>{id.clone()}</option> }
                    .into_any(),
            );
        }
        out
    };
    let list_value =
        move || takes_list(rule.op.get(), tested.with(|t| t.as_ref().map(|(k, _)| *k)));
    let values_id = fid("values");
    let hint = move || {
        if list_value() {
            "Separate several values with commas."
        } else {
            match tested.with(|t| t.as_ref().map(|(k, _)| *k)) {
                Some(k) if k.is_choice() => "An option value.",
                _ => "Compared without regard to case.",
            }
        }
    };
    view! {
        <li class="rule" data-testid="rule">
            <div class="field">
                <label for=fid("node")>"Answer to"</label>
                <select id=fid("node") data-field="rule-node" on:change=move |ev| rule.node.set(event_target_value(&ev))>
                    {node_options}
                </select>
            </div>
            <div class="field">
                <label for=fid("op")>"Test"</label>
                <select
                    id=fid("op")
                    data-field="rule-op"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(op) = OPS.into_iter().find(|o| o.as_str() == v) {
                            rule.op.set(op);
                        }
                    }
                >
                    {OPS.into_iter().map(|op| view! {
                        <option value=op.as_str() prop:selected=move || rule.op.get() == op>{op_label(op)}</option>
                    }).collect_view()}
                </select>
            </div>
            <Show when=move || takes_value(rule.op.get())>
                <div class="field">
                    <label for=fid("value")>"Value"</label>
                    <input
                        type="text"
                        id=fid("value")
                        data-field="rule-value"
                        list=values_id.clone()
                        autocomplete="off"
                        prop:value=move || rule.value.get()
                        on:input=move |ev| rule.value.set(event_target_value(&ev))
                    />
                    <datalist id=values_id.clone()>
                        {move || tested.get().map(|(_, values)| values.into_iter().map(|v| view! { <option value=v></option> }).collect_view())}
                    </datalist>
                    <p class="field-hint">{hint}</p>
                </div>
            </Show>
            <button
                type="button"
                class="btn btn-ghost btn-icon btn-danger-text"
                data-action="rule-remove"
                aria-label="Remove this rule"
                title="Remove this rule"
                on:click=move |_| rules.update(|l| l.retain(|r| r.key != k))
            >
                "✕"
            </button>
        </li>
    }
}

#[component]
fn EndBody(node: NodeDraft) -> impl IntoView {
    let key = node.key;
    let fid = move |what: &str| format!("node-{key}-{what}");
    let priority_id = fid("priority");
    view! {
        <div class="node-body">
            <div class="grid-2">
                <Text id=fid("category") label="Category" value=node.category field="category" placeholder="e.g. orders/damaged"/>
                <div class="field">
                    <label for=priority_id.clone()>"Priority"</label>
                    <select
                        id=priority_id.clone()
                        data-field="priority"
                        on:change=move |ev| {
                            if let Ok(p) = event_target_value(&ev).parse::<Priority>() {
                                node.priority.set(p);
                            }
                        }
                    >
                        {Priority::ALL.into_iter().rev().map(|p| view! {
                            <option value=p.as_str() prop:selected=move || node.priority.get() == p>{priority_label(p)}</option>
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <Text
                id=fid("subject")
                label="Ticket subject"
                value=node.subject
                field="subject"
                placeholder="e.g. Damaged item in order {order-number}"
                hint="{node-id} puts in the answer to that question; {{ and }} write a brace."
            />
            <Text
                id=fid("tags")
                label="Tags"
                value=node.tags
                field="tags"
                placeholder="e.g. damaged, orders"
                hint="Comma-separated, lower-case letters, digits and -_./; the ticket gets them."
            />
        </div>
    }
}
