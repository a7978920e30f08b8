//! The watchdog's clock and bookkeeping, without threads or N-API: when to ask the event loop
//! for proof of life, which answer earns a `WATCHDOG=1`, and the counters a user can read.
//!
//! Why the event loop must answer: the watchdog exists to restart a service that is alive but
//! stuck, and in Node "stuck" means a blocked event loop. A timer that pinged on its own would
//! keep pinging through the freeze and defeat the watchdog. So every ping answers a request
//! (sequence number) that the JavaScript side acknowledged, and only the latest request counts.

use std::time::{Duration, Instant, SystemTime};

use super::assignment::Assignment;
use super::error::{NotifyError, Result};
use super::message::Message;

/// What to send when the health check fails (throws, rejects, times out or returns `false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
  /// Send nothing for this request: the manager restarts the service only if no healthy
  /// answer arrives within its timeout.
  Skip,
  /// Send `WATCHDOG=trigger` (systemd >= 243): the manager acts as if the timeout expired, now.
  Trigger,
}

impl FailureAction {
  /// `skip` or `trigger`.
  pub fn parse(word: &str) -> Result<Self> {
    match word {
      "skip" => Ok(Self::Skip),
      "trigger" => Ok(Self::Trigger),
      other => Err(NotifyError::value("failure action", format!("it takes 'skip' or 'trigger', got {other:?}"))),
    }
  }

  pub fn as_str(self) -> &'static str {
    match self {
      Self::Skip => "skip",
      Self::Trigger => "trigger",
    }
  }
}

/// A datagram the watchdog sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
  /// `WATCHDOG=1`: the event loop answered the latest request and the service is healthy.
  Ping,
  /// `WATCHDOG=trigger`: the health check failed and `FailureAction::Trigger` was asked for.
  Trigger,
}

impl Action {
  /// The datagram, built and validated like every other notification.
  pub fn datagram(self) -> Result<Vec<u8>> {
    let mut msg = Message::new();
    msg.add(if self == Self::Ping { Assignment::Watchdog } else { Assignment::WatchdogTrigger })?;
    msg.into_datagram()
  }
}

/// How the JavaScript side judged the service when it answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
  Healthy,
  Unhealthy,
}

/// The heartbeat's timing, all strictly ordered: health-check timeout < interval < timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
  /// WATCHDOG_USEC: the manager restarts the service when no ping arrives within this time.
  pub timeout: Duration,
  /// Time between two requests for proof of life (and so, on a healthy loop, two pings).
  pub interval: Duration,
  /// How long the JavaScript health check may take before it counts as failed.
  pub health_check_timeout: Duration,
}

impl Timing {
  /// The interval defaults to half the timeout (the manager's own advice) and must be shorter
  /// than the timeout; the health-check timeout defaults to half the interval and must be
  /// shorter than the interval, else its answer could never earn a ping.
  pub fn new(timeout_usec: u64, interval_usec: Option<u64>, health_check_timeout_usec: Option<u64>) -> Result<Self> {
    if interval_usec == Some(0) {
      return Err(NotifyError::number("interval", "it must be at least 1 ms"));
    }
    if health_check_timeout_usec == Some(0) {
      return Err(NotifyError::number("health check timeout", "it must be at least 1 ms"));
    }
    let interval_usec = interval_usec.unwrap_or((timeout_usec / 2).max(1));
    if interval_usec >= timeout_usec {
      return Err(NotifyError::WatchdogInterval { interval_usec, timeout_usec });
    }
    let check_usec = health_check_timeout_usec.unwrap_or((interval_usec / 2).max(1));
    if check_usec >= interval_usec {
      return Err(NotifyError::number(
        "health check timeout",
        format!(
          "{} ms is not shorter than the ping interval of {} ms: a later answer could never earn a ping",
          check_usec as f64 / 1000.0,
          interval_usec as f64 / 1000.0
        ),
      ));
    }
    Ok(Self {
      timeout: Duration::from_micros(timeout_usec),
      interval: Duration::from_micros(interval_usec),
      health_check_timeout: Duration::from_micros(check_usec),
    })
  }
}

/// What a tick asks of the timer thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
  /// Queue a request callback on the event loop.
  Queue,
  /// A callback is still waiting in the event loop's queue: it will carry the new sequence
  /// number when it runs, so nothing piles up while the loop is blocked.
  Coalesced,
}

