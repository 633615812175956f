//! Percentiles over latency samples.

use serde::Serialize;

/// A summary of samples in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest.
    pub max_us: f64,
    /// Mean.
    pub mean_us: f64,
}

/// Summarises `samples` (microseconds); all zero when there are none.
///
/// ```
/// let s = link_benches::stats::summarize(&mut vec![3.0, 1.0, 2.0]);
/// assert_eq!((s.count, s.p50_us, s.max_us), (3, 2.0, 3.0));
/// ```
pub fn summarize(samples: &mut [f64]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        // Nearest rank: the smallest sample with at least q of the samples at or below it.
        let rank = (q * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1]
    };
    Summary {
        count: samples.len(),
        p50_us: at(0.50),
        p90_us: at(0.90),
        p99_us: at(0.99),
        max_us: samples[samples.len() - 1],
        mean_us: samples.iter().sum::<f64>() / samples.len() as f64,
    }
}
