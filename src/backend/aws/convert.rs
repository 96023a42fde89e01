//! Small conversions from SDK values to ours.

use crate::domain::Timestamp;

/// An SDK timestamp as ours.
pub fn time(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn opt_time(t: Option<&aws_smithy_types::DateTime>) -> Option<Timestamp> {
    t.and_then(time)
}

/// A non-negative count from the SDK's `i32`.
pub fn count(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

pub fn opt_count(v: Option<i32>) -> u32 {
    v.map_or(0, count)
}

pub fn port(v: Option<i32>) -> Option<u16> {
    v.and_then(|p| u16::try_from(p).ok())
}

pub fn string(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

pub fn opt_string(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_counts() {
        let t = aws_smithy_types::DateTime::from_secs_and_nanos(1_795_000_000, 5);
        let c = time(&t).expect("valid");
        assert_eq!(c.timestamp(), 1_795_000_000);
        assert_eq!(count(-1), 0);
        assert_eq!(port(Some(70_000)), None);
        assert_eq!(port(Some(443)), Some(443));
    }
}
