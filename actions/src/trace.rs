//! W3C Trace Context on every outgoing action and delivery request (`traceparent`), so a
//! receiver can correlate what it gets with its own traces. The trace id is the action
//! run's (or delivery's) id, the same on every attempt; the parent id is new for each
//! attempt.

use rand::RngCore;

/// `00-<trace id>-<parent id>-01` for the item `id` (a UUID).
pub fn traceparent(id: &str) -> String {
    let hex: String = id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // The specification forbids an all-zero id; anything but a UUID gets a random one.
    let trace = if hex.len() == 32 && hex.bytes().any(|b| b != b'0') {
        hex
    } else {
        format!(
            "{:032x}",
            nonzero(
                || u128::from(rand::rng().next_u64()) << 64 | u128::from(rand::rng().next_u64())
            )
        )
    };
    let parent = nonzero(|| rand::rng().next_u64());
    format!("00-{trace}-{parent:016x}-01")
}

fn nonzero<T: PartialEq + Default>(mut draw: impl FnMut() -> T) -> T {
    loop {
        let value = draw();
        if value != T::default() {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_id_is_the_items_and_the_parent_is_new_each_time() {
        let id = "0194f3c2-7a1b-7c3d-8e4f-5a6b7c8d9e0f";
        let (a, b) = (traceparent(id), traceparent(id));
        assert!(a.starts_with("00-0194f3c27a1b7c3d8e4f5a6b7c8d9e0f-") && a.ends_with("-01"));
        assert_eq!(a.len(), 55);
        assert_ne!(a, b, "a new parent id per attempt");
        let other = traceparent("not a uuid");
        assert_eq!(other.len(), 55);
        assert!(!other.contains(&"0".repeat(32)));
    }
}
