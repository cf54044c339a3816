//! Clock arithmetic as the law counts: elapsed hours, and calendar months in Danish
//! time (Europe/Copenhagen), where a month after 31 January is 28 or 29 February and
//! a month after 10:00 summer time is 10:00 winter time. Pure: instants in, instants out.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;

/// `t` plus `hours` elapsed hours (a change of summer time does not stretch them).
pub fn add_hours(t: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    t + Duration::hours(i64::from(hours))
}

/// `t` plus `months` calendar months in Copenhagen: the same time of day on the same
/// date, or on the month's last day when it has no such date.
pub fn add_months(t: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let local = t.with_timezone(&Copenhagen).naive_local();
    let index = local.year() * 12 + local.month0() as i32 + months as i32;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12) as u32);
    let day = local.day().min(days_in_month(year, month0 + 1));
    let date = NaiveDate::from_ymd_opt(year, month0 + 1, day).expect("a day that exists in its month");
    from_copenhagen(date.and_time(local.time()))
}

/// The end of `t`'s day in Copenhagen (the next midnight): where a period in months
/// ends as Regulation (EEC, Euratom) No 1182/71 art. 3(2)(c) counts it, "with the
/// expiry of the last hour" of the day of the same date. certmail's due time for a
/// month clock is the same time of day on that date, which is never later.
pub fn end_of_day(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t.with_timezone(&Copenhagen).date_naive();
    let next = day.succ_opt().unwrap_or(day);
    from_copenhagen(next.and_hms_opt(0, 0, 0).expect("midnight"))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("the first of a month");
    next.expect("the first of the next month").signed_duration_since(first).num_days() as u32
}

/// A Copenhagen wall-clock time as an instant. When it occurs twice (the autumn hour),
/// the earlier; when it never occurs (the spring hour), the moment summer time begins:
/// either way the earliest instant the deadline can mean, never a later one.
fn from_copenhagen(wall: NaiveDateTime) -> DateTime<Utc> {
    match Copenhagen.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // The clocks jump an hour forward on a whole hour: walk from an hour before
            // (as UTC) to the first minute whose Copenhagen time is not before `wall`.
            let start = wall.and_utc() - Duration::hours(2);
            let mut u = start - Duration::seconds(i64::from(start.timestamp().rem_euclid(60) as u32));
            while u.with_timezone(&Copenhagen).naive_local() < wall {
                u += Duration::minutes(1);
            }
            u
        }
    }
}

/// An instant as Copenhagen shows it, with its offset (RFC 3339).
pub fn copenhagen(t: DateTime<Utc>) -> String {
    t.with_timezone(&Copenhagen).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    fn month(from: &str, to: &str) {
        assert_eq!(add_months(at(from), 1), at(to), "{from} + 1 month");
    }

    #[test]
    fn a_months_period_ends_with_its_last_day_in_copenhagen() {
        let end = |t: &str, e: &str| assert_eq!(end_of_day(add_months(at(t), 1)), at(e), "{t}");
        end("2026-08-31T14:00:00+02:00", "2026-10-01T00:00:00+02:00");
        end("2028-01-31T14:00:00+01:00", "2028-03-01T00:00:00+01:00");
        // Across the autumn change: the last day is in winter time.
        end("2026-10-20T15:00:00+02:00", "2026-11-21T00:00:00+01:00");
        // 23:30 on the last day of a month, and New Year's Eve.
        end("2026-12-31T23:30:00+01:00", "2027-02-01T00:00:00+01:00");
    }

    #[test]
    fn a_month_after_a_month_end_is_the_next_months_last_day() {
        month("2027-01-31T10:00:00+01:00", "2027-02-28T10:00:00+01:00");
        month("2028-01-31T10:00:00+01:00", "2028-02-29T10:00:00+01:00");
        month("2026-08-31T09:00:00+02:00", "2026-09-30T09:00:00+02:00");
        month("2026-12-31T23:30:00+01:00", "2027-01-31T23:30:00+01:00");
        assert_eq!(add_months(at("2027-01-31T10:00:00+01:00"), 2), at("2027-03-31T10:00:00+02:00"));
        assert_eq!(add_months(at("2026-11-30T12:00:00+01:00"), 3), at("2027-02-28T12:00:00+01:00"));
    }

    #[test]
    fn leap_days() {
        month("2028-02-29T08:00:00+01:00", "2028-03-29T08:00:00+02:00");
        month("2028-01-29T08:00:00+01:00", "2028-02-29T08:00:00+01:00");
        assert_eq!(add_months(at("2028-02-29T08:00:00+01:00"), 12), at("2029-02-28T08:00:00+01:00"));
        // 72 hours across a leap day are 72 hours.
        assert_eq!(add_hours(at("2028-02-28T12:00:00Z"), 72), at("2028-03-02T12:00:00Z"));
    }

    #[test]
    fn a_month_keeps_the_danish_time_of_day_across_summer_time() {
        // Summer to winter time (25 October 2026): 10:00 stays 10:00, an hour later in UTC.
        month("2026-10-10T10:00:00+02:00", "2026-11-10T10:00:00+01:00");
        assert_eq!(add_months(at("2026-10-10T08:00:00Z"), 1), at("2026-11-10T09:00:00Z"));
        // Winter to summer time (28 March 2027).
        month("2027-03-15T10:00:00+01:00", "2027-04-15T10:00:00+02:00");
        // A midnight stays midnight (the Danish date, not the UTC date, counts).
        month("2026-10-31T00:30:00+01:00", "2026-11-30T00:30:00+01:00");
        assert_eq!(add_months(at("2026-09-30T22:30:00Z"), 1), at("2026-10-31T23:30:00Z"));
    }

    #[test]
    fn a_time_the_spring_or_autumn_hour_skips_or_repeats() {
        // 02:30 on 28 March 2027 does not exist: summer time begins at 03:00 (01:00 UTC).
        month("2027-02-28T02:30:00+01:00", "2027-03-28T03:00:00+02:00");
        // 02:30 on 31 October 2027 occurs twice: the first (summer time) one counts.
        assert_eq!(add_months(at("2027-08-31T02:30:00+02:00"), 2), at("2027-10-31T02:30:00+02:00"));
        month("2027-09-30T02:30:00+02:00", "2027-10-30T02:30:00+02:00");
    }

    #[test]
    fn hours_are_elapsed_hours_across_summer_time() {
        // 72 h from 24 October 2026 10:00 summer time end on 27 October at 09:00 winter time.
        assert_eq!(add_hours(at("2026-10-24T10:00:00+02:00"), 72), at("2026-10-27T09:00:00+01:00"));
        assert_eq!(add_hours(at("2027-03-27T10:00:00+01:00"), 24), at("2027-03-28T11:00:00+02:00"));
        assert_eq!(copenhagen(at("2026-11-10T09:00:00Z")), "2026-11-10T10:00:00+01:00");
    }
}