/// What a user can read about the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
  /// Requests for proof of life (ticks).
  pub requests: u64,
  /// `WATCHDOG=1` datagrams sent.
  pub pings_sent: u64,
  /// Requests that earned no `WATCHDOG=1`: answered too late, or unhealthy.
  pub pings_skipped: u64,
  /// Requests the event loop had not answered by the next tick.
  pub late_responses: u64,
  /// Health checks that failed (for the latest request).
  pub health_check_failures: u64,
  /// `WATCHDOG=trigger` datagrams sent.
  pub triggers_sent: u64,
  /// Datagrams the socket refused.
  pub send_errors: u64,
  /// When the last `WATCHDOG=1` was sent.
  pub last_ping_at: Option<SystemTime>,
  /// How long the event loop took to run the last request callback.
  pub last_response: Option<Duration>,
  /// The longest the event loop ever took to run a request callback.
  pub max_response: Option<Duration>,
}

/// The sequence/acknowledgement state machine of one watchdog.
#[derive(Debug, Clone)]
pub struct Heartbeat {
  timing: Timing,
  failure_action: FailureAction,
  next_tick: Instant,
  /// The latest request's sequence number; only an answer to it earns a ping.
  latest: Option<u32>,
  answered: bool,
  /// When the request callback now waiting in the event loop's queue was queued.
  queued_since: Option<Instant>,
  due: Option<Action>,
  counters: Counters,
}

impl Heartbeat {
  /// The first request is due at `start`, so the first ping goes out as soon as the loop answers.
  pub fn new(timing: Timing, failure_action: FailureAction, start: Instant) -> Self {
    Self {
      timing,
      failure_action,
      next_tick: start,
      latest: None,
      answered: false,
      queued_since: None,
      due: None,
      counters: Counters::default(),
    }
  }

  pub fn counters(&self) -> &Counters {
    &self.counters
  }

  /// How long to sleep before the next tick; zero when it is due.
  pub fn until_next_tick(&self, now: Instant) -> Duration {
    self.next_tick.saturating_duration_since(now)
  }

  /// A new request for proof of life. The previous one, if unanswered, is late and lost.
  pub fn tick(&mut self, now: Instant) -> Request {
    self.counters.requests += 1;
    if self.latest.is_some() && !self.answered {
      self.counters.late_responses += 1;
      self.counters.pings_skipped += 1;
    }
    self.latest = Some(self.latest.map_or(1, |s| s.wrapping_add(1)));
    self.answered = false;
    // Fixed rate; after a stall (suspend, starved thread) restart from now instead of bursting.
    self.next_tick += self.timing.interval;
    if self.next_tick <= now {
      self.next_tick = now + self.timing.interval;
    }
    if self.queued_since.is_some() {
      Request::Coalesced
    } else {
      self.queued_since = Some(now);
      Request::Queue
    }
  }

  /// The event loop ran the queued request callback at `now`: records how long that took and
  /// returns the sequence number the JavaScript side must acknowledge.
  pub fn delivered(&mut self, now: Instant) -> Option<u32> {
    if let Some(since) = self.queued_since.take() {
      let response = now.saturating_duration_since(since);
      self.counters.last_response = Some(response);
      self.counters.max_response = Some(self.counters.max_response.map_or(response, |m| m.max(response)));
    }
    self.latest
  }

  /// The JavaScript side answered request `seq`. Returns whether the answer counts: it must
  /// answer the latest request, once. Anything due to be sent is then in [`Self::take_due`].
  pub fn acknowledge(&mut self, seq: u32, verdict: Verdict) -> bool {
    if self.latest != Some(seq) || self.answered {
      return false;
    }
    self.answered = true;
    match verdict {
      Verdict::Healthy => self.due = Some(Action::Ping),
      Verdict::Unhealthy => {
        self.counters.health_check_failures += 1;
        self.counters.pings_skipped += 1;
        if self.failure_action == FailureAction::Trigger {
          self.due = Some(Action::Trigger);
        }
      }
    }
    true
  }

  /// The datagram the timer thread must send now, if any.
  pub fn take_due(&mut self) -> Option<Action> {
    self.due.take()
  }

