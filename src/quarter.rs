//! Calendar quarters (`"2024Q1"`) and the scenario clock.
//!
//! Simulation time is an integer number of seconds since the start of the
//! scenario's first quarter, so events are totally ordered without float
//! comparisons. Quarters have their true calendar lengths (90–92 days).

use std::fmt;

/// Seconds in one day.
pub const SECONDS_PER_DAY: u64 = 86_400;
/// Seconds in an average quarter (365.25 / 4 days), used to turn durations
/// stated in quarters (lead times, shock durations) into clock time.
pub const SECONDS_PER_MEAN_QUARTER: f64 = 91.3125 * 86_400.0;

/// The quarters [`Quarter::parse`] accepts, as a regular expression (for
/// the JSON Schema of scenario files): a year 1900 to 2200, `Q` or `q`, and
/// 1 to 4.
pub const QUARTER_PATTERN: &str = "^(19[0-9]{2}|2[01][0-9]{2}|2200)[Qq][1-4]$";

/// A calendar quarter, such as 2024Q3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// Calendar year.
    pub year: i32,
    /// Quarter of the year, 1 to 4.
    pub quarter: u8,
}

impl Quarter {
    /// Parses `"2024Q1"`: exactly four ASCII digits (a year in 1900..=2200),
    /// `Q` (or `q`) and one digit 1-4, nothing else (no sign, no padding, no
    /// spaces).
    pub fn parse(text: &str) -> Result<Quarter, String> {
        let bad = || format!("`{text}` is not a quarter; write it as YYYYQn, e.g. \"2024Q1\"");
        let b = text.as_bytes();
        let well_formed = b.len() == 6
            && b[..4].iter().all(u8::is_ascii_digit)
            && matches!(b[4], b'Q' | b'q')
            && (b'1'..=b'4').contains(&b[5]);
        if !well_formed {
            return Err(bad());
        }
        let year = b[..4].iter().fold(0i32, |y, d| y * 10 + i32::from(d - b'0'));
        if !(1900..=2200).contains(&year) {
            return Err(format!(
                "`{text}` is not a quarter: the year must be between 1900 and 2200; write it as YYYYQn, e.g. \"2024Q1\""
            ));
        }
        Ok(Quarter {
            year,
            quarter: b[5] - b'0',
        })
    }

    /// The quarter `n` quarters after this one.
    pub fn plus(self, n: u32) -> Quarter {
        let idx = self.year as i64 * 4 + (self.quarter as i64 - 1) + n as i64;
        Quarter {
            year: idx.div_euclid(4) as i32,
            quarter: (idx.rem_euclid(4) + 1) as u8,
        }
    }

    /// Number of quarters from `self` to `later` (negative if `later` is earlier).
    pub fn quarters_until(self, later: Quarter) -> i64 {
        (later.year as i64 * 4 + later.quarter as i64) - (self.year as i64 * 4 + self.quarter as i64)
    }

    /// Length of this quarter in days (Gregorian calendar).
    pub fn days(self) -> u64 {
        match self.quarter {
            1 => {
                if is_leap_year(self.year) {
                    91
                } else {
                    90
                }
            }
            2 => 91,
            _ => 92,
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.quarter)
    }
}

fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The scenario clock: where each simulated quarter starts, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    start: Quarter,
    /// `bounds[q]` is the start of quarter `q`; `bounds[horizon]` is the end
    /// of the last quarter.
    bounds: Vec<u64>,
}

impl Calendar {
    /// A calendar of `horizon` quarters beginning with `start`.
    pub fn new(start: Quarter, horizon: u32) -> Calendar {
        let mut bounds = Vec::with_capacity(horizon as usize + 1);
        let mut t = 0;
        bounds.push(0);
        for q in 0..horizon {
            t += start.plus(q).days() * SECONDS_PER_DAY;
            bounds.push(t);
        }
        Calendar { start, bounds }
    }

    /// First quarter of the scenario.
    pub fn start(&self) -> Quarter {
        self.start
    }

    /// Number of simulated quarters.
    pub fn horizon(&self) -> u32 {
        (self.bounds.len() - 1) as u32
    }

    /// The calendar quarter of simulated quarter index `q`.
    pub fn quarter(&self, q: u32) -> Quarter {
        self.start.plus(q)
    }

    /// Start time of quarter index `q` (`q == horizon` gives the end of the run).
    pub fn start_of(&self, q: u32) -> u64 {
        self.bounds[q as usize]
    }

    /// End time of the simulation.
    pub fn end(&self) -> u64 {
        *self.bounds.last().expect("calendar has at least one bound")
    }

