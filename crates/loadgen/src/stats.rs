//! Latency statistics: every sample is kept, percentiles are taken by nearest rank.
//!
//! Nearest rank (the smallest sample with at least p % of the samples at or below it) always
//! names a latency that was really measured; with few samples p99 is simply the maximum.

use std::time::Duration;

/// Summary of one set of latencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// The nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending, not empty).
fn nearest_rank(sorted: &[Duration], p: f64) -> Duration {
    shared::analytics::nearest_rank(sorted, p / 100.0).unwrap_or_default()
}

/// Summarises `samples`; `None` when there are none.
pub fn summarize(samples: &[Duration]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    Some(Summary {
        count: sorted.len(),
        p50: nearest_rank(&sorted, 50.0),
        p99: nearest_rank(&sorted, 99.0),
        max: sorted[sorted.len() - 1],
    })
}

/// A duration in milliseconds for the table: one decimal below 100 ms, whole above.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let s = summarize(&millis(&[7])).expect("summary");
        assert_eq!((s.count, s.p50, s.p99, s.max), (1, ms7(), ms7(), ms7()));

        fn ms7() -> Duration {
            Duration::from_millis(7)
        }
    }

    #[test]
    fn nearest_rank_on_one_to_hundred() {
        // Shuffled on purpose: the summary sorts.
        let mut v: Vec<u64> = (1..=100).rev().collect();
        v.swap(3, 70);
        let s = summarize(&millis(&v)).expect("summary");
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.max, Duration::from_millis(100));
        assert_eq!(s.count, 100);
    }

    #[test]
    fn nearest_rank_rounds_up() {
        // n = 10: p50 is the 5th value, p99 the 10th (ceil(9.9) = 10).
        let s = summarize(&millis(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 1000])).expect("summary");
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p99, Duration::from_millis(1000));
        // n = 3: p50 is the 2nd value (ceil(1.5) = 2).
        let s = summarize(&millis(&[3, 1, 2])).expect("summary");
        assert_eq!(s.p50, Duration::from_millis(2));
    }

    #[test]
    fn p99_of_a_thousand_skips_the_ten_worst_but_one() {
        let mut v: Vec<u64> = vec![1; 990];
        v.extend(100..110);
        let s = summarize(&millis(&v)).expect("summary");
        // Rank 990 is the last 1 ms sample.
        assert_eq!(s.p99, Duration::from_millis(1));
        assert_eq!(s.max, Duration::from_millis(109));
    }

    #[test]
    fn formats_milliseconds() {
        assert_eq!(ms(Duration::from_micros(1234)), "1.2 ms");
        assert_eq!(ms(Duration::from_millis(250)), "250 ms");
    }
}
