//! Latency percentiles and throughput of one measurement.

use std::time::Duration;

use serde::Serialize;

/// What one measured phase produced.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    pub name: String,
    pub concurrency: usize,
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Figures {
    /// Figures from counts, the elapsed time and the latencies observed.
    pub fn new(
        name: &str,
        concurrency: usize,
        ok: u64,
        errors: u64,
        elapsed: Duration,
        mut latencies: Vec<Duration>,
    ) -> Figures {
        latencies.sort_unstable();
        let pick = |q: f64| -> Option<f64> {
            if latencies.is_empty() {
                return None;
            }
            let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            Some(ms(latencies[i]))
        };
        let seconds = elapsed.as_secs_f64();
        Figures {
            name: name.into(),
            concurrency,
            ok,
            errors,
            seconds,
            per_second: if seconds > 0.0 {
                ok as f64 / seconds
            } else {
                0.0
            },
            p50_ms: pick(0.50),
            p99_ms: pick(0.99),
            max_ms: latencies.last().map(|d| ms(*d)),
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_from_the_sorted_latencies() {
        let lat = (1..=100).map(Duration::from_millis).collect();
        let f = Figures::new("x", 1, 100, 0, Duration::from_secs(2), lat);
        assert_eq!(f.per_second, 50.0);
        assert_eq!(f.p50_ms, Some(51.0));
        assert_eq!(f.p99_ms, Some(99.0));
        assert_eq!(f.max_ms, Some(100.0));
    }
}