    /// Length of quarter index `q` in days.
    pub fn days_in(&self, q: u32) -> u64 {
        (self.bounds[q as usize + 1] - self.bounds[q as usize]) / SECONDS_PER_DAY
    }

    /// The quarter index a point in time belongs to, for a milestone reached at
    /// `t`: the quarter `q` with `start_of(q) < t <= start_of(q + 1)` (a target
    /// met exactly at a boundary counts for the quarter that just ended).
    /// Time 0 belongs to quarter 0.
    pub fn quarter_reached_at(&self, t: u64) -> u32 {
        // bounds is sorted; first bound >= t is the end of the quarter.
        let idx = self.bounds.partition_point(|&b| b < t);
        idx.saturating_sub(1) as u32
    }

    /// The quarter index whose span holds the instant `t` counted from
    /// its start: the `q` with `start_of(q) <= t < start_of(q + 1)`, so an
    /// event at a quarter's first instant (a training run starting at a
    /// quarter start) belongs to that quarter; `t` at or after the end of
    /// the run gives the last quarter.
    pub fn quarter_at(&self, t: u64) -> u32 {
        let idx = self.bounds.partition_point(|&b| b <= t);
        (idx.saturating_sub(1) as u32).min(self.horizon().saturating_sub(1))
    }

    /// Index of a calendar quarter, if it lies within the horizon.
    pub fn index_of(&self, quarter: Quarter) -> Option<u32> {
        let d = self.start.quarters_until(quarter);
        (d >= 0 && d < self.horizon() as i64).then_some(d as u32)
    }
}

/// Converts a duration in (average) quarters to whole seconds, rounding to the
/// nearest second. Negative durations become zero.
pub fn quarters_to_seconds(quarters: f64) -> u64 {
    if quarters.is_nan() || quarters <= 0.0 {
        0
    } else {
        (quarters * SECONDS_PER_MEAN_QUARTER).round().min(u64::MAX as f64 / 2.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_quarters() {
        let q = Quarter::parse("2024Q3").unwrap();
        assert_eq!(q, Quarter { year: 2024, quarter: 3 });
        assert_eq!(q.to_string(), "2024Q3");
        assert_eq!(q.plus(2).to_string(), "2025Q1");
        assert_eq!(Quarter::parse("2025q4").unwrap().to_string(), "2025Q4");
        assert!(Quarter::parse("2024Q5").is_err());
        assert!(Quarter::parse("2024-Q1").is_err());
        assert!(Quarter::parse("").is_err());
    }

    #[test]
    fn quarter_syntax_is_exactly_four_digits_q_and_one_digit() {
        for bad in [
            "+2024Q01",
            "2024Q01",
            "2024Q+4",
            "02024Q1",
            "+2024Q1",
            "-2024Q1",
            " 2024Q1",
            "2024Q1 ",
            "2024Q 1",
            "2024 Q1",
            "2024Q0",
            "2024Q5",
            "24Q1",
            "2024",
            "Q1",
            "2024Q",
            "２０２４Q1",
            "2024Q１",
            "1899Q4",
            "2201Q1",
            "2024QQ1",
            "2024Q1x",
            "x2024Q1",
        ] {
            let e = Quarter::parse(bad).expect_err(bad);
            assert!(e.contains(&format!("`{bad}`")) && e.contains("YYYYQn"), "{e}");
        }
        assert_eq!(Quarter::parse("1900Q1").unwrap().to_string(), "1900Q1");
        assert_eq!(Quarter::parse("2200q4").unwrap().to_string(), "2200Q4");
    }

    #[test]
    fn calendar_uses_true_quarter_lengths() {
        let cal = Calendar::new(Quarter::parse("2024Q1").unwrap(), 4);
        // 2024 is a leap year: 91 + 91 + 92 + 92 = 366 days.
        assert_eq!(cal.end(), 366 * SECONDS_PER_DAY);
        assert_eq!(cal.days_in(0), 91);
        assert_eq!(cal.quarter_reached_at(0), 0);
        assert_eq!(cal.quarter_reached_at(91 * SECONDS_PER_DAY), 0);
        assert_eq!(cal.quarter_reached_at(91 * SECONDS_PER_DAY + 1), 1);
        assert_eq!(cal.quarter_at(0), 0);
        assert_eq!(cal.quarter_at(91 * SECONDS_PER_DAY - 1), 0);
        assert_eq!(cal.quarter_at(91 * SECONDS_PER_DAY), 1);
        assert_eq!(cal.quarter_at(cal.start_of(3)), 3);
        assert_eq!(cal.quarter_at(cal.end()), 3);
        assert_eq!(cal.index_of(Quarter::parse("2024Q4").unwrap()), Some(3));
        assert_eq!(cal.index_of(Quarter::parse("2025Q1").unwrap()), None);
    }
}
