//! Deadlines: "a new object under this prefix every weekday by 09:00 Europe/London".
//!
//! The timing lives here, not in PromQL: the exporter computes, for each rule, the last
//! deadline that has passed and whether an object arrived for it, and exports
//! `upload_overdue` (so the alert rule is `upload_overdue == 1`). A deadline is a wall-clock
//! time in a named zone, so it moves in UTC when the clocks change; `jiff` and its bundled
//! time-zone database do that arithmetic. A wall-clock time the clocks skip (01:30 on the
//! spring-forward night in London) is moved forward by the gap (02:30 BST); one they repeat
//! means the first occurrence.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::fmt;

/// How far back or ahead a deadline is looked for: a rule has at least one day a week.
const DAYS_SEARCHED: i32 = 8;

/// One deadline rule.
#[derive(Debug, Clone)]
pub struct Deadline {
    time: Time,
    zone: TimeZone,
    zone_name: String,
    days: Vec<Weekday>,
}

/// Where a prefix stands against its deadline at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The last deadline at or before now: the one `overdue` is about.
    pub last: Timestamp,
    /// The next deadline after now.
    pub next: Timestamp,
    /// No object arrived between the deadline before `last` and now.
    pub overdue: bool,
}

impl Deadline {
    /// A rule from its configuration: `time` as `HH:MM`, an IANA zone name and the
    /// weekdays (`Mon`..`Sun`, at least one).
    pub fn parse(time: &str, zone: &str, days: &[String]) -> Result<Deadline, String> {
        let time: Time = time
            .parse()
            .map_err(|e| format!("deadline time `{time}` is not a time of day like `09:00`: {e}"))?;
        let zone_name = zone.to_owned();
        let zone = TimeZone::get(zone)
            .map_err(|e| format!("time zone `{zone}` is not an IANA zone name like `Europe/London`: {e}"))?;
        let days = days
            .iter()
            .map(|day| parse_weekday(day))
            .collect::<Result<Vec<_>, _>>()?;
        if days.is_empty() {
            return Err("a deadline needs at least one day in `days`".to_owned());
        }
        Ok(Deadline {
            time,
            zone,
            zone_name,
            days,
        })
    }

    /// The deadline instant on `date`, if `date` is one of the rule's days.
    fn on(&self, date: Date) -> Option<Timestamp> {
        if !self.days.contains(&date.weekday()) {
            return None;
        }
        // `to_zoned_datetime` resolves gaps forward and folds to the earlier instant.
        date.to_datetime(self.time)
            .to_zoned_datetime(self.zone.clone())
            .ok()
            .map(|zoned| zoned.timestamp())
    }

    /// The deadlines from the day of `now` going back (`step` -1) or ahead (`step` 1).
    fn around(&self, now: Timestamp, step: i32) -> impl Iterator<Item = Timestamp> + '_ {
        let today = now.to_zoned_datetime(self.zone.clone()).date();
        (0..DAYS_SEARCHED).filter_map(move |n| {
            today
                .checked_add((n * step).days())
                .ok()
                .and_then(|date| self.on(date))
        })
    }

    /// The last deadline at or before `now`.
    pub fn last_before(&self, now: Timestamp) -> Timestamp {
        self.around(now, -1)
            .find(|deadline| *deadline <= now)
            .unwrap_or(Timestamp::MIN)
    }

    /// The deadline before `deadline` (the start of the window an object must arrive in).
    fn previous(&self, deadline: Timestamp) -> Timestamp {
        let just_before = deadline.checked_sub(1.nanosecond()).unwrap_or(Timestamp::MIN);
        self.last_before(just_before)
    }

    /// The first deadline after `now`.
    pub fn next_after(&self, now: Timestamp) -> Timestamp {
        self.around(now, 1)
            .find(|deadline| *deadline > now)
            .unwrap_or(Timestamp::MAX)
    }

    /// Where a prefix whose newest arrival was at `newest` (None: none known) stands at
    /// `now`: overdue when nothing arrived after the deadline before the last one, so a
    /// file that arrived for the last deadline (even late) clears it. `newest` is the
    /// newest modification time any listing has seen (the collector passes the arrivals
    /// the watcher remembers), so a file deleted after it arrived still counts for its
    /// period.
    pub fn standing(&self, now: Timestamp, newest: Option<Timestamp>) -> Standing {
        let last = self.last_before(now);
        let window_start = self.previous(last);
        Standing {
            last,
            next: self.next_after(now),
            overdue: newest.is_none_or(|newest| newest <= window_start),
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<String> = self.days.iter().map(|day| format!("{day:?}")).collect();
        write!(
            f,
            "{} {} on {}",
            self.time.strftime("%H:%M"),
            self.zone_name,
            days.join(",")
        )
    }
}

