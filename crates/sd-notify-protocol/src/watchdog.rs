//! The watchdog's clock and bookkeeping, without threads or N-API: when to ask the event loop
//! for proof of life, which answer earns a `WATCHDOG=1`, and the counters a user can read.
//!
//! Why the event loop must answer: the watchdog exists to restart a service that is alive but
//! stuck, and in Node "stuck" means a blocked event loop. A timer that pinged on its own would
//! keep pinging through the freeze and defeat the watchdog. So every ping answers a request
//! (sequence number) that the JavaScript side acknowledged, and only the latest request counts.

use std::time::{Duration, Instant, SystemTime};

pub use super::watchdog_timing::{Action, FailureAction, Timing, Verdict};

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