  /// `action` went out at `at`.
  pub fn sent(&mut self, action: Action, at: SystemTime) {
    match action {
      Action::Ping => {
        self.counters.pings_sent += 1;
        self.counters.last_ping_at = Some(at);
      }
      Action::Trigger => self.counters.triggers_sent += 1,
    }
  }

  /// The socket refused a datagram.
  pub fn send_failed(&mut self) {
    self.counters.send_errors += 1;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const MS: Duration = Duration::from_millis(1);

  fn timing(timeout_ms: u64, interval_ms: Option<u64>) -> Timing {
    Timing::new(timeout_ms * 1000, interval_ms.map(|m| m * 1000), None).unwrap()
  }

  fn beat(action: FailureAction) -> (Heartbeat, Instant) {
    let t0 = Instant::now();
    (Heartbeat::new(timing(2000, None), action, t0), t0)
  }

  #[test]
  fn interval_defaults_to_half_the_timeout_and_check_timeout_to_half_the_interval() {
    let t = timing(2000, None);
    assert_eq!(t.timeout, 2000 * MS);
    assert_eq!(t.interval, 1000 * MS);
    assert_eq!(t.health_check_timeout, 500 * MS);
  }

  #[test]
  fn a_chosen_interval_shorter_than_the_timeout_is_kept() {
    assert_eq!(timing(2000, Some(300)).interval, 300 * MS);
    assert_eq!(timing(2000, Some(1999)).interval, 1999 * MS);
  }

  #[test]
  fn an_interval_not_shorter_than_the_timeout_is_refused_with_its_own_code() {
    for interval in [2000, 2001, 60_000] {
      let e = Timing::new(2_000_000, Some(interval * 1000), None).unwrap_err();
      assert_eq!(e.code(), "ERR_SD_NOTIFY_WATCHDOG_INTERVAL", "{interval}");
      assert!(e.to_string().contains("2000 ms"), "{e}");
    }
  }

  #[test]
  fn zero_intervals_and_check_timeouts_are_refused() {
    assert_eq!(Timing::new(2_000_000, Some(0), None).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_NUMBER");
    assert_eq!(Timing::new(2_000_000, None, Some(0)).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_NUMBER");
  }

  #[test]
  fn a_check_timeout_not_shorter_than_the_interval_is_refused() {
    let e = Timing::new(2_000_000, Some(500_000), Some(500_000)).unwrap_err();
    assert_eq!(e.code(), "ERR_SD_NOTIFY_INVALID_NUMBER");
    assert!(e.to_string().contains("health check timeout"), "{e}");
    assert_eq!(Timing::new(2_000_000, Some(500_000), Some(499_000)).unwrap().health_check_timeout, 499 * MS);
  }

  #[test]
  fn a_one_microsecond_timeout_has_no_usable_interval() {
    assert_eq!(Timing::new(1, None, None).unwrap_err().code(), "ERR_SD_NOTIFY_WATCHDOG_INTERVAL");
  }

  #[test]
  fn failure_actions_parse_from_their_javascript_spelling() {
    assert_eq!(FailureAction::parse("skip").unwrap(), FailureAction::Skip);
    assert_eq!(FailureAction::parse("trigger").unwrap(), FailureAction::Trigger);
    assert_eq!(FailureAction::parse("Trigger").unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_VALUE");
  }

  #[test]
  fn actions_are_the_two_watchdog_datagrams() {
    assert_eq!(Action::Ping.datagram().unwrap(), b"WATCHDOG=1");
    assert_eq!(Action::Trigger.datagram().unwrap(), b"WATCHDOG=trigger");
  }

  #[test]
  fn the_first_request_is_due_at_once_and_then_every_interval() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    assert_eq!(hb.until_next_tick(t0), Duration::ZERO);
    assert_eq!(hb.tick(t0), Request::Queue);
    assert_eq!(hb.until_next_tick(t0), 1000 * MS);
    assert_eq!(hb.until_next_tick(t0 + 400 * MS), 600 * MS);
  }

  #[test]
  fn a_healthy_answer_to_the_latest_request_earns_exactly_one_ping() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    hb.tick(t0);
    let seq = hb.delivered(t0 + 3 * MS).unwrap();
    assert!(hb.acknowledge(seq, Verdict::Healthy));
    assert_eq!(hb.take_due(), Some(Action::Ping));
    assert_eq!(hb.take_due(), None);
    assert!(!hb.acknowledge(seq, Verdict::Healthy), "a second answer to the same request earns nothing");
    assert_eq!(hb.take_due(), None);
  }

  #[test]
  fn an_answer_to_an_older_request_earns_nothing() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    hb.tick(t0);
    let old = hb.delivered(t0).unwrap();
    hb.tick(t0 + 1000 * MS);
    assert!(!hb.acknowledge(old, Verdict::Healthy));
    assert_eq!(hb.take_due(), None);
  }

  #[test]
  fn no_answer_means_no_ping_and_counts_as_late_and_skipped() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    hb.tick(t0);
    hb.tick(t0 + 1000 * MS);
    hb.tick(t0 + 2000 * MS);
    assert_eq!(hb.take_due(), None);
    let c = hb.counters();
    assert_eq!((c.requests, c.late_responses, c.pings_skipped, c.pings_sent), (3, 2, 2, 0));
  }

