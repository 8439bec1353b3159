//! Which transition a request names: by name, allowed from the job's state, or the one
//! transition that leads from it to the requested state.

use crate::definition::WorkflowDefinition;
use crate::job::refusal::{Allowed, TransitionError, TransitionRequest};

pub(super) fn choose(
    def: &WorkflowDefinition,
    state: &str,
    req: &TransitionRequest,
) -> Result<usize, TransitionError> {
    let allowed = || {
        def.allowed_from(state)
            .map(|t| Allowed {
                name: t.name.clone(),
                to: t.to.clone(),
            })
            .collect::<Vec<_>>()
    };
    match (&req.transition, &req.to) {
        (Some(_), Some(_)) | (None, None) => Err(TransitionError::Invalid {
            field: "transition",
            message: "give either \"transition\" (a name) or \"to\" (a state), not both or neither"
                .into(),
        }),
        (Some(name), None) => {
            let Some(index) = def.transitions.iter().position(|t| &t.name == name) else {
                return Err(TransitionError::UnknownTransition {
                    name: name.clone(),
                    known: def.transitions.iter().map(|t| t.name.clone()).collect(),
                });
            };
            if !def.transitions[index].from.iter().any(|f| f == state) {
                return Err(TransitionError::NotAllowed {
                    requested: format!("transition '{name}'"),
                    current_state: state.to_string(),
                    allowed: allowed(),
                });
            }
            Ok(index)
        }
        (None, Some(to)) => {
            if def.state(to).is_none() {
                return Err(TransitionError::Invalid {
                    field: "to",
                    message: format!("workflow '{}' has no state named '{to}'", def.name),
                });
            }
            let candidates: Vec<usize> = def
                .transitions
                .iter()
                .enumerate()
                .filter(|(_, t)| &t.to == to && t.from.iter().any(|f| f == state))
                .map(|(i, _)| i)
                .collect();
            match candidates.as_slice() {
                [only] => Ok(*only),
                [] => Err(TransitionError::NotAllowed {
                    requested: format!("moving to '{to}'"),
                    current_state: state.to_string(),
                    allowed: allowed(),
                }),
                many => Err(TransitionError::Ambiguous {
                    to: to.clone(),
                    candidates: many
                        .iter()
                        .map(|i| def.transitions[*i].name.clone())
                        .collect(),
                }),
            }
        }
    }
}
