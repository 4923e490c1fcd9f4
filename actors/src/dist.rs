//! Named distributions, as scenario files name them.
//!
//! Parameters are those a planner knows: the mean and standard deviation of the quantity
//! itself (also for the lognormal, whose `mu`/`sigma` are derived). Construction checks
//! the parameters, so sampling never fails.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};

#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    /// Lognormal with the given mean and standard deviation of the variable.
    Lognormal {
        mean: f64,
        sd: f64,
        mu: f64,
        sigma: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
    /// One of `values`, with probabilities proportional to their weights.
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// A distribution's parameters are out of range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DistError(pub String);

fn finite(name: &str, v: f64) -> Result<f64, DistError> {
    if v.is_finite() { Ok(v) } else { Err(DistError(format!("{name} must be a finite number, got {v}"))) }
}

fn positive(name: &str, v: f64) -> Result<f64, DistError> {
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(DistError(format!("{name} must be positive, got {v}"))) }
}

fn non_negative(name: &str, v: f64) -> Result<f64, DistError> {
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(DistError(format!("{name} must be zero or more, got {v}"))) }
}

impl Dist {
    pub fn constant(value: f64) -> Result<Dist, DistError> {
        Ok(Dist::Constant(finite("value", value)?))
    }

    pub fn exponential(mean: f64) -> Result<Dist, DistError> {
        Ok(Dist::Exponential { mean: positive("mean", mean)? })
    }

    pub fn lognormal(mean: f64, sd: f64) -> Result<Dist, DistError> {
        let mean = positive("mean", mean)?;
        let sd = non_negative("sd", sd)?;
        let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
        Ok(Dist::Lognormal { mean, sd, mu: mean.ln() - sigma2 / 2.0, sigma: sigma2.sqrt() })
    }

    pub fn normal(mean: f64, sd: f64) -> Result<Dist, DistError> {
        Ok(Dist::Normal { mean: finite("mean", mean)?, sd: non_negative("sd", sd)? })
    }

    pub fn uniform(low: f64, high: f64) -> Result<Dist, DistError> {
        let (low, high) = (finite("low", low)?, finite("high", high)?);
        if low > high {
            return Err(DistError(format!("low ({low}) must not exceed high ({high})")));
        }
        Ok(Dist::Uniform { low, high })
    }

    pub fn empirical(values: Vec<f64>, weights: Vec<f64>) -> Result<Dist, DistError> {
        if values.is_empty() {
            return Err(DistError("values must not be empty".into()));
        }
        if values.len() != weights.len() {
            return Err(DistError(format!("{} values but {} weights", values.len(), weights.len())));
        }
        let mut total = 0.0;
        let mut cumulative = Vec::with_capacity(weights.len());
        for (v, w) in values.iter().zip(&weights) {
            finite("value", *v)?;
            total += non_negative("weight", *w)?;
            cumulative.push(total);
        }
        if total <= 0.0 {
            return Err(DistError("weights must not all be zero".into()));
        }
        Ok(Dist::Empirical { values, cumulative })
    }

    /// One draw. Durations and counts built from a draw clamp negatives to zero.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::Lognormal { mu, sigma, .. } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Normal { mean, sd } => {
                let z: f64 = StandardNormal.sample(rng);
                mean + sd * z
            }
            Dist::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Dist::Empirical { values, cumulative } => {
                let total = *cumulative.last().expect("checked non-empty at construction");
                let u = rng.random::<f64>() * total;
                let i = cumulative.partition_point(|c| *c <= u).min(values.len() - 1);
                values[i]
            }
        }
    }

    /// The mean of the distribution.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } | Dist::Normal { mean, .. } => *mean,
            Dist::Uniform { low, high } => (low + high) / 2.0,
            Dist::Empirical { values, cumulative } => {
                let total = cumulative.last().copied().unwrap_or(1.0);
                let mut previous = 0.0;
                let mut sum = 0.0;
                for (v, c) in values.iter().zip(cumulative) {
                    sum += v * (c - previous);
                    previous = *c;
                }
                sum / total
            }
        }
    }

    /// The smallest value the distribution can produce (`-inf` for the normal).
    pub fn min(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { .. } | Dist::Lognormal { .. } => 0.0,
            Dist::Normal { .. } => f64::NEG_INFINITY,
            Dist::Uniform { low, .. } => *low,
            Dist::Empirical { values, .. } => values.iter().copied().fold(f64::INFINITY, f64::min),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storetwin_engine::{ActorId, Seed};

    fn sample_mean(d: &Dist) -> f64 {
        let mut rng = Seed(4).actor_stream(ActorId(0));
        (0..200_000).map(|_| d.sample(&mut rng)).sum::<f64>() / 200_000.0
    }

    #[test]
    fn sample_means_match_the_stated_means() {
        let dists = [
            Dist::exponential(30.0).unwrap(),
            Dist::lognormal(12.0, 6.0).unwrap(),
            Dist::normal(5.0, 1.0).unwrap(),
            Dist::uniform(2.0, 4.0).unwrap(),
            Dist::empirical(vec![1.0, 2.0, 10.0], vec![1.0, 2.0, 1.0]).unwrap(),
        ];
        for d in &dists {
            let (got, want) = (sample_mean(d), d.mean());
            assert!((got - want).abs() < 0.02 * want.abs().max(1.0), "{d:?}: sample mean {got}, mean {want}");
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::uniform(3.0, 1.0).is_err());
        assert!(Dist::empirical(vec![1.0], vec![0.0]).is_err());
        assert!(Dist::normal(f64::NAN, 1.0).is_err());
    }
}
