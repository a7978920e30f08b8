//! The unit tests of listen_fds.rs: every rule of sd_listen_fds_with_names, through `parse`.
use super::*;
use std::os::fd::AsRawFd;

#[test]
fn a_count_beyond_what_a_process_can_hold_is_refused_without_allocating_for_it() {
  let env = |k: &str| match k {
    "LISTEN_PID" => Some("42".into()),
    "LISTEN_FDS" => Some("666666666".into()),
    _ => None,
  };
  assert_eq!(parse(env, 42, || None).unwrap_err().code(), "ERR_SD_NOTIFY_INVALID_ENV");
}

const PID: u32 = 4242;

fn with_id(vars: &[(&str, &str)], pidfd_id: Option<u64>) -> Result<Vec<ListenFd>> {
  let vars: Vec<(String, OsString)> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
  parse(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()), PID, || pidfd_id)
}

fn with(vars: &[(&str, &str)]) -> Result<Vec<ListenFd>> {
  with_id(vars, None)
}

fn fds(list: &[(RawFd, &str)]) -> Vec<ListenFd> {
  list.iter().map(|(fd, name)| ListenFd { fd: *fd, name: name.to_string() }).collect()
}

fn code(r: Result<Vec<ListenFd>>) -> String {
  r.unwrap_err().code()
}

#[test]
fn nothing_set_means_no_descriptors() {
  assert_eq!(with(&[]).unwrap(), vec![]);
}

#[test]
fn listen_fds_without_listen_pid_means_no_descriptors() {
  assert_eq!(with(&[("LISTEN_FDS", "2")]).unwrap(), vec![]);
}

#[test]
fn listen_pid_without_listen_fds_means_no_descriptors() {
  assert_eq!(with(&[("LISTEN_PID", "4242")]).unwrap(), vec![]);
}

#[test]
fn another_processs_pid_means_no_descriptors() {
  assert_eq!(with(&[("LISTEN_PID", "4243"), ("LISTEN_FDS", "1")]).unwrap(), vec![]);
}

#[test]
fn another_processs_pid_wins_over_a_malformed_listen_fds() {
  // Like libsystemd: LISTEN_FDS is only read once LISTEN_PID says the fds are ours.
  assert_eq!(with(&[("LISTEN_PID", "1"), ("LISTEN_FDS", "garbage")]).unwrap(), vec![]);
}

#[test]
fn descriptors_start_at_three_and_are_named_unknown_without_listen_fdnames() {
  assert_eq!(
    with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", "3")]).unwrap(),
    fds(&[(3, "unknown"), (4, "unknown"), (5, "unknown")])
  );
}

#[test]
fn names_come_from_listen_fdnames_in_order() {
  assert_eq!(
    with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", "2"), ("LISTEN_FDNAMES", "http:metrics")]).unwrap(),
    fds(&[(3, "http"), (4, "metrics")])
  );
}

#[test]
fn empty_names_are_kept_as_fields() {
  assert_eq!(
    with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", "3"), ("LISTEN_FDNAMES", "a::b")]).unwrap(),
    fds(&[(3, "a"), (4, ""), (5, "b")])
  );
}

#[test]
fn a_name_count_mismatch_is_an_error() {
  for names in ["http", "a:b:c", ""] {
    let r = with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", "2"), ("LISTEN_FDNAMES", names)]);
    assert_eq!(code(r), "ERR_SD_NOTIFY_INVALID_ENV", "{names:?}");
  }
}

#[test]
fn a_malformed_listen_pid_is_an_error() {
  for bad in ["", "abc", "-1", "0", "+5", " 4242", "4242 ", "0x10", "2147483648", "99999999999999999999"] {
    assert_eq!(code(with(&[("LISTEN_PID", bad), ("LISTEN_FDS", "1")])), "ERR_SD_NOTIFY_INVALID_ENV", "{bad:?}");
  }
}

