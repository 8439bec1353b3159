//! The benchmark's table and JSON.

use serde_json::{json, Value};

use super::stats::Figures;

#[derive(Default)]
pub struct Report {
    pub transitions: Vec<Figures>,
    /// Verified intake requests that each moved a job.
    pub intake: Option<Figures>,
    pub end_to_end: Option<Figures>,
    pub latency: Option<Value>,
    /// Timer lateness: `{due_per_second, timers, figures}`.
    pub timers: Option<Value>,
    pub database: Option<Figures>,
    pub http: Option<Figures>,
    /// The bench tenant's commit-to-arrival alone and next to a noisy tenant.
    pub isolation: Option<Value>,
    /// Server processes apart from the bench's own (0: served in the bench's process).
    pub processes: usize,
    /// Every process of the bench together (the bench's own and the servers').
    pub peak_rss_mib: Option<f64>,
}

impl Report {
    fn baseline_a(&self) -> f64 {
        self.database.as_ref().map_or(0.0, |f| f.per_second)
    }

    fn ratio(&self, f: Option<&Figures>) -> Option<f64> {
        let base = self.baseline_a();
        f.filter(|_| base > 0.0)
            .map(|f| (f.per_second / base * 1000.0).round() / 1000.0)
    }

    pub fn print(&self) {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        println!();
        println!(
            "{:<46} {:>5} {:>9} {:>7} {:>9} {:>9} {:>9}",
            "measurement", "conc", "per sec", "errors", "p50 ms", "p99 ms", "max ms"
        );
        let rows = self
            .transitions
            .iter()
            .chain(&self.intake)
            .chain(&self.end_to_end)
            .chain(&self.database)
            .chain(&self.http);
        for f in rows {
            println!(
                "{:<46} {:>5} {:>9.0} {:>7} {:>9} {:>9} {:>9}",
                f.name,
                f.concurrency,
                f.per_second,
                f.errors,
                opt(f.p50_ms),
                opt(f.p99_ms),
                opt(f.max_ms)
            );
        }
        if let Some(latency) = &self.latency {
            let f = &latency["figures"];
            println!(
                "{:<46} {:>5} {:>9.0} {:>7} {:>9} {:>9} {:>9}",
                "commit to arrival (offered rate)",
                "-",
                latency["offered_per_second"].as_f64().unwrap_or_default(),
                latency["failed"].as_u64().unwrap_or_default(),
                opt(f["p50_ms"].as_f64()),
                opt(f["p99_ms"].as_f64()),
                opt(f["max_ms"].as_f64())
            );
        }
        if let Some(timers) = &self.timers {
            let f = &timers["figures"];
            println!(
                "{:<46} {:>5} {:>9.0} {:>7} {:>9} {:>9} {:>9}",
                "timer lateness (timers due per second)",
                "-",
                timers["due_per_second"].as_f64().unwrap_or_default(),
                f["errors"].as_u64().unwrap_or_default(),
                opt(f["p50_ms"].as_f64()),
                opt(f["p99_ms"].as_f64()),
                opt(f["max_ms"].as_f64())
            );
        }
        if let Some(isolation) = &self.isolation {
            for (label, key) in [
                ("isolation: commit to arrival, alone", "alone"),
                (
                    "isolation: next to a 5 s-target tenant",
                    "with_noisy_neighbour",
                ),
            ] {
                let f = &isolation[key];
                println!(
                    "{:<46} {:>5} {:>9.0} {:>7} {:>9} {:>9} {:>9}",
                    label,
                    "-",
                    isolation["quiet_offered_per_second"]
                        .as_f64()
                        .unwrap_or_default(),
                    f["errors"].as_u64().unwrap_or_default(),
                    opt(f["p50_ms"].as_f64()),
                    opt(f["p99_ms"].as_f64()),
                    opt(f["max_ms"].as_f64())
                );
            }
        }
        println!();
        println!(
            "transitions (concurrency 32) / baseline (a): {}",
            opt(self.ratio(self.transitions.last()))
        );
        println!(
            "end to end / baseline (a):                   {}",
            opt(self.ratio(self.end_to_end.as_ref()))
        );
        println!(
            "isolation p99 with neighbour / alone:        {}",
            opt(self
                .isolation
                .as_ref()
                .and_then(|i| i["p99_ratio"].as_f64()))
        );
        println!(
            "peak resident memory (MiB):                  {}",
            opt(self.peak_rss_mib)
        );
        println!(
            "server processes:                            {}",
            match self.processes {
                0 => "none apart (served in the bench's process)".to_string(),
                n => n.to_string(),
            }
        );
    }

    pub fn to_json(&self) -> Value {
        json!({
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "processes": self.processes,
            "transitions": self.transitions,
            "intake": self.intake,
            "end_to_end": self.end_to_end,
            "commit_to_arrival": self.latency,
            "timer_lateness": self.timers,
            "isolation": self.isolation,
            "baseline_database": self.database,
            "baseline_http": self.http,
            "ratios": {
                "transitions_c32_over_baseline_a": self.ratio(self.transitions.last()),
                "end_to_end_over_baseline_a": self.ratio(self.end_to_end.as_ref()),
            },
            "peak_rss_mib": self.peak_rss_mib,
        })
    }
}
