//! Native side of `npm run bench` (bench/run.js):
//!
//!   sdbench-floor drain PATH [--spin] [--qlen=N]  bind a datagram socket at PATH and read it
//!                                          continuously (its queue N deep, default systemd's 512)
//!   sdbench-floor send floor PAYLOAD N     N x one sendmsg on one already-open socket (the floor)
//!   sdbench-floor send connected PAYLOAD N N x the same on a socket connected to the address once
//!   sdbench-floor send libsystemd PAYLOAD N  N x what libsystemd's sd_notify does per call
//!
//! `send` reads the address from NOTIFY_SOCKET and prints one JSON line:
//! {"nsPerCall":..,"calls":N,"warmup":..,"errors":..,"firstError":..} (warmup: untimed calls sent first)
//! `drain` prints `ready qlen=.. netns=..` once bound, the number of datagrams read so far for
//! every line it reads on stdin, and exits when stdin closes.

use std::ffi::CString;
use std::io::{BufRead, Write};
use std::mem::{size_of, zeroed};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

mod addr;
use addr::sockaddr;

/// What systemd's manager asks for its notify socket and libsystemd for its sender (8 MiB).
const BUF_SIZE: libc::c_int = 8 * 1024 * 1024;
/// systemd ships `net.unix.max_dgram_qlen = 512` (sysctl.d/50-default.conf); the kernel default is 10.
const SYSTEMD_QLEN: u32 = 512;

static RECEIVED: AtomicU64 = AtomicU64::new(0);

fn die(what: &str) -> ! {
  eprintln!("sdbench-floor: {what}: {}", std::io::Error::last_os_error());
  std::process::exit(1)
}

fn dgram_socket() -> libc::c_int {
  let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
  if fd < 0 {
    die("socket");
  }
  fd
}

/// One sendmsg of `payload`, to `sa` or (when `None`) to the socket's connected peer.
fn send_one(fd: libc::c_int, to: Option<(&libc::sockaddr_un, libc::socklen_t)>, payload: &[u8]) -> libc::ssize_t {
  let mut iov = libc::iovec { iov_base: payload.as_ptr() as *mut _, iov_len: payload.len() };
  let mut msg: libc::msghdr = unsafe { zeroed() };
  if let Some((sa, sa_len)) = to {
    msg.msg_name = sa as *const _ as *mut _;
    msg.msg_namelen = sa_len;
  }
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) }
}

fn getsockopt_int(fd: libc::c_int, opt: libc::c_int) -> libc::c_int {
  let mut v: libc::c_int = 0;
  let mut l = size_of::<libc::c_int>() as libc::socklen_t;
  unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, &mut v as *mut _ as *mut _, &mut l) };
  v
}

fn setsockopt_int(fd: libc::c_int, opt: libc::c_int, v: libc::c_int) {
  unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, opt, &v as *const _ as *const _, size_of::<libc::c_int>() as _) };
}

/// One sd_notify(0, payload) as libsystemd 252 performs it (seen with strace on this machine):
/// getenv, address, socket, getsockopt/setsockopt(SO_SNDBUF)/getsockopt/setsockopt(SO_SNDBUFFORCE),
/// sendmsg, close.
fn libsystemd_like(payload: &[u8]) -> libc::ssize_t {
  let env = unsafe { libc::getenv(c"NOTIFY_SOCKET".as_ptr()) };
  if env.is_null() {
    return 0;
  }
  let (sa, sa_len) = sockaddr(unsafe { std::ffi::CStr::from_ptr(env) }.to_bytes());
  let fd = dgram_socket();
  if getsockopt_int(fd, libc::SO_SNDBUF) < BUF_SIZE * 2 {
    setsockopt_int(fd, libc::SO_SNDBUF, BUF_SIZE);
    if getsockopt_int(fd, libc::SO_SNDBUF) < BUF_SIZE * 2 {
      setsockopt_int(fd, libc::SO_SNDBUFFORCE, BUF_SIZE);
    }
  }
  let r = send_one(fd, Some((&sa, sa_len)), payload);
  unsafe { libc::close(fd) };
  r
}

