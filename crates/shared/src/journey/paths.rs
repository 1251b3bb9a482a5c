//! Enumerating the structural paths of a valid journey (for tests, previews and the editor).

use super::model::{JourneyDefinition, Node};
use super::validate::successors;

/// Depth-first enumeration of start-to-end paths, at most `max` of them. Iterative, at most
/// `nodes.len()` deep and at most [`STEP_BUDGET`] steps, so it terminates quickly even on an
/// invalid (cyclic, end-less) document. On a valid document every explored prefix leads to an
/// end, so the budget is never reached for sensible `max`.
/// Most push/pop steps one enumeration may take.
const STEP_BUDGET: usize = 1_000_000;

pub(crate) fn enumerate(def: &JourneyDefinition, max: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let Some((start, start_node)) = def.nodes.get_key_value(def.start_node.as_str()) else {
        return out;
    };
    // (node id, its successors, index of the next successor to try)
    let mut stack: Vec<(&str, Vec<&str>, usize)> =
        vec![(start.as_str(), successors(start_node), 0)];
    let mut steps = 0usize;
    while out.len() < max && steps < STEP_BUDGET {
        steps += 1;
        let Some(top) = stack.last_mut() else { break };
        let (id, succ, i) = (top.0, &top.1, top.2);
        if matches!(def.nodes.get(id), Some(Node::End(_))) {
            out.push(stack.iter().map(|(n, _, _)| (*n).to_owned()).collect());
            stack.pop();
            continue;
        }
        let Some(&target) = succ.get(i) else {
            stack.pop();
            continue;
        };
        top.2 += 1;
        if stack.len() >= def.nodes.len() {
            continue;
        }
        if let Some((tid, node)) = def.nodes.get_key_value(target) {
            stack.push((tid.as_str(), successors(node), 0));
        }
    }
    out
}
