//! Latency samples and what the table shows of them.

use std::time::Duration;

/// Latencies of one cell, in the order they were recorded.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    latencies: Vec<Duration>,
}

impl Samples {
    pub fn push(&mut self, latency: Duration) {
        self.latencies.push(latency);
    }

    pub fn extend(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
    }

    pub fn len(&self) -> usize {
        self.latencies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.latencies.is_empty()
    }

    /// The `p`-th percentile (0–100) by nearest rank; `None` without samples.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        percentile_of_sorted(&sorted, p)
    }
}

/// Nearest-rank percentile of an ascending slice: the smallest value with
/// at least `p` % of the samples at or below it.
pub fn percentile_of_sorted(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // ceil(p/100 * n), at least rank 1.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied()
}

/// Requests/s and latency of one load cell.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub requests: usize,
    pub errors: usize,
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Summary {
    pub fn of(samples: &Samples, errors: usize, window: Duration) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let secs = window.as_secs_f64();
        Some(Summary {
            requests: samples.len(),
            errors,
            rps: if secs > 0.0 {
                samples.len() as f64 / secs
            } else {
                0.0
            },
            p50: samples.percentile(50.0)?,
            p99: samples.percentile(99.0)?,
        })
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).copied(),
        _ => Some((sorted.get(n / 2 - 1)? + sorted.get(n / 2)?) / 2.0),
    }
}

pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut s = Samples::default();
        assert_eq!(s.percentile(50.0), None);
        // Pushed out of order: 1..=100 ms.
        for v in (1..=100).rev() {
            s.push(ms(v));
        }
        assert_eq!(s.percentile(50.0), Some(ms(50)));
        assert_eq!(s.percentile(99.0), Some(ms(99)));
        assert_eq!(s.percentile(100.0), Some(ms(100)));
        assert_eq!(s.percentile(0.0), Some(ms(1)));
        assert_eq!(percentile_of_sorted(&[ms(7)], 99.0), Some(ms(7)));
        // Small sets: p99 of 10 samples is the largest, p50 the fifth.
        let ten: Vec<Duration> = (1..=10).map(ms).collect();
        assert_eq!(percentile_of_sorted(&ten, 99.0), Some(ms(10)));
        assert_eq!(percentile_of_sorted(&ten, 50.0), Some(ms(5)));
    }

    #[test]
    fn the_median_takes_the_middle_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn a_summary_counts_requests_per_second_over_the_window() {
        let mut s = Samples::default();
        for v in 1..=200 {
            s.push(ms(v % 10 + 1));
        }
        let summary = Summary::of(&s, 3, Duration::from_secs(4)).expect("samples");
        assert_eq!(summary.requests, 200);
        assert_eq!(summary.errors, 3);
        assert!((summary.rps - 50.0).abs() < 1e-9);
        assert_eq!(summary.p50, ms(5));
        assert!(Summary::of(&Samples::default(), 0, Duration::from_secs(1)).is_none());
    }
}
