//! What a load run measured, shared by the load generators in `benches/`.

use std::time::Duration;

/// Requests per second in the measured window, latency percentiles, and failed requests.
pub struct Figures {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

/// Gathers the load tasks' latencies and errors into figures for a window of `measured`.
pub async fn gather(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<(Vec<Duration>, usize)>>,
    measured: Duration,
) -> Figures {
    let mut all = Vec::new();
    let mut errors = 0;
    for task in futures_util::future::join_all(tasks).await {
        let (latencies, e) = task.expect("load task");
        all.extend(latencies);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Figures {
        rps: all.len() as f64 / measured.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors,
    }
}
