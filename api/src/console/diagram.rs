//! The state machine as an inline SVG diagram, laid out on the server.
//!
//! States are placed in rows by their distance from the initial state (breadth first), so
//! the diagram reads top to bottom in the order jobs move, and every forward edge crosses
//! exactly one gap between rows (where its label sits); a row wraps after [`ROW_WIDTH`]
//! states, and states within a row are ordered by where their predecessors sit, which
//! keeps most edges short and uncrossed. Edges along a row arc over the top, edges back up
//! bend out to the right, and a transition to its own state loops on the right.
//! Every label is a link that opens the transition in the designer. Every name is
//! escaped: the SVG is built as text and inserted as markup.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write;

use switchyard_engine::definition::WorkflowDefinition;

/// States per row before the row wraps.
const ROW_WIDTH: usize = 8;
const NODE_W: i32 = 170;
const NODE_H: i32 = 44;
const GAP_X: i32 = 80;
const GAP_Y: i32 = 90;
const MARGIN: i32 = 40;
/// Longest name drawn in full; longer ones are cut (the full name is the node's title).
const MAX_LABEL: usize = 20;

/// Where a state is drawn: its top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    pub x: i32,
    pub y: i32,
}

/// The layout: each state's place, and the drawing's size.
#[derive(Debug)]
pub struct Layout {
    pub places: HashMap<String, Place>,
    pub width: i32,
    pub height: i32,
}

/// Escapes text for XML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn short(name: &str) -> String {
    if name.chars().count() <= MAX_LABEL {
        name.to_string()
    } else {
        let cut: String = name.chars().take(MAX_LABEL - 1).collect();
        format!("{cut}…")
    }
}

