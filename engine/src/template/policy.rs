//! What a payload template may be. Handlebars was built for trusted templates; a
//! designer's is not, so before anything compiles it must be small enough, shallow
//! enough and free of the features that recurse (partials, inline partials, decorators).
//!
//! The size limits also bound compile time: the handlebars compiler looks up the line
//! and column of every element from the start of the source, so compiling costs about
//! (elements × length); 500 expressions in 16 KiB keep one string to a few milliseconds.

use handlebars::template::{Template, TemplateElement};

/// The longest template string, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 16 * 1024;
/// The most `{{…}}` expressions in one template string.
pub const MAX_EXPRESSIONS: usize = 500;
/// How deep blocks (`{{#if}}`, `{{#each}}`…) and sub-expressions may nest.
pub const MAX_NESTING: usize = 16;

/// Compiles `source` if it is within the limits and uses no recursive feature.
pub fn compile(source: &str) -> Result<Template, String> {
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the template is {} bytes; the limit is {MAX_TEMPLATE_BYTES}",
            source.len()
        ));
    }
    let expressions = source.matches("{{").count();
    if expressions > MAX_EXPRESSIONS {
        return Err(format!(
            "the template has {expressions} expressions; the limit is {MAX_EXPRESSIONS}"
        ));
    }
    // The parser recurses once per nested block or parenthesis: bound it before parsing.
    if nesting(source) > MAX_NESTING {
        return Err(format!(
            "blocks or sub-expressions nest deeper than {MAX_NESTING} levels"
        ));
    }
    let template = Template::compile(source).map_err(|err| err.to_string())?;
    refuse_recursion(&template)?;
    Ok(template)
}

/// The deepest nesting of `{{#…}}` blocks and of parentheses, counted over the text.
fn nesting(source: &str) -> usize {
    let (mut blocks, mut parens, mut deepest) = (0usize, 0usize, 0usize);
    let bytes = source.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' => parens += 1,
            b')' => parens = parens.saturating_sub(1),
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                let rest = &bytes[i + 2..];
                let rest = rest.strip_prefix(b"~").unwrap_or(rest);
                match rest {
                    // `{{#if}}`, and inverse blocks `{{^if}}` (a bare `{{^}}` is an else).
                    [b'#', ..] => blocks += 1,
                    [b'^', next, ..] if *next != b'}' && *next != b'~' => blocks += 1,
                    [b'/', ..] => blocks = blocks.saturating_sub(1),
                    _ => {}
                }
            }
            _ => {}
        }
        deepest = deepest.max(blocks).max(parens);
    }
    deepest
}

fn refuse_recursion(template: &Template) -> Result<(), String> {
    for element in &template.elements {
        match element {
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                return Err("partials ({{> name}}) are not available in payload templates".into())
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                return Err(
                    "decorators and inline partials ({{* …}}) are not available in payload \
                     templates"
                        .into(),
                )
            }
            TemplateElement::HelperBlock(helper) => {
                for inner in [&helper.template, &helper.inverse].into_iter().flatten() {
                    refuse_recursion(inner)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_and_inline_partials_are_refused() {
        assert!(compile(r#"{{#*inline "p"}}x{{> p}}{{/inline}}{{> p}}"#).is_err());
        assert!(compile("{{> other}}").is_err());
        assert!(compile("{{#if a}}{{#> layout}}x{{/layout}}{{/if}}").is_err());
        assert!(compile("{{#if a}}{{job.id}}{{else}}none{{/if}}").is_ok());
    }

    #[test]
    fn size_count_and_nesting_are_limited() {
        assert!(compile(&"x".repeat(MAX_TEMPLATE_BYTES + 1)).is_err());
        assert!(compile(&"{{a}}".repeat(MAX_EXPRESSIONS + 1)).is_err());
        let deep = format!("{}x{}", "{{#if a}}".repeat(17), "{{/if}}".repeat(17));
        assert!(compile(&deep).unwrap_err().contains("nest"));
        let parens = format!("{{{{a {}b{}}}}}", "(".repeat(40), ")".repeat(40));
        assert!(compile(&parens).unwrap_err().contains("nest"));
        let inverse = format!("{}x{}", "{{^a}}".repeat(17), "{{/a}}".repeat(17));
        assert!(compile(&inverse).unwrap_err().contains("nest"));
        assert!(compile("{{#if a}}x{{^}}y{{/if}}").is_ok());
        let ok = format!("{}x{}", "{{#if a}}".repeat(16), "{{/if}}".repeat(16));
        assert!(compile(&ok).is_ok());
    }
}