fn send(mode: &str, payload: &[u8], n: u64) {
  let addr = std::env::var_os("NOTIFY_SOCKET").unwrap_or_else(|| {
    eprintln!("sdbench-floor: NOTIFY_SOCKET is not set");
    std::process::exit(2)
  });
  let (sa, sa_len) = sockaddr(std::os::unix::ffi::OsStrExt::as_bytes(addr.as_os_str()));
  let fd = dgram_socket();
  if mode == "connected" && unsafe { libc::connect(fd, &sa as *const _ as *const _, sa_len) } != 0 {
    die("connect");
  }
  let mut errors = 0u64;
  let mut first_error = None;
  let mut call = |count: u64, errors: &mut u64| {
    for _ in 0..count {
      let r = match mode {
        "floor" => send_one(fd, Some((&sa, sa_len)), payload),
        "connected" => send_one(fd, None, payload),
        _ => libsystemd_like(payload),
      };
      if r < 0 {
        *errors += 1;
        first_error.get_or_insert_with(|| std::io::Error::last_os_error().to_string());
      }
    }
  };
  let warmup = (n / 10).clamp(1, 2000);
  let mut warm_errors = 0;
  call(warmup, &mut warm_errors);
  let t0 = Instant::now();
  call(n, &mut errors);
  let ns = t0.elapsed().as_nanos() as f64 / n as f64;
  let first = first_error.map(|e| format!("{e:?}")).unwrap_or_else(|| "null".into());
  let warmup = warmup - warm_errors;
  println!("{{\"nsPerCall\":{ns:.1},\"calls\":{n},\"warmup\":{warmup},\"errors\":{errors},\"firstError\":{first}}}");
}

/// Leaves the host's network namespace (only ours sees the change) and sets the datagram queue
/// length a systemd machine has. AF_UNIX sockets bound to a path are reachable across namespaces.
fn private_qlen(qlen: u32) -> String {
  if qlen == 0 {
    return "host".into();
  }
  if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
    return format!("host (unshare: {})", std::io::Error::last_os_error());
  }
  match std::fs::write("/proc/sys/net/unix/max_dgram_qlen", qlen.to_string()) {
    Ok(()) => "private".into(),
    Err(e) => format!("private (sysctl: {e})"),
  }
}

fn drain(path: &str, spin: bool, qlen: u32) {
  let netns = private_qlen(qlen);
  let qlen_now = std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen").unwrap_or_default();
  let _ = std::fs::remove_file(path);
  let fd = dgram_socket();
  let (sa, sa_len) = sockaddr(path.as_bytes());
  if unsafe { libc::bind(fd, &sa as *const _ as *const libc::sockaddr, sa_len) } != 0 {
    die("bind");
  }
  setsockopt_int(fd, libc::SO_RCVBUFFORCE, BUF_SIZE);
  // stdin: a line asks for the count so far, EOF ends the drainer.
  std::thread::spawn(|| {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
      if line.is_err() {
        break;
      }
      let _ = writeln!(out, "{}", RECEIVED.load(Ordering::Relaxed));
      let _ = out.flush();
    }
    std::process::exit(0);
  });
  println!("ready qlen={} netns={netns}", qlen_now.trim());
  let _ = std::io::stdout().flush();
  // Read up to 64 datagrams per call; blocks for the first one only. Passed descriptors
  // (a BARRIER=1's pipe) are dropped by the kernel since no control buffer is given, which
  // answers the barrier at once.
  const BATCH: usize = 64;
  let mut bufs = vec![[0u8; 4096]; BATCH];
  let mut iovs: Vec<libc::iovec> =
    bufs.iter_mut().map(|b| libc::iovec { iov_base: b.as_mut_ptr() as *mut _, iov_len: b.len() }).collect();
  let mut msgs: Vec<libc::mmsghdr> = iovs
    .iter_mut()
    .map(|iov| {
      let mut m: libc::mmsghdr = unsafe { zeroed() };
      m.msg_hdr.msg_iov = iov;
      m.msg_hdr.msg_iovlen = 1;
      m
    })
    .collect();
  loop {
    let flags = if spin { libc::MSG_DONTWAIT } else { libc::MSG_WAITFORONE };
    let n = unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), BATCH as _, flags, std::ptr::null_mut()) };
    if n < 0 {
      if matches!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EINTR | libc::EAGAIN)) {
        continue;
      }
      die("recvmmsg");
    }
    RECEIVED.fetch_add(n as u64, Ordering::Relaxed);
  }
}

fn main() {
  let args: Vec<String> = std::env::args().collect();
  let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
  match arg(1) {
    "drain" => {
      let qlen = args.iter().find_map(|a| a.strip_prefix("--qlen=")).map(|q| q.parse().expect("--qlen=N")).unwrap_or(SYSTEMD_QLEN);
      drain(arg(2), args.iter().any(|a| a == "--spin"), qlen)
    }
    "send" if matches!(arg(2), "floor" | "connected" | "libsystemd") => {
      let payload = CString::new(arg(3)).expect("payload without NUL");
      send(arg(2), payload.as_bytes(), arg(4).parse().expect("N"));
    }
    _ => {
      eprintln!("usage: sdbench-floor drain PATH [--spin] [--qlen=N] | send floor|connected|libsystemd PAYLOAD N");
      std::process::exit(2);
    }
  }
}
