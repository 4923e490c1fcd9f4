//! Means and 95% confidence intervals across replications (Student's t).

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// Half-width of the 95% confidence interval of the mean (0 for one replication).
    pub ci95: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        31..=60 => 2.042 - (df - 30) as f64 * (2.042 - 2.000) / 30.0,
        61..=120 => 2.000 - (df - 60) as f64 * (2.000 - 1.980) / 60.0,
        _ => 1.960,
    }
}

pub fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    let mean = if n == 0 { 0.0 } else { values.iter().sum::<f64>() / n as f64 };
    let ci95 = if n < 2 {
        0.0
    } else {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t975(n - 1) * (var / n as f64).sqrt()
    };
    Estimate { mean, ci95, low: mean - ci95, high: mean + ci95, n }
}

/// The difference `mean(b) - mean(a)` of two independent samples, with Welch's 95%
/// confidence interval.
pub fn welch(a: &[f64], b: &[f64]) -> Estimate {
    let (ea, eb) = (estimate(a), estimate(b));
    let var = |v: &[f64], m: f64| {
        if v.len() < 2 { 0.0 } else { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64 }
    };
    let (va, vb) = (var(a, ea.mean) / a.len().max(1) as f64, var(b, eb.mean) / b.len().max(1) as f64);
    let mean = eb.mean - ea.mean;
    let se2 = va + vb;
    let ci95 = if a.len() < 2 || b.len() < 2 || se2 == 0.0 {
        0.0
    } else {
        let df = se2.powi(2) / (va.powi(2) / (a.len() - 1) as f64 + vb.powi(2) / (b.len() - 1) as f64);
        t975(df.floor().max(1.0) as usize) * se2.sqrt()
    };
    Estimate { mean, ci95, low: mean - ci95, high: mean + ci95, n: a.len().min(b.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_interval() {
        // Mean 5, sd 1.5811 over 5 values: half-width t(4) * sd / sqrt(5) = 2.776 * 0.7071.
        let e = estimate(&[3.0, 4.0, 5.0, 6.0, 7.0]);
        assert!((e.mean - 5.0).abs() < 1e-12);
        assert!((e.ci95 - 2.776 * std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-3, "{}", e.ci95);
        assert_eq!(estimate(&[2.0]).ci95, 0.0);
    }
}