fn parse_weekday(day: &str) -> Result<Weekday, String> {
    Ok(match day.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => {
            return Err(format!(
                "`{day}` is not a weekday; use Mon, Tue, Wed, Thu, Fri, Sat or Sun"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays_by_nine_in_london() -> Deadline {
        let days: Vec<String> = ["Mon", "Tue", "Wed", "Thu", "Fri"].map(String::from).to_vec();
        Deadline::parse("09:00", "Europe/London", &days).unwrap()
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn seconds(n: i64) -> jiff::Span {
        n.seconds()
    }

    #[test]
    fn the_deadline_is_nine_in_london_in_winter_and_in_summer() {
        let rule = weekdays_by_nine_in_london();
        assert_eq!(
            rule.last_before(utc("2026-01-14T12:00:00Z")),
            utc("2026-01-14T09:00:00Z")
        );
        assert_eq!(
            rule.last_before(utc("2026-07-15T12:00:00Z")),
            utc("2026-07-15T08:00:00Z")
        );
    }

    #[test]
    fn the_spring_forward_week_moves_the_deadline_an_hour_earlier_in_utc() {
        // Clocks go forward on Sunday 29 March 2026.
        let rule = weekdays_by_nine_in_london();
        assert_eq!(
            rule.next_after(utc("2026-03-27T06:00:00Z")),
            utc("2026-03-27T09:00:00Z")
        );
        assert_eq!(
            rule.next_after(utc("2026-03-27T09:30:00Z")),
            utc("2026-03-30T08:00:00Z")
        );
        assert_eq!(
            rule.last_before(utc("2026-03-30T08:00:00Z")),
            utc("2026-03-30T08:00:00Z")
        );
        assert_eq!(
            rule.last_before(utc("2026-03-30T07:59:59Z")),
            utc("2026-03-27T09:00:00Z")
        );
    }

    #[test]
    fn the_fall_back_week_moves_the_deadline_an_hour_later_in_utc() {
        // Clocks go back on Sunday 25 October 2026.
        let rule = weekdays_by_nine_in_london();
        assert_eq!(
            rule.last_before(utc("2026-10-23T12:00:00Z")),
            utc("2026-10-23T08:00:00Z")
        );
        assert_eq!(
            rule.next_after(utc("2026-10-23T12:00:00Z")),
            utc("2026-10-26T09:00:00Z")
        );
        let standing = rule.standing(utc("2026-10-26T08:30:00Z"), Some(utc("2026-10-23T07:00:00Z")));
        assert!(
            !standing.overdue,
            "08:30 UTC is 08:30 GMT, before Monday's deadline"
        );
        let standing = rule.standing(utc("2026-10-26T09:00:00Z"), Some(utc("2026-10-23T07:00:00Z")));
        assert!(
            standing.overdue,
            "09:00 UTC is Monday's deadline; nothing arrived since Friday's"
        );
    }

    #[test]
    fn weekends_have_no_deadline_and_fridays_file_covers_them() {
        let rule = weekdays_by_nine_in_london();
        let friday_file = Some(utc("2026-01-16T08:00:00Z"));
        let saturday = rule.standing(utc("2026-01-17T12:00:00Z"), friday_file);
        assert_eq!(saturday.last, utc("2026-01-16T09:00:00Z"));
        assert_eq!(saturday.next, utc("2026-01-19T09:00:00Z"));
        assert!(!saturday.overdue);
        assert!(!rule.standing(utc("2026-01-19T08:59:59Z"), friday_file).overdue);
        assert!(rule.standing(utc("2026-01-19T09:00:00Z"), friday_file).overdue);
    }

    #[test]
    fn a_file_one_second_before_the_deadline_is_on_time() {
        let rule = weekdays_by_nine_in_london();
        let deadline = utc("2026-01-14T09:00:00Z");
        let arrived = Some(deadline - seconds(1));
        assert!(!rule.standing(deadline, arrived).overdue);
        assert!(!rule.standing(deadline + seconds(3600), arrived).overdue);
    }

    #[test]
    fn a_file_one_second_after_the_deadline_is_overdue_until_it_arrives() {
        let rule = weekdays_by_nine_in_london();
        let deadline = utc("2026-01-14T09:00:00Z");
        let yesterdays = Some(utc("2026-01-13T08:00:00Z"));
        assert!(rule.standing(deadline, yesterdays).overdue);
        let arrived = Some(deadline + seconds(1));
        assert!(
            rule.standing(deadline + seconds(1), yesterdays).overdue,
            "not there yet"
        );
        assert!(!rule.standing(deadline + seconds(1), arrived).overdue);
    }

    #[test]
    fn a_file_deleted_after_arrival_is_overdue_again() {
        let rule = weekdays_by_nine_in_london();
        let now = utc("2026-01-14T10:00:00Z");
        assert!(!rule.standing(now, Some(utc("2026-01-14T08:00:00Z"))).overdue);
        // After the deletion the newest object is yesterday's, or there is none at all.
        assert!(rule.standing(now, Some(utc("2026-01-13T08:00:00Z"))).overdue);
        assert!(rule.standing(now, None).overdue);
    }

    #[test]
    fn a_time_the_clocks_skip_is_moved_forward_by_the_gap() {
        let every_day: Vec<String> = ["Sun"].map(String::from).to_vec();
        let rule = Deadline::parse("01:30", "Europe/London", &every_day).unwrap();
        assert_eq!(
            rule.last_before(utc("2026-03-29T12:00:00Z")),
            utc("2026-03-29T01:30:00Z")
        );
    }

    #[test]
    fn bad_rules_say_what_is_expected() {
        let days = vec!["Mon".to_owned()];
        assert!(Deadline::parse("9am", "Europe/London", &days)
            .unwrap_err()
            .contains("09:00"));
        assert!(Deadline::parse("09:00", "Europe/Londres", &days)
            .unwrap_err()
            .contains("Europe/London"));
        assert!(Deadline::parse("09:00", "UTC", &["Lundi".to_owned()])
            .unwrap_err()
            .contains("Mon"));
        assert!(Deadline::parse("09:00", "UTC", &[])
            .unwrap_err()
            .contains("at least one day"));
    }
}
