//! The unit tests of poller.rs.
use std::sync::mpsc;
use std::time::Duration;

use super::super::barrier::PendingBarrier;
use super::super::listener::Listener;
use super::super::{address, notify_socket, waits};
use super::*;

fn threads() -> usize {
  std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_start_that_failed_is_tried_again_and_one_that_succeeded_is_not() {
  let started = Started::new();
  assert_eq!(started.ensure(|| Err(Errno::EMFILE)), Err(Errno::EMFILE));
  assert_eq!(started.ensure(|| Err(Errno::EAGAIN)), Err(Errno::EAGAIN), "the failure was not kept");
  assert_eq!(started.ensure(|| Ok(())), Ok(()));
  assert_eq!(started.ensure(|| panic!("started twice")), Ok(()));
}

#[test]
fn thousands_of_pending_receives_share_one_thread_and_each_settles() {
  let l = std::sync::Arc::new(Listener::bind(None).unwrap());
  let (tx, rx) = mpsc::channel();
  let before = threads();
  for _ in 0..3000 {
    let tx = tx.clone();
    waits::receive(l.clone(), None, 7, Box::new(move |r| tx.send(r.map(|r| r.data)).unwrap()));
  }
  assert!(threads() <= before + 1, "{} threads for 3000 waits", threads() - before);
  let addr = address::parse(l.address().as_bytes()).unwrap();
  notify_socket::send(&addr, b"READY=1", &[]).unwrap();
  assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap(), b"READY=1", "one wait got it");
  assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "and only one");
  l.close();
  for _ in 0..2999 {
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err(), crate::NotifyError::ListenerClosed);
  }
}

#[test]
fn a_deadline_settles_with_etimedout_and_cancel_by_owner_settles_the_rest() {
  let l = std::sync::Arc::new(Listener::bind(None).unwrap());
  let (tx, rx) = mpsc::channel();
  let t = tx.clone();
  waits::receive(l.clone(), Some(Duration::from_millis(20)), 8, Box::new(move |r| t.send(r.map(drop)).unwrap()));
  assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err().code(), "ETIMEDOUT");
  let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
  let t = tx.clone();
  waits::barrier(
    PendingBarrier::for_tests(read_end),
    Duration::from_secs(3600),
    9,
    Box::new(move |r| t.send(r.map(drop)).unwrap()),
  );
  waits::receive(l.clone(), None, 9, Box::new(move |r| tx.send(r.map(drop)).unwrap()));
  assert_eq!(cancel(9), 2);
  assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err().code(), "ECANCELED");
  assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err().code(), "ERR_SD_NOTIFY_LISTENER_CLOSED");
  drop(write_end);
}
