//! Means and 95% confidence intervals across replications (Student's t), and how many
//! digits they deserve when written: a difference and its interval are written with the
//! same decimals, as many as give the interval's half-width two significant digits.

use serde::Serialize;

/// A mean (or a difference of means) with its 95% confidence interval.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// Half-width of the 95% confidence interval of the mean (0 for one replication).
    pub ci95: f64,
    /// The interval's ends: `mean ∓ ci95`.
    pub low: f64,
    pub high: f64,
    /// The number of values (replications, or pairs of them) it is estimated from.
    pub n: usize,
}

impl Estimate {
    /// The estimate of `factor` times the quantity (a fraction in percent).
    pub fn scaled(&self, factor: f64) -> Estimate {
        Estimate {
            mean: self.mean * factor,
            ci95: self.ci95 * factor.abs(),
            low: self.low * factor,
            high: self.high * factor,
            n: self.n,
        }
    }
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

/// The mean of `values` (one per replication) with the 95% confidence interval of the
/// mean (Student's t); no interval for fewer than two values.
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

/// Decimals that give `half_width` two significant digits (0 to 9), or `None` when there is
/// no interval to size them by (a half-width of zero or not finite).
pub fn decimals_for(half_width: f64) -> Option<usize> {
    let h = half_width.abs();
    if !(h > 0.0 && h.is_finite()) {
        return None;
    }
    let mut d = (1 - h.log10().floor() as i64).clamp(0, 9) as usize;
    // 0.996 rounds to 1.00 at two decimals: three digits, so one decimal fewer.
    let digits = |s: String| s.trim_start_matches(['0', '.']).chars().filter(char::is_ascii_digit).count();
    if d > 0 && digits(fixed(h, d)) > 2 {
        d -= 1;
    }
    Some(d)
}

/// The decimals to write an estimate with: [`decimals_for`] its half-width, else
/// `fallback`; and for a `significant` difference at least enough that its mean is not
/// written as zero.
pub fn decimals(e: &Estimate, fallback: usize, significant: bool) -> usize {
    // A half-width of rounding noise (paired differences equal to the last bits) is none.
    let noise = e.ci95.abs() <= 1e-9 * e.mean.abs().max(1e-3);
    let mut d = if noise { fallback } else { decimals_for(e.ci95).unwrap_or(fallback) };
    while significant && e.mean != 0.0 && is_zero(&fixed(e.mean, d)) && d < 12 {
        d += 1;
    }
    d
}

/// `v` with `d` decimals; a value that rounds to zero has no sign ("0.00", never "-0.00").
pub fn fixed(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    match s.strip_prefix('-') {
        Some(unsigned) if is_zero(unsigned) => unsigned.to_string(),
        _ => s,
    }
}

/// [`fixed`] with a "+" on a value above zero (a difference).
pub fn signed(v: f64, d: usize) -> String {
    let s = fixed(v, d);
    if v > 0.0 && !is_zero(&s) { format!("+{s}") } else { s }
}

/// Whether a written number is zero.
pub fn is_zero(s: &str) -> bool {
    s.chars().all(|c| matches!(c, '0' | '.' | '-' | '+' | ',' | '\u{2212}'))
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

    #[test]
    fn half_widths_get_two_significant_digits() {
        assert_eq!(decimals_for(0.125), Some(2));
        assert_eq!(decimals_for(1.3), Some(1));
        assert_eq!(decimals_for(9.94), Some(1));
        assert_eq!(decimals_for(9.96), Some(0), "rounds to 10: two digits with none after the point");
        assert_eq!(decimals_for(0.996), Some(1), "1.0, not 1.00");
        assert_eq!(decimals_for(610.0), Some(0), "never fewer than none");
        assert_eq!(decimals_for(0.000_42), Some(5));
        assert_eq!(decimals_for(-0.5), Some(2), "0.50");
        assert_eq!(decimals_for(0.0), None);
        assert_eq!(decimals_for(f64::NAN), None);
    }

    #[test]
    fn a_significant_difference_is_never_written_as_zero() {
        let e = |mean: f64, ci95: f64| Estimate { mean, ci95, low: mean - ci95, high: mean + ci95, n: 5 };
        assert_eq!(decimals(&e(0.0302, 0.011), 0, true), 3);
        // No interval (the same difference in every replication): the fallback, unless that
        // would write a significant difference as zero.
        assert_eq!(decimals(&e(0.004, 0.0), 1, true), 3);
        assert_eq!(decimals(&e(0.004, 0.0), 1, false), 1);
        assert_eq!(decimals(&e(0.0, 0.0), 1, true), 1);
    }

    #[test]
    fn rounded_zeros_have_no_sign() {
        assert_eq!(fixed(-0.0004, 3), "0.000");
        assert_eq!(fixed(-0.0, 0), "0");
        assert_eq!(fixed(-0.0006, 3), "-0.001");
        assert_eq!(signed(0.0004, 3), "0.000");
        assert_eq!(signed(0.36, 1), "+0.4");
        assert_eq!(signed(-2.4, 0), "-2");
        assert_eq!(signed(12.0, 0), "+12");
    }
}