  #[test]
  fn requests_coalesce_while_the_loop_is_blocked_and_the_late_callback_answers_the_newest() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    assert_eq!(hb.tick(t0), Request::Queue);
    assert_eq!(hb.tick(t0 + 1000 * MS), Request::Coalesced);
    assert_eq!(hb.tick(t0 + 2000 * MS), Request::Coalesced);
    // The loop wakes up: the one queued callback carries the newest number and earns a ping.
    let seq = hb.delivered(t0 + 2100 * MS).unwrap();
    assert!(hb.acknowledge(seq, Verdict::Healthy));
    assert_eq!(hb.take_due(), Some(Action::Ping));
    assert_eq!(hb.counters().max_response, Some(2100 * MS));
    assert_eq!(hb.tick(t0 + 3000 * MS), Request::Queue, "delivered: the next tick queues again");
  }

  #[test]
  fn an_unhealthy_answer_skips_the_ping() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    hb.tick(t0);
    let seq = hb.delivered(t0).unwrap();
    assert!(hb.acknowledge(seq, Verdict::Unhealthy));
    assert_eq!(hb.take_due(), None);
    let c = hb.counters();
    assert_eq!((c.health_check_failures, c.pings_skipped), (1, 1));
    hb.tick(t0 + 1000 * MS);
    assert_eq!(hb.counters().late_responses, 0, "an unhealthy answer is not a late one");
    assert_eq!(hb.counters().pings_skipped, 1);
  }

  #[test]
  fn an_unhealthy_answer_sends_trigger_when_asked_to() {
    let (mut hb, t0) = beat(FailureAction::Trigger);
    hb.tick(t0);
    let seq = hb.delivered(t0).unwrap();
    assert!(hb.acknowledge(seq, Verdict::Unhealthy));
    assert_eq!(hb.take_due(), Some(Action::Trigger));
    hb.sent(Action::Trigger, SystemTime::now());
    assert_eq!(hb.counters().triggers_sent, 1);
    assert_eq!(hb.counters().pings_sent, 0);
  }

  #[test]
  fn response_times_keep_the_last_and_the_worst() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    hb.tick(t0);
    hb.delivered(t0 + 40 * MS);
    hb.tick(t0 + 1000 * MS);
    hb.delivered(t0 + 1005 * MS);
    assert_eq!(hb.counters().last_response, Some(5 * MS));
    assert_eq!(hb.counters().max_response, Some(40 * MS));
  }

  #[test]
  fn after_a_stall_ticks_restart_from_now_instead_of_bursting() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    hb.tick(t0);
    let late = t0 + 10_500 * MS;
    hb.tick(late);
    assert_eq!(hb.until_next_tick(late), 1000 * MS);
  }

  #[test]
  fn sent_pings_and_failures_are_counted() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    hb.tick(t0);
    hb.sent(Action::Ping, at);
    hb.send_failed();
    let c = hb.counters();
    assert_eq!((c.pings_sent, c.send_errors, c.last_ping_at), (1, 1, Some(at)));
  }

  #[test]
  fn answers_before_any_request_earn_nothing() {
    let (mut hb, t0) = beat(FailureAction::Skip);
    assert_eq!(hb.delivered(t0), None);
    assert!(!hb.acknowledge(0, Verdict::Healthy));
    assert!(!hb.acknowledge(1, Verdict::Healthy));
  }
}