#[test]
fn a_malformed_or_non_positive_listen_fds_is_an_error() {
  for bad in ["", "abc", "0", "-1", "1.5", " 1", "2147483645", "2147483648", "99999999999999999999"] {
    assert_eq!(code(with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", bad)])), "ERR_SD_NOTIFY_INVALID_ENV", "{bad:?}");
  }
}

#[test]
fn the_largest_listen_fds_a_process_can_hold_parses_and_one_more_is_refused() {
  let max = LISTEN_FDS_MAX.to_string();
  let r = with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", &max), ("LISTEN_FDNAMES", "x")]);
  // Parses as a count (then fails only on the name count).
  assert!(r.unwrap_err().to_string().contains("LISTEN_FDNAMES"));
  let over = (LISTEN_FDS_MAX + 1).to_string();
  let r = with(&[("LISTEN_PID", "4242"), ("LISTEN_FDS", &over), ("LISTEN_FDNAMES", "x")]);
  assert!(r.unwrap_err().to_string().contains("more than a process can have open"));
}

#[test]
fn a_matching_pidfd_id_passes_and_another_one_means_no_descriptors() {
  let vars = [("LISTEN_PID", "4242"), ("LISTEN_PIDFDID", "777"), ("LISTEN_FDS", "1")];
  assert_eq!(with_id(&vars, Some(777)).unwrap(), fds(&[(3, "unknown")]));
  assert_eq!(with_id(&vars, Some(778)).unwrap(), vec![]);
}

#[test]
fn without_pidfd_support_listen_pidfdid_is_not_compared() {
  let vars = [("LISTEN_PID", "4242"), ("LISTEN_PIDFDID", "777"), ("LISTEN_FDS", "1")];
  assert_eq!(with_id(&vars, None).unwrap(), fds(&[(3, "unknown")]));
}

#[test]
fn a_malformed_listen_pidfdid_is_an_error_even_without_pidfd_support() {
  for bad in ["", "x", "-1", "18446744073709551616"] {
    let vars = [("LISTEN_PID", "4242"), ("LISTEN_PIDFDID", bad), ("LISTEN_FDS", "1")];
    assert_eq!(code(with_id(&vars, None)), "ERR_SD_NOTIFY_INVALID_ENV", "{bad:?}");
  }
}

#[test]
fn listen_pidfdid_is_ignored_when_listen_pid_is_not_ours() {
  let vars = [("LISTEN_PID", "1"), ("LISTEN_PIDFDID", "x"), ("LISTEN_FDS", "1")];
  assert_eq!(with_id(&vars, Some(1)).unwrap(), vec![]);
}

#[test]
fn the_pidfd_id_is_only_looked_up_when_listen_pidfdid_is_set() {
  let looked_up = std::cell::Cell::new(false);
  let r = parse(
    |k| match k {
      "LISTEN_PID" => Some("4242".into()),
      "LISTEN_FDS" => Some("1".into()),
      _ => None,
    },
    PID,
    || {
      looked_up.set(true);
      Some(1)
    },
  );
  assert_eq!(r.unwrap().len(), 1);
  assert!(!looked_up.get());
}

#[test]
fn own_pidfd_id_is_stable_and_distinct_from_other_processes() {
  // Only meaningful on pidfs kernels; elsewhere it must say "unsupported".
  let Some(id) = own_pidfd_id() else { return };
  assert_eq!(own_pidfd_id(), Some(id));
  assert_ne!(id, 0);
}

#[test]
fn set_cloexec_sets_the_flag_and_refuses_a_closed_descriptor() {
  let (r, w) = nix::unistd::pipe().unwrap();
  use nix::fcntl::{fcntl, FcntlArg, FdFlag};
  let cloexec =
    |fd: &std::os::fd::OwnedFd| FdFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFD).unwrap()).contains(FdFlag::FD_CLOEXEC);
  assert!(!cloexec(&r));
  set_cloexec(r.as_raw_fd()).unwrap();
  assert!(cloexec(&r));
  assert!(!cloexec(&w), "only the one asked for");
  let closed = w.as_raw_fd();
  drop(w);
  assert_eq!(set_cloexec(closed).unwrap_err().code(), "EBADF");
}
