//! The listener's own tests (a file of their own to keep listener.rs short).

use std::os::fd::IntoRawFd;

use super::super::notify_socket::send;
use super::*;

#[test]
fn receives_what_was_sent_with_our_credentials() {
  let l = Listener::bind(None).unwrap();
  let addr = address::parse(l.address().as_bytes()).unwrap();
  send(&addr, b"READY=1", &[]).unwrap();
  let r = l.receive(Some(Duration::from_secs(5))).unwrap();
  assert_eq!(r.data, b"READY=1");
  assert_eq!(r.pid as u32, std::process::id());
  assert_eq!(r.uid, nix::unistd::getuid().as_raw());
}

#[test]
fn close_releases_the_descriptor_and_the_abstract_name_at_once() {
  let open_fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
  let before = open_fds();
  // Kept alive (not dropped): only close() may release them.
  let listeners: Vec<Listener> = (0..2000).map(|_| Listener::bind(None).unwrap()).collect();
  listeners.iter().for_each(Listener::close);
  assert!(open_fds() <= before + 8, "{} descriptors still open after close()", open_fds() - before);
  let again = Listener::bind(Some(listeners[0].address())).unwrap();
  assert_eq!(listeners[0].receive(None).unwrap_err(), NotifyError::ListenerClosed);
  again.close();
}

#[test]
fn close_received_closes_what_arrived_here_once_and_nothing_else() {
  let l = Listener::bind(None).unwrap();
  let addr = address::parse(l.address().as_bytes()).unwrap();
  let file = std::fs::File::open("/dev/null").unwrap();
  send(&addr, b"FDSTORE=1", &[file.as_raw_fd()]).unwrap();
  let r = l.receive(Some(Duration::from_secs(5))).unwrap();
  // Handed on as NotifyListener hands it to JavaScript: the number is the caller's now.
  let fd = r.fds.into_iter().next().unwrap().into_raw_fd();
  l.keep_received(&[fd]);
  assert_eq!(l.close_received(&[fd, fd]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  assert_eq!(l.close_received(&[file.as_raw_fd()]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  // Whether the number is open, asked of /proc (no descriptor borrowed that may be closed).
  let is_open = |fd: RawFd| std::fs::symlink_metadata(format!("/proc/self/fd/{fd}")).is_ok();
  assert!(is_open(fd), "a refused call closes nothing");
  l.close_received(&[fd]).unwrap();
  assert!(!is_open(fd), "closed");
  assert_eq!(l.close_received(&[fd]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
}

#[test]
fn a_received_descriptor_closed_otherwise_is_refused_and_its_reused_number_left_open() {
  let l = Listener::bind(None).unwrap();
  let addr = address::parse(l.address().as_bytes()).unwrap();
  let file = std::fs::File::open("/dev/null").unwrap();
  send(&addr, b"FDSTORE=1", &[file.as_raw_fd()]).unwrap();
  let r = l.receive(Some(Duration::from_secs(5))).unwrap();
  // Handed on as NotifyListener hands it to JavaScript: the number is the caller's now.
  let fd = r.fds.into_iter().next().unwrap().into_raw_fd();
  l.keep_received(&[fd]);
  // The caller closes it itself (fs.closeSync) and the number goes to an unrelated file: done
  // in one step with dup2(2), which no test running in parallel can race.
  // SAFETY: received above, owned by this test. Not dropped on a failed assertion: a listener
  // that closed it would make the drop a double close (which aborts the test run).
  let mut reused = std::mem::ManuallyDrop::new(unsafe { OwnedFd::from_raw_fd(fd) });
  nix::unistd::dup2(std::fs::File::open("/proc/self/stat").unwrap(), &mut reused).unwrap();
  assert_eq!(l.close_received(&[fd]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD");
  assert!(nix::sys::stat::fstat(&*reused).is_ok(), "the unrelated file stays open");
  assert_eq!(l.close_received(&[fd]).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_FD", "and was forgotten");
  drop(std::mem::ManuallyDrop::into_inner(reused));
}

#[test]
fn receive_times_out_with_etimedout() {
  let l = Listener::bind(None).unwrap();
  assert_eq!(l.receive(Some(Duration::from_millis(20))).unwrap_err().code(), "ETIMEDOUT");
}

#[test]
fn close_wakes_a_blocked_receiver() {
  let l = std::sync::Arc::new(Listener::bind(None).unwrap());
  let l2 = l.clone();
  let t = std::thread::spawn(move || l2.receive(None));
  std::thread::sleep(Duration::from_millis(50));
  l.close();
  assert_eq!(t.join().unwrap().unwrap_err(), NotifyError::ListenerClosed);
}

#[test]
fn filesystem_listener_removes_its_socket_file_on_close() {
  let dir = std::env::temp_dir().join(format!("sdn-{}", random_suffix()));
  std::fs::create_dir(&dir).unwrap();
  let path = dir.join("notify");
  let l = Listener::bind(Some(path.to_str().unwrap())).unwrap();
  assert!(path.exists());
  l.close();
  assert!(!path.exists());
  std::fs::remove_dir(&dir).unwrap();
}
