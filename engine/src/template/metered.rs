//! Rendering under a budget. Output goes through [`MeteredWriter`], which counts bytes
//! and watches the clock; `{{#each}}` is replaced by [`MeteredEach`], which counts one
//! step per iteration (an empty loop body writes nothing, so output alone cannot bound
//! it). Both draw on one [`Budget`] kept in a thread-local for the render's duration.

use std::cell::RefCell;

use handlebars::{
    BlockContext, BlockParams, Context, Helper, HelperDef, HelperResult, JsonValue, Output,
    RenderContext, RenderError, RenderErrorReason, Renderable,
};

use crate::budget::{Budget, Exceeded};

thread_local! {
    static BUDGET: RefCell<Option<Budget>> = const { RefCell::new(None) };
}

/// Runs `render` with `budget` installed for this thread; returns its result and what
/// the budget ran out of, if it did.
pub fn with_budget<T>(budget: Budget, render: impl FnOnce() -> T) -> T {
    BUDGET.with(|b| *b.borrow_mut() = Some(budget));
    let out = render();
    BUDGET.with(|b| *b.borrow_mut() = None);
    out
}

/// Charges the thread's budget, if one is installed.
pub fn charge(steps: u64, bytes: usize) -> Result<(), Exceeded> {
    BUDGET.with(|b| match b.borrow_mut().as_mut() {
        Some(budget) => {
            budget.steps(steps)?;
            budget.bytes(bytes)
        }
        None => Ok(()),
    })
}

/// Collects rendered output, charging every byte to the thread's budget.
#[derive(Default)]
pub struct MeteredWriter {
    pub out: String,
}

impl Output for MeteredWriter {
    fn write(&mut self, seg: &str) -> std::io::Result<()> {
        charge(1, seg.len()).map_err(std::io::Error::other)?;
        self.out.push_str(seg);
        Ok(())
    }
}

/// `{{#each list}}…{{else}}…{{/each}}` with `@index`, `@key`, `@first`, `@last`,
/// `this` and block params, as the built-in helper, one budget step per iteration.
pub struct MeteredEach;

impl HelperDef for MeteredEach {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg handlebars::Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("each", 0))?;
        let Some(template) = h.template() else {
            return Ok(());
        };
        let entries: Vec<(JsonValue, &JsonValue)> = match value.value() {
            JsonValue::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, v)| (JsonValue::from(i), v))
                .collect(),
            JsonValue::Object(map) => map
                .iter()
                .map(|(k, v)| (JsonValue::from(k.as_str()), v))
                .collect(),
            _ => vec![],
        };
        if entries.is_empty() {
            return match h.inverse() {
                Some(inverse) => inverse.render(r, ctx, rc, out),
                None if r.strict_mode()
                    && !value.value().is_array()
                    && !value.value().is_object() =>
                {
                    Err(RenderError::strict_error(value.relative_path()))
                }
                None => Ok(()),
            };
        }
        let is_object = value.value().is_object();
        let base_path = value.context_path().cloned();
        let mut block = BlockContext::new();
        match &base_path {
            Some(path) => *block.base_path_mut() = path.clone(),
            None => block.set_base_value(value.value().clone()),
        }
        rc.push_block(block);
        let len = entries.len();
        for (i, (key, item)) in entries.into_iter().enumerate() {
            charge(1, 0).map_err(|e| RenderErrorReason::Other(e.to_string()))?;
            if let Some(block) = rc.block_mut() {
                block.set_local_var("first", JsonValue::from(i == 0));
                block.set_local_var("last", JsonValue::from(i + 1 == len));
                block.set_local_var("index", JsonValue::from(i));
                if is_object {
                    block.set_local_var("key", key.clone());
                }
                let segment = match &key {
                    JsonValue::String(k) => k.clone(),
                    other => other.to_string(),
                };
                match &base_path {
                    Some(path) => {
                        let mut p = path.clone();
                        p.push(segment);
                        *block.base_path_mut() = p;
                    }
                    None => block.set_base_value(item.clone()),
                }
                let mut params = BlockParams::new();
                if let Some(name) = h.block_param() {
                    params.add_value(name, item.clone())?;
                } else if let Some((name, key_name)) = h.block_param_pair() {
                    params.add_value(name, item.clone())?;
                    params.add_value(key_name, key)?;
                }
                block.set_block_params(params);
            }
            template.render(r, ctx, rc, out)?;
        }
        rc.pop_block();
        Ok(())
    }
}
