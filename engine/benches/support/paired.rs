//! Paired rounds: a ratio that holds on a machine whose speed drifts.
//!
//! Criterion measures one benchmark after the other, each for seconds. On a
//! shared virtual machine the speed of the whole machine can change by half
//! between two of them, and a ratio of two such medians then says more
//! about the minute it was taken than about the code. Here every round
//! measures each contender once, back to back (a few milliseconds each,
//! the starting contender rotating), and the ratio is taken within the
//! round: both sides of it saw the same machine. The median of the
//! per-round ratios is reported with their range.

use std::time::{Duration, Instant};

/// One contender: runs `iters` iterations and returns the time they took,
/// doing any setup it needs outside the timed part.
pub struct Contender<'a> {
    /// The name reported.
    pub name: &'static str,
    /// Runs the iterations; returns the timed part's duration.
    pub run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

/// Nanoseconds per iteration: `[round][contender]`.
pub fn measure(contenders: &mut [Contender<'_>], rounds: usize, slice: Duration) -> Vec<Vec<f64>> {
    // Enough iterations for each measurement to last about `slice`.
    let iters: Vec<u64> = contenders
        .iter_mut()
        .map(|c| {
            let mut n = 1u64;
            while (c.run)(n) < slice && n < 1 << 30 {
                n *= 2;
            }
            n
        })
        .collect();
    let k = contenders.len();
    (0..rounds)
        .map(|round| {
            let mut ns = vec![0.0; k];
            for step in 0..k {
                let i = (round + step) % k;
                let took = (contenders[i].run)(iters[i]);
                ns[i] = took.as_nanos() as f64 / iters[i] as f64;
            }
            ns
        })
        .collect()
}

/// The median of `values` (which it sorts).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Times `iters` calls of `f` on the same input.
pub fn time_loop<T>(iters: u64, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    start.elapsed()
}