/// Rows of states: breadth first from the initial state; unreachable states last.
fn layers(def: &WorkflowDefinition) -> Vec<Vec<String>> {
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut queue = VecDeque::from([def.initial.as_str()]);
    depth.insert(def.initial.as_str(), 0);
    while let Some(state) = queue.pop_front() {
        let d = depth[state];
        for t in def.allowed_from(state) {
            if !depth.contains_key(t.to.as_str()) && def.state(&t.to).is_some() {
                depth.insert(t.to.as_str(), d + 1);
                queue.push_back(t.to.as_str());
            }
        }
    }
    let deepest = depth.values().copied().max().unwrap_or(0);
    let mut rows: Vec<Vec<String>> = vec![Vec::new(); deepest + 2];
    for s in &def.states {
        let d = depth.get(s.name.as_str()).copied().unwrap_or(deepest + 1);
        rows[d].push(s.name.clone());
    }
    rows.retain(|r| !r.is_empty());
    // Order each row by the mean position of its predecessors in the rows above.
    let mut column: HashMap<String, f64> = HashMap::new();
    for row in &mut rows {
        let key = |name: &String| {
            let preds: Vec<f64> = def
                .transitions
                .iter()
                .filter(|t| &t.to == name)
                .flat_map(|t| t.from.iter())
                .filter_map(|f| column.get(f).copied())
                .collect();
            if preds.is_empty() {
                f64::MAX
            } else {
                preds.iter().sum::<f64>() / preds.len() as f64
            }
        };
        let mut keyed: Vec<(f64, String)> = row.iter().map(|n| (key(n), n.clone())).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        *row = keyed.into_iter().map(|(_, n)| n).collect();
        for (i, n) in row.iter().enumerate() {
            column.insert(n.clone(), i as f64);
        }
    }
    // Wrap wide rows.
    rows.into_iter()
        .flat_map(|row| {
            row.chunks(ROW_WIDTH)
                .map(<[String]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Places every state of `def`.
pub fn layout(def: &WorkflowDefinition) -> Layout {
    let rows = layers(def);
    let widest = rows.iter().map(Vec::len).max().unwrap_or(1) as i32;
    let width = 2 * MARGIN + widest * NODE_W + (widest - 1).max(0) * GAP_X + NODE_W / 2;
    let mut places = HashMap::new();
    for (r, row) in rows.iter().enumerate() {
        let n = row.len() as i32;
        let row_width = n * NODE_W + (n - 1) * GAP_X;
        let left = (width - NODE_W / 2 - row_width) / 2;
        for (i, name) in row.iter().enumerate() {
            places.insert(
                name.clone(),
                Place {
                    x: left + i as i32 * (NODE_W + GAP_X),
                    y: MARGIN + r as i32 * (NODE_H + GAP_Y),
                },
            );
        }
    }
    let height = 2 * MARGIN + rows.len() as i32 * (NODE_H + GAP_Y) - GAP_Y;
    Layout {
        places,
        width,
        height,
    }
}

/// Draws `def` as an `<svg>` element. `current` marks a job's state; `link` makes each
/// transition label a link into the designer.
pub fn draw(def: &WorkflowDefinition, current: Option<&str>, link: bool) -> String {
    let layout = layout(def);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="diagram" role="img" aria-labelledby="diagram-title" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title id="diagram-title">{title}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>"#,
        w = layout.width,
        h = layout.height,
        title = esc(&format!("State diagram of {}", def.name)),
    );
    // Edges first, so states and labels sit on top of them.
    let mut labels = String::new();
    let mut seen: HashMap<(i32, i32), i32> = HashMap::new();
    for t in &def.transitions {
        let Some(to) = layout.places.get(&t.to) else {
            continue;
        };
        for from_name in &t.from {
            let Some(from) = layout.places.get(from_name) else {
                continue;
            };
            let (path, lx, ly) = edge(*from, *to);
            let _ = write!(
                svg,
                r#"<path class="edge" d="{path}" marker-end="url(#arrow)"/>"#
            );
            // Labels that would land on the same spot stack downwards.
            let slot = seen.entry((lx / 20, ly / 20)).or_insert(0);
            let ly = ly + *slot * 18;
            *slot += 1;
            let name = esc(&t.name);
            let text = format!(
                r#"<text class="edge-label" x="{lx}" y="{ly}" text-anchor="middle">{}</text>"#,
                esc(&short(&t.name))
            );
            if link {
                let _ = write!(
                    labels,
                    r##"<a href="#transition-{name}" data-transition="{name}" aria-label="Transition {name} from {} to {}">{text}</a>"##,
                    esc(from_name),
                    esc(&t.to),
                );
            } else {
                labels.push_str(&text);
            }
        }
    }
    for s in &def.states {
        let Some(p) = layout.places.get(&s.name) else {
            continue;
        };
        // What is special about the state: its CSS classes and its title say the same.
        let kinds: Vec<&str> = [
            (s.name == def.initial, "initial"),
            (s.terminal, "terminal"),
            (current == Some(s.name.as_str()), "current"),
        ]
        .into_iter()
        .filter_map(|(is, kind)| is.then_some(kind))
        .collect();
        let class = format!("state {}", kinds.join(" "));
        let class = class.trim_end();
        let title = if kinds.is_empty() {
            s.name.clone()
        } else {
            format!("{} ({})", s.name, kinds.join(", "))
        };
        let _ = write!(
            svg,
            r#"<g class="{class}" data-state="{name}"><title>{title}</title><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8"/>"#,
            name = esc(&s.name),
            title = esc(&title),
            x = p.x,
            y = p.y,
        );
        if s.terminal {
            let _ = write!(
                svg,
                r#"<rect class="inner" x="{}" y="{}" width="{}" height="{}" rx="6"/>"#,
                p.x + 4,
                p.y + 4,
                NODE_W - 8,
                NODE_H - 8
            );
        }
        if s.name == def.initial {
            let _ = write!(
                svg,
                r#"<circle class="start" cx="{}" cy="{}" r="6"/><path class="edge" d="M{} {} L{} {}" marker-end="url(#arrow)"/>"#,
                p.x - 26,
                p.y + NODE_H / 2,
                p.x - 20,
                p.y + NODE_H / 2,
                p.x,
                p.y + NODE_H / 2
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" dominant-baseline="central">{}</text></g>"#,
            p.x + NODE_W / 2,
            p.y + NODE_H / 2,
            esc(&short(&s.name))
        );
    }
    svg.push_str(&labels);
    svg.push_str("</svg>");
    svg
}

/// The path of an edge from `a` to `b`, and where its label goes.
fn edge(a: Place, b: Place) -> (String, i32, i32) {
    if a == b {
        // A loop on the right side of the state.
        let x = a.x + NODE_W;
        let (y1, y2) = (a.y + 10, a.y + NODE_H - 10);
        return (
            format!(
                "M{x} {y1} C{} {} {} {} {x} {y2}",
                x + 50,
                y1 - 20,
                x + 50,
                y2 + 20
            ),
            x + 40,
            a.y + NODE_H / 2 + 4,
        );
    }
    if b.y > a.y {
        // Down to a later row: bottom centre to top centre, gently curved.
        let (x1, y1) = (a.x + NODE_W / 2, a.y + NODE_H);
        let (x2, y2) = (b.x + NODE_W / 2, b.y);
        let (cx, cy) = ((x1 + x2) / 2, (y1 + y2) / 2);
        return (
            format!("M{x1} {y1} Q{x1} {cy} {cx} {cy} T{x2} {y2}"),
            cx,
            cy - 4,
        );
    }
    if b.y == a.y {
        // Along a row: an arc over the top, from top centre to top centre.
        let (x1, x2, y) = (a.x + NODE_W / 2 + 10, b.x + NODE_W / 2 - 10, a.y);
        let mx = (x1 + x2) / 2;
        let lift = 30 + (x2 - x1).abs() / 12;
        return (
            format!("M{x1} {y} Q{mx} {} {x2} {y}", y - 2 * lift),
            mx,
            y - lift - 4,
        );
    }
    // Back up: leave from the right side and bend out to the right.
    let (x1, y1) = (a.x + NODE_W, a.y + NODE_H / 2 + 6);
    let (x2, y2) = (b.x + NODE_W, b.y + NODE_H / 2 - 6);
    let bend = x1.max(x2) + 40 + (a.y - b.y).abs() / 6;
    let cy = (y1 + y2) / 2;
    (
        format!("M{x1} {y1} C{bend} {y1} {bend} {y2} {x2} {y2}"),
        bend - 8,
        cy + 4,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> WorkflowDefinition {
        let states: Vec<_> = (0..n)
            .map(|i| json!({"name": format!("s{i}"), "terminal": i == n - 1}))
            .collect();
        let mut transitions: Vec<_> = (0..n - 1)
            .map(|i| json!({"name": format!("t{i}"), "from": [format!("s{i}")], "to": format!("s{}", i + 1)}))
            .collect();
        // A fan-out from the initial state and a way back.
        for i in 2..n.min(9) {
            transitions
                .push(json!({"name": format!("jump{i}"), "from": ["s0"], "to": format!("s{i}")}));
        }
        transitions.push(json!({"name": "restart", "from": ["s3"], "to": "s0"}));
        serde_json::from_value(
            json!({"name": "big", "initial": "s0", "states": states, "transitions": transitions}),
        )
        .unwrap()
    }

    #[test]
    fn thirty_states_each_get_their_own_place_inside_the_drawing() {
        let def = chain(30);
        let layout = layout(&def);
        assert_eq!(layout.places.len(), 30);
        let places: Vec<_> = layout.places.values().collect();
        for (i, a) in places.iter().enumerate() {
            assert!(a.x >= 0 && a.y >= 0);
            assert!(a.x + NODE_W <= layout.width && a.y + NODE_H <= layout.height);
            for b in &places[i + 1..] {
                let apart = (a.x - b.x).abs() >= NODE_W + GAP_X / 2
                    || (a.y - b.y).abs() >= NODE_H + GAP_Y / 2;
                assert!(apart, "{a:?} and {b:?} overlap");
            }
        }
        // Rows wrap, so the drawing stays within a screen's width.
        assert!(layout.width <= 2 * MARGIN + ROW_WIDTH as i32 * (NODE_W + GAP_X) + NODE_W);
    }

    #[test]
    fn the_initial_state_is_on_top_and_marked_and_terminal_states_marked() {
        let def = chain(4);
        let layout = layout(&def);
        let top = layout.places.values().map(|p| p.y).min().unwrap();
        assert_eq!(layout.places["s0"].y, top);
        let svg = draw(&def, Some("s1"), true);
        assert!(svg.contains(r#"class="state initial""#));
        assert!(svg.contains(r#"class="state terminal""#));
        assert!(svg.contains(r#"class="state current""#));
        assert!(svg.contains(r##"href="#transition-t0""##));
    }

    #[test]
    fn names_are_escaped() {
        let def: WorkflowDefinition = serde_json::from_value(json!({
            "name": "<img src=x onerror=alert(1)>",
            "initial": "<b>a</b>",
            "states": [{"name": "<b>a</b>"}, {"name": "b\"'&"}],
            "transitions": [{"name": "<script>", "from": ["<b>a</b>"], "to": "b\"'&"}]
        }))
        .unwrap();
        let svg = draw(&def, None, true);
        assert!(!svg.contains("<img") && !svg.contains("<b>") && !svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;") && svg.contains("b&quot;&#39;&amp;"));
    }
}
